import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  AGENTS_FOLDER,
  imageSource,
  loadDevcontainer,
  parseDevcontainer,
  sandboxUser,
  toContainerSpec,
  type DevcontainerConfig,
} from '../../src/core/sandbox/devcontainer';
import { SandboxError } from '../../src/core/sandbox/types';

function rejectsWith(fn: () => unknown, code: SandboxError['code'], message: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof SandboxError, `expected a SandboxError, got ${String(error)}`);
    assert.equal(error.code, code);
    assert.match(error.message, message);
    return true;
  });
}

describe('devcontainer.json parsing', () => {
  it('accepts JSONC: comments and trailing commas, and keeps unknown keys', () => {
    const config = parseDevcontainer(`// sandbox
      {
        /* block */ "name": "demo",
        "build": { "dockerfile": "Dockerfile", "args": { "V": "1", }, },
        "containerEnv": { "NODE_ENV": "development" },
        "customizations": { "vscode": {} },
      }`);
    assert.equal(config.name, 'demo');
    assert.equal(config.build?.dockerfile, 'Dockerfile');
    assert.deepEqual(config.build?.args, { V: '1' });
    assert.deepEqual(config.containerEnv, { NODE_ENV: 'development' });
    assert.deepEqual(config['customizations'], { vscode: {} });
  });

  it('reports a syntax error with its file, line and column', () => {
    rejectsWith(
      () => parseDevcontainer('{\n  "image": "x"\n  "name": "y"\n}', '/w/.devcontainer/devcontainer.json'),
      'config-invalid',
      /^\/w\/\.devcontainer\/devcontainer\.json:3:3: comma expected/,
    );
  });

  it('reports a wrong type with the key path and its position', () => {
    rejectsWith(
      () => parseDevcontainer('{\n  "image": "x",\n  "containerEnv": { "A": 1 }\n}'),
      'config-invalid',
      /devcontainer\.json:3:26: containerEnv\.A: .*expected string/i,
    );
    rejectsWith(
      () => parseDevcontainer('{ "image": "x", "containerEnv": { "NOT-A-NAME": "1" } }'),
      'config-invalid',
      /environment variable name/,
    );
  });

  it('needs an image or a build.dockerfile', () => {
    rejectsWith(() => parseDevcontainer('{ "name": "nothing" }'), 'config-invalid', /needs an "image" or a "build\.dockerfile"/);
    rejectsWith(() => parseDevcontainer('{ "build": { "context": ".." } }'), 'config-invalid', /"image" or a "build\.dockerfile"/);
    rejectsWith(() => parseDevcontainer('[1, 2]'), 'config-invalid', /JSON object/);
    assert.equal(parseDevcontainer('{ "dockerFile": "Dockerfile" }').dockerFile, 'Dockerfile');
  });

  it('finds .devcontainer/devcontainer.json or .devcontainer.json, and says where it looked when neither exists', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'warden-dc-'));
    try {
      await assert.rejects(loadDevcontainer(dir), (error: unknown) => {
        assert.ok(error instanceof SandboxError && error.code === 'config-missing');
        assert.ok(
          error.message.includes(dir) &&
            error.message.includes('.devcontainer/devcontainer.json') &&
            error.message.includes('.devcontainer.json'),
        );
        return true;
      });
      await fs.writeFile(path.join(dir, '.devcontainer.json'), '{ "image": "root-level" }');
      assert.equal((await loadDevcontainer(dir)).config.image, 'root-level');
      await fs.mkdir(path.join(dir, '.devcontainer'));
      await fs.writeFile(path.join(dir, '.devcontainer', 'devcontainer.json'), '{ "image": "in-folder" }');
      const loaded = await loadDevcontainer(dir);
      assert.equal(loaded.config.image, 'in-folder');
      assert.equal(loaded.configPath, path.join(dir, '.devcontainer', 'devcontainer.json'));
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});

describe('image source', () => {
  const ws = '/home/ada/project';
  const configPath = `${ws}/.devcontainer/devcontainer.json`;

  it('resolves dockerfile and context relative to devcontainer.json', () => {
    const source = imageSource(
      { configPath, config: { build: { dockerfile: 'Dockerfile', context: '..', args: { A: 'b' }, target: 'dev' } } },
      ws,
    );
    assert.deepEqual(source, {
      kind: 'build',
      dockerfilePath: `${ws}/.devcontainer/Dockerfile`,
      contextPath: ws,
      args: { A: 'b' },
      target: 'dev',
    });
    assert.deepEqual(imageSource({ configPath, config: { image: 'node:20' } }, ws), { kind: 'image', image: 'node:20' });
  });

  it('refuses a build context outside the workspace (it would be sent to the engine)', () => {
    rejectsWith(
      () => imageSource({ configPath, config: { build: { dockerfile: 'Dockerfile', context: '../..' } } }, ws),
      'config-invalid',
      /outside the workspace/,
    );
  });
});

describe('toContainerSpec', () => {
  const options = {
    workspaceHostPath: '/home/ada/project',
    agentsHostPath: '/ext/dist/agents',
    sessionId: 's-1',
    image: 'warden-sandbox-base:dev',
  };
  const config: DevcontainerConfig = {
    image: 'warden-sandbox-base:dev',
    containerEnv: { NODE_ENV: 'development', WS: '${containerWorkspaceFolder}' },
  };

  it('applies every hardening flag', () => {
    const spec = toContainerSpec(config, options);
    const host = spec.HostConfig!;
    assert.equal(host.NetworkMode, 'none');
    assert.deepEqual(host.CapDrop, ['ALL']);
    assert.deepEqual(host.CapAdd, []);
    assert.deepEqual(host.SecurityOpt, ['no-new-privileges']);
    assert.equal(host.Privileged, false);
    assert.equal(host.ReadonlyRootfs, true);
    assert.ok(host.PidsLimit && host.PidsLimit > 0 && host.PidsLimit <= 1024);
    assert.equal(host.Memory, 2 * 1024 ** 3);
    assert.deepEqual(Object.keys(host.Tmpfs ?? {}).sort(), ['/home/warden', '/tmp']);
    assert.equal(spec.User, '1000:1000');
    assert.deepEqual(host.Mounts, [
      { Type: 'bind', Source: '/home/ada/project', Target: '/workspaces/project', ReadOnly: true },
      { Type: 'bind', Source: '/ext/dist/agents', Target: AGENTS_FOLDER, ReadOnly: true },
    ]);
    assert.equal(host.Binds, undefined, 'no Binds: Docker would create missing host folders');
    assert.equal(spec.NetworkingConfig, undefined);
    assert.deepEqual(spec.Labels, {
      'dev.warden.managed': 'true',
      'dev.warden.session': 's-1',
      'dev.warden.workspace': '/home/ada/project',
    });
    assert.equal(spec.WorkingDir, '/workspaces/project');
    assert.deepEqual(spec.Entrypoint?.slice(0, 2), ['/bin/sh', '-c']);
  });

  it('passes only containerEnv plus HOME and PATH: nothing from the host environment', () => {
    process.env.WARDEN_UNIT_CANARY = 'leaked';
    try {
      const spec = toContainerSpec(config, options);
      assert.deepEqual(spec.Env, [
        'NODE_ENV=development',
        'WS=/workspaces/project',
        'HOME=/home/warden',
        'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      ]);
      assert.ok(!JSON.stringify(spec).includes('leaked'));
    } finally {
      delete process.env.WARDEN_UNIT_CANARY;
    }
    const withImagePath = toContainerSpec({ image: 'x', containerEnv: { HOME: '/root' } }, { ...options, imagePath: '/opt/go/bin:/bin' });
    assert.deepEqual(
      withImagePath.Env,
      ['HOME=/home/warden', 'PATH=/opt/go/bin:/bin'],
      'HOME stays on the writable tmpfs; the image PATH is kept',
    );
  });

  it('refuses ${localEnv:...} in containerEnv instead of copying host variables in', () => {
    rejectsWith(
      () => toContainerSpec({ image: 'x', containerEnv: { TOKEN: '${localEnv:GITHUB_TOKEN}' } }, options),
      'config-invalid',
      /containerEnv\.TOKEN uses \$\{localEnv:GITHUB_TOKEN\}, which Warden does not pass.*never passed/,
    );
  });

  it('honours workspaceFolder but refuses folders that would hide the sandbox plumbing', () => {
    assert.equal(
      toContainerSpec({ image: 'x', workspaceFolder: '/src/${localWorkspaceFolderBasename}' }, options).WorkingDir,
      '/src/project',
    );
    for (const folder of ['/', '/tmp', '/opt', '/home/warden/x', 'relative']) {
      rejectsWith(() => toContainerSpec({ image: 'x', workspaceFolder: folder }, options), 'config-invalid', /workspaceFolder/);
    }
  });

  it('never runs as root', () => {
    assert.equal(sandboxUser({ image: 'x' }), '1000:1000');
    assert.equal(sandboxUser({ image: 'x', containerUser: '1001' }), '1001:1001');
    assert.equal(sandboxUser({ image: 'x', remoteUser: 'node' }), 'node');
    for (const user of ['root', '0', '0:0', '1000:0', 'node:root']) {
      rejectsWith(() => sandboxUser({ image: 'x', containerUser: user }), 'config-invalid', /never runs the sandbox as root/);
    }
  });
});

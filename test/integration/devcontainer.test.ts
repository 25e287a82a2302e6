import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import Docker from 'dockerode';
import * as tar from 'tar-fs';
import { AuditLog, verifyAuditLog } from '../../src/core/audit';
import { loadWorkspacePolicy } from '../../src/core/policy';
import { ProposalStore } from '../../src/core/proposals/store';
import { DockerSandboxProvider } from '../../src/core/sandbox/dockerSandbox';
import { AgentSession } from '../../src/core/supervisor';
import { NodeWorkspaceFiles } from '../../src/core/workspace/files';
import { copyDemoWorkspace, readAudit } from '../support/workspace';
import { STRICT_SANDBOX_POLICY, type SandboxPolicy } from '../../src/core/sandbox/hardeningPolicy';
import {
  SandboxError,
  type LifecycleCommandRecord,
  type Sandbox,
  type SandboxProgress,
  type SandboxStartOptions,
} from '../../src/core/sandbox/types';
import { BASE_IMAGE, ensureSandboxPrerequisites, REPO_ROOT } from './prerequisites';

/**
 * The whole devcontainer.json on a real engine: builds, local features, the image metadata
 * label, lifecycle commands, remoteEnv, policy refusals and the host environment allow-list.
 * Everything is built locally from the base image: no registry is reachable.
 */
const RUN_ID = randomUUID().slice(0, 8);
const docker = new Docker();
const provider = new DockerSandboxProvider(docker);
const tempDirs: string[] = [];
const images = new Set<string>();
let agentsDir: string;
let counter = 0;

async function tempDir(prefix: string): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  tempDirs.push(dir);
  await fs.chmod(dir, 0o755); // the sandbox user (uid 1000) must read it
  return dir;
}

async function makeWorkspace(files: Record<string, string>): Promise<string> {
  const dir = await tempDir('warden-dc-it-');
  for (const [name, content] of Object.entries(files)) {
    await fs.mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await fs.writeFile(path.join(dir, name), content);
  }
  return dir;
}

interface Started {
  sandbox: Sandbox;
  logs: string[];
  progress: SandboxProgress[];
  lifecycle: LifecycleCommandRecord[];
}

async function start(workspace: string, extra: Partial<SandboxStartOptions> = {}): Promise<Started> {
  const logs: string[] = [];
  const progress: SandboxProgress[] = [];
  const lifecycle: LifecycleCommandRecord[] = [];
  const sandbox = await provider.start({
    workspaceHostPath: workspace,
    agentsHostPath: agentsDir,
    sessionId: `dc-${RUN_ID}-${++counter}`,
    onLog: (line) => logs.push(line),
    onProgress: (p) => progress.push(p),
    onLifecycleCommand: (record) => void lifecycle.push(record),
    ...extra,
    workspaceMode: extra.workspaceMode ?? 'readonly',
  });
  if (/^warden-(build|features)-/.test(sandbox.image)) images.add(sandbox.image);
  return { sandbox, logs, progress, lifecycle };
}

/** Starts, expecting a SandboxError; remembers the images a failed start may have built. */
async function startFails(workspace: string, extra: Partial<SandboxStartOptions> = {}): Promise<SandboxError> {
  try {
    const { sandbox } = await start(workspace, extra);
    await sandbox.stop();
  } catch (error) {
    assert.ok(error instanceof SandboxError, String(error));
    return error;
  }
  assert.fail('the sandbox started, but it should have been refused');
}

async function run(sandbox: Sandbox, script: string): Promise<{ code: number | null; text: string }> {
  const command = await sandbox.runCommand(['/bin/sh', '-c', script], { cwd: sandbox.workspaceFolder });
  const status = await command.exited;
  return { code: status.exitCode, text: command.output().text };
}

async function agentOutput(sandbox: Sandbox, script: string): Promise<string> {
  const agent = await sandbox.execAgent(['/bin/sh', '-c', script]);
  let text = '';
  agent.stdout.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  agent.stdin.end();
  await agent.exited;
  return text;
}

async function buildLocalImage(tag: string, dockerfile: string): Promise<void> {
  const dir = await tempDir('warden-dc-img-');
  await fs.writeFile(path.join(dir, 'Dockerfile'), dockerfile);
  const stream = await docker.buildImage(Readable.from(tar.pack(dir), { objectMode: false }), { t: tag, networkmode: 'none', rm: true });
  const output = await new Promise<string>((resolve, reject) => {
    let text = '';
    stream.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    stream.on('end', () => resolve(text));
    stream.on('error', reject);
  });
  assert.ok(!/"error"/.test(output), output);
  images.add(tag);
}

function policy(allow: Partial<SandboxPolicy>): SandboxPolicy {
  return { ...STRICT_SANDBOX_POLICY, ...allow };
}

async function leftoverContainers(): Promise<string[]> {
  const containers = await docker.listContainers({ all: true, filters: { label: ['dev.warden.managed=true'] } });
  return containers.filter((c) => c.Labels['dev.warden.session']?.startsWith(`dc-${RUN_ID}-`)).map((c) => c.Id);
}

describe('devcontainer.json on a real engine', function () {
  this.timeout(180_000);

  before(async function () {
    this.timeout(600_000);
    await ensureSandboxPrerequisites();
    agentsDir = await tempDir('warden-dc-agents-');
  });

  after(async () => {
    const leftovers = await leftoverContainers();
    await Promise.all(
      leftovers.map((id) =>
        docker
          .getContainer(id)
          .remove({ force: true })
          .catch(() => undefined),
      ),
    );
    for (const tag of images)
      await docker
        .getImage(tag)
        .remove({ force: true })
        .catch(() => undefined);
    await Promise.all(tempDirs.map((dir) => fs.rm(dir, { recursive: true, force: true })));
    assert.deepEqual(leftovers, [], 'every sandbox of this run was stopped and removed');
  });

  it('build: context, args and target; the log is streamed and each step is reported as progress', async () => {
    const workspace = await makeWorkspace({
      '.devcontainer/devcontainer.json': JSON.stringify({
        build: { dockerfile: 'Dockerfile', context: '..', args: { FLAVOUR: `salty-${RUN_ID}` }, target: 'dev' },
      }),
      '.devcontainer/Dockerfile': [
        `FROM ${BASE_IMAGE} AS dev`,
        'ARG FLAVOUR',
        'COPY data/seed.txt /opt/seed.txt',
        'RUN echo "$FLAVOUR" > /opt/flavour',
        'FROM dev AS other',
        'RUN exit 9',
      ].join('\n'),
      'data/seed.txt': 'from the context\n',
    });
    const { sandbox, logs, progress } = await start(workspace);
    try {
      assert.deepEqual(await run(sandbox, 'cat /opt/seed.txt /opt/flavour'), { code: 0, text: `from the context\nsalty-${RUN_ID}\n` });
      assert.ok(
        logs.some((l) => /^build Step 3\/4 : COPY data\/seed\.txt/.test(l)),
        logs.join('\n'),
      );
      const steps = progress.filter((p) => /Step \d\/4/.test(p.message));
      assert.deepEqual(
        steps.map((p) => /Step (\d)\/4/.exec(p.message)?.[1]),
        ['1', '2', '3', '4'],
        'only the target stage is built, one report per step',
      );
      assert.deepEqual(
        steps.map((p) => p.fraction),
        [0, 0.25, 0.5, 0.75],
      );
    } finally {
      await sandbox.stop();
    }
  });

  it('a failing Dockerfile step is named with its number, instruction and exit code', async () => {
    const workspace = await makeWorkspace({
      '.devcontainer/devcontainer.json': '{ "build": { "dockerfile": "Dockerfile" } }',
      '.devcontainer/Dockerfile': `FROM ${BASE_IMAGE}\nRUN echo ${RUN_ID} > /tmp/ok\nRUN npm-ci-that-fails || exit 3\n`,
    });
    const error = await startFails(workspace);
    assert.equal(error.code, 'build-failed');
    assert.match(error.message, /Step 3\/3 RUN npm-ci-that-fails \|\| exit 3 failed with exit code 3/);
  });

  it('a local feature is built into a derived image: install.sh runs with its options, its containerEnv and lifecycle command apply', async () => {
    const workspace = await makeWorkspace({
      '.devcontainer/devcontainer.json': `{
        "image": "${BASE_IMAGE}",
        // a local feature, with one option set and one left at its default
        "features": { "./hello": { "greeting": "bonjour" } },
      }`,
      '.devcontainer/hello/devcontainer-feature.json': JSON.stringify({
        id: 'hello',
        version: '1.0.0',
        options: { greeting: { type: 'string', default: 'hi' }, target: { type: 'string', default: '/usr/local/share/hello' } },
        containerEnv: { HELLO_FEATURE: 'installed' },
        postCreateCommand: 'cat /usr/local/share/hello/greeting',
      }),
      '.devcontainer/hello/install.sh': `#!/bin/sh\nset -e\nmkdir -p "$TARGET"\necho "$GREETING from $(id -u) run ${RUN_ID}" > "$TARGET/greeting"\n`,
    });
    const { sandbox, logs, lifecycle } = await start(workspace);
    try {
      assert.match(sandbox.image, /^warden-features-[0-9a-f]{16}$/);
      assert.ok(
        logs.some((l) => l.includes('installing features ./hello')),
        logs.join('\n'),
      );
      assert.deepEqual(await run(sandbox, 'cat /usr/local/share/hello/greeting; echo "$HELLO_FEATURE"'), {
        code: 0,
        text: `bonjour from 0 run ${RUN_ID}\ninstalled\n`,
      });
      assert.deepEqual(
        lifecycle.map((r) => [r.hook, r.origin, r.exitCode, r.output]),
        [['postCreateCommand', 'feature ./hello', 0, `bonjour from 0 run ${RUN_ID}\n`]],
      );
      const label = ((await docker.getImage(sandbox.image).inspect()) as { Config: { Labels: Record<string, string> } }).Config.Labels[
        'devcontainer.metadata'
      ];
      assert.deepEqual(JSON.parse(label ?? '[]'), [
        { id: './hello', containerEnv: { HELLO_FEATURE: 'installed' }, postCreateCommand: 'cat /usr/local/share/hello/greeting' },
      ]);
    } finally {
      await sandbox.stop();
    }
  });

  it("merges the image's devcontainer.metadata label under devcontainer.json, and runs lifecycle commands in order, audited, as the remote user with no network", async () => {
    const tag = `warden-it-metadata:${RUN_ID}`;
    const metadata = [
      {
        containerEnv: { FROM_LABEL: 'label', SHARED: 'label' },
        remoteEnv: { REMOTE_LABEL: 'label-${containerEnv:FROM_LABEL}' },
        onCreateCommand: 'echo label-on-create >> /tmp/order',
        remoteUser: '1002',
      },
      { postStartCommand: ['/bin/sh', '-c', 'echo label-post-start >> /tmp/order'] },
    ];
    await buildLocalImage(tag, `FROM ${BASE_IMAGE}\nLABEL devcontainer.metadata='${JSON.stringify(metadata)}'\n`);
    const workspace = await makeWorkspace({
      '.devcontainer/devcontainer.json': JSON.stringify({
        image: tag,
        containerEnv: { SHARED: 'json' },
        remoteEnv: { REMOTE_JSON: '${containerEnv:SHARED}-remote' },
        remoteUser: '1001',
        init: true,
        onCreateCommand: 'echo json-on-create >> /tmp/order',
        postCreateCommand: ['/bin/sh', '-c', 'echo json-post-create "$(id -u)" >> /tmp/order'],
        postStartCommand: { network: 'ls /sys/class/net >> /tmp/order', env: 'echo "$REMOTE_JSON $REMOTE_LABEL" >> /tmp/order' },
      }),
    });
    const { sandbox, lifecycle } = await start(workspace);
    try {
      assert.deepEqual((await run(sandbox, 'cat /tmp/order')).text.split('\n'), [
        'label-on-create',
        'json-on-create',
        'json-post-create 1001',
        'label-post-start',
        'lo',
        'json-remote label-label',
        '',
      ]);
      assert.deepEqual(
        lifecycle.map((r) => [r.hook, r.origin, r.name ?? null, r.where, r.user, r.exitCode]),
        [
          ['onCreateCommand', `the devcontainer.metadata label of ${tag}`, null, 'container', '1001:1001', 0],
          ['onCreateCommand', 'devcontainer.json', null, 'container', '1001:1001', 0],
          ['postCreateCommand', 'devcontainer.json', null, 'container', '1001:1001', 0],
          ['postStartCommand', `the devcontainer.metadata label of ${tag}`, null, 'container', '1001:1001', 0],
          ['postStartCommand', 'devcontainer.json', 'network', 'container', '1001:1001', 0],
          ['postStartCommand', 'devcontainer.json', 'env', 'container', '1001:1001', 0],
        ],
      );
      // devcontainer.json wins over the label; both env kinds reach the agent's exec.
      const env = await agentOutput(sandbox, 'echo "$(id -u) $FROM_LABEL $SHARED $REMOTE_JSON $REMOTE_LABEL"');
      assert.equal(env, '1001 label json json-remote label-label\n');
      // "init": true puts Docker's init process (tini) at PID 1, which reaps zombies.
      assert.equal((await run(sandbox, 'cat /proc/1/comm')).text, 'docker-init\n');
    } finally {
      await sandbox.stop();
    }
  });

  it('a failing lifecycle command stops the start with an error naming it, after it was audited; the container is removed', async () => {
    const workspace = await makeWorkspace({
      '.devcontainer/devcontainer.json': JSON.stringify({
        image: BASE_IMAGE,
        onCreateCommand: 'echo fine',
        postCreateCommand: 'echo installing; echo broken >&2; exit 7',
        postStartCommand: 'echo never',
      }),
    });
    const records: LifecycleCommandRecord[] = [];
    const error = await startFails(workspace, { onLifecycleCommand: (r) => void records.push(r) });
    assert.equal(error.code, 'lifecycle-failed');
    assert.match(
      error.message,
      /The lifecycle command postCreateCommand \(devcontainer\.json\) "echo installing; echo broken >&2; exit 7" failed with exit code 7:\n/,
    );
    // stdout and stderr are separate streams: their lines may arrive in either order.
    assert.ok(error.message.includes('installing\n') && error.message.includes('broken\n'), error.message);
    assert.deepEqual(
      records.map((r) => [r.hook, r.exitCode]),
      [
        ['onCreateCommand', 0],
        ['postCreateCommand', 7],
      ],
    );
    assert.deepEqual(await leftoverContainers(), []);
  });

  describe('security-relevant properties and the team policy', () => {
    it('privileged, capAdd and a host bind mount are refused without the policy, naming each policy key', async () => {
      const data = await tempDir('warden-dc-data-');
      const workspace = await makeWorkspace({
        '.devcontainer/devcontainer.json': JSON.stringify({
          image: BASE_IMAGE,
          privileged: true,
          capAdd: ['SYS_PTRACE'],
          mounts: [`type=bind,source=${data},target=/data,readonly`],
        }),
      });
      const error = await startFails(workspace);
      assert.equal(error.code, 'config-refused');
      assert.match(
        error.message,
        /"privileged": true is refused: allow it with "sandbox\.allowPrivileged": true in \.warden\/policy\.json/,
      );
      assert.match(
        error.message,
        /"capAdd": \["SYS_PTRACE"\] is refused: allow it with "sandbox\.allowCapAdd": \["SYS_PTRACE"\] in \.warden\/policy\.json/,
      );
      assert.match(
        error.message,
        /the host bind mount .* is refused: allow it with "sandbox\.allowMounts": true in \.warden\/policy\.json/,
      );
    });

    it('allowed by the policy they apply, while no network, no-new-privileges and the read-only workspace stay', async () => {
      const data = await tempDir('warden-dc-data-');
      await fs.writeFile(path.join(data, 'shared.txt'), `shared ${RUN_ID}\n`);
      const workspace = await makeWorkspace({
        '.devcontainer/devcontainer.json': JSON.stringify({
          image: BASE_IMAGE,
          privileged: true,
          capAdd: ['SYS_PTRACE'],
          mounts: [`type=bind,source=${data},target=/data,readonly`],
        }),
      });
      const { sandbox, logs } = await start(workspace, {
        sandboxPolicy: policy({ allowPrivileged: true, allowCapAdd: ['SYS_PTRACE'], allowMounts: true }),
      });
      try {
        const info = (await docker.getContainer(sandbox.containerId).inspect()) as {
          HostConfig: { Privileged: boolean; CapAdd: string[] | null; SecurityOpt: string[]; NetworkMode: string };
        };
        assert.equal(info.HostConfig.Privileged, true);
        assert.deepEqual(info.HostConfig.CapAdd, ['SYS_PTRACE']);
        assert.equal(info.HostConfig.NetworkMode, 'none');
        assert.ok(info.HostConfig.SecurityOpt.includes('no-new-privileges'));
        assert.deepEqual(await run(sandbox, 'cat /data/shared.txt'), { code: 0, text: `shared ${RUN_ID}\n` });
        assert.notEqual((await run(sandbox, 'touch /data/x')).code, 0, 'the readonly bind stays read-only');
        assert.match((await run(sandbox, `touch ${sandbox.workspaceFolder}/x 2>&1`)).text, /Read-only file system/);
        assert.deepEqual((await run(sandbox, 'ls /sys/class/net')).text, 'lo\n');
        assert.match((await run(sandbox, 'grep NoNewPrivs /proc/self/status')).text, /NoNewPrivs:\s+1/);
        assert.ok(
          logs.some((l) => /allowed by the team policy: privileged/.test(l)),
          logs.join('\n'),
        );
      } finally {
        await sandbox.stop();
      }
    });

    it('initializeCommand runs on the host only when the policy allows it, and is audited', async () => {
      const workspace = await makeWorkspace({
        '.devcontainer/devcontainer.json': JSON.stringify({
          image: BASE_IMAGE,
          initializeCommand: 'echo host-side > initialized.txt; echo done',
        }),
      });
      const refused = await startFails(workspace);
      assert.match(
        refused.message,
        /"initializeCommand" runs on the host, outside the sandbox, and is refused: allow it with "sandbox\.allowInitializeCommand": true/,
      );
      await assert.rejects(fs.stat(path.join(workspace, 'initialized.txt')), 'nothing ran on the host');
      const { sandbox, lifecycle } = await start(workspace, { sandboxPolicy: policy({ allowInitializeCommand: true }) });
      try {
        assert.equal(await fs.readFile(path.join(workspace, 'initialized.txt'), 'utf8'), 'host-side\n');
        assert.deepEqual(
          lifecycle.map((r) => [r.hook, r.where, r.exitCode, r.output]),
          [['initializeCommand', 'host', 0, 'done\n']],
        );
      } finally {
        await sandbox.stop();
      }
    });
  });

  describe('the host environment allow-list, checked from inside', () => {
    const fake: Record<string, string> = {
      GITHUB_TOKEN: `ghp_fake_${RUN_ID}`,
      SSH_AUTH_SOCK: `/tmp/fake-agent-${RUN_ID}.sock`,
      AWS_SECRET_ACCESS_KEY: `aws-fake-${RUN_ID}`,
      DOCKER_HOST_FAKE_TOKEN: `docker-fake-${RUN_ID}`,
      WARDEN_IT_NOT_LISTED: `not-listed-${RUN_ID}`,
      WARDEN_IT_LISTED: `listed-${RUN_ID}`,
      LANG: 'C.UTF-8',
    };
    const saved: Record<string, string | undefined> = {};
    before(() => {
      for (const [key, value] of Object.entries(fake)) {
        saved[key] = process.env[key];
        process.env[key] = value;
      }
    });
    after(() => {
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    });

    it('credentials never enter, even when listed (and the log says so); allow-listed variables do', async () => {
      const workspace = await makeWorkspace({
        '.devcontainer/devcontainer.json': JSON.stringify({
          image: BASE_IMAGE,
          containerEnv: { FROM_HOST: '${localEnv:WARDEN_IT_LISTED}' },
        }),
      });
      const { sandbox, logs } = await start(workspace, {
        environmentAllowList: ['LANG', 'WARDEN_IT_LISTED', 'GITHUB_TOKEN', 'SSH_AUTH_SOCK', 'AWS_*', '*_TOKEN'],
      });
      try {
        const inside = [(await run(sandbox, 'env')).text, await agentOutput(sandbox, 'env')];
        for (const env of inside) {
          for (const name of ['GITHUB_TOKEN', 'SSH_AUTH_SOCK', 'AWS_SECRET_ACCESS_KEY', 'DOCKER_HOST_FAKE_TOKEN', 'WARDEN_IT_NOT_LISTED']) {
            assert.ok(!env.includes(fake[name]!) && !new RegExp(`^${name}=`, 'm').test(env), `${name} entered the sandbox:\n${env}`);
          }
          assert.match(env, /^LANG=C\.UTF-8$/m);
          assert.match(env, new RegExp(`^WARDEN_IT_LISTED=listed-${RUN_ID}$`, 'm'));
          assert.match(env, new RegExp(`^FROM_HOST=listed-${RUN_ID}$`, 'm'));
        }
        for (const entry of ['GITHUB_TOKEN', 'SSH_AUTH_SOCK', 'AWS_*', '*_TOKEN']) {
          assert.ok(
            logs.some((l) => l.includes(`"${entry}" is on the allow-list but is never passed into the sandbox`)),
            `no log line for ${entry}:\n${logs.join('\n')}`,
          );
        }
        // No SSH agent, no Docker socket, nothing of the host home mounted.
        const mounts = (await run(sandbox, 'cat /proc/self/mountinfo')).text;
        assert.ok(!mounts.includes(os.homedir()) || os.homedir() === '/', mounts);
        assert.notEqual((await run(sandbox, 'test -e /var/run/docker.sock || test -e /run/docker.sock')).code, 0);
      } finally {
        await sandbox.stop();
      }
    });

    it('${localEnv:GITHUB_TOKEN} is refused with the reason, even when listed', async () => {
      const workspace = await makeWorkspace({
        '.devcontainer/devcontainer.json': JSON.stringify({ image: BASE_IMAGE, remoteEnv: { TOKEN: '${localEnv:GITHUB_TOKEN}' } }),
      });
      const error = await startFails(workspace, { environmentAllowList: ['GITHUB_TOKEN'] });
      assert.equal(error.code, 'config-invalid');
      assert.match(
        error.message,
        /remoteEnv\.TOKEN uses \$\{localEnv:GITHUB_TOKEN\}, which Warden does not pass into the sandbox: "GITHUB_TOKEN" is never passed/,
      );
    });
  });

  describe('in a supervised session, with the committed team policy', () => {
    const reviewer = { kind: 'human' as const, name: 'Ada Reviewer', email: 'ada@example.test', source: 'test' };

    async function session(policyText: string | undefined): Promise<{ workspace: string; started: Promise<AgentSession> }> {
      const workspace = await copyDemoWorkspace('warden-dc-session-');
      tempDirs.push(workspace);
      await fs.writeFile(
        path.join(workspace, '.devcontainer', 'devcontainer.json'),
        JSON.stringify({ image: BASE_IMAGE, capAdd: ['SYS_PTRACE'], postCreateCommand: 'echo created-in-sandbox' }),
      );
      if (policyText) {
        await fs.mkdir(path.join(workspace, '.warden'), { recursive: true });
        await fs.writeFile(path.join(workspace, '.warden', 'policy.json'), policyText);
      }
      const policy = await loadWorkspacePolicy(workspace);
      const started = AgentSession.start({
        workspaceMode: 'readonly',
        workspaceRoot: workspace,
        agentsHostPath: path.join(REPO_ROOT, 'dist', 'agents'),
        sandboxProvider: provider,
        store: new ProposalStore(),
        audit: AuditLog.forWorkspace(workspace),
        files: new NodeWorkspaceFiles(workspace),
        reviewer,
        policy: { current: () => policy },
        sessionId: `dc-${RUN_ID}-${++counter}`,
      });
      return { workspace, started };
    }

    it('"sandbox.allowCapAdd" in .warden/policy.json lets the capability in, and the lifecycle command is in the audit log', async () => {
      const { workspace, started } = await session('{ "version": 1, "sandbox": { "allowCapAdd": ["SYS_PTRACE"] } }');
      const running = await started;
      const containerId = running.containerId!;
      try {
        const info = (await docker.getContainer(containerId).inspect()) as { HostConfig: { CapAdd: string[] | null } };
        assert.deepEqual(info.HostConfig.CapAdd, ['SYS_PTRACE']);
      } finally {
        await running.stop('test finished');
      }
      const entries = await readAudit(workspace);
      const lifecycle = entries.filter((e) => e.type === 'lifecycle.command');
      assert.equal(lifecycle.length, 1);
      assert.deepEqual(
        {
          hook: lifecycle[0]!.data.hook,
          origin: lifecycle[0]!.data.origin,
          where: lifecycle[0]!.data.where,
          exitCode: lifecycle[0]!.data.exitCode,
          output: lifecycle[0]!.data.output,
        },
        { hook: 'postCreateCommand', origin: 'devcontainer.json', where: 'container', exitCode: 0, output: 'created-in-sandbox\n' },
      );
      const types = entries.map((e) => e.type);
      assert.ok(types.indexOf('lifecycle.command') < types.indexOf('sandbox.started'), types.join(', '));
      assert.equal((await verifyAuditLog(workspace)).ok, true);
    });

    it('without it the session does not start, and the error names the policy key', async () => {
      const { started } = await session(undefined);
      await assert.rejects(
        started,
        /"capAdd": \["SYS_PTRACE"\] is refused: allow it with "sandbox\.allowCapAdd": \["SYS_PTRACE"\] in \.warden\/policy\.json/,
      );
      assert.deepEqual(await leftoverContainers(), []);
    });
  });
});

import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { DockerSandboxProvider } from '../../src/core/sandbox/dockerSandbox';
import { SandboxError, type AgentProcess, type Sandbox } from '../../src/core/sandbox/types';
import { sha256Hex } from '../../src/core/util/hash';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const BASE_IMAGE = 'warden-sandbox-base:dev';
const RUN_ID = randomUUID().slice(0, 8);
const docker = new Docker();
const provider = new DockerSandboxProvider(docker);
const tempDirs: string[] = [];
const builtImages = new Set<string>();
let sessionCounter = 0;
let agentsDir: string;

async function makeWorkspace(files: Record<string, string>): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'warden-sandbox-it-'));
  tempDirs.push(dir);
  await fs.chmod(dir, 0o755); // mkdtemp makes it 0700: the sandbox user (uid 1000) could not read it
  for (const [name, content] of Object.entries(files)) {
    await fs.mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await fs.writeFile(path.join(dir, name), content);
  }
  return dir;
}

async function start(workspace: string, logs: string[] = []): Promise<Sandbox> {
  const sandbox = await provider.start({
    workspaceMode: 'readonly',
    workspaceHostPath: workspace,
    agentsHostPath: agentsDir,
    sessionId: `it-${RUN_ID}-${++sessionCounter}`,
    onLog: (line) => logs.push(line),
  });
  if (/^warden-build-/.test(sandbox.image)) builtImages.add(sandbox.image);
  return sandbox;
}

async function run(
  sandbox: Sandbox,
  argv: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<{ code: number | null; text: string }> {
  const command = await sandbox.runCommand(argv, {
    cwd: options.cwd ?? sandbox.workspaceFolder,
    ...(options.env ? { env: options.env } : {}),
  });
  const status = await command.exited;
  return { code: status.exitCode, text: command.output().text };
}

async function snapshot(dir: string): Promise<Record<string, string>> {
  const result: Record<string, string> = {};
  for (const entry of await fs.readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = path.join(entry.parentPath, entry.name);
    result[path.relative(dir, full)] = sha256Hex(await fs.readFile(full));
  }
  return result;
}

/** Collects a stream's text and resolves once `pattern` has appeared in it. */
function collect(stream: NodeJS.ReadableStream): { text: () => string; waitFor: (pattern: RegExp) => Promise<void> } {
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  return {
    text: () => text,
    waitFor: (pattern) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern} in ${JSON.stringify(text)}`)), 20_000);
        const check = (): void => {
          if (pattern.test(text)) {
            clearTimeout(timer);
            stream.off('data', check);
            resolve();
          }
        };
        stream.on('data', check);
        check();
      }),
  };
}

async function managedContainersOfThisRun(): Promise<string[]> {
  const containers = await docker.listContainers({ all: true, filters: { label: ['dev.warden.managed=true'] } });
  return containers.filter((c) => c.Labels['dev.warden.session']?.startsWith(`it-${RUN_ID}-`)).map((c) => c.Id);
}

describe('DockerSandboxProvider (real Docker engine)', function () {
  this.timeout(120_000);

  before(async function () {
    this.timeout(600_000);
    try {
      await docker.ping();
    } catch (error) {
      throw new Error(
        `The sandbox integration tests need a running Docker engine and none answered at ${process.env.DOCKER_HOST || '/var/run/docker.sock'} (${String(error)}). ` +
          'Run `bash scripts/bootstrap/docker.sh` (installs and starts one) or `npm test`.',
        { cause: error },
      );
    }
    await promisify(execFile)('bash', [path.join(REPO_ROOT, 'scripts/bootstrap/images.sh')], {
      cwd: REPO_ROOT,
      maxBuffer: 16 * 1024 * 1024,
    });
    agentsDir = await fs.mkdtemp(path.join(os.tmpdir(), 'warden-agents-it-'));
    tempDirs.push(agentsDir);
    await fs.chmod(agentsDir, 0o755);
    await fs.writeFile(path.join(agentsDir, 'hello-agent.txt'), 'bundled agent\n');
  });

  after(async () => {
    const leftovers = await managedContainersOfThisRun();
    await Promise.all(
      leftovers.map((id) =>
        docker
          .getContainer(id)
          .remove({ force: true })
          .catch(() => undefined),
      ),
    );
    await Promise.all(
      [...builtImages].map((tag) =>
        docker
          .getImage(tag)
          .remove({ force: true })
          .catch(() => undefined),
      ),
    );
    await Promise.all(tempDirs.map((dir) => fs.rm(dir, { recursive: true, force: true })));
    assert.deepEqual(leftovers, [], 'every sandbox of this run was stopped and removed');
  });

  describe('an "image" sandbox, checked from inside', () => {
    const canaryName = `WARDEN_IT_CANARY_${RUN_ID}`;
    let workspace: string;
    let sandbox: Sandbox;
    let original: Record<string, string>;

    before(async () => {
      workspace = await makeWorkspace({
        '.devcontainer/devcontainer.json': `// image config\n{ "image": "${BASE_IMAGE}", "containerEnv": { "GREETING": "hi" }, }`,
        'src/app.js': 'console.log("app");\n',
      });
      original = await snapshot(workspace);
      process.env[canaryName] = 'host-secret';
      sandbox = await start(workspace);
    });

    after(async () => {
      delete process.env[canaryName];
      await sandbox?.stop();
    });

    it('mounts the workspace at /workspaces/<name> and the agents at /opt/warden/agents', async () => {
      assert.equal(sandbox.workspaceFolder, `/workspaces/${path.basename(workspace)}`);
      assert.equal(sandbox.agentsFolder, '/opt/warden/agents');
      assert.equal(sandbox.image, BASE_IMAGE);
      assert.deepEqual(await run(sandbox, ['cat', 'src/app.js']), { code: 0, text: 'console.log("app");\n' });
      assert.deepEqual(await run(sandbox, ['cat', '/opt/warden/agents/hello-agent.txt']), { code: 0, text: 'bundled agent\n' });
    });

    it('runs as uid 1000 with no capabilities and no-new-privileges', async () => {
      assert.deepEqual(await run(sandbox, ['id', '-u']), { code: 0, text: '1000\n' });
      const status = (await run(sandbox, ['cat', '/proc/self/status'])).text;
      assert.match(status, /^CapEff:\s+0000000000000000$/m);
      assert.match(status, /^CapPrm:\s+0000000000000000$/m);
      assert.match(status, /^CapBnd:\s+0000000000000000$/m);
      assert.match(status, /^NoNewPrivs:\s+1$/m);
    });

    it('cannot write the workspace, the agents folder or the root file system; can write /tmp and HOME', async () => {
      const intoWorkspace = await run(sandbox, ['sh', '-c', 'echo x > src/new.js']);
      assert.notEqual(intoWorkspace.code, 0);
      assert.match(intoWorkspace.text, /Read-only file system/);
      const intoAgents = await run(sandbox, ['touch', '/opt/warden/agents/x']);
      assert.match(intoAgents.text, /Read-only file system/);
      const intoRoot = await run(sandbox, ['touch', '/evil']);
      assert.notEqual(intoRoot.code, 0);
      assert.match(intoRoot.text, /Read-only file system/);
      assert.deepEqual(await run(sandbox, ['sh', '-c', 'echo ok > /tmp/t && cat /tmp/t']), { code: 0, text: 'ok\n' });
      assert.deepEqual(await run(sandbox, ['sh', '-c', 'echo $HOME && touch "$HOME/.x"']), { code: 0, text: '/home/warden\n' });
    });

    it('has no network interface but lo', async () => {
      const { text } = await run(sandbox, ['cat', '/proc/net/dev']);
      const interfaces = text
        .split('\n')
        .slice(2)
        .filter(Boolean)
        .map((line) => line.split(':')[0]!.trim());
      assert.deepEqual(interfaces, ['lo']);
    });

    it('enforces the memory and pids limits', async () => {
      const memory = await run(sandbox, [
        'sh',
        '-c',
        'cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes',
      ]);
      assert.equal(memory.text.trim(), String(2 * 1024 ** 3));
      const pids = await run(sandbox, ['sh', '-c', 'cat /sys/fs/cgroup/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids/pids.max']);
      assert.equal(pids.text.trim(), '256');
      const inspect = (await docker.getContainer(sandbox.containerId).inspect()) as {
        HostConfig: { NetworkMode: string };
        NetworkSettings: { Networks: Record<string, unknown> };
      };
      assert.equal(inspect.HostConfig.NetworkMode, 'none');
      assert.deepEqual(Object.keys(inspect.NetworkSettings.Networks), ['none']);
    });

    it('runs node, and sees only containerEnv plus HOME and PATH (no host environment)', async () => {
      assert.match((await run(sandbox, ['node', '--version'])).text, /^v\d+\.\d+\.\d+\n$/);
      const { text } = await run(sandbox, ['env']);
      assert.ok(!text.includes(canaryName) && !text.includes('host-secret'), `host variable leaked:\n${text}`);
      const names = text
        .split('\n')
        .filter(Boolean)
        .map((line) => line.split('=')[0]!);
      // HOSTNAME comes from Docker, PWD/SHLVL from the shell that starts every exec.
      // The default host environment allow-list (LANG, LANGUAGE, LC_*, TZ, TERM) may pass too.
      const allowed = new Set(['GREETING', 'HOME', 'PATH', 'HOSTNAME', 'PWD', 'SHLVL', 'LANG', 'LANGUAGE', 'TZ', 'TERM']);
      assert.deepEqual(
        names.filter((n) => !allowed.has(n) && !n.startsWith('LC_')),
        [],
      );
      assert.match(text, /^GREETING=hi$/m);
    });

    it('execAgent: stdin reaches the process, stdout and stderr arrive separately, EOF ends it', async () => {
      const script = [
        "process.stderr.write('agent-ready\\n');",
        "const rl = require('readline').createInterface({ input: process.stdin });",
        "rl.on('line', (l) => process.stdout.write('echo:' + l + ':' + process.env.AGENT_MODE + '\\n'));",
        "rl.on('close', () => { process.stderr.write('bye\\n'); process.exitCode = 3; });",
      ].join('\n');
      const agent = await sandbox.execAgent(['node', '-e', script], { AGENT_MODE: 'test' });
      const stdout = collect(agent.stdout);
      const stderr = collect(agent.stderr);
      await stderr.waitFor(/agent-ready\n/);
      agent.stdin.write('one\n');
      await stdout.waitFor(/echo:one:test\n/);
      agent.stdin.write('two\n');
      await stdout.waitFor(/echo:two:test\n/);
      agent.stdin.end();
      assert.deepEqual(await agent.exited, { exitCode: 3, signal: null });
      assert.equal(stdout.text(), 'echo:one:test\necho:two:test\n');
      assert.equal(stderr.text(), 'agent-ready\nbye\n');
    });

    it('execAgent: unread output waits in the engine, not the extension host (bounded), and all of it arrives once read', async () => {
      // 8 MiB in 64 KiB writes; the process cannot end until its reader takes them.
      const total = 8 * 1024 * 1024;
      const script = `const b = Buffer.alloc(65536, 120); let n = 0; const go = () => { while (n < ${total / 65536}) { n++; if (!process.stdout.write(b)) return process.stdout.once('drain', go); } }; go();`;
      const agent = await sandbox.execAgent(['node', '-e', script]);
      const stdout = agent.stdout as PassThrough;
      const held = (): number => stdout.readableLength + stdout.writableLength;
      // Nobody reads: what waits in the host grows to its bound and stops there.
      let last = -1;
      for (const deadline = Date.now() + 20_000; Date.now() < deadline;) {
        await new Promise((resolve) => setTimeout(resolve, 300));
        if (held() === last && held() > 0) break;
        last = held();
      }
      // 1 MiB on each side of the pass-through, and the chunk that filled it.
      assert.ok(held() <= 2.25 * 1024 * 1024, `at most about 2 MiB waits in the extension host, not ${held()} bytes`);
      const state = await Promise.race([
        agent.exited.then(() => 'ended'),
        new Promise((resolve) => setTimeout(() => resolve('running'), 100)),
      ]);
      assert.equal(state, 'running', 'the writer waits for its reader');
      let received = 0;
      stdout.on('data', (chunk: Buffer) => (received += chunk.length));
      assert.deepEqual(await agent.exited, { exitCode: 0, signal: null });
      assert.equal(received, total);
    });

    it('execAgent: kill() stops the agent and everything it started, even when it ignores SIGTERM', async () => {
      const marker = `sleep 4321`;
      const agent: AgentProcess = await sandbox.execAgent([
        'node',
        '-e',
        `process.on('SIGTERM', () => {}); require('child_process').spawn('sh', ['-c', '${marker}'], { stdio: 'ignore' }); console.log('started'); setInterval(() => {}, 1000);`,
      ]);
      await collect(agent.stdout).waitFor(/started/);
      assert.match((await run(sandbox, ['ps'])).text, new RegExp(marker));
      await agent.kill();
      const status = await agent.exited;
      assert.equal(status.signal, 'SIGKILL');
      assert.doesNotMatch((await run(sandbox, ['ps'])).text, new RegExp(marker));
      await agent.kill(); // a second kill is harmless
    });

    it('runCommand: exit codes, interleaved output, cwd and env', async () => {
      // stdout and stderr are separate pipes: only output apart in time has a defined order.
      assert.deepEqual(await run(sandbox, ['sh', '-c', 'echo out; sleep 0.3; echo err >&2; sleep 0.3; echo out2; exit 7']), {
        code: 7,
        text: 'out\nerr\nout2\n',
      });
      assert.equal((await run(sandbox, ['pwd'], { cwd: `${sandbox.workspaceFolder}/src` })).text, `${sandbox.workspaceFolder}/src\n`);
      assert.equal((await run(sandbox, ['sh', '-c', 'echo "$FOO"'], { env: { FOO: 'bar baz' } })).text, 'bar baz\n');
      const missing = await run(sandbox, ['no-such-program']);
      assert.equal(missing.code, 127);
      assert.match(missing.text, /no-such-program/);
    });

    it('runCommand: keeps only the tail of the output within the byte limit', async () => {
      const command = await sandbox.runCommand(['sh', '-c', 'i=0; while [ $i -lt 2000 ]; do echo "line-$i"; i=$((i+1)); done'], {
        cwd: '/',
        outputByteLimit: 100,
      });
      assert.equal((await command.exited).exitCode, 0);
      const { text, truncated } = command.output();
      assert.equal(truncated, true);
      assert.ok(Buffer.byteLength(text) <= 100, `${Buffer.byteLength(text)} bytes kept`);
      assert.match(text, /line-1998\nline-1999\n$/);
      const small = await sandbox.runCommand(['echo', 'short'], { cwd: '/', outputByteLimit: 100 });
      await small.exited;
      assert.deepEqual(small.output(), { text: 'short\n', truncated: false });
    });

    it('runCommand: kill() ends a long command', async () => {
      const command = await sandbox.runCommand(['sleep', '600'], { cwd: '/' });
      await command.kill();
      const status = await command.exited;
      assert.equal(status.signal, 'SIGTERM');
    });

    it('left the workspace unchanged', async () => {
      assert.deepEqual(await snapshot(workspace), original);
    });

    it('stop() removes the container and is safe to call twice', async () => {
      const id = sandbox.containerId;
      await Promise.all([sandbox.stop(), sandbox.stop()]);
      await sandbox.stop();
      await assert.rejects(docker.getContainer(id).inspect(), /no such container/i);
      assert.deepEqual(await managedContainersOfThisRun(), []);
    });
  });

  describe('a "build.dockerfile" sandbox', () => {
    it('builds the Dockerfile (args, target, RUN step) and runs the sandbox on it', async () => {
      const workspace = await makeWorkspace({
        '.devcontainer/devcontainer.json': JSON.stringify({
          build: { dockerfile: 'Dockerfile', args: { GREETING: 'built' }, target: 'sandbox' },
        }),
        '.devcontainer/Dockerfile': [
          `FROM ${BASE_IMAGE} AS sandbox`,
          'ARG GREETING',
          'RUN mkdir -p /opt/marker && echo "$GREETING" > /opt/marker/greeting',
          'FROM sandbox AS never-built',
          'RUN exit 1',
        ].join('\n'),
      });
      const logs: string[] = [];
      const sandbox = await start(workspace, logs);
      try {
        assert.match(sandbox.image, /^warden-build-[0-9a-f]{16}$/);
        assert.ok(
          logs.some((l) => l.includes('RUN mkdir -p /opt/marker')),
          `the build log is streamed:\n${logs.join('\n')}`,
        );
        assert.deepEqual(await run(sandbox, ['cat', '/opt/marker/greeting']), { code: 0, text: 'built\n' });
        assert.deepEqual(await run(sandbox, ['id', '-u']), { code: 0, text: '1000\n' });
      } finally {
        await sandbox.stop();
      }
    });

    it('a failing step is a build-failed error naming the step', async () => {
      const workspace = await makeWorkspace({
        '.devcontainer/devcontainer.json': '{ "build": { "dockerfile": "Dockerfile" } }',
        '.devcontainer/Dockerfile': `FROM ${BASE_IMAGE}\nRUN echo about-to-fail && exit 42\n`,
      });
      await assert.rejects(start(workspace), (error: unknown) => {
        assert.ok(error instanceof SandboxError, String(error));
        assert.equal(error.code, 'build-failed');
        assert.match(error.message, /Step 2\/2 RUN echo about-to-fail && exit 42 failed with exit code 42/);
        assert.match(error.message, /non-zero code: 42/);
        return true;
      });
    });
  });

  describe('failures a user can act on', () => {
    it('an image that is not present and cannot be pulled', async () => {
      const workspace = await makeWorkspace({ '.devcontainer/devcontainer.json': '{ "image": "warden-test-absent:1" }' });
      await assert.rejects(start(workspace), (error: unknown) => {
        assert.ok(error instanceof SandboxError && error.code === 'image-unavailable', String(error));
        assert.match(error.message, /"warden-test-absent:1"/);
        assert.match(error.message, /No image registry could be reached/);
        return true;
      });
    });

    it('a workspace the sandbox user cannot read', async () => {
      const workspace = await makeWorkspace({ '.devcontainer/devcontainer.json': `{ "image": "${BASE_IMAGE}" }` });
      // No read bit for anyone: unreadable in the sandbox whichever host uid runs the tests.
      await fs.chmod(workspace, 0o300);
      try {
        await assert.rejects(start(workspace), (error: unknown) => {
          assert.ok(error instanceof SandboxError && error.code === 'container-failed', String(error));
          assert.match(error.message, /uid 1000\) cannot read \/workspaces\//);
          assert.match(error.message, /chmod o\+rx/);
          return true;
        });
      } finally {
        await fs.chmod(workspace, 0o755);
      }
    });

    it('no devcontainer.json', async () => {
      const workspace = await makeWorkspace({ 'README.md': 'nothing here' });
      await assert.rejects(start(workspace), (error: unknown) => error instanceof SandboxError && error.code === 'config-missing');
    });

    it('an engine that does not answer', async () => {
      const offline = new DockerSandboxProvider(new Docker({ socketPath: path.join(os.tmpdir(), `no-docker-${RUN_ID}.sock`) }));
      const workspace = await makeWorkspace({ '.devcontainer/devcontainer.json': `{ "image": "${BASE_IMAGE}" }` });
      await assert.rejects(
        offline.start({
          workspaceMode: 'readonly',
          workspaceHostPath: workspace,
          agentsHostPath: agentsDir,
          sessionId: `it-${RUN_ID}-offline`,
        }),
        (error: unknown) => {
          assert.ok(error instanceof SandboxError && error.code === 'engine-unreachable', String(error));
          assert.match(error.message, /Start Docker/);
          return true;
        },
      );
    });
  });
});

import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { LABELS } from '../../src/core/sandbox/devcontainer';
import { DockerSandboxProvider } from '../../src/core/sandbox/dockerSandbox';
import { SandboxError, type Sandbox } from '../../src/core/sandbox/types';
import { ENGINE_KIND, ENGINE_LABEL, engineDocker, engineProvider, ensureEngineUnderTest, forgetEngineImage } from './engineUnderTest';
import { BASE_IMAGE, ensureSandboxPrerequisites } from './prerequisites';

const run = promisify(execFile);
const RUN_ID = randomUUID().slice(0, 8);
/** An image whose /bin/sh misbehaves as PID 1 when WARDEN_FAKE_PID1 (containerEnv) says so, and is busybox's ash otherwise. */
const FAKE_IMAGE = `warden-it-fake-pid1:${RUN_ID}`;
const FAKE_SH = `#!/bin/busybox ash
case "$WARDEN_FAKE_PID1" in
  exit) exit 7 ;;
  garbage) echo "hello from the image"; exec /bin/busybox cat > /dev/null ;;
  flood) exec /bin/busybox yes "hostile output without end" ;;
  silent) exec /bin/busybox cat > /dev/null ;;
  *) exec /bin/busybox ash "$@" ;;
esac
`;

/**
 * Issue 21: PID 1 reports the startup check (uid, readable mounts, entry counts) on its stdout,
 * read over the lease, instead of a `docker exec`. A container that never gives a usable report
 * never becomes a sandbox: it fails the start with a clear error and leaves no container behind.
 */
describe("the startup check comes from PID 1's stdout, and its absence fails the start" + ENGINE_LABEL, function () {
  this.timeout(180_000);
  const folders: string[] = [];
  let agents: string;

  before(async function () {
    this.timeout(600_000);
    await ensureSandboxPrerequisites();
    const context = await fs.mkdtemp(path.join(os.tmpdir(), 'warden-fake-pid1-'));
    folders.push(context);
    await fs.writeFile(path.join(context, 'sh'), FAKE_SH, { mode: 0o755 });
    // Exec form: the image's own /bin/sh is what is being replaced.
    await fs.writeFile(
      path.join(context, 'Dockerfile'),
      `FROM ${BASE_IMAGE}\nCOPY sh /fake-sh\nRUN ["/bin/busybox", "sh", "-c", "rm /bin/sh && mv /fake-sh /bin/sh && chmod 755 /bin/sh"]\n`,
    );
    await run('docker', ['build', '-q', '-t', FAKE_IMAGE, context], { maxBuffer: 16 * 1024 * 1024 });
    await ensureEngineUnderTest([BASE_IMAGE, FAKE_IMAGE]);
    agents = await fs.mkdtemp(path.join(os.tmpdir(), 'warden-fake-pid1-agents-'));
    folders.push(agents);
    await fs.chmod(agents, 0o755);
  });

  after(async () => {
    const docker = engineDocker();
    const left = await docker.listContainers({ all: true, filters: { label: [`${LABELS.session}=it-check-${RUN_ID}`] } });
    await Promise.all(left.map((c) => docker.getContainer(c.Id).remove({ force: true })));
    await run('docker', ['rmi', '-f', FAKE_IMAGE]).catch(() => undefined);
    forgetEngineImage(FAKE_IMAGE);
    if (ENGINE_KIND === 'vm')
      await docker
        .getImage(FAKE_IMAGE)
        .remove({ force: true })
        .catch(() => undefined);
    await Promise.all(folders.map((f) => fs.rm(f, { recursive: true, force: true })));
    assert.deepEqual(
      left.map((c) => c.Id),
      [],
      'every failed start removed its container',
    );
  });

  async function workspaceWith(mode: string | undefined): Promise<string> {
    const workspace = await fs.mkdtemp(path.join(os.tmpdir(), 'warden-fake-pid1-ws-'));
    folders.push(workspace);
    await fs.chmod(workspace, 0o755);
    await fs.mkdir(path.join(workspace, '.devcontainer'));
    await fs.writeFile(path.join(workspace, 'README.md'), 'hello\n');
    const config = { image: FAKE_IMAGE, ...(mode ? { containerEnv: { WARDEN_FAKE_PID1: mode } } : {}) };
    await fs.writeFile(path.join(workspace, '.devcontainer', 'devcontainer.json'), JSON.stringify(config));
    return workspace;
  }

  function start(workspace: string, provider: DockerSandboxProvider = engineProvider()): Promise<Sandbox> {
    return provider.start({
      workspaceMode: 'readonly',
      workspaceHostPath: workspace,
      agentsHostPath: agents,
      sessionId: `it-check-${RUN_ID}`,
    });
  }

  async function refused(workspace: string, message: RegExp, provider?: DockerSandboxProvider): Promise<void> {
    await assert.rejects(start(workspace, provider), (error: unknown) => {
      assert.ok(error instanceof SandboxError && error.code === 'container-failed', String(error));
      assert.match(error.message, message);
      return true;
    });
  }

  it('with a well-behaved /bin/sh the sandbox starts on the report alone, no exec, and later output of PID 1 goes nowhere', async () => {
    const sandbox = await start(await workspaceWith(undefined));
    try {
      const docker = engineDocker();
      const info = (await docker.getContainer(sandbox.containerId).inspect()) as { ExecIDs: string[] | null };
      assert.deepEqual(info.ExecIDs ?? [], [], 'the start ran no docker exec');
      const probe = await sandbox.runCommand(['/bin/sh', '-c', 'readlink /proc/1/fd/1; readlink /proc/1/fd/2'], { cwd: '/' });
      await probe.exited;
      assert.equal(probe.output().text, '/dev/null\n/dev/null\n');
    } finally {
      await sandbox.stop();
    }
  });

  it('PID 1 exiting before the report: the start fails saying the container exited and with which code', async () => {
    await refused(await workspaceWith('exit'), /did not start: it is exited \(exit code 7\); the image needs \/bin\/sh/);
  });

  it('output that is not the report: the start fails showing what was printed', async () => {
    await refused(
      await workspaceWith('garbage'),
      /Could not check the sandbox user: .*printed something other than the startup check: "hello from the image\\n"/,
    );
  });

  it('endless output: refused once it passes the limit, without waiting for an end', async () => {
    await refused(
      await workspaceWith('flood'),
      /Could not check the sandbox user: .*printed (something other than the startup check|more than 16 KiB)/,
    );
  });

  it('no report at all while PID 1 keeps running: the start fails when the wait is over', async () => {
    const provider =
      ENGINE_KIND === 'vm'
        ? new DockerSandboxProvider(engineDocker(), { description: 'simulated VM engine', source: 'test', local: true }, undefined, 3_000)
        : new DockerSandboxProvider(undefined, undefined, undefined, 3_000);
    await refused(await workspaceWith('silent'), /did not start: its first process did not report the startup check within 3 s/, provider);
  });
});

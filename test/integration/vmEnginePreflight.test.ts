import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DockerSandboxProvider } from '../../src/core/sandbox/dockerSandbox';
import { SandboxError } from '../../src/core/sandbox/types';
import { startVmEngine, type VmEngine } from '../support/vmEngine';
import { copyDemoWorkspace } from '../support/workspace';
import { BASE_IMAGE, ensureSandboxPrerequisites, REPO_ROOT } from './prerequisites';

/**
 * Preflight on the simulated VM engine (test/support/vmEngine.ts, which shares only one
 * tree): a workspace or a copies folder the engine cannot see is refused before anything
 * runs, with the folder named and what to share; inside the shared tree the same start works.
 */
describe('preflight on a VM-backed engine (simulated: dockerd in its own mount namespace, one shared tree)', function () {
  this.timeout(300_000);
  const shared = path.join(os.tmpdir(), 'warden-vm-shared');
  const agentsHostPath = path.join(REPO_ROOT, 'dist', 'agents');
  let engine: VmEngine;
  let provider: DockerSandboxProvider;
  const previousCopies = process.env.WARDEN_COPIES_DIR;

  before(async function () {
    this.timeout(600_000);
    await ensureSandboxPrerequisites();
    engine = await startVmEngine(shared, [BASE_IMAGE], 'preflight');
    provider = new DockerSandboxProvider(engine.docker, { description: `unix://${engine.socketPath}`, source: 'test', local: true });
  });

  after(async () => {
    if (previousCopies === undefined) delete process.env.WARDEN_COPIES_DIR;
    else process.env.WARDEN_COPIES_DIR = previousCopies;
    await engine?.stop();
  });

  const startError = async (options: Parameters<DockerSandboxProvider['start']>[0]): Promise<SandboxError> => {
    const error = await provider.start(options).then(
      async (sandbox) => {
        await sandbox.stop();
        return undefined;
      },
      (e: unknown) => e,
    );
    assert.ok(error instanceof SandboxError, `expected a SandboxError, got ${String(error)}`);
    return error;
  };

  const running = async (): Promise<number> =>
    (await engine.docker.listContainers({ all: true, filters: { label: ['dev.warden.session'] } })).length;

  it('a workspace outside the shared folders (the host /tmp, invisible to the VM) is refused with the folder and what to share; nothing is left', async () => {
    const hidden = await copyDemoWorkspace('warden-vm-hidden-', await fs.mkdtemp('/tmp/warden-vm-hidden-'));
    try {
      const before = await running();
      const error = await startError({ workspaceMode: 'readonly', workspaceHostPath: hidden, agentsHostPath, sessionId: 'vm-preflight' });
      assert.equal(error.code, 'config-invalid');
      assert.match(error.message, new RegExp(`cannot see the workspace ${hidden.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
      assert.match(error.message, /Docker Desktop: Settings > Resources > File sharing/);
      assert.match(error.message, /Nothing was started and nothing was changed/);
      assert.equal(await running(), before, 'no container left behind');
    } finally {
      await fs.rm(hidden, { recursive: true, force: true });
    }
  });

  it('copy mode with the copies folder in the (unshared) home is refused and names warden.sandbox.copiesFolder; in a shared folder it starts', async () => {
    const workspace = await copyDemoWorkspace('warden-vm-ws-', await fs.mkdtemp(path.join(shared, 'ws-')));
    const hiddenCopies = await fs.mkdtemp(path.join(os.homedir(), '.cache', 'warden-vm-copies-'));
    try {
      process.env.WARDEN_COPIES_DIR = hiddenCopies;
      const error = await startError({ workspaceMode: 'copy', workspaceHostPath: workspace, agentsHostPath, sessionId: 'vm-preflight' });
      assert.equal(error.code, 'config-invalid');
      assert.match(error.message, /warden\.sandbox\.copiesFolder/);
      assert.match(error.message, new RegExp(hiddenCopies.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
      assert.deepEqual(await fs.readdir(hiddenCopies), [], 'the refused copy is removed again');

      process.env.WARDEN_COPIES_DIR = path.join(shared, 'copies');
      const sandbox = await provider.start({
        workspaceMode: 'copy',
        workspaceHostPath: workspace,
        agentsHostPath,
        sessionId: 'vm-preflight',
      });
      try {
        const probe = await sandbox.runCommand(['/bin/sh', '-c', 'cat "$0/README.md" | head -n 1', sandbox.workspaceFolder], { cwd: '/' });
        await probe.exited;
        assert.equal(probe.output().text.split('\n')[0], (await fs.readFile(path.join(workspace, 'README.md'), 'utf8')).split('\n')[0]);
      } finally {
        await sandbox.stop();
      }
    } finally {
      await fs.rm(workspace, { recursive: true, force: true });
      await fs.rm(hiddenCopies, { recursive: true, force: true });
    }
  });

  it('a provider with the Windows path rules (injected) refuses a workspace it cannot bind-mount before any container exists, saying why', async () => {
    const workspace = await copyDemoWorkspace('warden-vm-win-', await fs.mkdtemp(path.join(shared, 'ws-')));
    try {
      const windows = new DockerSandboxProvider(
        engine.docker,
        { description: `unix://${engine.socketPath}`, source: 'test', local: true },
        'win32',
      );
      const before = await running();
      const error = await windows
        .start({ workspaceMode: 'readonly', workspaceHostPath: workspace, agentsHostPath, sessionId: 'vm-win' })
        .then(
          async (sandbox) => {
            await sandbox.stop();
            return undefined;
          },
          (e: unknown) => e,
        );
      assert.ok(error instanceof SandboxError, String(error));
      assert.equal(error.code, 'config-invalid');
      assert.match(error.message, /cannot bind-mount the workspace .* not an absolute path with a drive letter\. Nothing was started/);
      assert.equal(await running(), before, 'no container was created');
    } finally {
      await fs.rm(workspace, { recursive: true, force: true });
    }
  });
});

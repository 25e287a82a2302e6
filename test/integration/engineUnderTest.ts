import { mkdirSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Docker from 'dockerode';
import { AuditLog } from '../../src/core/audit';
import { LABELS } from '../../src/core/sandbox/devcontainer';
import { DockerSandboxProvider } from '../../src/core/sandbox/dockerSandbox';
import { AgentSession, type SessionOptions } from '../../src/core/supervisor';
import { NodeWorkspaceFiles } from '../../src/core/workspace/files';
import { startVmEngine, type VmEngine } from '../support/vmEngine';

/**
 * The engine a suite runs against: the default local engine, or (WARDEN_TEST_ENGINE=vm) the
 * simulated VM-backed engine of test/support/vmEngine.ts. Suites take their provider and
 * Docker client from here, so the same suite is parametrised by engine, not copied.
 *
 * On the VM engine only one tree is shared, as a user would share one folder in Docker
 * Desktop: every temporary workspace (TMPDIR) and the private copies (WARDEN_COPIES_DIR, the
 * `warden.sandbox.copiesFolder` setting's variable) live under it; the host's own /tmp and
 * home, where the copy would otherwise go, are invisible to the engine.
 */
export const ENGINE_KIND: 'local' | 'vm' = process.env.WARDEN_TEST_ENGINE === 'vm' ? 'vm' : 'local';
export const VM_SHARED = path.join(os.tmpdir(), 'warden-vm-shared');
/** Appended to suite titles, so a report says which engine a result is for. */
export const ENGINE_LABEL = ENGINE_KIND === 'vm' ? ' [simulated VM engine]' : '';

if (ENGINE_KIND === 'vm') {
  mkdirSync(path.join(VM_SHARED, 'tmp'), { recursive: true, mode: 0o1777 });
  process.env.TMPDIR = path.join(VM_SHARED, 'tmp');
  process.env.WARDEN_COPIES_DIR = path.join(VM_SHARED, 'copies');
}

let vm: VmEngine | undefined;
let loaded = new Set<string>();

/**
 * Starts the VM engine once per process, with `images` loaded from the default engine (its
 * data root is cached, so a load happens only when an image changed); a no-op on the local
 * engine. It is stopped when the process exits (or by stopEngineUnderTest).
 */
export async function ensureEngineUnderTest(images: readonly string[]): Promise<void> {
  if (ENGINE_KIND !== 'vm') return;
  if (vm && images.every((image) => loaded.has(image))) return;
  await vm?.stop();
  const wanted = [...new Set([...loaded, ...images])];
  vm = await startVmEngine(VM_SHARED, wanted);
  loaded = new Set(wanted);
  const engine = vm;
  process.once('exit', () => void engine.stop());
}

/** A suite's own image, removed when it ends: later suites restarting the VM engine must not ask to load it again. */
export function forgetEngineImage(image: string): void {
  loaded.delete(image);
}

function runningVm(): VmEngine {
  if (!vm) throw new Error('ensureEngineUnderTest() was not awaited before the suite used the simulated VM engine');
  return vm;
}

/** The Docker client for the engine under test (after ensureEngineUnderTest). */
export function engineDocker(): Docker {
  return ENGINE_KIND === 'vm' ? runningVm().docker : new Docker();
}

/** A sandbox provider on the engine under test. */
export function engineProvider(): DockerSandboxProvider {
  if (ENGINE_KIND !== 'vm') return new DockerSandboxProvider();
  const engine = runningVm();
  return new DockerSandboxProvider(engine.docker, {
    description: `unix://${engine.socketPath} (simulated VM engine)`,
    source: 'WARDEN_TEST_ENGINE',
    local: true,
  });
}

/** A session on the engine under test, with the workspace's own audit log and files. */
export function startEngineSession(
  options: Omit<SessionOptions, 'workspaceRoot' | 'sandboxProvider' | 'audit' | 'files'> & { workspace: string },
): Promise<AgentSession> {
  const { workspace, ...rest } = options;
  return AgentSession.start({
    ...rest,
    workspaceRoot: workspace,
    sandboxProvider: engineProvider(),
    audit: AuditLog.forWorkspace(workspace),
    files: new NodeWorkspaceFiles(workspace),
  });
}

/** Removes every sandbox the engine under test has for `workspace`, kept ones included. */
export async function removeWorkspaceSandboxes(workspace: string): Promise<void> {
  const docker = engineDocker();
  const left = await docker.listContainers({ all: true, filters: { label: [`${LABELS.workspace}=${workspace}`] } });
  await Promise.all(
    left.map((c) =>
      docker
        .getContainer(c.Id)
        .remove({ force: true })
        .catch(() => undefined),
    ),
  );
}

import Dockerode from 'dockerode';
import { keptSandboxes, removeContainer } from '../../src/core/sandbox/reuse';
import { removeCopyFolder } from '../../src/core/sandbox/workspaceCopy';

/**
 * Removes the sandboxes (kept for reuse, or still running) of a test workspace, and their
 * workspace copies: Stop Session and deactivation keep the container for the next session,
 * which a temporary test workspace never has. Best effort: no engine, nothing to clean.
 */
export async function removeSandboxesOf(workspace: string): Promise<void> {
  const docker = new Dockerode();
  const found = await keptSandboxes(docker, workspace).catch(() => []);
  for (const sandbox of found) {
    await removeContainer(docker, sandbox.id).catch(() => undefined);
    await removeCopyFolder(sandbox.copyHostPath).catch(() => undefined);
  }
}

import * as os from 'node:os';
import type Dockerode from 'dockerode';
import * as z from 'zod';
import { LABELS } from './devcontainer';

/** The owner label value for containers this process creates. */
export function ownerLabel(): string {
  return `${os.hostname()}:${process.pid}`;
}

const containerListSchema = z.array(z.looseObject({ Id: z.string(), Labels: z.record(z.string(), z.string()).nullish() }));

/**
 * Removes the sandboxes of crashed sessions, whatever their workspace: containers whose owning
 * Warden process (same host) is gone, since nothing can ever use them again. Containers of live
 * windows, and of other hosts sharing the engine, are left alone. Returns the ids it removed.
 */
export async function removeOrphanedSandboxes(docker: Dockerode): Promise<string[]> {
  const listed = containerListSchema.safeParse(await docker.listContainers({ all: true, filters: { label: [`${LABELS.managed}=true`] } }));
  if (!listed.success) return [];
  const removed: string[] = [];
  for (const container of listed.data) {
    if (!isOrphan(container.Labels?.[LABELS.owner])) continue;
    try {
      await docker.getContainer(container.Id).remove({ force: true });
      removed.push(container.Id);
    } catch {
      // Already gone (another window cleaned it up): nothing to do.
    }
  }
  return removed;
}

function isOrphan(owner: string | undefined): boolean {
  if (!owner) return true; // created before owners were recorded: nobody can be using it safely
  const separator = owner.lastIndexOf(':');
  const host = owner.slice(0, separator);
  const pid = Number(owner.slice(separator + 1));
  if (host !== os.hostname() || !Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

import * as os from 'node:os';
import type Dockerode from 'dockerode';
import * as z from 'zod';
import { LABELS } from './devcontainer';
import { ownerFromName } from './reuse';

/** The owner label value for containers this process creates. */
export function ownerLabel(): string {
  return `${os.hostname()}:${process.pid}`;
}

const containerListSchema = z.array(
  z.looseObject({ Id: z.string(), State: z.string().optional(), Names: z.array(z.string()).nullish(), Labels: z.record(z.string(), z.string()).nullish() }),
);

/**
 * Removes the sandboxes of crashed sessions, whatever their workspace: containers whose owning
 * Warden process (same host) is gone, since nothing can ever use them again. Containers of live
 * windows, and of other hosts sharing the engine, are left alone. Stopped sandboxes are not
 * orphans: nothing runs in them, and they are kept on purpose for reuse (see reuse.ts).
 * The owner in the container's name (renamed on reuse) wins over the creation-time label.
 * Returns the ids it removed.
 */
export async function removeOrphanedSandboxes(docker: Dockerode): Promise<string[]> {
  const listed = containerListSchema.safeParse(await docker.listContainers({ all: true, filters: { label: [`${LABELS.managed}=true`] } }));
  if (!listed.success) return [];
  const removed: string[] = [];
  for (const container of listed.data) {
    if (container.State !== undefined && container.State !== 'running' && container.State !== 'paused') continue;
    const named = container.Names?.map(ownerFromName).find((o) => o !== undefined);
    if (named ? !isDeadLocalPid(named.sameHost, named.pid) : !isOrphan(container.Labels?.[LABELS.owner])) continue;
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
  return isDeadLocalPid(host === os.hostname(), pid);
}

function isDeadLocalPid(sameHost: boolean, pid: number): boolean {
  if (!sameHost || !Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

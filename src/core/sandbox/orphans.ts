import * as os from 'node:os';
import type Dockerode from 'dockerode';
import * as z from 'zod';
import { LABELS, LEASE_LOST_EXIT_CODE } from './devcontainer';
import { LIFECYCLE_LABELS, ownerFromName } from './reuse';
import { removeCopyFolder } from './workspaceCopy';

/** The owner label value for containers this process creates. */
export function ownerLabel(): string {
  return `${os.hostname()}:${process.pid}`;
}

const containerListSchema = z.array(
  z.looseObject({
    Id: z.string(),
    State: z.string().optional(),
    Names: z.array(z.string()).nullish(),
    Labels: z.record(z.string(), z.string()).nullish(),
  }),
);

const exitSchema = z.looseObject({ State: z.looseObject({ ExitCode: z.number().optional() }) });

/**
 * Removes the sandboxes of crashed sessions, whatever their workspace, with their workspace
 * copies: those that stopped because their lease was lost (PID 1 exited with
 * LEASE_LOST_EXIT_CODE: their supervisor died, on any host; see lease.ts), and running (made
 * before the lease existed) or never started ones whose owning Warden process (same host) is gone. Containers
 * of live windows, and running ones of other hosts, are left alone. Sandboxes stopped by Stop
 * Session are not orphans: they are kept on purpose for reuse (see reuse.ts); one whose
 * supervisor died is not trusted for reuse, as after the kill switch.
 * The owner in the container's name (renamed on reuse) wins over the creation-time label.
 * Returns the ids it removed.
 */
export async function removeOrphanedSandboxes(docker: Dockerode): Promise<string[]> {
  const listed = containerListSchema.safeParse(await docker.listContainers({ all: true, filters: { label: [`${LABELS.managed}=true`] } }));
  if (!listed.success) return [];
  // Judged all at once: an exited container needs an inspect each, and a machine can keep many.
  const orphaned = await Promise.all(listed.data.map(async (container) => ((await isOrphaned(docker, container)) ? container : undefined)));
  const removed: string[] = [];
  for (const container of orphaned) {
    if (!container) continue;
    try {
      await docker.getContainer(container.Id).remove({ force: true });
      removed.push(container.Id);
    } catch {
      continue; // already gone (another window cleaned it up): nothing to do
    }
    await removeCopyFolder(container.Labels?.[LIFECYCLE_LABELS.copy]).catch(() => undefined);
  }
  return removed;
}

async function isOrphaned(docker: Dockerode, container: z.infer<typeof containerListSchema>[number]): Promise<boolean> {
  if (container.State === 'exited') return leaseLost(docker, container.Id);
  // 'created': its supervisor died between creating and starting it (nothing ever ran in it).
  if (container.State !== undefined && container.State !== 'running' && container.State !== 'paused' && container.State !== 'created')
    return false;
  const named = container.Names?.map(ownerFromName).find((o) => o !== undefined);
  return named ? isDeadLocalPid(named.sameHost, named.pid) : isOrphan(container.Labels?.[LABELS.owner]);
}

/** Did this stopped sandbox's PID 1 exit because its lease was lost? */
async function leaseLost(docker: Dockerode, id: string): Promise<boolean> {
  const info = exitSchema.safeParse(
    await docker
      .getContainer(id)
      .inspect()
      .catch(() => undefined),
  );
  return info.success && info.data.State.ExitCode === LEASE_LOST_EXIT_CODE;
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

import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import { readAuditLog, type AuditActor, type AuditEventInput } from '../audit';
import { parseSessionFile, saveSession, sessionFile } from '../proposals/persistence';
import type { SandboxFate } from '../sandbox/types';

/**
 * Sessions whose supervisor died (SIGKILL, a crashed extension host, the OOM killer) never
 * write their `session.ended`. Their sandbox stops by itself (the lease, sandbox/lease.ts); the
 * next session started in the workspace closes their record: one `session.ended` entry in the
 * dead session's name saying its supervisor died, when (its last entry, and when its container
 * stopped), and which of its proposals were left undecided: orphaned, never applied.
 */

/** Which process supervises a session, recorded in its `session.starting` entry. */
export type SessionOwner = {
  host: string;
  pid: number;
};

export function currentOwner(): SessionOwner {
  return { host: os.hostname(), pid: process.pid };
}

/** What the log says about a session that has no `session.ended`. */
export interface UnendedSession {
  sessionId: string;
  owner: SessionOwner | undefined;
  /** Its agent started (the session was open). */
  opened: boolean;
  last: { seq: number; time: string; type: string };
  containerId: string | undefined;
  /** Proposals recorded without a decision, in order. */
  undecided: string[];
}

const ownerOf = (value: unknown): SessionOwner | undefined => {
  if (typeof value !== 'object' || value === null) return undefined;
  const { host, pid } = value as Record<string, unknown>;
  return typeof host === 'string' && typeof pid === 'number' && Number.isInteger(pid) ? { host, pid } : undefined;
};

/** One pass over the log: the sessions that started and never ended. */
export async function unendedSessions(workspaceRoot: string): Promise<UnendedSession[]> {
  const sessions = new Map<string, UnendedSession & { proposals: Map<string, boolean> }>();
  const ended = new Set<string>();
  for await (const { entry } of readAuditLog(workspaceRoot)) {
    const id = entry.sessionId;
    if (ended.has(id)) continue;
    if (entry.type === 'session.ended') {
      ended.add(id);
      sessions.delete(id);
      continue;
    }
    let session = sessions.get(id);
    if (!session) {
      if (entry.type !== 'session.starting') continue; // entries about a session, written by someone else (orphan actions)
      session = {
        sessionId: id,
        owner: ownerOf(entry.data.owner),
        opened: false,
        last: { seq: 0, time: '', type: '' },
        containerId: undefined,
        undecided: [],
        proposals: new Map(),
      };
      sessions.set(id, session);
    }
    session.last = { seq: entry.seq, time: entry.time, type: entry.type };
    const proposalId = typeof entry.data.proposalId === 'string' ? entry.data.proposalId : undefined;
    if (entry.type === 'agent.started') session.opened = true;
    if (entry.type === 'sandbox.started' && typeof entry.data.containerId === 'string') session.containerId = entry.data.containerId;
    if (entry.type === 'proposal' && proposalId && !session.proposals.has(proposalId)) session.proposals.set(proposalId, false);
    if (entry.type === 'decision' && proposalId) session.proposals.set(proposalId, true);
  }
  return [...sessions.values()].map(({ proposals, ...session }) => ({
    ...session,
    undecided: [...proposals].filter(([, decided]) => !decided).map(([id]) => id),
  }));
}

/**
 * Is the session's supervisor certainly gone? Its sandbox lost its lease (any host), or its
 * owner is a process of this host that no longer exists. Anything else (another host, an
 * entry from before owners were recorded, this very process) is left alone: a live session
 * must never be declared dead.
 */
export function supervisorGone(
  session: Pick<UnendedSession, 'owner'>,
  fate: SandboxFate | undefined,
  isAlive: (pid: number) => boolean = pidAlive,
): boolean {
  if (fate?.leaseLost) return true;
  const owner = session.owner;
  if (!owner || owner.host !== os.hostname() || owner.pid === process.pid) return false;
  return !isAlive(owner.pid);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** The entry that closes a dead session's record. */
export function deadSessionEvent(session: UnendedSession, fate: SandboxFate | undefined, foundBy: string): AuditEventInput {
  const who = session.owner ? `process ${session.owner.pid} on ${session.owner.host}` : 'its process';
  const actor: AuditActor = { kind: 'warden', id: 'warden' };
  return {
    sessionId: session.sessionId,
    actor,
    type: 'session.ended',
    data: {
      reason: `its supervisor (${who}) died; the last entry it wrote is from ${session.last.time}`,
      wasOpen: session.opened,
      supervisorDied: {
        foundBy,
        owner: session.owner ?? null,
        lastEntry: session.last,
        container: session.containerId ? { id: session.containerId, ...(fate ?? { status: 'unknown' }) } : null,
      },
      // Undecided when the supervisor died: never applied; a human may still review the persisted ones.
      orphanedProposals: session.undecided,
    },
  };
}

export interface DeadSessionDeps {
  workspaceRoot: string;
  /** The session doing the looking (named in the entries it writes). */
  foundBy: string;
  append(event: AuditEventInput): Promise<unknown>;
  /** The state of a sandbox container, when the engine can tell. */
  inspect?: (containerId: string) => Promise<SandboxFate | undefined>;
  log?: (line: string) => void;
  isAlive?: (pid: number) => boolean;
}

/** Closes the record of every dead session of the workspace; returns their ids. */
export async function recordDeadSessions(deps: DeadSessionDeps): Promise<string[]> {
  const found: string[] = [];
  for (const session of await unendedSessions(deps.workspaceRoot)) {
    if (session.sessionId === deps.foundBy) continue;
    const fate = session.containerId && deps.inspect ? await deps.inspect(session.containerId).catch(() => undefined) : undefined;
    if (!supervisorGone(session, fate, deps.isAlive)) continue;
    await deps.append(deadSessionEvent(session, fate, deps.foundBy));
    await orphanPersisted(deps.workspaceRoot, session.sessionId).catch((error: unknown) =>
      deps.log?.(`could not update the saved proposals of ${session.sessionId}: ${String(error)}`),
    );
    deps.log?.(
      `session ${session.sessionId}: its supervisor died (last entry ${session.last.time}); ${session.undecided.length} undecided proposal(s) orphaned`,
    );
    found.push(session.sessionId);
  }
  return found;
}

/** Saved proposals of the dead session (the editor persists them) say why they are orphaned. */
async function orphanPersisted(workspaceRoot: string, sessionId: string): Promise<void> {
  const file = sessionFile(workspaceRoot, sessionId);
  if (!existsSync(file)) return;
  const saved = parseSessionFile(await fs.readFile(file, 'utf8'));
  const detail = 'Its supervisor died (Warden was killed): reviewable, never applied automatically';
  await saveSession(
    workspaceRoot,
    sessionId,
    saved.proposals.map((p) =>
      p.state === 'pending' || p.state === 'approved' ? { ...p, state: 'orphaned' as const, stateDetail: detail } : p,
    ),
  );
}

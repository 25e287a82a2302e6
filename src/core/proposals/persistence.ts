import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as z from 'zod';
import type { Subscription } from '../util/events';
import { isNotFound } from '../workspace/files';
import { Proposal, type ProposalState } from './model';
import type { ProposalStore } from './store';

/**
 * Undecided proposals survive a window reload and a restart: each session's are kept in
 * `<workspace>/.warden/proposals/<session>.json` (written atomically: temp file, fsync,
 * rename), git-ignored through `.warden/.gitignore`. On load nothing is ever applied: a
 * proposal whose agent is gone comes back orphaned, reviewable only. A file that does not
 * validate is renamed aside (`.corrupt-<time>`) and reported, never silently dropped.
 */

export const PROPOSALS_DIR = path.join('.warden', 'proposals');
const GITIGNORE_LINE = 'proposals/';

export const PersistedSession = z.object({
  version: z.literal(1),
  sessionId: z.string().min(1),
  savedAt: z.string(),
  proposals: z.array(Proposal),
});
export type PersistedSession = z.infer<typeof PersistedSession>;

/** States worth keeping across a reload: what still needs a human. Everything else is in the audit log. */
const KEPT_STATES: ReadonlySet<ProposalState> = new Set(['pending', 'approved', 'orphaned']);

export function isKept(proposal: Proposal): boolean {
  return KEPT_STATES.has(proposal.state);
}

export interface CorruptFile {
  /** The file as it was found. */
  file: string;
  /** Where it was moved so nothing is lost. */
  keptAs: string;
  error: string;
}

export interface LoadResult {
  /** Loaded proposals, already orphaned (their agents are gone). */
  proposals: Proposal[];
  corrupt: CorruptFile[];
}

/** Why a loaded proposal can never be applied by its session. */
export const ORPHANED_ON_LOAD = 'Its agent is gone (the window was reloaded or VS Code restarted): reviewable, never applied automatically';

export function sessionFile(workspaceRoot: string, sessionId: string): string {
  return path.join(workspaceRoot, PROPOSALS_DIR, `${safeName(sessionId)}.json`);
}

/** Writes (or, with nothing left to keep, removes) one session's file. */
export async function saveSession(workspaceRoot: string, sessionId: string, proposals: readonly Proposal[]): Promise<void> {
  const file = sessionFile(workspaceRoot, sessionId);
  const kept = proposals.filter((p) => p.sessionId === sessionId && isKept(p));
  if (kept.length === 0) {
    await fs.rm(file, { force: true });
    return;
  }
  await ensureGitignore(workspaceRoot);
  const body: PersistedSession = { version: 1, sessionId, savedAt: new Date().toISOString(), proposals: kept };
  // Not indented: the file is rewritten while an agent streams proposals, and a third of the
  // bytes (and of the time to build them, on the extension host's thread) would be spaces.
  await writeAtomic(file, `${JSON.stringify(body)}\n`);
}

/** Reads every session file under the workspace; corrupt ones are moved aside and reported. */
export async function loadSessions(workspaceRoot: string, now: () => Date = () => new Date()): Promise<LoadResult> {
  const dir = path.join(workspaceRoot, PROPOSALS_DIR);
  let names: string[];
  try {
    names = (await fs.readdir(dir)).filter((n) => n.endsWith('.json')).sort();
  } catch (error) {
    if (isNotFound(error)) return { proposals: [], corrupt: [] };
    throw error;
  }
  const result: LoadResult = { proposals: [], corrupt: [] };
  for (const name of names) {
    const file = path.join(dir, name);
    let parsed: PersistedSession;
    try {
      parsed = parseSessionFile(await fs.readFile(file, 'utf8'));
    } catch (error) {
      const keptAs = `${file}.corrupt-${now().toISOString().replace(/[:.]/g, '-')}`;
      await fs.rename(file, keptAs);
      result.corrupt.push({ file, keptAs, error: error instanceof Error ? error.message : String(error) });
      continue;
    }
    for (const proposal of parsed.proposals) {
      if (proposal.sessionId !== parsed.sessionId || !isKept(proposal)) continue;
      result.proposals.push(orphanOnLoad(proposal));
    }
  }
  return result;
}

/** Parses a session file; throws an error naming the first invalid field. */
export function parseSessionFile(text: string): PersistedSession {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`not JSON (${error instanceof Error ? error.message : String(error)})`, { cause: error });
  }
  const parsed = PersistedSession.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`invalid at ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'unknown error'}`);
  }
  return parsed.data;
}

/** A loaded proposal's agent is gone: pending or in-flight ones become orphaned, never applied. */
export function orphanOnLoad(proposal: Proposal): Proposal {
  if (proposal.state === 'orphaned') return proposal;
  return { ...proposal, state: 'orphaned', stateDetail: ORPHANED_ON_LOAD };
}

/** Makes sure `.warden/.gitignore` ignores the proposals folder (keeps whatever else it says). */
export async function ensureGitignore(workspaceRoot: string): Promise<void> {
  const file = path.join(workspaceRoot, '.warden', '.gitignore');
  let text = '';
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  if (text.split(/\r?\n/).some((line) => line.trim() === GITIGNORE_LINE || line.trim() === `/${GITIGNORE_LINE}`)) return;
  const header = text === '' ? '# Written by Warden: pending proposals are local review state, not history (the audit log is).\n' : '';
  await writeAtomic(file, `${text}${text === '' || text.endsWith('\n') ? '' : '\n'}${header}${GITIGNORE_LINE}\n`);
}

async function writeAtomic(file: string, text: string): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}-${randomUUID().slice(0, 8)}.tmp`;
  const handle = await fs.open(temp, 'w');
  try {
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await fs.rename(temp, file);
  } catch (error) {
    await fs.rm(temp, { force: true });
    throw error;
  }
}

/** Session ids become file names: anything but [A-Za-z0-9._-] is replaced, so no id can escape the folder. */
function safeName(sessionId: string): string {
  const cleaned = sessionId.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_');
  return cleaned === '' ? '_' : cleaned;
}

export interface ProposalPersistenceOptions {
  store: ProposalStore;
  /** The workspace folder a session's proposals belong to; undefined keeps them in memory only. */
  rootFor(sessionId: string): string | undefined;
  onError(error: unknown, sessionId: string): void;
  /** Coalesces bursts of store changes into one write per session. */
  delayMs?: number;
}

/** A write's own time on the thread may take at most this share of the time between writes (issue 21). */
const MAX_WRITE_SHARE = 0.2;

/**
 * Mirrors the store into the session files: every change schedules a write of its
 * session's file (one write in flight per session, the latest state always wins).
 */
export class ProposalPersistence {
  private readonly dirty = new Set<string>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private writing: Promise<void> = Promise.resolve();
  private readonly subscription: Subscription;
  /** Sessions loaded from a folder, so their files are rewritten in the same place. */
  private readonly knownRoots = new Map<string, string>();
  /** The wait before the next write: `delayMs`, or longer after a write that took long (many proposals). */
  private delay: number;

  constructor(private readonly options: ProposalPersistenceOptions) {
    this.delay = options.delayMs ?? 50;
    this.subscription = options.store.onDidChange((proposal) => this.markDirty(proposal.sessionId));
  }

  /** Loads a folder's saved proposals into the store (orphaned). Returns the corrupt files found. */
  async load(workspaceRoot: string): Promise<LoadResult> {
    const loaded = await loadSessions(workspaceRoot);
    for (const proposal of loaded.proposals) {
      this.knownRoots.set(proposal.sessionId, workspaceRoot);
      // A proposal already in the store (a live session in this window) is the truth.
      if (!this.options.store.get(proposal.id)) this.options.store.add(proposal);
    }
    return loaded;
  }

  /** The folder a session's proposals were loaded from, if they were. */
  rootOf(sessionId: string): string | undefined {
    return this.knownRoots.get(sessionId);
  }

  /** Writes every scheduled session file now. */
  flush(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const sessions = [...this.dirty];
    this.dirty.clear();
    this.writing = this.writing.then(async () => {
      for (const sessionId of sessions) {
        const root = this.knownRoots.get(sessionId) ?? this.options.rootFor(sessionId);
        if (!root) continue;
        const started = performance.now();
        try {
          await saveSession(root, sessionId, this.options.store.all());
        } catch (error) {
          this.options.onError(error, sessionId);
        }
        // Every write holds the whole session: with hundreds of pending proposals it costs
        // milliseconds of the thread, so the next one waits the longer (it still writes the latest state).
        this.delay = Math.max(this.options.delayMs ?? 50, (performance.now() - started) / MAX_WRITE_SHARE);
      }
    });
    return this.writing;
  }

  dispose(): void {
    this.subscription.dispose();
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private markDirty(sessionId: string): void {
    this.dirty.add(sessionId);
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => void this.flush(), this.delay);
  }
}

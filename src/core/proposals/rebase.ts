import { applyPatch, structuredPatch } from 'diff';
import type { AuditActor } from '../audit/types';
import { sha256Hex } from '../util/hash';
import { unifiedDiff } from './diff';
import type { EditProposal } from './model';
import type { ProposalStore } from './store';

/**
 * Re-diffing a proposed edit when its file changed since the proposal was made (the user
 * typed, another proposal was applied). Three-way in effect: base = the proposal's oldText,
 * ours = the current text, theirs = the proposal's newText. The agent's change is carried
 * onto the current text as a patch with exact context (no fuzz); when it does not fit, the
 * proposal is stale. Nothing here ever writes the workspace.
 */

/** The text sides of an edit the rebase needs. */
export interface EditSides {
  path: string;
  oldText: string | null;
  newText: string;
}

export type RebaseOutcome =
  /** The file is as the proposal saw it: nothing to do. */
  | { kind: 'unchanged' }
  /** The change fits the current text: the proposal's new sides. */
  | { kind: 'rebased'; oldText: string; newText: string; baseHash: string; newHash: string; diff: string }
  /** The change does not fit (or the file appeared or vanished): the proposal is stale. */
  | { kind: 'conflict'; reason: string };

export function rebaseEdit(edit: EditSides, current: string | null): RebaseOutcome {
  if (current === edit.oldText) return { kind: 'unchanged' };
  if (edit.oldText === null) return { kind: 'conflict', reason: `${edit.path} was created since the proposal was made` };
  if (current === null) return { kind: 'conflict', reason: `${edit.path} was deleted since the proposal was made` };
  const patch = structuredPatch(`a/${edit.path}`, `b/${edit.path}`, edit.oldText, edit.newText, undefined, undefined, { context: 3 });
  const merged = applyPatch(current, patch, { fuzzFactor: 0 });
  if (merged === false)
    return { kind: 'conflict', reason: `${edit.path} changed where the proposal changes it; the change no longer applies cleanly` };
  return {
    kind: 'rebased',
    oldText: current,
    newText: merged,
    baseHash: sha256Hex(current),
    newHash: sha256Hex(merged),
    diff: unifiedDiff(edit.path, current, merged),
  };
}

/** What the rebaser did to one proposal. */
export type RefreshResult = 'unchanged' | 'rebased' | 'stale' | 'skipped';

export interface ProposalRebaserDeps {
  store: ProposalStore;
  /** Current text of a session's file as the user sees it (unsaved editor text included); null when it does not exist. */
  read(relativePath: string, sessionId: string): Promise<string | null>;
  /** Appends an audit event for the proposal's session. */
  record(sessionId: string, event: { actor: AuditActor; type: string; data: Record<string, unknown> }): Promise<unknown>;
}

const WARDEN: AuditActor = { kind: 'warden', id: 'warden' };

/**
 * Keeps undecided edit proposals in step with their files: re-diffs them when the file
 * changed, marks them stale when the change no longer fits. One refresh per proposal at a
 * time, and the store is only updated if the proposal is still what was read (a decision
 * or another refresh in between wins).
 */
export class ProposalRebaser {
  private readonly running = new Map<string, Promise<RefreshResult>>();

  constructor(private readonly deps: ProposalRebaserDeps) {}

  /** Refreshes every undecided edit proposal of a file (after a file change event). */
  async fileChanged(relativePath: string): Promise<void> {
    const ids = this.deps.store
      .all()
      .filter((p) => p.kind === 'edit' && p.path === relativePath && refreshable(p.state) && isTextEdit(p))
      .map((p) => p.id);
    await Promise.all(ids.map((id) => this.refresh(id)));
  }

  /** Paths with undecided edit proposals: the ones worth watching. */
  watchedPaths(): Set<string> {
    return new Set(this.deps.store.all().flatMap((p) => (p.kind === 'edit' && refreshable(p.state) && isTextEdit(p) ? [p.path] : [])));
  }

  /** Re-checks one proposal against its file's current text. */
  refresh(proposalId: string): Promise<RefreshResult> {
    const previous = this.running.get(proposalId) ?? Promise.resolve<RefreshResult>('skipped');
    const next = previous.catch(() => 'skipped' as const).then(() => this.refreshNow(proposalId));
    this.running.set(proposalId, next);
    void next.finally(() => {
      if (this.running.get(proposalId) === next) this.running.delete(proposalId);
    });
    return next;
  }

  private async refreshNow(proposalId: string): Promise<RefreshResult> {
    const before = this.deps.store.get(proposalId);
    if (before?.kind !== 'edit' || !refreshable(before.state) || !isTextEdit(before)) return 'skipped';
    const current = await this.deps.read(before.path, before.sessionId);
    const now = this.deps.store.get(proposalId);
    // Decided or refreshed while the file was read: leave it to whoever changed it.
    if (now !== before) return 'skipped';
    const outcome = rebaseEdit(before, current);
    if (outcome.kind === 'unchanged') return 'unchanged';
    if (outcome.kind === 'conflict') {
      const detail = `${outcome.reason}: it is stale and will not be applied`;
      this.deps.store.setState(proposalId, 'stale', detail);
      await this.deps.record(before.sessionId, {
        actor: WARDEN,
        type: 'edit.stale',
        data: {
          proposalId,
          path: before.path,
          baseHash: before.baseHash,
          currentHash: current === null ? null : sha256Hex(current),
          reason: outcome.reason,
        },
      });
      return 'stale';
    }
    const detail = `Re-diffed against the current ${before.path}, which changed since the proposal was made`;
    const { kind: _kind, ...sides } = outcome;
    this.deps.store.setState(
      proposalId,
      before.state,
      before.state === 'orphaned' ? `${(before.stateDetail ?? 'Orphaned').split('; re-diffed')[0]}; ${lowerFirst(detail)}` : detail,
      sides,
    );
    await this.deps.record(before.sessionId, {
      actor: WARDEN,
      type: 'proposal.rediffed',
      data: {
        proposalId,
        path: before.path,
        previousBaseHash: before.baseHash,
        baseHash: outcome.baseHash,
        previousNewHash: before.newHash,
        newHash: outcome.newHash,
        diff: outcome.diff,
      },
    });
    return 'rebased';
  }
}

/** Undecided proposals follow their file; decided ones are the session's business. */
function refreshable(state: EditProposal['state']): boolean {
  return state === 'pending' || state === 'orphaned';
}

/** Whether an edit carries text to diff and write (not a delete, a link or binary content found in a sandbox copy). */
export function isTextEdit(proposal: EditProposal): boolean {
  const change = proposal.sandboxChange;
  return !change || (!change.binary && change.change !== 'delete' && change.change !== 'symlink');
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

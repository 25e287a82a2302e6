import { applyPatch, structuredPatch, type StructuredPatch } from 'diff';
import type { AuditActor } from '../../core/audit/types';
import { unifiedDiff } from '../../core/proposals/diff';
import type { EditProposal, Proposal } from '../../core/proposals/model';
import { isTextEdit } from '../../core/proposals/rebase';
import type { ProposalStore } from '../../core/proposals/store';
import { sha256Hex } from '../../core/util/hash';
import type { LayoutHunk } from './hunkLayout';

/** The hunks of an edit, as the lenses show them and decide on them. */
export function hunksOf(oldText: string, newText: string): LayoutHunk[] {
  return patchOf(oldText, newText).hunks.map((h, i) => ({ id: `h${i}`, ...h }));
}

/** Per-hunk decisions are offered for edits of existing files that Warden writes itself. */
export function supportsHunks(proposal: Proposal): boolean {
  return proposal.kind === 'edit' && proposal.oldText !== null && isTextEdit(proposal);
}

/** The new text with only the chosen hunks of oldText -> newText applied. */
export function applyHunks(oldText: string, newText: string, accepted: ReadonlySet<string>): string {
  const patch = patchOf(oldText, newText);
  const kept: StructuredPatch = { ...patch, hunks: patch.hunks.filter((_, i) => accepted.has(`h${i}`)) };
  const result = applyPatch(oldText, kept, { fuzzFactor: 0 });
  if (result === false) throw new Error('The chosen hunks do not apply to the text they came from');
  return result;
}

function patchOf(oldText: string, newText: string): StructuredPatch {
  return structuredPatch('a', 'b', oldText, newText, undefined, undefined, { context: 3 });
}

export type HunkVerdict = 'approve' | 'reject';

export interface HunkDecisionDeps {
  store: ProposalStore;
  /** Records the human decision on the whole proposal (the session then applies it). */
  decide(proposalId: string, verdict: HunkVerdict, reason?: string): Promise<void>;
  record(sessionId: string, event: { actor: AuditActor; type: string; data: Record<string, unknown> }): Promise<unknown>;
}

/**
 * The reviewer's per-hunk choices from the CodeLenses, until every hunk of a proposal has
 * one. Then the proposal is decided: all rejected is a reject; otherwise it is narrowed to
 * the accepted hunks (new text, hash and diff, audited as proposal.narrowed) and approved,
 * so the bytes applied are exactly the hunks the reviewer accepted. Choices are dropped when
 * the proposal is re-diffed (its hunks moved) or decided elsewhere.
 */
export class HunkChoices {
  private readonly choices = new Map<string, { base: string; byHunk: Map<string, HunkVerdict> }>();

  constructor(private readonly deps: HunkDecisionDeps) {}

  /** The choice made for a hunk, if any (the lenses show it). */
  choiceFor(proposal: Proposal, hunkId: string): HunkVerdict | undefined {
    const entry = this.choices.get(proposal.id);
    if (!entry || proposal.kind !== 'edit' || entry.base !== proposal.baseHash) return undefined;
    return entry.byHunk.get(hunkId);
  }

  async choose(proposalId: string, hunkId: string, verdict: HunkVerdict): Promise<Proposal | undefined> {
    const proposal = this.deps.store.get(proposalId);
    if (!proposal) throw new Error(`No proposal with id ${proposalId}`);
    if (proposal.state !== 'pending') throw new Error(`"${proposal.title}" is ${proposal.state}; it cannot be decided any more`);
    if (proposal.kind !== 'edit' || !supportsHunks(proposal) || proposal.oldText === null) throw new Error(`"${proposal.title}" has no hunks to decide one by one`);
    const hunks = hunksOf(proposal.oldText, proposal.newText);
    if (!hunks.some((h) => h.id === hunkId)) throw new Error(`"${proposal.title}" has no hunk ${hunkId} any more (it was re-diffed); look again`);
    let entry = this.choices.get(proposalId);
    if (!entry || entry.base !== proposal.baseHash) {
      entry = { base: proposal.baseHash ?? '', byHunk: new Map() };
      this.choices.set(proposalId, entry);
    }
    entry.byHunk.set(hunkId, verdict);
    if (!hunks.every((h) => entry.byHunk.has(h.id))) {
      // Not every hunk has a choice yet: the lenses show it; nothing is decided.
      this.deps.store.setState(proposalId, 'pending', `${entry.byHunk.size} of ${hunks.length} hunks chosen in the editor`);
      return this.deps.store.get(proposalId);
    }
    this.choices.delete(proposalId);
    const accepted = new Set(hunks.filter((h) => entry.byHunk.get(h.id) === 'approve').map((h) => h.id));
    const rejected = hunks.filter((h) => !accepted.has(h.id)).map((h) => h.id);
    if (accepted.size === 0) {
      await this.deps.decide(proposalId, 'reject', hunks.length > 1 ? 'every hunk rejected in the editor' : undefined);
      return this.deps.store.get(proposalId);
    }
    if (rejected.length > 0) await this.narrow(proposal, proposal.oldText, accepted, rejected);
    await this.deps.decide(proposalId, 'approve', rejected.length > 0 ? `accepted hunks ${[...accepted].join(', ')}; rejected ${rejected.join(', ')}` : undefined);
    return this.deps.store.get(proposalId);
  }

  private async narrow(proposal: EditProposal, oldText: string, accepted: ReadonlySet<string>, rejected: string[]): Promise<void> {
    const newText = applyHunks(oldText, proposal.newText, accepted);
    const newHash = sha256Hex(newText);
    const diff = unifiedDiff(proposal.path, oldText, newText);
    this.deps.store.setState(proposal.id, 'pending', `Narrowed to the accepted hunks (${[...accepted].join(', ')})`, { newText, newHash, diff });
    await this.deps.record(proposal.sessionId, {
      actor: { kind: 'warden', id: 'warden' },
      type: 'proposal.narrowed',
      data: { proposalId: proposal.id, path: proposal.path, accepted: [...accepted], rejected, previousNewHash: proposal.newHash, newHash, diff },
    });
  }
}

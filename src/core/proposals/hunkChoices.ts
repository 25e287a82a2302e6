import { reviewableSides, type EditSides, type ReviewChoice } from './decisions';
import { splitHunks } from './hunks';
import type { EditProposal, Proposal } from './model';
import { textIsEditable } from './editable';
import type { ProposalStore } from './store';

export type HunkVerdict = 'approve' | 'reject';

/** Per-hunk decisions are offered for text edits of existing files that Warden writes itself. */
export function supportsHunks(proposal: Proposal): proposal is EditProposal & { oldText: string } {
  return proposal.kind === 'edit' && proposal.oldText !== null && textIsEditable(proposal);
}

/** The sides whose hunks are chosen one by one: an existing file's edit, or a permission request's placed edit of one. */
function hunkSides(proposal: Proposal): (EditSides & { oldText: string }) | undefined {
  const sides = reviewableSides(proposal);
  return sides && sides.oldText !== null ? { ...sides, oldText: sides.oldText } : undefined;
}

export interface HunkChoicesDeps {
  store: ProposalStore;
  /** Records the human's decision on the whole proposal (the session then applies it). */
  review(proposalId: string, choice: ReviewChoice): Promise<void>;
}

/**
 * The reviewer's per-hunk choices, from the editor's CodeLenses and the Review panel alike,
 * until every hunk of a proposal has one. Then the proposal is decided through `review` with a
 * `hunks` choice: all accepted is a plain approve, all rejected a reject, otherwise an approve
 * of the accepted hunks only (the session writes just those and tells the agent). Choices are
 * pinned to the proposal's newHash: a re-diff (the file changed) renumbers hunks, so earlier
 * choices no longer count.
 */
export class HunkChoices {
  private readonly choices = new Map<string, { newHash: string; byHunk: Map<string, HunkVerdict> }>();

  constructor(private readonly deps: HunkChoicesDeps) {}

  /** The choice made for a hunk, if any. */
  choiceFor(proposal: Proposal, id: string): HunkVerdict | undefined {
    return this.current(proposal)?.get(id);
  }

  /** Every choice made so far on a proposal's current hunks (the panel shows them). */
  choicesOf(proposal: Proposal): Record<string, HunkVerdict> {
    return Object.fromEntries(this.current(proposal) ?? []);
  }

  /**
   * Records a choice. `seenHash` is the newHash of the diff the reviewer looked at: when the
   * proposal was re-diffed since, the choice is refused instead of landing on another hunk.
   */
  async choose(proposalId: string, id: string, verdict: HunkVerdict, seenHash?: string): Promise<Proposal | undefined> {
    const proposal = this.deps.store.get(proposalId);
    if (!proposal) throw new Error(`No proposal with id ${proposalId}`);
    if (proposal.state !== 'pending') throw new Error(`"${proposal.title}" is ${proposal.state}; it cannot be decided any more`);
    const sides = hunkSides(proposal);
    if (!sides) throw new Error(`"${proposal.title}" has no hunks to decide one by one`);
    if (seenHash !== undefined && seenHash !== sides.newHash)
      throw new Error(`${sides.path} was re-diffed since you looked at it; its hunks changed: look again`);
    const hunks = splitHunks(sides.oldText, sides.newText);
    if (!hunks.some((h) => h.id === id)) throw new Error(`"${proposal.title}" has no hunk ${id} any more (it was re-diffed); look again`);
    let entry = this.choices.get(proposalId);
    if (!entry || entry.newHash !== sides.newHash) {
      entry = { newHash: sides.newHash, byHunk: new Map() };
      this.choices.set(proposalId, entry);
    }
    entry.byHunk.set(id, verdict);
    if (!hunks.every((h) => entry.byHunk.has(h.id))) {
      // Not every hunk has a choice yet: the lenses and the panel show it; nothing is decided.
      this.deps.store.setState(proposalId, 'pending', `${entry.byHunk.size} of ${hunks.length} hunks chosen`);
      return this.deps.store.get(proposalId);
    }
    this.choices.delete(proposalId);
    const accepted = hunks.filter((h) => entry.byHunk.get(h.id) === 'approve').map((h) => h.index);
    const rejected = hunks.filter((h) => entry.byHunk.get(h.id) !== 'approve').map((h) => h.index);
    await this.deps.review(proposalId, { kind: 'hunks', accepted, rejected, newHash: sides.newHash });
    return this.deps.store.get(proposalId);
  }

  /** Forgets the choices on a proposal (it was decided whole, or the reviewer starts over). */
  clear(proposalId: string): void {
    this.choices.delete(proposalId);
  }

  private current(proposal: Proposal): Map<string, HunkVerdict> | undefined {
    const entry = this.choices.get(proposal.id);
    if (!entry || entry.newHash !== hunkSides(proposal)?.newHash || proposal.state !== 'pending') return undefined;
    return entry.byHunk;
  }
}

import { structuredPatch } from 'diff';
import type { Proposal } from '../../core/proposals/model';
import type { ProposalStore } from '../../core/proposals/store';
import type { SessionController } from '../sessionController';
import type { LayoutHunk } from './hunkLayout';

/** The hunks of an edit, as the lenses show them. */
export function hunksOf(oldText: string, newText: string): LayoutHunk[] {
  return structuredPatch('a', 'b', oldText, newText, undefined, undefined, { context: 3 }).hunks.map((h, i) => ({ id: `h${i}`, ...h }));
}

/** Per-hunk decisions are offered for edits Warden writes itself. */
export function supportsHunks(proposal: Proposal): boolean {
  return proposal.kind === 'edit' && proposal.oldText !== null;
}

/** A reviewer's decision on one hunk. */
export async function decideHunk(
  deps: { store: ProposalStore; sessions: SessionController },
  proposalId: string,
  hunkId: string,
  verdict: 'approve' | 'reject',
): Promise<Proposal | undefined> {
  const proposal = deps.store.get(proposalId);
  if (proposal?.kind !== 'edit' || proposal.oldText === null) throw new Error('Only an edit of an existing file has hunks');
  const hunks = hunksOf(proposal.oldText, proposal.newText);
  if (!hunks.some((h) => h.id === hunkId)) throw new Error(`The proposal has no hunk ${hunkId} any more (it was re-diffed); look again`);
  if (hunks.length !== 1) throw new Error('Deciding one hunk of several is not available yet');
  await deps.sessions.decide(proposalId, verdict);
  return deps.store.get(proposalId);
}

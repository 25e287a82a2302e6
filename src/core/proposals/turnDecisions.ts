import type { ReviewChoice } from './decisions';
import { supportsHunks, type HunkVerdict } from './hunkChoices';
import { splitHunks } from './hunks';
import type { Proposal } from './model';

/** One decision of a bulk turn action, made through the same review path as a single click. */
export interface TurnChoice {
  proposalId: string;
  choice: ReviewChoice;
}

/**
 * What "Accept all" / "Reject all" of a turn decides for each proposal still waiting. A file
 * where the reviewer already chose some hunks keeps those choices: its other hunks get the
 * bulk verdict (so "reject this hunk, then accept all" writes everything but that hunk).
 * Questions are answered in words, never by a bulk accept; a bulk reject declines them.
 */
export function turnChoices(
  waiting: readonly Proposal[],
  verdict: 'approve' | 'reject',
  hunkChoicesOf: (proposal: Proposal) => Record<string, HunkVerdict>,
  reason: string,
): TurnChoice[] {
  const out: TurnChoice[] = [];
  for (const proposal of waiting) {
    if (proposal.state !== 'pending') continue;
    if (proposal.kind === 'question' && verdict === 'approve') continue;
    const chosen = hunkChoicesOf(proposal);
    if (supportsHunks(proposal) && Object.keys(chosen).length > 0) {
      const hunks = splitHunks(proposal.oldText, proposal.newText);
      const accepted = hunks.filter((h) => (chosen[h.id] ?? verdict) === 'approve').map((h) => h.index);
      const rejected = hunks.filter((h) => (chosen[h.id] ?? verdict) !== 'approve').map((h) => h.index);
      out.push({ proposalId: proposal.id, choice: { kind: 'hunks', accepted, rejected, newHash: proposal.newHash } });
      continue;
    }
    out.push({ proposalId: proposal.id, choice: { kind: 'verdict', verdict, reason } });
  }
  return out;
}

import { sha256Hex } from '../util/hash';
import { unifiedDiff } from './diff';
import type { Decision, Proposal } from './model';

/** What a decision changed in the proposal (hunks, edited bytes or command), for the audit. */
export function editedDecisionData(proposal: Proposal, decision: Decision): Record<string, unknown> {
  if (decision.hunks) return { hunks: decision.hunks };
  const sides = proposal.kind === 'edit' ? proposal : proposal.kind === 'permission' ? proposal.edit : undefined;
  if (decision.editedText !== undefined && sides) {
    return {
      edited: true,
      editedHash: sha256Hex(decision.editedText),
      editedDiff: unifiedDiff(sides.path, sides.newText, decision.editedText),
    };
  }
  if (decision.editedCommand !== undefined) return { edited: true, editedCommand: decision.editedCommand };
  return {};
}

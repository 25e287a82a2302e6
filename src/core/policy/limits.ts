import type { EffectivePolicy } from './effective';
import type { PolicyVerdict } from './evaluate';

/**
 * `limits.filesPerProposal`: one proposal may touch at most this many files. A bigger one is
 * denied as a whole (the agent is told to split it), because a reviewer cannot judge a
 * hundred-file change in one decision. Counts distinct paths; undefined when within the limit.
 */
export function filesPerProposalVerdict(policy: EffectivePolicy, paths: readonly string[]): PolicyVerdict | undefined {
  const limit = policy.limits.filesPerProposal;
  const count = new Set(paths).size;
  if (limit === undefined || count <= limit) return undefined;
  const from = policy.limits.from?.filesPerProposal;
  return {
    decision: 'deny',
    ruleId: 'limits.filesPerProposal',
    reason: `This proposal touches ${count} files; the policy${from ? ` (${from.origin})` : ''} allows at most ${limit} per proposal. Split the change into smaller proposals.`,
    labels: [`limit: ${count} files > ${limit}`],
  };
}

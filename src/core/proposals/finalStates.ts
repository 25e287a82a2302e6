import type { ProposalState } from './model';

/** States from which nothing more happens to a proposal. Apart from model.ts so the store loads without zod at activation. */
export function isFinal(state: ProposalState): boolean {
  return state === 'rejected' || state === 'applied' || state === 'failed' || state === 'stale' || state === 'orphaned';
}

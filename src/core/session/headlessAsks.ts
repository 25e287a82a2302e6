import type { Decision, Proposal, Reviewer } from '../proposals/model';
import type { ProposalStore } from '../proposals/store';

/**
 * Nobody is there to answer (`warden run`): what the policy leaves to a human is rejected by
 * this reviewer, never approved.
 */
export interface HeadlessAsks {
  /** Who the rejections name, e.g. `{ kind: 'warden', name: 'warden cli', source: 'cli --on-ask reject' }`. */
  reviewer: Reviewer;
  /** Each ask, once rejected (`--on-ask fail` stops the run on the first). */
  onAsk?: (proposal: Proposal) => void;
}

/**
 * Rejects each proposal still pending once the policy has decided what it could (allow and
 * deny are born decided): an ask, with the policy's reason on the record. Watches the whole
 * store, which a headless run owns alone.
 */
export function rejectAsks(store: ProposalStore, asks: HeadlessAsks): { dispose(): void } {
  const handled = new Set<string>();
  return store.onDidChange((proposal) => {
    if (proposal.state !== 'pending' || handled.has(proposal.id)) return;
    handled.add(proposal.id);
    setImmediate(() => {
      const current = store.get(proposal.id);
      if (current?.state !== 'pending') return;
      const decision: Decision = {
        verdict: 'reject',
        reviewer: asks.reviewer,
        reason: `Nobody is there to answer in a headless run (${asks.reviewer.source})${current.policy ? `; the policy asked: ${current.policy.reason}` : ''}`,
        decidedAt: new Date().toISOString(),
      };
      try {
        store.decide(current.id, decision);
      } catch {
        // Orphaned meanwhile (the session ended): it can never be applied either.
      }
      asks.onAsk?.(current);
    });
  });
}

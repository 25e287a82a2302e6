import type { Proposal } from '../../src/core/proposals/model';
import type { ProposalStore } from '../../src/core/proposals/store';

/** Resolves with the next pending proposal not in `seen` (and adds it), waiting on store events, not sleeps. */
export function nextPending(store: ProposalStore, seen: Set<string>, timeoutMs = 60_000): Promise<Proposal> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      const found = store.pending().find((p) => !seen.has(p.id));
      if (!found) return;
      seen.add(found.id);
      subscription.dispose();
      clearTimeout(timer);
      resolve(found);
    };
    const subscription = store.onDidChange(check);
    const timer = setTimeout(() => {
      subscription.dispose();
      reject(new Error(`No new pending proposal within ${timeoutMs} ms; states: ${store.all().map((p) => `${p.title}=${p.state}`).join(', ') || 'none'}`));
    }, timeoutMs);
    check();
  });
}

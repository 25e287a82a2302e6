import { unifiedDiff } from '../../src/core/proposals/diff';
import type { EditProposal, Proposal } from '../../src/core/proposals/model';
import type { ProposalStore } from '../../src/core/proposals/store';
import { sha256Hex } from '../../src/core/util/hash';

/** A pending edit as a session builds it from an agent's write: hashes and the unified diff computed from the texts. */
export function pendingEdit(fields: {
  id: string;
  sessionId: string;
  createdAt: string;
  path: string;
  oldText: string | null;
  newText: string;
  title?: string;
}): EditProposal {
  const { oldText, newText, path } = fields;
  return {
    kind: 'edit',
    id: fields.id,
    sessionId: fields.sessionId,
    createdAt: fields.createdAt,
    state: 'pending',
    title: fields.title ?? `Edit ${path}`,
    origin: 'fs/write_text_file',
    path,
    oldText,
    newText,
    baseHash: oldText === null ? null : sha256Hex(oldText),
    newHash: sha256Hex(newText),
    diff: unifiedDiff(path, oldText, newText),
  };
}

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
      reject(
        new Error(
          `No new pending proposal within ${timeoutMs} ms; states: ${
            store
              .all()
              .map((p) => `${p.title}=${p.state}`)
              .join(', ') || 'none'
          }`,
        ),
      );
    }, timeoutMs);
    check();
  });
}

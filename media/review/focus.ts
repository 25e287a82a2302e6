/**
 * Focus across re-renders (DOM side of the panel). Preact keeps elements that stay, so the
 * focus stays with them; when a render took the focused element away (a decided card moved to
 * the history), the focus goes somewhere sensible: the same control, else the next pending
 * card, never onto Accept by accident.
 */
import type { FocusTarget } from './state';

export interface FocusMemo {
  proposalId: string;
  action: string | undefined;
  pendingIndex: number;
  pendingIds: string[];
}

function pendingIds(root: HTMLElement): string[] {
  return [...root.querySelectorAll<HTMLElement>('.session-groups article[data-proposal-id]')].map((c) => c.dataset.proposalId ?? '');
}

export function findCard(root: HTMLElement, proposalId: string): HTMLElement | undefined {
  for (const card of root.querySelectorAll<HTMLElement>('article[data-proposal-id]'))
    if (card.dataset.proposalId === proposalId) return card;
  return undefined;
}

export function captureFocus(root: HTMLElement): FocusMemo | undefined {
  const active = root.ownerDocument.activeElement;
  if (!(active instanceof HTMLElement) || !root.contains(active)) return undefined;
  const proposalId = active.closest<HTMLElement>('article[data-proposal-id]')?.dataset.proposalId;
  if (proposalId === undefined) return undefined;
  const ids = pendingIds(root);
  return { proposalId, action: active.dataset.action, pendingIndex: ids.indexOf(proposalId), pendingIds: ids };
}

export function restoreFocus(root: HTMLElement, memo: FocusMemo | undefined): void {
  if (!memo) return;
  const active = root.ownerDocument.activeElement;
  if (active instanceof HTMLElement && active !== root.ownerDocument.body && root.contains(active)) return;
  const ids = pendingIds(root);
  const card = findCard(root, memo.proposalId);
  if (card && ids.includes(memo.proposalId)) {
    const same = memo.action
      ? [...card.querySelectorAll<HTMLButtonElement>('button[data-action]')].find((b) => b.dataset.action === memo.action && !b.disabled)
      : undefined;
    (same ?? card).focus({ preventScroll: true });
    return;
  }
  if (memo.pendingIndex >= 0 && ids.length > 0) {
    const next = findCard(root, ids[Math.min(memo.pendingIndex, ids.length - 1)] ?? '');
    if (next) {
      next.focus();
      return;
    }
  }
  card?.focus({ preventScroll: true });
}

/** Moves the focus where an update asked (after the render that drew it). */
export function focusTarget(root: HTMLElement, target: FocusTarget): void {
  const card = findCard(root, target.proposalId);
  if (!card) return;
  let element: HTMLElement | null | undefined = card;
  if (target.hunkId !== undefined)
    element = [...card.querySelectorAll<HTMLElement>('tbody.hunk[data-proposal-id]')].find((h) => h.dataset.hunkId === target.hunkId);
  else if (target.control === 'draft') element = card.querySelector('textarea');
  else if (target.control === 'toggle') element = card.querySelector<HTMLElement>('button[data-action="toggle"]');
  else if (target.control === 'edit')
    element = card.querySelector<HTMLElement>('button[data-action="edit"], button[data-action="editCommand"]');
  if (!element) return;
  element.focus({ preventScroll: target.control === 'toggle' || target.reveal === true });
  if (target.reveal) element.scrollIntoView?.({ block: 'nearest' });
}

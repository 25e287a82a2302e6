/**
 * The Review panel's decisions (pure, part of the reducer): one proposal, a group, a turn or
 * everything waiting, and the reject reason box that comes before a reject. A reject opens the
 * box (the button, `r`, Shift+R); Enter or its Reject button sends the decision with the typed
 * reason (blank: none), Escape or Cancel closes it and decides nothing.
 */
import type { ProposalView, Verdict, WebviewMessage } from '../../src/shared/reviewProtocol';
import type { Step } from '../common/program';
import { layout } from './model';
import { without, type ReviewEffect, type ReviewState } from './state';

type ReviewStep = Step<ReviewState, ReviewEffect>;

const post = (message: WebviewMessage): ReviewEffect => ({ type: 'post', message });

/** What a reject reason box rejects: one proposal, a file or kind group, one agent turn, or everything waiting. */
export type RejectTarget =
  { kind: 'proposal'; proposalId: string } | { kind: 'group'; groupKey: string } | { kind: 'turn'; turnKey: string } | { kind: 'all' };

/** The key of a target in `state.rejecting` (and on its buttons' `data-reject-target`). */
export function rejectKey(target: RejectTarget): string {
  switch (target.kind) {
    case 'proposal':
      return `p:${target.proposalId}`;
    case 'group':
      return `g:${target.groupKey}`;
    case 'turn':
      return `t:${target.turnKey}`;
    case 'all':
      return 'all';
  }
}

function targetOf(key: string): RejectTarget {
  if (key === 'all') return { kind: 'all' };
  const rest = key.slice(2);
  if (key.startsWith('p:')) return { kind: 'proposal', proposalId: rest };
  if (key.startsWith('g:')) return { kind: 'group', groupKey: rest };
  return { kind: 'turn', turnKey: rest };
}

function find(state: ReviewState, proposalId: string): ProposalView | undefined {
  return state.proposals?.find((p) => p.id === proposalId);
}

/** The reviewer's reason: trimmed, blank is none, only on a reject. */
function reasonOf(verdict: Verdict, text: string | undefined): { reason?: string } {
  const reason = text?.trim();
  return verdict === 'reject' && reason ? { reason } : {};
}

export function decide(state: ReviewState, proposalId: string, verdict: Verdict, reason?: string): ReviewStep {
  const proposal = find(state, proposalId);
  if (!proposal || proposal.state !== 'pending' || state.busy[proposalId]) return { state };
  const next = { ...state, busy: { ...state.busy, [proposalId]: verdict }, cardErrors: without(state.cardErrors, proposalId) };
  const optionId = state.optionPicks[proposalId]?.[verdict];
  const message: WebviewMessage = { type: 'decide', proposalId, verdict, ...reasonOf(verdict, reason), ...(optionId ? { optionId } : {}) };
  return { state: next, effects: [post(message)] };
}

/** A permission request: the reviewer picks which of the agent's options Accept (or Reject) answers. */
export function pickOption(state: ReviewState, proposalId: string, verdict: Verdict, optionId: string): ReviewStep {
  const proposal = find(state, proposalId);
  if (proposal?.kind !== 'permission' || proposal.state !== 'pending') return { state };
  const option = proposal.options.find((o) => o.optionId === optionId);
  if (!option || option.kind.startsWith('allow') !== (verdict === 'approve')) return { state };
  const picks = { ...state.optionPicks[proposalId], [verdict]: optionId };
  return { state: { ...state, optionPicks: { ...state.optionPicks, [proposalId]: picks } } };
}

export function decideMany(
  state: ReviewState,
  items: readonly ProposalView[],
  verdict: Verdict,
  scope: string,
  reason?: string,
): ReviewStep {
  const open = items.filter((p) => p.state === 'pending' && !state.busy[p.id] && (verdict === 'reject' || p.kind !== 'question'));
  if (open.length === 0) return { state };
  // Shown as busy until the snapshot (or `settled`) arrives; the extension may ask for a confirmation first.
  const busy = { ...state.busy, ...Object.fromEntries(open.map((p) => [p.id, verdict])) };
  const message: WebviewMessage = { type: 'decideMany', proposalIds: open.map((p) => p.id), verdict, scope, ...reasonOf(verdict, reason) };
  return { state: { ...state, busy }, effects: [post(message)] };
}

export function decideGroup(state: ReviewState, groupKey: string, verdict: Verdict, reason?: string): ReviewStep {
  const group = layout(state)
    .groups.flatMap((g) => g.files)
    .find((g) => g.key === groupKey);
  if (!group) return { state };
  const scope = group.file === '' ? `every ${group.label.toLowerCase()} proposal` : `every proposal in ${group.file}`;
  return decideMany(state, group.proposals, verdict, scope, reason);
}

export function rejectAll(state: ReviewState, reason?: string): ReviewStep {
  const pending = layout(state).pending;
  return decideMany(state, pending, 'reject', `all ${pending.length} waiting proposals`, reason);
}

/** Accept all / Reject all of a turn: the whole changeset, hunks already chosen kept (the extension sees to it). */
export function decideTurn(state: ReviewState, key: string, verdict: Verdict, reason?: string): ReviewStep {
  const group = layout(state).groups.find((g) => g.turn?.key === key);
  if (!group?.turn) return { state };
  const open = group.files.flatMap((f) => f.proposals).filter((p) => !state.busy[p.id] && (verdict === 'reject' || p.kind !== 'question'));
  if (open.length === 0) return { state };
  const busy = { ...state.busy, ...Object.fromEntries(open.map((p) => [p.id, verdict])) };
  return {
    state: { ...state, busy },
    effects: [post({ type: 'decideTurn', sessionId: group.sessionId, turn: group.turn.turn, verdict, ...reasonOf(verdict, reason) })],
  };
}

/** Opens the reason box of a reject (it takes the focus when drawn); already open: unchanged. */
export function startReject(state: ReviewState, target: RejectTarget): ReviewStep {
  const key = rejectKey(target);
  if (state.rejecting[key] !== undefined) return { state };
  if (target.kind === 'proposal') {
    const proposal = find(state, target.proposalId);
    if (!proposal || proposal.state !== 'pending' || state.busy[proposal.id]) return { state };
    const opened = {
      ...state,
      filled: { ...state.filled, [proposal.id]: true as const },
      ui: { ...state.ui, open: { ...state.ui.open, [proposal.id]: true } },
    };
    return { state: { ...opened, rejecting: { ...state.rejecting, [key]: '' } } };
  }
  return { state: { ...state, rejecting: { ...state.rejecting, [key]: '' } } };
}

export function reasonInput(state: ReviewState, key: string, text: string): ReviewStep {
  if (state.rejecting[key] === undefined || state.rejecting[key] === text) return { state };
  return { state: { ...state, rejecting: { ...state.rejecting, [key]: text } } };
}

export function cancelReject(state: ReviewState, key: string): ReviewStep {
  return { state: { ...state, rejecting: without(state.rejecting, key) } };
}

/** Enter or Reject in the box: the reject goes out with the reason typed (`text`: the field as read at that moment). */
export function confirmReject(state: ReviewState, key: string, text?: string): ReviewStep {
  const typed = text ?? state.rejecting[key];
  if (typed === undefined) return { state };
  const closed = { ...state, rejecting: without(state.rejecting, key) };
  const target = targetOf(key);
  switch (target.kind) {
    case 'proposal':
      return decide(closed, target.proposalId, 'reject', typed);
    case 'group':
      return decideGroup(closed, target.groupKey, 'reject', typed);
    case 'turn':
      return decideTurn(closed, target.turnKey, 'reject', typed);
    case 'all':
      return rejectAll(closed, typed);
  }
}

/** Reason boxes whose target is gone (decided, or its group or turn emptied) close. */
export function pruneRejecting(state: ReviewState): ReviewState['rejecting'] {
  const keys = Object.keys(state.rejecting);
  if (keys.length === 0) return state.rejecting;
  const { groups, pending } = layout(state);
  const live = new Set<string>(pending.length > 0 ? ['all'] : []);
  for (const p of pending) live.add(rejectKey({ kind: 'proposal', proposalId: p.id }));
  for (const g of groups) {
    if (g.turn) live.add(rejectKey({ kind: 'turn', turnKey: g.turn.key }));
    for (const f of g.files) live.add(rejectKey({ kind: 'group', groupKey: f.key }));
  }
  if (keys.every((k) => live.has(k))) return state.rejecting;
  return Object.fromEntries(keys.filter((k) => live.has(k)).map((k) => [k, state.rejecting[k] ?? '']));
}

/**
 * The Review panel's reducer: `update(state, action)` returns the next state and the effects
 * (messages to the extension, focus, announcements). Pure: no DOM, no clock, no globals.
 */
import type {
  ExtensionMessage,
  KeyAction,
  ProposalView,
  StateDeltaMessage,
  StateMessage,
  Verdict,
  WebviewMessage,
} from '../../src/shared/reviewProtocol';
import { commandIsEditable } from '../../src/core/proposals/editable';
import { turnKey } from '../../src/core/proposals/turns';
import type { Step } from '../common/program';
import {
  cancelReject,
  confirmReject,
  decide,
  decideGroup,
  decideTurn,
  pickOption,
  pruneRejecting,
  reasonInput,
  rejectAll,
  rejectKey,
  startReject,
} from './decide';
import { canEditText, describeChanges, isOpen, keyItems, layout, proposalOfKey, reviewableEdit } from './model';
import { conversationUpdate, onConversationMessage } from './conversationUpdate';
import { keepOnly, without, type FocusTarget, type ReviewAction, type ReviewEffect, type ReviewState } from './state';

type ReviewStep = Step<ReviewState, ReviewEffect>;

const MAX_BANNERS = 3;
/** Open cards drawn whole at once; the others when they near the viewport, are opened or selected. */
export const EAGER_BODIES = 30;

const post = (message: WebviewMessage): ReviewEffect => ({ type: 'post', message });
const focus = (target: FocusTarget): ReviewEffect => ({ type: 'focus', target });
const announce = (text: string): ReviewEffect => ({ type: 'announce', text });

export function update(state: ReviewState, action: ReviewAction): ReviewStep {
  switch (action.type) {
    case 'message':
      return onMessage(state, action.message, action.focused);
    case 'decide':
      return decide(state, action.proposalId, action.verdict, action.reason);
    case 'startReject':
      return startReject(state, action.target);
    case 'reasonInput':
      return reasonInput(state, action.key, action.text);
    case 'confirmReject': {
      // Rejecting the selected proposal moves the selection on, as the keys do.
      const items = keyItems(state);
      const at = state.selected === undefined ? -1 : items.indexOf(state.selected);
      const rejected = confirmReject(state, action.key, action.text);
      if (at < 0 || action.key !== rejectKey({ kind: 'proposal', proposalId: state.selected ?? '' }) || rejected.state === state)
        return rejected;
      const after = items[at + 1] ?? items[at - 1];
      return select({ ...rejected.state, selected: after }, after, rejected.effects ?? []);
    }
    case 'cancelReject':
      return cancelReject(state, action.key);
    case 'pickOption':
      return pickOption(state, action.proposalId, action.verdict, action.optionId);
    case 'openDiff':
      return { state, effects: [post({ type: 'openDiff', proposalId: action.proposalId })] };
    case 'chooseHunk':
      return chooseHunk(state, action.proposalId, action.hunkId, action.verdict);
    case 'startEdit':
      return startEdit(state, action.proposalId);
    case 'draftInput': {
      const draft = state.ui.drafts[action.proposalId];
      if (!draft || draft.text === action.text) return { state };
      const drafts = { ...state.ui.drafts, [action.proposalId]: { ...draft, text: action.text } };
      return { state: { ...state, ui: { ...state.ui, drafts } }, effects: [{ type: 'saveSoon' }] };
    }
    case 'submitDraft':
      return submitDraft(state, action.proposalId, action.text);
    case 'cancelEdit': {
      const next = { ...state, cardErrors: without(state.cardErrors, action.proposalId), ui: dropDraft(state, action.proposalId) };
      return { state: next, effects: [{ type: 'save' }, focus({ proposalId: action.proposalId, control: 'edit' })] };
    }
    case 'decideGroup':
      return decideGroup(state, action.groupKey, action.verdict);
    case 'decideTurn':
      return decideTurn(state, action.turnKey, action.verdict);
    case 'rejectAll':
      return rejectAll(state);
    case 'toggle': {
      const proposal = find(state, action.proposalId);
      if (!proposal) return { state };
      const open = { ...state.ui.open, [proposal.id]: !isOpen(state, proposal) };
      const next = { ...state, filled: { ...state.filled, [proposal.id]: true as const }, ui: { ...state.ui, open } };
      return { state: next, effects: [{ type: 'save' }, focus({ proposalId: proposal.id, control: 'toggle' })] };
    }
    case 'showFullDiff': {
      const fullDiff = { ...state.ui.fullDiff, [action.proposalId]: true as const };
      return { state: { ...state, ui: { ...state.ui, fullDiff } }, effects: [{ type: 'save' }] };
    }
    case 'dismissBanner':
      return { state: { ...state, banners: state.banners.filter((b) => b.key !== action.key) } };
    case 'fill':
      if (state.filled[action.proposalId]) return { state };
      return { state: { ...state, filled: { ...state.filled, [action.proposalId]: true } } };
    case 'orphan': {
      const proposal = find(state, action.proposalId);
      if (proposal?.state !== 'orphaned') return { state };
      return { state, effects: [post({ type: 'orphan', proposalId: proposal.id, action: action.action })] };
    }
    case 'turnShown':
      return state.focusTurn === undefined ? { state } : { state: { ...state, focusTurn: undefined } };
    case 'scrolled':
      return { state: { ...state, ui: { ...state.ui, scrollY: action.scrollY } }, effects: [{ type: 'save' }] };
    case 'promptInput':
    case 'sendPrompt':
    case 'cancelTurn':
    case 'answerInput':
    case 'answer':
    case 'decline':
    case 'showCard':
      return conversationUpdate(state, action);
  }
}

function find(state: ReviewState, proposalId: string): ProposalView | undefined {
  return state.proposals?.find((p) => p.id === proposalId);
}

function dropDraft(state: ReviewState, proposalId: string): ReviewState['ui'] {
  return { ...state.ui, drafts: without(state.ui.drafts, proposalId) };
}

/** Keeps the previous object when the new one has the same content, so unchanged cards are not redrawn. */
function keepSame<T>(previous: T | undefined, next: T): T {
  if (previous === next) return next;
  return previous !== undefined && JSON.stringify(previous) === JSON.stringify(next) ? previous : next;
}

function keepSameRecord<T>(previous: Readonly<Record<string, T>>, next: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(next).map(([k, v]) => [k, keepSame(previous[k], v)]));
}

function onMessage(state: ReviewState, message: ExtensionMessage, focused: string | undefined): ReviewStep {
  switch (message.type) {
    case 'state':
      return onState(state, message);
    case 'delta':
      return onDelta(state, message);
    case 'settled': {
      let busy = state.busy;
      for (const id of message.proposalIds) busy = without(busy, id);
      return { state: { ...state, busy } };
    }
    case 'error': {
      const id = message.proposalId;
      let next: ReviewState = { ...state, proposals: state.proposals ?? [] };
      if (id !== undefined) {
        next = {
          ...next,
          busy: without(next.busy, id),
          awaitingContent: without(next.awaitingContent, id),
          busyHunks: keepOnly(next.busyHunks, (k) => !k.startsWith(`${id}#`)),
        };
      }
      const target = id === undefined ? undefined : find(next, id);
      if (target && target.state === 'pending') {
        // Shown where the reviewer clicked; the extension also shows a notification.
        return { state: { ...next, cardErrors: { ...next.cardErrors, [target.id]: message.message } } };
      }
      const banners = [...next.banners, { key: next.nextBannerKey, message: message.message }].slice(-MAX_BANNERS);
      return { state: { ...next, banners, nextBannerKey: next.nextBannerKey + 1 } };
    }
    case 'content': {
      const awaitingContent = without(state.awaitingContent, message.proposalId);
      const proposal = find(state, message.proposalId);
      if (!proposal || proposal.state !== 'pending') return { state: { ...state, awaitingContent } };
      const drafts = { ...state.ui.drafts, [message.proposalId]: { kind: 'text' as const, newHash: message.newHash, text: message.text } };
      return {
        state: { ...state, awaitingContent, ui: { ...state.ui, drafts } },
        effects: [{ type: 'save' }, focus({ proposalId: message.proposalId, control: 'draft' })],
      };
    }
    case 'key':
      return onKey(state, message.action, focused);
    case 'conversation':
    case 'conversationDelta':
    case 'promptResult':
    case 'promptReturned':
      return onConversationMessage(state, message);
  }
}

/**
 * What changed since the state numbered `base`: the proposals upserted and removed, merged into
 * the ones held (unchanged ones keep their objects, so their cards are not redrawn), in the
 * extension's order (by creation time), then handled as a full state. A delta that follows
 * another state than the one held (the document was reloaded in between) is dropped, and the
 * panel asks for a full state once.
 */
function onDelta(state: ReviewState, message: StateDeltaMessage): ReviewStep {
  if (state.proposals === undefined || state.rev !== message.base) {
    if (state.rev === undefined) return { state };
    return { state: { ...state, rev: undefined }, effects: [post({ type: 'ready' })] };
  }
  const { type: _type, base: _base, upsert, remove, risks, ...rest } = message;
  const changed = new Map(upsert.map((p) => [p.id, p]));
  const gone = new Set(remove);
  const held = state.proposals.filter((p) => !gone.has(p.id)).map((p) => changed.get(p.id) ?? p);
  const heldIds = new Set(held.map((p) => p.id));
  const added = upsert.filter((p) => !heldIds.has(p.id));
  // A stable sort: changed proposals keep their place, new ones follow those created at the same time.
  const proposals = [...held, ...added].sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0));
  const heldRisks = keepOnly(state.risks, (id) => !gone.has(id) && !changed.has(id));
  return onState(state, { ...rest, type: 'state', proposals, risks: { ...heldRisks, ...risks } });
}

function onState(state: ReviewState, message: StateMessage): ReviewStep {
  const previous = new Map((state.proposals ?? []).map((p) => [p.id, p]));
  const proposals = message.proposals.map((p) => keepSame(previous.get(p.id), p));
  const byId = new Map(proposals.map((p) => [p.id, p]));
  const pendingId = (id: string): boolean => byId.get(id)?.state === 'pending';
  const known = (id: string): boolean => byId.has(id);
  const mode = message.mode ?? 'action';
  const ui = {
    ...state.ui,
    open: keepOnly(state.ui.open, known),
    fullDiff: keepOnly(state.ui.fullDiff, known),
    // A decided proposal's draft has nothing left to do (a failed accept keeps it: the proposal is still pending).
    drafts: keepOnly(state.ui.drafts, pendingId),
  };
  const pruned = ui.open !== state.ui.open || ui.fullDiff !== state.ui.fullDiff || ui.drafts !== state.ui.drafts;
  let next: ReviewState = {
    ...state,
    proposals,
    rev: message.rev,
    hunkChoices: keepSameRecord(state.hunkChoices, message.hunkChoices ?? {}),
    risks: keepSameRecord(state.risks, message.risks ?? {}),
    loading: message.loading === true,
    mode,
    turns: keepSame(state.turns, message.turns ?? []),
    focusTurn: message.focusTurn ?? state.focusTurn,
    busyHunks: {},
    busy: keepOnly(state.busy, pendingId),
    cardErrors: keepOnly(state.cardErrors, pendingId),
    optionPicks: keepOnly(state.optionPicks, pendingId),
    awaitingContent: keepOnly(state.awaitingContent, pendingId),
    filled: keepOnly(state.filled, known),
    ui,
  };
  next = { ...next, filled: withEagerBodies(next), rejecting: pruneRejecting(next) };
  const effects: ReviewEffect[] = [];
  if (pruned) effects.push({ type: 'save' });
  const announcement = describeChanges(state.proposals, proposals);
  if (announcement) effects.push(announce(announcement));
  return { state: next, effects };
}

/** The first EAGER_BODIES open cards (pending first, then history) are drawn at once. */
function withEagerBodies(state: ReviewState): ReviewState['filled'] {
  const { pending, history } = layout(state);
  const order = [...pending, ...history].filter((p) => isOpen(state, p)).slice(0, EAGER_BODIES);
  if (order.every((p) => state.filled[p.id])) return state.filled;
  return { ...state.filled, ...Object.fromEntries(order.map((p) => [p.id, true as const])) };
}

function chooseHunk(state: ReviewState, proposalId: string, hunkId: string, verdict: Verdict): ReviewStep {
  const proposal = find(state, proposalId);
  const edit = proposal && reviewableEdit(proposal);
  if (!proposal || !edit || proposal.state !== 'pending' || state.busy[proposalId]) return { state };
  const key = `${proposalId}#${hunkId}`;
  if (state.busyHunks[key]) return { state };
  const next = { ...state, busyHunks: { ...state.busyHunks, [key]: true as const }, cardErrors: without(state.cardErrors, proposalId) };
  return { state: next, effects: [post({ type: 'chooseHunk', proposalId, hunkId, verdict, newHash: edit.newHash })] };
}

function startEdit(state: ReviewState, proposalId: string): ReviewStep {
  const proposal = find(state, proposalId);
  if (!proposal || proposal.state !== 'pending' || state.busy[proposalId]) return { state };
  if (state.ui.drafts[proposalId]) return { state, effects: [focus({ proposalId, control: 'draft' })] };
  const base = {
    ...state,
    cardErrors: without(state.cardErrors, proposalId),
    filled: { ...state.filled, [proposalId]: true as const },
    ui: { ...state.ui, open: { ...state.ui.open, [proposalId]: true } },
  };
  if (proposal.kind === 'command') {
    if (!commandIsEditable(proposal)) return cannotEdit(state, proposal);
    const drafts = { ...base.ui.drafts, [proposalId]: { kind: 'command' as const, text: proposal.commandLine } };
    return { state: { ...base, ui: { ...base.ui, drafts } }, effects: [{ type: 'save' }, focus({ proposalId, control: 'draft' })] };
  }
  if (!canEditText(proposal)) return cannotEdit(state, proposal);
  return {
    state: { ...base, awaitingContent: { ...base.awaitingContent, [proposalId]: true } },
    effects: [post({ type: 'requestContent', proposalId })],
  };
}

/** `e` (or Edit) on something that cannot be edited says why in the card, rather than doing nothing. */
function cannotEdit(state: ReviewState, proposal: ProposalView): ReviewStep {
  const why = whyNotEditable(proposal);
  return { state: { ...state, cardErrors: { ...state.cardErrors, [proposal.id]: why } }, effects: [announce(why)] };
}

function whyNotEditable(proposal: ProposalView): string {
  switch (proposal.kind) {
    case 'permission':
      if (proposal.edit?.unlocated !== undefined)
        return `The agent's change to ${proposal.edit.path} could not be placed in the file as it is now, so it cannot be edited here: Reject it (say why), or Accept and review the write itself when it comes.`;
      if (proposal.edit) return `"${proposal.title}" came through ${proposal.origin}; only Accept or Reject can answer it.`;
      if (proposal.commandLine !== undefined)
        return 'The agent runs this command itself once you answer, so Warden cannot change it here: Accept lets exactly this command line run once; Reject (say why) and the agent can ask for another.';
      return `A permission for the agent's "${proposal.toolKind}" tool has nothing to edit: the agent acts itself once you answer. Accept or Reject it (say why).`;
    case 'question':
      return 'A question is answered in the conversation (its answer box), not edited.';
    case 'network':
      return 'A network request cannot be edited: Accept lets it through to this host, Reject answers it with 403.';
    case 'edit':
    case 'command':
      return `"${proposal.title}" came through ${proposal.origin}, where the agent applies or runs its own version: Warden can only accept or reject it as it is.`;
  }
}

function submitDraft(state: ReviewState, proposalId: string, typed: string | undefined): ReviewStep {
  const proposal = find(state, proposalId);
  const draft = state.ui.drafts[proposalId];
  if (!proposal || !draft || proposal.state !== 'pending' || state.busy[proposalId]) return { state };
  const text = typed ?? draft.text;
  const ui = { ...state.ui, drafts: { ...state.ui.drafts, [proposalId]: { ...draft, text } } };
  if (draft.kind === 'command' && text.trim() === '') {
    const cardErrors = { ...state.cardErrors, [proposalId]: 'The command line is empty: type the command to run, or Cancel.' };
    return { state: { ...state, ui, cardErrors }, effects: [{ type: 'save' }] };
  }
  const next = {
    ...state,
    ui,
    busy: { ...state.busy, [proposalId]: 'approve' as const },
    cardErrors: without(state.cardErrors, proposalId),
  };
  const message: WebviewMessage =
    draft.kind === 'command'
      ? { type: 'runEditedCommand', proposalId, commandLine: text }
      : { type: 'acceptEdited', proposalId, newHash: draft.newHash, text };
  return { state: next, effects: [{ type: 'save' }, post(message)] };
}

/** The item the keys act on: the focused one, else the selection (a card selected before its hunks were drawn: its first). */
function currentIndex(items: string[], state: ReviewState, focused: string | undefined): number {
  for (const key of [focused, state.selected]) {
    if (key === undefined) continue;
    const exact = items.indexOf(key);
    if (exact >= 0) return exact;
    const proposalId = proposalOfKey(key);
    const first = items.findIndex((item) => proposalOfKey(item) === proposalId);
    if (first >= 0) return first;
  }
  return -1;
}

function select(state: ReviewState, key: string | undefined, effects: ReviewEffect[] = []): ReviewStep {
  if (key === undefined) return { state, effects };
  const at = key.indexOf('#');
  const target: FocusTarget =
    at < 0 ? { proposalId: key, reveal: true } : { proposalId: key.slice(0, at), hunkId: key.slice(at + 1), reveal: true };
  return { state: { ...state, selected: key }, effects: [...effects, focus(target)] };
}

function onKey(state: ReviewState, action: KeyAction, focused: string | undefined): ReviewStep {
  if (action === 'acceptAll' || action === 'rejectAll') {
    if (state.mode !== 'turn')
      return { state, effects: [announce('Accept all and Reject all of a turn work in turn review (the warden.review.mode setting).')] };
    const items = keyItems(state);
    const current = find(state, proposalOfKey(items[currentIndex(items, state, focused)] ?? ''));
    const key = current ? turnKey(current.sessionId, current.turn ?? 0) : layout(state).groups[0]?.turn?.key;
    if (key === undefined) return { state, effects: [announce('Nothing is waiting for your review.')] };
    // Shift+R opens the turn's reason box; Enter in it rejects the turn.
    return action === 'acceptAll' ? decideTurn(state, key, 'approve') : startReject(state, { kind: 'turn', turnKey: key });
  }
  const items = keyItems(state);
  if (items.length === 0) return { state, effects: [announce('Nothing is waiting for your review.')] };
  const index = currentIndex(items, state, focused);
  if (action === 'next' || action === 'previous') {
    const step = action === 'next' ? 1 : -1;
    const target = index < 0 ? (action === 'next' ? 0 : items.length - 1) : Math.min(items.length - 1, Math.max(0, index + step));
    const key = items[target] ?? '';
    if (!state.filled[key] && !key.includes('#')) {
      // Its hunks exist once its body is drawn: land on the first (going down) or last (going up).
      const filled = { ...state, filled: { ...state.filled, [key]: true as const } };
      const own = keyItems(filled).filter((i) => proposalOfKey(i) === key);
      return select(filled, action === 'next' ? own[0] : own[own.length - 1]);
    }
    return select(state, key);
  }
  const key = items[index < 0 ? 0 : index] ?? '';
  const proposalId = proposalOfKey(key);
  if (!state.filled[proposalId]) {
    // Its diff is not drawn yet: draw it and select in it; the next key decides what was seen.
    const filled = { ...state, filled: { ...state.filled, [proposalId]: true as const } };
    return select(
      filled,
      keyItems(filled).find((i) => proposalOfKey(i) === proposalId),
    );
  }
  const proposal = find(state, proposalId);
  if (!proposal) return { state };
  if (action === 'edit') {
    const started = startEdit(index < 0 ? { ...state, selected: key } : state, proposalId);
    return started;
  }
  const verdict: Verdict = action === 'accept' ? 'approve' : 'reject';
  // The next item gets the selection, so a run of keys walks through the queue.
  const at = index < 0 ? 0 : index;
  const after = items[at + 1] ?? items[at - 1];
  const hunk = key.includes('#') ? key.slice(key.indexOf('#') + 1) : undefined;
  // `r` on a whole proposal opens its reason box (Enter rejects; the selection moves on then); a hunk's is only a choice.
  if (hunk === undefined && verdict === 'reject') return startReject({ ...state, selected: key }, { kind: 'proposal', proposalId });
  let decided: ReviewStep;
  if (hunk !== undefined) decided = chooseHunk(state, proposalId, hunk, verdict);
  else if (proposal.kind === 'question' && verdict === 'approve')
    decided = { state, effects: [announce('A question is answered in the conversation, in its answer box.')] };
  else decided = decide(state, proposalId, verdict);
  return select({ ...decided.state, selected: after }, after, decided.effects ?? []);
}

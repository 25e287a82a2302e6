/**
 * The conversation part of the Warden panel's state and reducer: the session and its feed (from
 * `conversation` messages), the instruction box and the answers being typed. Pure, like update.ts,
 * which hands it the conversation's messages and actions.
 *
 * The instruction box never loses text: a send keeps the text in the box (read-only) until the
 * extension says what became of it; only "sent", "queued" or "started" clear it, and only when
 * the box still holds the text that was sent. A failure keeps it and says why; an instruction the
 * extension could not send after all comes back into the box.
 */
import type { ConversationDeltaMessage, FeedEntryView, SessionSummary } from '../../src/shared/conversationProtocol';
import type { ExtensionMessage, ProposalView, WebviewMessage } from '../../src/shared/reviewProtocol';
import type { Step } from '../common/program';
import type { ReviewEffect, ReviewState } from './state';

export interface ConversationState {
  /** Undefined until the first `conversation` message (the panel may be hosted without a session source). */
  session: SessionSummary | null | undefined;
  entries: readonly FeedEntryView[];
  /** The number of the last conversation message applied; undefined: waiting for a full one. */
  rev: number | undefined;
  /** Instructions given while the agent works, in the order they will be sent. */
  queued: readonly string[];
  /** The request on its way: the box waits for its answer. */
  sending: { id: number; text: string } | undefined;
  nextRequestId: number;
  /** Why the last instruction was not sent (the text is still in the box). */
  boxError: string | undefined;
  /** What became of the last instruction (queued, or cancelled on the way). */
  boxNote: string | undefined;
  /** Answers being typed, by question (proposal) id. */
  answers: Readonly<Record<string, string>>;
}

export type ConversationAction =
  | { type: 'promptInput'; text: string }
  | { type: 'sendPrompt' }
  | { type: 'cancelTurn' }
  | { type: 'answerInput'; proposalId: string; text: string }
  | { type: 'answer'; proposalId: string }
  | { type: 'decline'; proposalId: string }
  /** "Review": opens the proposal's full card in the queue (or the history) and moves there. */
  | { type: 'showCard'; proposalId: string };

export type ConversationMessage = Extract<
  ExtensionMessage,
  { type: 'conversation' | 'conversationDelta' | 'promptResult' | 'promptReturned' }
>;

export const initialConversation: ConversationState = {
  session: undefined,
  entries: [],
  rev: undefined,
  queued: [],
  sending: undefined,
  nextRequestId: 1,
  boxError: undefined,
  boxNote: undefined,
  answers: {},
};

type ConversationStep = Step<ReviewState, ReviewEffect>;

const post = (message: WebviewMessage): ReviewEffect => ({ type: 'post', message });

function withConversation(state: ReviewState, patch: Partial<ConversationState>): ReviewState {
  return { ...state, conversation: { ...state.conversation, ...patch } };
}

function withPrompt(state: ReviewState, prompt: string): ReviewState {
  return { ...state, ui: { ...state.ui, prompt } };
}

export function onConversationMessage(state: ReviewState, message: ConversationMessage): ConversationStep {
  const conversation = state.conversation;
  switch (message.type) {
    case 'conversation': {
      // Unchanged entries keep their objects, so only what changed is redrawn.
      const previous = new Map(conversation.entries.map((e) => [e.seq, e]));
      const entries = message.entries.map((e) => {
        const old = previous.get(e.seq);
        return old !== undefined && JSON.stringify(old) === JSON.stringify(e) ? old : e;
      });
      return { state: withConversation(state, { session: message.session, entries, queued: message.queued, rev: message.rev }) };
    }
    case 'conversationDelta':
      return onConversationDelta(state, message);
    case 'promptResult': {
      const sent = conversation.sending;
      if (!sent || sent.id !== message.id) return { state };
      const done = message.outcome === 'sent' || message.outcome === 'queued' || message.outcome === 'started';
      const next = withConversation(state, {
        sending: undefined,
        boxError:
          message.outcome === 'failed'
            ? `Not sent: ${message.message ?? 'the extension could not send it'}. Your text is still here.`
            : undefined,
        boxNote:
          message.outcome === 'queued'
            ? 'Queued: the agent gets it when its current turn ends.'
            : message.outcome === 'cancelled'
              ? 'No session was started (a notification says why, if something failed); your text is still here.'
              : undefined,
      });
      // Cleared only when it went out, and only if the box still holds what was sent.
      if (done && state.ui.prompt === sent.text) return { state: withPrompt(next, ''), effects: [{ type: 'save' }] };
      return { state: next };
    }
    case 'promptReturned': {
      const typed = state.ui.prompt.trim();
      const prompt = typed === '' ? message.text : typed.includes(message.text) ? state.ui.prompt : `${state.ui.prompt}\n\n${message.text}`;
      const next = withConversation(withPrompt(state, prompt), {
        boxError: `Not sent (${message.reason}). It is back in the box.`,
        boxNote: undefined,
      });
      return { state: next, effects: [{ type: 'save' }] };
    }
  }
}

/**
 * Entries added or changed since the conversation message numbered `base`, merged by seq into the
 * ones held (unchanged entries keep their objects, so they are not redrawn); entries whose seq is
 * no longer listed are gone. A delta after another message than the one held (the document was
 * reloaded in between) is dropped, and the panel asks for a full state once.
 */
function onConversationDelta(state: ReviewState, message: ConversationDeltaMessage): ConversationStep {
  const conversation = state.conversation;
  if (conversation.session === undefined || conversation.rev !== message.base) {
    if (conversation.rev === undefined) return { state };
    return { state: withConversation(state, { rev: undefined }), effects: [post({ type: 'ready' })] };
  }
  const bySeq = new Map<number, FeedEntryView>(conversation.entries.map((e) => [e.seq, e]));
  for (const entry of message.entries) bySeq.set(entry.seq, entry);
  const entries = message.seqs.map((seq) => bySeq.get(seq)).filter((e): e is FeedEntryView => e !== undefined);
  return { state: withConversation(state, { session: message.session, entries, queued: message.queued, rev: message.rev }) };
}

export function conversationUpdate(state: ReviewState, action: ConversationAction): ConversationStep {
  const conversation = state.conversation;
  switch (action.type) {
    case 'promptInput':
      if (conversation.sending || action.text === state.ui.prompt) return { state };
      return { state: withPrompt(state, action.text), effects: [{ type: 'saveSoon' }] };
    case 'sendPrompt': {
      const text = state.ui.prompt;
      if (conversation.sending || text.trim() === '') return { state };
      const id = conversation.nextRequestId;
      const next = withConversation(state, { sending: { id, text }, nextRequestId: id + 1, boxError: undefined, boxNote: undefined });
      return { state: next, effects: [post({ type: 'prompt', id, text: text.trim() })] };
    }
    case 'cancelTurn':
      return { state, effects: [post({ type: 'cancelTurn' })] };
    case 'answerInput':
      return { state: withConversation(state, { answers: { ...conversation.answers, [action.proposalId]: action.text } }) };
    case 'answer': {
      const answer = conversation.answers[action.proposalId] ?? '';
      const question = state.proposals?.find((p) => p.id === action.proposalId);
      if (answer.trim() === '' || question?.state !== 'pending' || state.busy[action.proposalId]) return { state };
      const next = { ...state, busy: { ...state.busy, [action.proposalId]: 'approve' as const } };
      return { state: next, effects: [post({ type: 'answer', proposalId: action.proposalId, answer: answer.trim() })] };
    }
    case 'decline': {
      const question = state.proposals?.find((p) => p.id === action.proposalId);
      if (question?.state !== 'pending' || state.busy[action.proposalId]) return { state };
      const next = { ...state, busy: { ...state.busy, [action.proposalId]: 'reject' as const } };
      return {
        state: next,
        effects: [post({ type: 'decide', proposalId: action.proposalId, verdict: 'reject', reason: 'the reviewer declined to answer' })],
      };
    }
    case 'showCard': {
      const id = action.proposalId;
      if (!state.proposals?.some((p) => p.id === id)) return { state };
      const next = {
        ...state,
        selected: id,
        filled: { ...state.filled, [id]: true as const },
        ui: { ...state.ui, open: { ...state.ui.open, [id]: true } },
      };
      return { state: next, effects: [{ type: 'save' }, { type: 'focus', target: { proposalId: id, reveal: true } }] };
    }
  }
}

/** One row of the conversation: a feed entry, or a proposal where it arose. */
export type ConversationItem = { kind: 'entry'; entry: FeedEntryView } | { kind: 'proposal'; proposal: ProposalView };

const time = (stamp: string): number => {
  const t = Date.parse(stamp);
  return Number.isNaN(t) ? Number.POSITIVE_INFINITY : t;
};

/**
 * The session's feed with its proposals placed where they arose: each proposal after the last
 * entry made no later than it (both lists keep their own order; equal times put the entry first).
 */
export function conversationItems(
  entries: readonly FeedEntryView[],
  proposals: readonly ProposalView[],
  sessionId: string,
): ConversationItem[] {
  const own = proposals
    .filter((p) => p.sessionId === sessionId)
    .map((p, i) => ({ p, i, t: time(p.createdAt) }))
    .sort((a, b) => a.t - b.t || a.i - b.i)
    .map((x) => x.p);
  const items: ConversationItem[] = [];
  let next = 0;
  for (const entry of entries) {
    const at = time(entry.at);
    while (next < own.length && time(own[next]!.createdAt) < at) items.push({ kind: 'proposal', proposal: own[next++]! });
    items.push({ kind: 'entry', entry });
  }
  while (next < own.length) items.push({ kind: 'proposal', proposal: own[next++]! });
  return items;
}

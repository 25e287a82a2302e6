/**
 * The Session view's state and reducer: the latest snapshot (session, feed, questions), the
 * last error, and what is being typed (answers, the next instruction), which survives snapshots.
 * Pure: `update(state, action)` returns the next state and the messages to post.
 */
import type { FeedEntryView, SessionDeltaMessage, SessionExtensionMessage, SessionWebviewMessage } from '../../src/shared/sessionProtocol';
import type { Step } from '../common/program';

export type Snapshot = Extract<SessionExtensionMessage, { type: 'state' }>;

export interface SessionState {
  /** The latest state (full, or merged from deltas); undefined until the first `state` message. */
  snapshot: Snapshot | undefined;
  /** The number of the last state message applied; undefined: waiting for a full `state`. */
  rev: number | undefined;
  error: string | undefined;
  /** Answers being typed, by question (proposal) id. */
  answers: Readonly<Record<string, string>>;
  prompt: string;
}

export type SessionAction =
  | { type: 'message'; message: SessionExtensionMessage }
  | { type: 'answerInput'; proposalId: string; text: string }
  | { type: 'answer'; proposalId: string }
  | { type: 'decline'; proposalId: string }
  | { type: 'promptInput'; text: string }
  | { type: 'sendPrompt' }
  | { type: 'cancel' }
  | { type: 'showReview' };

export type SessionEffect = { type: 'post'; message: SessionWebviewMessage };

export const initialSessionState: SessionState = { snapshot: undefined, rev: undefined, error: undefined, answers: {}, prompt: '' };

const post = (message: SessionWebviewMessage): SessionEffect => ({ type: 'post', message });

export function update(state: SessionState, action: SessionAction): Step<SessionState, SessionEffect> {
  switch (action.type) {
    case 'message':
      return onMessage(state, action.message);
    case 'answerInput':
      return { state: { ...state, answers: { ...state.answers, [action.proposalId]: action.text } } };
    case 'answer': {
      const answer = state.answers[action.proposalId] ?? '';
      if (answer.trim() === '') return { state };
      const { [action.proposalId]: _sent, ...answers } = state.answers;
      return { state: { ...state, answers }, effects: [post({ type: 'answer', proposalId: action.proposalId, answer })] };
    }
    case 'decline':
      return { state, effects: [post({ type: 'decline', proposalId: action.proposalId })] };
    case 'promptInput':
      return { state: { ...state, prompt: action.text } };
    case 'sendPrompt': {
      const ready = state.snapshot?.session?.state === 'ready';
      if (!ready || state.prompt.trim() === '') return { state };
      return { state: { ...state, prompt: '' }, effects: [post({ type: 'prompt', text: state.prompt })] };
    }
    case 'cancel':
      return { state, effects: [post({ type: 'cancel' })] };
    case 'showReview':
      return { state, effects: [post({ type: 'showReview' })] };
  }
}

function onMessage(state: SessionState, message: SessionExtensionMessage): Step<SessionState, SessionEffect> {
  switch (message.type) {
    case 'error':
      return { state: { ...state, error: message.message } };
    case 'state':
      return { state: { ...state, snapshot: message, rev: message.rev } };
    case 'delta':
      return onDelta(state, message);
  }
}

/**
 * Entries added or changed since the state numbered `base`, merged by seq into the ones held
 * (unchanged entries keep their objects); entries whose seq is no longer listed are gone. A
 * delta after another state than the one held (the document was reloaded) is dropped, and the
 * view asks for a full state once.
 */
function onDelta(state: SessionState, message: SessionDeltaMessage): Step<SessionState, SessionEffect> {
  if (state.snapshot === undefined || state.rev !== message.base) {
    if (state.rev === undefined) return { state };
    return { state: { ...state, rev: undefined }, effects: [post({ type: 'ready' })] };
  }
  const bySeq = new Map<number, FeedEntryView>(state.snapshot.entries.map((e) => [e.seq, e]));
  for (const entry of message.entries) bySeq.set(entry.seq, entry);
  const entries = message.seqs.map((seq) => bySeq.get(seq)).filter((e): e is FeedEntryView => e !== undefined);
  const snapshot: Snapshot = { type: 'state', session: message.session, entries, questions: message.questions, rev: message.rev };
  return { state: { ...state, snapshot, rev: message.rev } };
}

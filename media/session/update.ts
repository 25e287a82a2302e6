/**
 * The Session view's state and reducer: the latest snapshot (session, feed, questions), the
 * last error, and what is being typed (answers, the next instruction), which survives snapshots.
 * Pure: `update(state, action)` returns the next state and the messages to post.
 */
import type { SessionExtensionMessage, SessionWebviewMessage } from '../../src/shared/sessionProtocol';
import type { Step } from '../common/program';

export type Snapshot = Extract<SessionExtensionMessage, { type: 'state' }>;

export interface SessionState {
  snapshot: Snapshot | undefined;
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

export const initialSessionState: SessionState = { snapshot: undefined, error: undefined, answers: {}, prompt: '' };

const post = (message: SessionWebviewMessage): SessionEffect => ({ type: 'post', message });

export function update(state: SessionState, action: SessionAction): Step<SessionState, SessionEffect> {
  switch (action.type) {
    case 'message':
      if (action.message.type === 'error') return { state: { ...state, error: action.message.message } };
      return { state: { ...state, snapshot: action.message } };
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

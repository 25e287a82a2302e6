/**
 * The Audit panel's state and reducer. The extension owns the log: each `state` message is a
 * snapshot (verify status, sessions, the newest matching entries). The webview owns what the
 * lead is doing: the filters (sent as `query`, persisted with setState), which entries are
 * expanded, the notices, and the blame view (its target and last result). Pure: `update`
 * returns the next state and the effects (messages to post, a debounced query, saving).
 */
import type {
  AuditBlameMessage,
  AuditExtensionMessage,
  AuditFilters,
  AuditStateMessage,
  AuditWebviewMessage,
  ExportFormat,
} from '../../src/shared/auditProtocol';
import { containsHiddenCharacters } from '../common/hiddenCharacters';
import type { Step } from '../common/program';

export type FilterName = keyof AuditFilters;

export interface Notice {
  id: number;
  text: string;
  tone: 'info' | 'error';
  /** "Exporting…": replaced by the outcome, never left behind (issue 22). */
  progress?: true;
}

export type BlameStatus =
  | { kind: 'idle' }
  | { kind: 'loading'; target: string }
  /** `hidden`: the result has invisible or bidi characters (a file's text, a commit subject). */
  | { kind: 'shown'; result: AuditBlameMessage; hidden: boolean }
  | { kind: 'failed'; target: string; message: string };

export interface AuditState {
  snapshot: AuditStateMessage | undefined;
  /** Whether the snapshot has invisible or bidi characters anywhere (computed once per snapshot). */
  hidden: boolean;
  filters: AuditFilters;
  busy: boolean;
  notices: readonly Notice[];
  nextNotice: number;
  /** Entries whose data is expanded, by hash (seq repeats across chains). */
  expanded: ReadonlySet<string>;
  /** What the blame box holds ('' = the default target). */
  blameInput: string;
  blame: BlameStatus;
}

export type AuditAction =
  | { type: 'message'; message: AuditExtensionMessage }
  | { type: 'setFilter'; name: FilterName; value: string }
  | { type: 'clearFilters' }
  | { type: 'pickSession'; sessionId: string }
  /** From the blame view: the session's entries (the session filter alone). */
  | { type: 'showSession'; sessionId: string }
  | { type: 'toggleEntry'; hash: string; open: boolean }
  | { type: 'dismissNotice'; id: number }
  | { type: 'blameInput'; text: string }
  | { type: 'blame' }
  | { type: 'closeBlame' }
  | {
      type: 'post';
      message: Extract<AuditWebviewMessage, { type: 'export' | 'verify' | 'repair' | 'openBreak' | 'openDiff' | 'openEntry' }>;
    };

export type AuditEffect =
  | { type: 'post'; message: AuditWebviewMessage }
  /** A `query` with the current filters, after `delayMs` (typing waits; a pick goes at once). */
  | { type: 'query'; filters: AuditFilters; delayMs: number }
  | { type: 'save'; filters: AuditFilters }
  /** Report what the page lists (`rendered`), after the render. */
  | { type: 'rendered' }
  | { type: 'scrollTo'; id: string };

/** Typing in a text field waits this long before querying. */
export const TYPING_DELAY_MS = 250;
const MAX_NOTICES = 3;
const TEXT_FILTERS: readonly FilterName[] = ['text', 'path'];

export function initialAuditState(filters: AuditFilters = {}): AuditState {
  return {
    snapshot: undefined,
    hidden: false,
    filters,
    busy: false,
    notices: [],
    nextNotice: 1,
    expanded: new Set(),
    blameInput: '',
    blame: { kind: 'idle' },
  };
}

const post = (message: AuditWebviewMessage): AuditEffect => ({ type: 'post', message });

function withFilters(state: AuditState, filters: AuditFilters, delayMs = 0): Step<AuditState, AuditEffect> {
  return {
    state: { ...state, filters },
    effects: [
      { type: 'save', filters },
      { type: 'query', filters, delayMs },
    ],
  };
}

function notice(state: AuditState, text: string, tone: Notice['tone'], progress = false): AuditState {
  const next: Notice = { id: state.nextNotice, text, tone, ...(progress ? { progress: true as const } : {}) };
  const notices = [next, ...state.notices.filter((n) => !n.progress)].slice(0, MAX_NOTICES);
  return { ...state, notices, nextNotice: state.nextNotice + 1, busy: progress };
}

function onMessage(state: AuditState, message: AuditExtensionMessage): Step<AuditState, AuditEffect> {
  switch (message.type) {
    case 'state': {
      const hidden = containsHiddenCharacters([message.rows, message.sessions]);
      return { state: { ...state, snapshot: message, hidden, busy: false }, effects: [{ type: 'rendered' }] };
    }
    case 'blame':
      return {
        state: {
          ...state,
          blame: { kind: 'shown', result: message, hidden: containsHiddenCharacters(message) },
          blameInput: message.target,
        },
        effects: [{ type: 'rendered' }],
      };
    case 'blameFailed':
      return { state: { ...state, blame: { kind: 'failed', target: message.target, message: message.message } } };
    case 'busy':
      return { state: notice(state, message.what, 'info', true) };
    case 'notice':
      return { state: notice(state, message.message, 'info') };
    case 'error':
      return { state: notice(state, message.message, 'error') };
  }
}

export function update(state: AuditState, action: AuditAction): Step<AuditState, AuditEffect> {
  switch (action.type) {
    case 'message':
      return onMessage(state, action.message);
    case 'setFilter': {
      const { [action.name]: _old, ...rest } = state.filters;
      // Clipped to what the contract accepts, so a pasted novel still queries.
      const value = action.value.slice(0, action.name === 'text' ? 2000 : 500);
      const filters = (value.trim() === '' ? rest : { ...rest, [action.name]: value }) as AuditFilters;
      return withFilters(state, filters, TEXT_FILTERS.includes(action.name) ? TYPING_DELAY_MS : 0);
    }
    case 'clearFilters':
      return withFilters(state, {});
    case 'pickSession': {
      const { sessionId: _old, ...rest } = state.filters;
      return withFilters(state, state.filters.sessionId === action.sessionId ? rest : { ...rest, sessionId: action.sessionId });
    }
    case 'showSession': {
      const step = withFilters(state, { sessionId: action.sessionId });
      return { ...step, effects: [...(step.effects ?? []), { type: 'scrollTo', id: 'filters' }] };
    }
    case 'toggleEntry': {
      if (state.expanded.has(action.hash) === action.open) return { state };
      const expanded = new Set(state.expanded);
      if (action.open) expanded.add(action.hash);
      else expanded.delete(action.hash);
      return { state: { ...state, expanded } };
    }
    case 'dismissNotice':
      return { state: { ...state, notices: state.notices.filter((n) => n.id !== action.id) } };
    case 'blameInput':
      return { state: { ...state, blameInput: action.text } };
    case 'blame': {
      const target = state.blameInput.trim();
      return {
        state: { ...state, blame: { kind: 'loading', target } },
        effects: [post(target === '' ? { type: 'blame' } : { type: 'blame', target })],
      };
    }
    case 'closeBlame':
      return { state: { ...state, blame: { kind: 'idle' } }, effects: [{ type: 'rendered' }] };
    case 'post':
      return { state, effects: [post(action.message)] };
  }
}

/** The export buttons' message. */
export const exportMessage = (format: ExportFormat): AuditAction => ({ type: 'post', message: { type: 'export', format } });

/**
 * The Review panel's state: the latest snapshot from the extension, what the reviewer has
 * under way (busy decisions, drafts, errors) and the UI state kept across hide/show (open
 * cards, full diffs, scroll, drafts). Immutable: `update` returns a new object per change.
 */
import * as z from 'zod';
import type { KeyAction, ProposalView, TurnInfo, Verdict } from '../../src/shared/reviewProtocol';
import type { RiskLabel } from '../../src/core/proposals/riskLabel';
import type { ReviewMode } from '../../src/core/proposals/turns';
import { initialConversation, type ConversationAction, type ConversationState } from './conversationUpdate';
import type { RejectTarget } from './decide';

export type Draft = { kind: 'text'; newHash: string; text: string } | { kind: 'command'; text: string };

export interface Banner {
  key: number;
  message: string;
}

export interface UiState {
  scrollY: number;
  /** Cards the reviewer opened or closed, by proposal id (the default depends on the state). */
  open: Readonly<Record<string, boolean>>;
  /** Cards whose long diff the reviewer asked to see in full. */
  fullDiff: Readonly<Record<string, true>>;
  /** Unfinished edits of a proposal's content or command line: hiding the panel loses none of them. */
  drafts: Readonly<Record<string, Draft>>;
  /** What is typed in the instruction box (kept until it was sent). */
  prompt: string;
}

export interface ReviewState {
  /** The latest snapshot; undefined until the first `state` message. */
  proposals: readonly ProposalView[] | undefined;
  /** The number of the last state message applied (a `delta` names the one it follows); undefined: waiting for a full `state`. */
  rev: number | undefined;
  hunkChoices: Readonly<Record<string, Record<string, Verdict>>>;
  risks: Readonly<Record<string, RiskLabel[]>>;
  loading: boolean;
  mode: ReviewMode;
  turns: readonly TurnInfo[];
  /** Decisions sent and not yet reflected in a snapshot (or answered by an error). */
  busy: Readonly<Record<string, Verdict>>;
  /** Hunk choices sent and not yet reflected in a snapshot, as "proposalId#hunkId". */
  busyHunks: Readonly<Record<string, true>>;
  /** "Edit" was clicked and the full text is on its way from the extension. */
  awaitingContent: Readonly<Record<string, true>>;
  /** The last error about a pending proposal, shown in its card next to the buttons. */
  cardErrors: Readonly<Record<string, string>>;
  banners: readonly Banner[];
  nextBannerKey: number;
  /** The item the keyboard acts on: "proposalId" or "proposalId#h1". */
  selected: string | undefined;
  /** Cards whose bodies are drawn (the rest wait until they near the viewport, are opened or selected). */
  filled: Readonly<Record<string, true>>;
  /** A turn to scroll to after the next render ("Warden: Review Turn"). */
  focusTurn: string | undefined;
  /** The session's conversation and the instruction box (conversationUpdate.ts). */
  conversation: ConversationState;
  /** Reject reason boxes open (see decide.ts `rejectKey`), with the reason typed so far. */
  rejecting: Readonly<Record<string, string>>;
  /** Permission requests: which of the agent's options Accept and Reject answer, when the reviewer changed it. */
  optionPicks: Readonly<Record<string, Partial<Record<Verdict, string>>>>;
  ui: UiState;
}

/** What the reviewer does in the page, and what the extension sends. */
export type ReviewAction =
  | { type: 'message'; message: import('../../src/shared/reviewProtocol').ExtensionMessage; focused?: string | undefined }
  | { type: 'decide'; proposalId: string; verdict: Verdict; reason?: string }
  /** Reject clicked (or `r`, Shift+R): the reason box opens first. */
  | { type: 'startReject'; target: RejectTarget }
  | { type: 'reasonInput'; key: string; text: string }
  | { type: 'confirmReject'; key: string; text?: string }
  | { type: 'cancelReject'; key: string }
  | { type: 'pickOption'; proposalId: string; verdict: Verdict; optionId: string }
  | { type: 'openDiff'; proposalId: string }
  | { type: 'chooseHunk'; proposalId: string; hunkId: string; verdict: Verdict }
  | { type: 'startEdit'; proposalId: string }
  | { type: 'draftInput'; proposalId: string; text: string }
  | { type: 'submitDraft'; proposalId: string; text?: string }
  | { type: 'cancelEdit'; proposalId: string }
  | { type: 'decideGroup'; groupKey: string; verdict: Verdict }
  | { type: 'decideTurn'; turnKey: string; verdict: Verdict }
  | { type: 'rejectAll' }
  | { type: 'toggle'; proposalId: string }
  | { type: 'showFullDiff'; proposalId: string }
  | { type: 'dismissBanner'; key: number }
  | { type: 'fill'; proposalId: string }
  | { type: 'scrolled'; scrollY: number }
  | { type: 'orphan'; proposalId: string; action: 'applyAnyway' | 'discard' }
  /** The turn asked for by `focusTurn` was scrolled to. */
  | { type: 'turnShown' }
  | ConversationAction;

export type KeyMessage = { type: 'key'; action: KeyAction };

/** Where the focus goes after the render: a card, one of its hunks, or a control in it. */
export interface FocusTarget {
  proposalId: string;
  hunkId?: string;
  /** A control in the card (`data-action`), or the draft's text area. */
  control?: 'draft' | 'toggle' | 'edit';
  /** Keyboard selection: scroll it into view too. */
  reveal?: boolean;
}

export type ReviewEffect =
  | { type: 'post'; message: import('../../src/shared/reviewProtocol').WebviewMessage }
  | { type: 'save' }
  | { type: 'saveSoon' }
  | { type: 'focus'; target: FocusTarget }
  | { type: 'announce'; text: string };

const PersistedUi = z.object({
  version: z.literal(1),
  scrollY: z.number().nonnegative().catch(0),
  open: z.array(z.tuple([z.string(), z.boolean()])).catch([]),
  fullDiff: z.array(z.string()).catch([]),
  drafts: z
    .array(
      z.tuple([
        z.string(),
        z.discriminatedUnion('kind', [
          z.object({ kind: z.literal('text'), newHash: z.string(), text: z.string() }),
          z.object({ kind: z.literal('command'), text: z.string() }),
        ]),
      ]),
    )
    .catch([]),
  prompt: z
    .string()
    .max(64 * 1024)
    .catch('')
    .optional(),
});

/** The UI state `setState` kept (validated: an old or damaged one starts fresh). */
export function restoreUi(saved: unknown): UiState {
  const parsed = PersistedUi.safeParse(saved);
  if (!parsed.success) return { scrollY: 0, open: {}, fullDiff: {}, drafts: {}, prompt: '' };
  return {
    scrollY: parsed.data.scrollY,
    open: Object.fromEntries(parsed.data.open),
    fullDiff: Object.fromEntries(parsed.data.fullDiff.map((id) => [id, true as const])),
    drafts: Object.fromEntries(parsed.data.drafts),
    prompt: parsed.data.prompt ?? '',
  };
}

export function persistUi(ui: UiState, scrollY: number): z.input<typeof PersistedUi> {
  return {
    version: 1,
    scrollY: Math.max(0, Math.round(scrollY)),
    open: Object.entries(ui.open),
    fullDiff: Object.keys(ui.fullDiff),
    drafts: Object.entries(ui.drafts),
    prompt: ui.prompt,
  };
}

export function initialState(ui: UiState): ReviewState {
  return {
    proposals: undefined,
    rev: undefined,
    hunkChoices: {},
    risks: {},
    loading: false,
    mode: 'action',
    turns: [],
    busy: {},
    busyHunks: {},
    awaitingContent: {},
    cardErrors: {},
    banners: [],
    nextBannerKey: 1,
    selected: undefined,
    filled: {},
    focusTurn: undefined,
    conversation: initialConversation,
    rejecting: {},
    optionPicks: {},
    ui,
  };
}

/** A record without `key` (the same object when it had none). */
export function without<T>(record: Readonly<Record<string, T>>, key: string): Readonly<Record<string, T>> {
  if (!(key in record)) return record;
  const { [key]: _removed, ...rest } = record;
  return rest;
}

/** A record keeping only the keys `keep` accepts (the same object when nothing goes). */
export function keepOnly<T>(record: Readonly<Record<string, T>>, keep: (key: string) => boolean): Readonly<Record<string, T>> {
  const keys = Object.keys(record);
  if (keys.every(keep)) return record;
  return Object.fromEntries(keys.filter(keep).map((k) => [k, record[k] as T]));
}

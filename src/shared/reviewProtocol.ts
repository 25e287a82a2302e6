import * as z from 'zod';
import {
  CommandProposal,
  Decision,
  EditProposal,
  NetworkProposal,
  PermissionProposal,
  QuestionProposal,
  type Proposal,
} from '../core/proposals/model';
import { RiskLabel } from '../core/proposals/riskLabel';
import { REVIEW_MODES } from '../core/proposals/turns';
import {
  AnswerMessage,
  CancelTurnMessage,
  ConversationMessage,
  ConversationDeltaMessage,
  PromptMessage,
  PromptResultMessage,
  PromptReturnedMessage,
} from './conversationProtocol';

/**
 * The message contract between the Review panel (extension host, `src/vscode/reviewPanel.ts`)
 * and its webview (`media/review/main.ts`). Both sides validate everything they receive with
 * these schemas; a message that does not parse is dropped and logged, never acted on.
 *
 * Webview -> extension: `ready` (sent on every load, also after the webview was hidden and
 * restored), `decide`, `decideMany` (bulk; the extension confirms protected items), `openDiff`,
 * `chooseHunk`, `requestContent` (the full proposed text, for editing), `acceptEdited`,
 * `runEditedCommand`, `textFocus` (typing in a field: the single-key keybindings stand down),
 * `decideTurn` (turn review: Accept all / Reject all of one agent turn), and the conversation's
 * `prompt` (the instruction box), `cancelTurn` and `answer` (to an agent's question).
 * Extension -> webview: `state` (a full snapshot, sent after `ready`), `delta` (what changed
 * since the last `state` or `delta`, sent on every change; see StateDeltaMessage), `content`,
 * `key` (a contributed keybinding was pressed), `settled` (a bulk request is over), `error`,
 * and the conversation's `conversation` (the session's feed), `promptResult` and `promptReturned`.
 */

export const Verdict = Decision.shape.verdict;
export type Verdict = z.infer<typeof Verdict>;

/** Proposal ids are short opaque strings; anything else is not a message we sent. */
export const ProposalId = z.string().min(1).max(200);

// ---------------------------------------------------------------- webview -> extension
// Strict objects: the webview is the less trusted side, so unknown keys are an error too.

export const ReadyMessage = z.strictObject({ type: z.literal('ready') });
/** Why the reviewer rejected (optional, from the panel's reason box): the agent is told, the audit keeps it. */
export const MAX_REASON = 2000;
export const DecisionReason = z.string().max(MAX_REASON).optional();
export const DecideMessage = z.strictObject({
  type: z.literal('decide'),
  proposalId: ProposalId,
  verdict: Verdict,
  reason: DecisionReason,
  /** A permission request: which of the agent's options to answer with (it must be on the verdict's side). */
  optionId: z.string().min(1).max(200).optional(),
});
export const OpenDiffMessage = z.strictObject({ type: z.literal('openDiff'), proposalId: ProposalId });

/** Hunk ids are `h<index>` (see src/core/proposals/hunks.ts). */
export const HunkId = z.string().regex(/^h\d{1,6}$/);
/** sha256 hex of the proposed text the reviewer looked at: a re-diff in between refuses the choice. */
export const SeenHash = z.string().regex(/^[0-9a-f]{64}$/);
/** Edited file content and command lines have sane upper bounds; anything larger is not from our UI. */
export const MAX_EDITED_TEXT = 8 * 1024 * 1024;
export const MAX_COMMAND_LINE = 64 * 1024;
export const MAX_BULK = 5000;
/** The panel batches store changes into one state message at most this often (bench/reviewPanel.ts counts it). */
export const STATE_THROTTLE_MS = 16;

export const ChooseHunkMessage = z.strictObject({
  type: z.literal('chooseHunk'),
  proposalId: ProposalId,
  hunkId: HunkId,
  verdict: Verdict,
  newHash: SeenHash,
});
export const DecideManyMessage = z.strictObject({
  type: z.literal('decideMany'),
  proposalIds: z.array(ProposalId).min(1).max(MAX_BULK),
  verdict: Verdict,
  /** What the reviewer picked, in words for the confirmation, e.g. "every proposal in src/a.js". */
  scope: z.string().max(500),
  reason: DecisionReason,
});
export const RequestContentMessage = z.strictObject({ type: z.literal('requestContent'), proposalId: ProposalId });
export const AcceptEditedMessage = z.strictObject({
  type: z.literal('acceptEdited'),
  proposalId: ProposalId,
  newHash: SeenHash,
  text: z.string().max(MAX_EDITED_TEXT),
});
export const RunEditedCommandMessage = z.strictObject({
  type: z.literal('runEditedCommand'),
  proposalId: ProposalId,
  commandLine: z.string().min(1).max(MAX_COMMAND_LINE),
});
export const TextFocusMessage = z.strictObject({ type: z.literal('textFocus'), editing: z.boolean() });
/** Turn review: Accept all / Reject all of one agent turn (the extension keeps hunks already chosen). */
export const DecideTurnMessage = z.strictObject({
  type: z.literal('decideTurn'),
  sessionId: ProposalId,
  turn: z.number().int().min(0).max(1_000_000),
  verdict: Verdict,
  reason: DecisionReason,
});

/** An orphaned proposal (its agent is gone): apply the edit anyway (after a confirmation) or discard it. */
export const OrphanActionMessage = z.strictObject({
  type: z.literal('orphan'),
  proposalId: ProposalId,
  action: z.enum(['applyAnyway', 'discard']),
});

export const WebviewMessage = z.discriminatedUnion('type', [
  ReadyMessage,
  DecideMessage,
  DecideManyMessage,
  OpenDiffMessage,
  ChooseHunkMessage,
  RequestContentMessage,
  AcceptEditedMessage,
  RunEditedCommandMessage,
  TextFocusMessage,
  DecideTurnMessage,
  OrphanActionMessage,
  // The conversation (src/shared/conversationProtocol.ts): the instruction box and answers to the agent's questions.
  PromptMessage,
  CancelTurnMessage,
  AnswerMessage,
]);
export type WebviewMessage = z.infer<typeof WebviewMessage>;

// ---------------------------------------------------------------- extension -> webview

/**
 * What the webview sees of a proposal: the model without the full file texts (`oldText`,
 * `newText`), which can be large and are not shown; the unified `diff` is. "Open Diff" asks
 * the extension, which has the texts. A full `Proposal` also parses as a view (extra keys
 * are stripped), so tests may send model objects as they are.
 */
export const EditProposalView = EditProposal.omit({ oldText: true, newText: true });
export type EditProposalView = z.infer<typeof EditProposalView>;

export const PermissionEditView = PermissionProposal.shape.edit.unwrap().omit({ oldText: true, newText: true });
export const PermissionProposalView = PermissionProposal.extend({ edit: PermissionEditView.optional() });
export type PermissionProposalView = z.infer<typeof PermissionProposalView>;

export const CommandProposalView = CommandProposal;
export type CommandProposalView = z.infer<typeof CommandProposalView>;

export const ProposalView = z.discriminatedUnion('kind', [
  EditProposalView,
  CommandProposalView,
  PermissionProposalView,
  QuestionProposal,
  NetworkProposal,
]);
export type ProposalView = z.infer<typeof ProposalView>;

export const HunkVerdicts = z.record(HunkId, Verdict);

export const ReviewModeSchema = z.enum(REVIEW_MODES);
/** A turn the panel may show: the agent may still be working in it (its changes are not all in yet). */
export const TurnInfo = z.object({ sessionId: ProposalId, turn: z.number().int().min(0), running: z.boolean() });
export type TurnInfo = z.infer<typeof TurnInfo>;

export const StateMessage = z.object({
  type: z.literal('state'),
  proposals: z.array(ProposalView),
  /** Per-hunk choices made so far (in the panel or the editor) on pending edits, by proposal id. */
  hunkChoices: z.record(ProposalId, HunkVerdicts).optional(),
  /** Risk labels with the policy's reasons, by proposal id (only proposals that have any). */
  risks: z.record(ProposalId, z.array(RiskLabel)).optional(),
  /** Saved proposals are still being loaded (after a reload): the panel says so instead of "nothing to review". */
  loading: z.boolean().optional(),
  /** 'turn': pending proposals are shown by agent turn, each decided together; 'action' (default): one by one. */
  mode: ReviewModeSchema.optional(),
  /** The turns the session knows of (the running one is marked). */
  turns: z.array(TurnInfo).optional(),
  /** `<sessionId>#<turn>` to scroll to ("Warden: Review Turn", or a turn just ended). */
  focusTurn: z.string().max(300).optional(),
  /** Numbers the messages of this panel's state; a `delta` names the one it applies to. */
  rev: z.number().int().min(0).optional(),
});
export type StateMessage = z.infer<typeof StateMessage>;
/**
 * What changed since the message numbered `base` (issue 21: re-sending every proposal with its
 * diff on each change held the extension host's event loop while an agent streamed): proposals
 * added or changed (`upsert`, whole), removed ids, the risk labels of the upserted ones; the
 * small parts (hunk choices, mode, turns) whole. A webview that holds another `rev` (it was
 * reloaded in between) ignores it and says `ready` again, which brings a full `state`.
 */
export const StateDeltaMessage = StateMessage.omit({ type: true, proposals: true, rev: true }).extend({
  type: z.literal('delta'),
  base: z.number().int().min(0),
  rev: z.number().int().min(0),
  upsert: z.array(ProposalView),
  remove: z.array(ProposalId),
});
export type StateDeltaMessage = z.infer<typeof StateDeltaMessage>;
/** A failure the reviewer should see, e.g. a decision the extension could not record. */
export const ErrorMessage = z.object({ type: z.literal('error'), message: z.string(), proposalId: ProposalId.optional() });
/** The full proposed text of an edit, for "Edit before accepting". */
export const ContentMessage = z.object({ type: z.literal('content'), proposalId: ProposalId, newHash: SeenHash, text: z.string() });
export const KeyAction = z.enum(['next', 'previous', 'accept', 'reject', 'edit', 'acceptAll', 'rejectAll']);
export type KeyAction = z.infer<typeof KeyAction>;
/**
 * A request on these proposals is over (a bulk action, confirmed, cancelled at the
 * confirmation or partly failed): the panel stops showing them as busy; the state says the rest.
 */
export const SettledMessage = z.object({ type: z.literal('settled'), proposalIds: z.array(ProposalId).max(MAX_BULK) });
/** A contributed keybinding, forwarded to the webview, which knows what is selected. */
export const KeyMessage = z.object({ type: z.literal('key'), action: KeyAction });

export const ExtensionMessage = z.discriminatedUnion('type', [
  StateMessage,
  StateDeltaMessage,
  ErrorMessage,
  ContentMessage,
  KeyMessage,
  SettledMessage,
  ConversationMessage,
  ConversationDeltaMessage,
  PromptResultMessage,
  PromptReturnedMessage,
]);
export type ExtensionMessage = z.infer<typeof ExtensionMessage>;

// ---------------------------------------------------------------- helpers

/** Drops the full file texts: the webview gets the diff only. */
export function toProposalView(proposal: Proposal): ProposalView {
  switch (proposal.kind) {
    case 'edit': {
      const { oldText: _oldText, newText: _newText, ...view } = proposal;
      return view;
    }
    case 'permission': {
      if (!proposal.edit) return proposal;
      const { oldText: _oldText, newText: _newText, ...edit } = proposal.edit;
      return { ...proposal, edit };
    }
    case 'command':
    case 'question':
    case 'network':
      return proposal;
  }
}

export type ParseResult<T> = { ok: true; message: T } | { ok: false; error: string };

const MAX_ERROR_LENGTH = 500;

function parseWith<T>(schema: z.ZodType<T>, raw: unknown): ParseResult<T> {
  const result = schema.safeParse(raw);
  if (result.success) return { ok: true, message: result.data };
  // Describe what was wrong without echoing the payload (it may be large or hostile).
  const type = typeof raw === 'object' && raw !== null && 'type' in raw && typeof raw.type === 'string' ? raw.type.slice(0, 40) : undefined;
  const detail = z.prettifyError(result.error).replace(/\s+/g, ' ').trim();
  const error = `${type === undefined ? 'message without a type' : `'${type}' message`}: ${detail}`;
  return { ok: false, error: error.length > MAX_ERROR_LENGTH ? `${error.slice(0, MAX_ERROR_LENGTH)}…` : error };
}

/** Extension side: validates a message from the webview. */
export function parseWebviewMessage(raw: unknown): ParseResult<WebviewMessage> {
  return parseWith(WebviewMessage, raw);
}

/** Webview side: validates a message from the extension. */
export function parseExtensionMessage(raw: unknown): ParseResult<ExtensionMessage> {
  return parseWith(ExtensionMessage, raw);
}

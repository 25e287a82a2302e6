import * as z from 'zod';

/**
 * The conversation part of the Warden panel's contract (the panel is `src/vscode/reviewPanel.ts`,
 * its messages `src/shared/reviewProtocol.ts`, which includes these): the session, what the agent
 * said and did (the feed), the instructions waiting for the running turn to end, and the
 * instruction box's requests. Both sides validate every message; agent text is data, rendered as
 * text only.
 */

const Text = z.string().max(256 * 1024);
const Stamp = { seq: z.number().int(), at: z.string() };

export const ToolContentView = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text'), text: Text }),
  z.object({ type: z.literal('diff'), path: z.string(), diff: Text }),
  z.object({ type: z.literal('terminal'), terminalId: z.string() }),
]);

export const FeedEntryView = z.discriminatedUnion('type', [
  /** The human's instruction that started a turn. */
  z.object({ ...Stamp, type: z.literal('user-message'), text: Text, turn: z.number().int().min(0) }),
  z.object({ ...Stamp, type: z.literal('agent-message'), text: Text }),
  z.object({ ...Stamp, type: z.literal('thought'), text: Text }),
  z.object({
    ...Stamp,
    type: z.literal('tool-call'),
    toolCallId: z.string().optional(),
    title: z.string(),
    status: z.string(),
    kind: z.string(),
    content: z.array(ToolContentView).optional(),
    locations: z.array(z.string()).optional(),
  }),
  z.object({ ...Stamp, type: z.literal('plan'), entries: z.array(z.object({ content: z.string(), status: z.string() })) }),
  z.object({ ...Stamp, type: z.literal('commands'), commands: z.array(z.object({ name: z.string(), description: z.string() })) }),
  z.object({ ...Stamp, type: z.literal('mode'), modeId: z.string() }),
  z.object({ ...Stamp, type: z.literal('notice'), level: z.enum(['info', 'warning', 'error']), text: Text }),
  z.object({ ...Stamp, type: z.literal('ended'), reason: z.string() }),
]);
export type FeedEntryView = z.infer<typeof FeedEntryView>;

export const SessionSummary = z.object({
  id: z.string(),
  state: z.enum(['starting', 'ready', 'prompting', 'ended']),
  agent: z.string(),
  protocol: z.string(),
  agentSessionId: z.string().optional(),
  pendingReviews: z.number().int().nonnegative(),
});
export type SessionSummary = z.infer<typeof SessionSummary>;

/** Instructions are bounded like any text from the webview. */
export const MAX_INSTRUCTION = 64 * 1024;
const Instruction = z.string().trim().min(1).max(MAX_INSTRUCTION);
/** The instruction box numbers its requests, so an answer finds the text it is about. */
const RequestId = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

// ---------------------------------------------------------------- extension -> webview

/** The conversation of the window's current (or last) session; sent apart from the proposals. */
export const ConversationMessage = z.object({
  type: z.literal('conversation'),
  session: SessionSummary.nullable(),
  entries: z.array(FeedEntryView).max(1000),
  /** Instructions given while the agent works: each is sent when the turn before it ends. */
  queued: z.array(Text).max(100),
  /** Numbers the conversation messages; a `conversationDelta` names the one it follows. */
  rev: z.number().int().min(0).optional(),
});
export type ConversationMessage = z.infer<typeof ConversationMessage>;
/**
 * What changed since the conversation message numbered `base` (issue 21: a streaming agent
 * changes the feed hundreds of times a second, and re-sending its 400 entries each time held the
 * extension host): the entries added or changed (a message entry grows as chunks arrive), and the
 * seqs of every entry the feed holds now, in order (the others are gone). The summary and the
 * queue are small and come whole. A webview holding another `rev` says `ready` again for a full one.
 */
export const ConversationDeltaMessage = ConversationMessage.omit({ rev: true }).extend({
  type: z.literal('conversationDelta'),
  base: z.number().int().min(0),
  rev: z.number().int().min(0),
  seqs: z.array(z.number().int()).max(1000),
});
export type ConversationDeltaMessage = z.infer<typeof ConversationDeltaMessage>;

/** What became of an instruction from the box: sent (a turn started, or queued behind the running one) or not (the text stays). */
export const PromptResultMessage = z.object({
  type: z.literal('promptResult'),
  id: RequestId,
  outcome: z.enum(['sent', 'queued', 'started', 'failed', 'cancelled']),
  message: z.string().max(2000).optional(),
});
export type PromptResultMessage = z.infer<typeof PromptResultMessage>;

/** An instruction that was accepted but could not be sent after all (the session ended first): offered back in the box. */
export const PromptReturnedMessage = z.object({ type: z.literal('promptReturned'), text: Text, reason: z.string().max(2000) });

// ---------------------------------------------------------------- webview -> extension (strict: the webview is the less trusted side)

export const PromptMessage = z.strictObject({ type: z.literal('prompt'), id: RequestId, text: Instruction });
export const CancelTurnMessage = z.strictObject({ type: z.literal('cancelTurn') });
export const AnswerMessage = z.strictObject({
  type: z.literal('answer'),
  proposalId: z.string().min(1).max(200),
  answer: Instruction,
});

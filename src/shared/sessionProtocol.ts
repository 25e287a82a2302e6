import * as z from 'zod';

/**
 * The Session view's message contract, shared by the extension and the webview; both sides
 * validate every message with these schemas. Agent text travels as data and is rendered with
 * `textContent` only.
 */

const Text = z.string().max(256 * 1024);
const Stamp = { seq: z.number().int(), at: z.string() };

export const ToolContentView = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text'), text: Text }),
  z.object({ type: z.literal('diff'), path: z.string(), diff: Text }),
  z.object({ type: z.literal('terminal'), terminalId: z.string() }),
]);

export const FeedEntryView = z.discriminatedUnion('type', [
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

export const QuestionView = z.object({
  proposalId: z.string(),
  question: Text,
  choices: z.array(z.string()).optional(),
  createdAt: z.string(),
});
export type QuestionView = z.infer<typeof QuestionView>;

export const SessionSummary = z.object({
  id: z.string(),
  state: z.enum(['starting', 'ready', 'prompting', 'ended']),
  agent: z.string(),
  protocol: z.string(),
  agentSessionId: z.string().optional(),
  pendingReviews: z.number().int().nonnegative(),
});
export type SessionSummary = z.infer<typeof SessionSummary>;

export const SessionStateMessage = z.object({
  type: z.literal('state'),
  session: SessionSummary.nullable(),
  entries: z.array(FeedEntryView).max(1000),
  questions: z.array(QuestionView),
  /** Numbers this panel's state messages; a `delta` names the one it follows. */
  rev: z.number().int().min(0).optional(),
});
/**
 * What changed since the message numbered `base` (issue 21: a streaming agent changes the feed
 * hundreds of times a second, and re-sending its 400 entries each time held the extension
 * host): the entries added or changed (a message entry grows as chunks arrive), and the seqs of
 * every entry the feed holds now, in order (the others are gone). The summary and the questions
 * are small and come whole. A webview holding another `rev` says `ready` again for a full state.
 */
export const SessionDeltaMessage = SessionStateMessage.omit({ rev: true }).extend({
  type: z.literal('delta'),
  base: z.number().int().min(0),
  rev: z.number().int().min(0),
  seqs: z.array(z.number().int()).max(1000),
});
export type SessionDeltaMessage = z.infer<typeof SessionDeltaMessage>;
export const SessionErrorMessage = z.object({ type: z.literal('error'), message: z.string() });
export const SessionExtensionMessage = z.discriminatedUnion('type', [SessionStateMessage, SessionDeltaMessage, SessionErrorMessage]);
export type SessionExtensionMessage = z.infer<typeof SessionExtensionMessage>;

const ProposalId = z.string().min(1).max(200);
export const SessionWebviewMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready') }),
  z.object({
    type: z.literal('prompt'),
    text: z
      .string()
      .trim()
      .min(1)
      .max(64 * 1024),
  }),
  z.object({ type: z.literal('cancel') }),
  z.object({
    type: z.literal('answer'),
    proposalId: ProposalId,
    answer: z
      .string()
      .trim()
      .min(1)
      .max(64 * 1024),
  }),
  z.object({ type: z.literal('decline'), proposalId: ProposalId }),
  z.object({ type: z.literal('showReview') }),
]);
export type SessionWebviewMessage = z.infer<typeof SessionWebviewMessage>;

export type SessionParseResult<T> = { ok: true; message: T } | { ok: false; error: string };

function parseWith<T>(schema: z.ZodType<T>, raw: unknown): SessionParseResult<T> {
  const result = schema.safeParse(raw);
  if (result.success) return { ok: true, message: result.data };
  const detail = z.prettifyError(result.error).replace(/\s+/g, ' ').trim();
  return { ok: false, error: detail.length > 300 ? `${detail.slice(0, 300)}…` : detail };
}

/** Extension side: validates a message from the Session view. */
export function parseSessionWebviewMessage(raw: unknown): SessionParseResult<SessionWebviewMessage> {
  return parseWith(SessionWebviewMessage, raw);
}

/** Webview side: validates a message from the extension. */
export function parseSessionExtensionMessage(raw: unknown): SessionParseResult<SessionExtensionMessage> {
  return parseWith(SessionExtensionMessage, raw);
}

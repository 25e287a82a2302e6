import * as z from 'zod';

/**
 * The message contract between the Audit panel (extension host, `src/vscode/auditPanel.ts`)
 * and its webview (`media/audit/`). Both sides validate what they receive; a message
 * that does not parse is dropped and logged, never acted on.
 *
 * Webview -> extension: `ready` (on every load), `query` (the filters changed), `openDiff`,
 * `openEntry`, `openBreak`, `export`, `verify`, `repair`, `blame`, `rendered`. Extension -> webview: `state`
 * (verify status and the query result, sent after `ready`, after every query and when the log
 * changes), `blame` / `blameFailed` (the answer to `blame`), `busy`, `notice` and `error`.
 *
 * Everything in an entry is text the agent may have chosen: the webview renders it as text
 * only, with invisible and bidirectional characters marked (media/common/AgentText.tsx).
 */

const Short = z.string().max(500);

/** The panel's filters; every field optional, strings trimmed by the extension. */
export const AuditFilters = z.strictObject({
  sessionId: Short.optional(),
  agent: Short.optional(),
  decision: z.enum(['approved', 'rejected', 'automatic', 'human']).optional(),
  kind: Short.optional(),
  type: Short.optional(),
  path: Short.optional(),
  since: Short.optional(),
  until: Short.optional(),
  reviewer: Short.optional(),
  /** The developer a session ran for (name or email, substring). */
  developer: Short.optional(),
  /** The policy rule that decided or asked (substring). */
  rule: Short.optional(),
  text: z.string().max(2000).optional(),
});
export type AuditFilters = z.infer<typeof AuditFilters>;

export const ExportFormat = z.enum(['json', 'csv', 'otlp']);
export type ExportFormat = z.infer<typeof ExportFormat>;

const Seq = z.number().int().positive();
/** An entry's own hash: with its seq, it names one entry across all chains (each chain has its own seq). */
const EntryHash = z.string().regex(/^[0-9a-f]{64}$/);

// ---------------------------------------------------------------- webview -> extension

export const ReadyMessage = z.strictObject({ type: z.literal('ready') });
export const QueryMessage = z.strictObject({ type: z.literal('query'), filters: AuditFilters });
export const OpenDiffMessage = z.strictObject({ type: z.literal('openDiff'), seq: Seq, hash: EntryHash.optional() });
export const OpenEntryMessage = z.strictObject({ type: z.literal('openEntry'), seq: Seq, hash: EntryHash.optional() });
export const ExportMessage = z.strictObject({ type: z.literal('export'), format: ExportFormat });
export const VerifyMessage = z.strictObject({ type: z.literal('verify') });
export const RepairMessage = z.strictObject({ type: z.literal('repair') });
export const OpenBreakMessage = z.strictObject({ type: z.literal('openBreak') });
/** Audit blame of a commit or range; without a target, the current branch against its upstream (or main), else HEAD. */
export const BlameRequestMessage = z.strictObject({ type: z.literal('blame'), target: Short.optional() });
/** After each state is drawn: how many sessions and entries the page lists (the panel logs it; tests wait on it). */
export const RenderedMessage = z.strictObject({
  type: z.literal('rendered'),
  sessions: z.number().int().nonnegative(),
  rows: z.number().int().nonnegative(),
  /** After a blame result is drawn: its files, line ranges, and the ranges no session explains. */
  blame: z
    .strictObject({
      target: Short,
      files: z.number().int().nonnegative(),
      ranges: z.number().int().nonnegative(),
      unexplained: z.number().int().nonnegative(),
    })
    .optional(),
});

export const AuditWebviewMessage = z.discriminatedUnion('type', [
  ReadyMessage,
  QueryMessage,
  OpenDiffMessage,
  OpenEntryMessage,
  ExportMessage,
  VerifyMessage,
  RepairMessage,
  OpenBreakMessage,
  BlameRequestMessage,
  RenderedMessage,
]);
export type AuditWebviewMessage = z.infer<typeof AuditWebviewMessage>;

// ---------------------------------------------------------------- extension -> webview

const Nullable = <T extends z.ZodType>(schema: T) => schema.nullable();

export const AuditRowView = z.object({
  seq: Seq,
  time: z.string(),
  sessionId: z.string(),
  type: z.string(),
  actorKind: z.string(),
  actorId: z.string(),
  actorName: Nullable(z.string()),
  agent: Nullable(z.string()),
  kind: Nullable(z.string()),
  path: Nullable(z.string()),
  commandLine: Nullable(z.string()),
  decision: Nullable(z.enum(['approve', 'reject'])),
  automatic: Nullable(z.boolean()),
  reviewer: Nullable(z.string()),
  ruleId: Nullable(z.string()),
  reason: Nullable(z.string()),
  exitCode: Nullable(z.number()),
  summary: z.string(),
  hasDiff: z.boolean(),
  file: z.string(),
  line: z.number().int().positive(),
  hash: z.string(),
  /** The entry's `data`, pretty JSON, clipped. */
  detail: z.string(),
});
export type AuditRowView = z.infer<typeof AuditRowView>;

export const AuditSessionView = z.object({
  sessionId: z.string(),
  start: z.string(),
  end: z.string(),
  agent: Nullable(z.string()),
  developer: Nullable(z.string()),
  chains: z.array(z.string()),
  commits: z.array(z.string()),
  instruction: Nullable(z.string()),
  entries: z.number(),
  proposals: z.number(),
  /** Decisions a person was asked for. */
  asks: z.number(),
  approved: z.number(),
  rejected: z.number(),
  automatic: z.number(),
  errors: z.number(),
  ended: Nullable(z.string()),
});
export type AuditSessionView = z.infer<typeof AuditSessionView>;

/** Totals for one developer or one agent over the sessions the filters keep. */
export const GroupSummaryView = z.object({
  key: z.string(),
  sessions: z.number(),
  asks: z.number(),
  approvals: z.number(),
  rejections: z.number(),
  automatic: z.number(),
  medianDecideMs: Nullable(z.number()),
  /** 90th percentile of the time from proposal to a person's decision (ms). */
  p90DecideMs: Nullable(z.number()),
});
export type GroupSummaryView = z.infer<typeof GroupSummaryView>;

const BreakView = z.object({
  chain: z.string().optional(),
  file: z.string(),
  line: z.number(),
  seq: z.number().optional(),
  reason: z.string(),
});

/** One chain's verify result. */
export const ChainStatusView = z.object({
  chain: z.string(),
  ok: z.boolean(),
  entries: z.number(),
  headSeq: z.number(),
  firstBreak: BreakView.optional(),
});
export type ChainStatusView = z.infer<typeof ChainStatusView>;

export const VerifyStatusView = z.object({
  ok: z.boolean(),
  entries: z.number(),
  segments: z.number(),
  headSeq: z.number(),
  head: Nullable(z.string()),
  /** The one-line verify result. */
  message: z.string(),
  firstBreak: BreakView.optional(),
  /** Every chain, each with its own first break. */
  chains: z.array(ChainStatusView),
  /** Anchor failures (a chain a commit names that is gone or shorter), one sentence each. */
  anchorFailures: z.array(z.string()),
  /** True when the break is a torn last line that "Repair" can cut (into a side file). */
  repairable: z.boolean(),
  anchors: z.object({ count: z.number(), ok: z.boolean(), message: z.string() }),
  checkedAt: z.string(),
});
export type VerifyStatusView = z.infer<typeof VerifyStatusView>;

export const AuditStateMessage = z.object({
  type: z.literal('state'),
  filters: AuditFilters,
  verify: VerifyStatusView,
  rows: z.array(AuditRowView),
  matched: z.number(),
  total: z.number(),
  /** Rows are the newest `limit` matches. */
  limit: z.number(),
  /** The sessions the filters keep (every filter but the session), newest first. */
  sessions: z.array(AuditSessionView),
  /** Sessions in the log. */
  sessionsTotal: z.number(),
  /** Per-developer and per-agent totals over the sessions the filters keep. */
  byDeveloper: z.array(GroupSummaryView),
  byAgent: z.array(GroupSummaryView),
  facets: z.object({
    agents: z.array(z.string()),
    kinds: z.array(z.string()),
    types: z.array(z.string()),
    reviewers: z.array(z.string()),
    developers: z.array(z.string()),
    rules: z.array(z.string()),
  }),
  /** Lines the reader could not parse (verify reports the first break). */
  problems: z.number(),
  otlpConfigured: z.boolean(),
});
export type AuditStateMessage = z.infer<typeof AuditStateMessage>;

/** One run of consecutive changed lines of a file with the same commit and the same approval (or none). */
export const BlameRangeView = z.object({
  start: z.number().int().positive(),
  end: z.number().int().positive(),
  commit: Nullable(z.string()),
  /** Key into `approvals`; null: no approved edit added these lines (written by other means). */
  approval: Nullable(z.number().int().nonnegative()),
  /** The approval's session is one the commit names (false: matched by content only). */
  linked: z.boolean(),
  /** The first line's text, clipped: what the range starts with. */
  firstLine: z.string(),
});
export type BlameRangeView = z.infer<typeof BlameRangeView>;

export const BlameApprovalView = z.object({
  id: z.number().int().nonnegative(),
  sessionId: z.string(),
  proposalId: z.string(),
  approvedBy: z.string(),
  ruleId: Nullable(z.string()),
  automatic: z.boolean(),
  decidedAt: z.string(),
  agent: Nullable(z.string()),
  developer: Nullable(z.string()),
});
export type BlameApprovalView = z.infer<typeof BlameApprovalView>;

export const AuditBlameMessage = z.object({
  type: z.literal('blame'),
  /** The commit or range blamed (the default resolved). */
  target: z.string(),
  commits: z.array(
    z.object({
      commit: z.string(),
      subject: z.string(),
      author: z.string(),
      time: z.string(),
      sessions: z.array(z.string()),
      approvedBy: z.array(z.string()),
    }),
  ),
  files: z.array(
    z.object({
      path: z.string(),
      lines: z.number().int().nonnegative(),
      attributed: z.number().int().nonnegative(),
      sessions: z.array(z.string()),
      ranges: z.array(BlameRangeView),
    }),
  ),
  approvals: z.array(BlameApprovalView),
  /** Ranges left out past the limit (the CLI's `warden audit blame` lists all). */
  omittedRanges: z.number().int().nonnegative(),
});
export type AuditBlameMessage = z.infer<typeof AuditBlameMessage>;

export const AuditBlameFailedMessage = z.object({ type: z.literal('blameFailed'), target: z.string(), message: z.string() });

export const AuditBusyMessage = z.object({ type: z.literal('busy'), what: z.string() });
export const AuditNoticeMessage = z.object({ type: z.literal('notice'), message: z.string() });
export const AuditErrorMessage = z.object({ type: z.literal('error'), message: z.string() });

export const AuditExtensionMessage = z.discriminatedUnion('type', [
  AuditStateMessage,
  AuditBlameMessage,
  AuditBlameFailedMessage,
  AuditBusyMessage,
  AuditNoticeMessage,
  AuditErrorMessage,
]);
export type AuditExtensionMessage = z.infer<typeof AuditExtensionMessage>;

// ---------------------------------------------------------------- helpers

export type ParseResult<T> = { ok: true; message: T } | { ok: false; error: string };

function parseWith<T>(schema: z.ZodType<T>, raw: unknown): ParseResult<T> {
  const result = schema.safeParse(raw);
  if (result.success) return { ok: true, message: result.data };
  const type = typeof raw === 'object' && raw !== null && 'type' in raw && typeof raw.type === 'string' ? raw.type.slice(0, 40) : undefined;
  const detail = z.prettifyError(result.error).replace(/\s+/g, ' ').trim().slice(0, 500);
  return { ok: false, error: `${type === undefined ? 'message without a type' : `'${type}' message`}: ${detail}` };
}

export function parseAuditWebviewMessage(raw: unknown): ParseResult<AuditWebviewMessage> {
  return parseWith(AuditWebviewMessage, raw);
}

export function parseAuditExtensionMessage(raw: unknown): ParseResult<AuditExtensionMessage> {
  return parseWith(AuditExtensionMessage, raw);
}

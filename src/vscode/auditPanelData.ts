import {
  SessionDigester,
  auditRowFilter,
  queryAuditLog,
  sessionCommitsFromGit,
  summarizeBy,
  type AuditEntry,
  type AuditQuery,
  type AuditRow,
  type SessionDigest,
} from '../core/audit';
import type { AuditFilters, AuditRowView, AuditSessionView, AuditStateMessage, VerifyStatusView } from '../shared/auditProtocol';

/**
 * What the Audit panel shows, built from the query (which reads every entry through the event
 * catalog). No `vscode` import: unit tests build the panel's state from a log on disk.
 */

/** Newest matching entries sent to the webview; exports always cover every match. */
export const AUDIT_ROW_LIMIT = 500;
const DETAIL_LIMIT = 8000;

/**
 * The panel's state message for a log, its filters and a verify status. One pass over the log
 * feeds the rows, the facets and the session digests; git adds the commits that name a session.
 */
export async function auditPanelState(
  root: string,
  filters: AuditFilters,
  verify: VerifyStatusView,
  otlpConfigured: boolean,
): Promise<AuditStateMessage> {
  const query = toQuery(filters);
  const digester = new SessionDigester();
  // A session is listed when one of its entries matches the filters (all but the session pick).
  const listed = auditRowFilter({ ...query, sessionId: undefined });
  const matching = new Set<string>();
  const [result, gitCommits] = await Promise.all([
    queryAuditLog(root, query, {
      limit: AUDIT_ROW_LIMIT,
      onRow: (record, row) => {
        digester.add(record, row);
        if (!matching.has(row.sessionId) && listed(row, record.entry)) matching.add(row.sessionId);
      },
    }),
    sessionCommitsFromGit(root),
  ]);
  const digests = digester.digests();
  const kept = digests.filter((s) => matching.has(s.sessionId));
  const summarized = query.sessionId ? kept.filter((s) => s.sessionId === query.sessionId) : kept;
  return {
    type: 'state',
    filters,
    verify,
    rows: result.rows.map((row, i) => toRowView(row, result.entries[i])).reverse(),
    matched: result.matched,
    total: result.total,
    limit: AUDIT_ROW_LIMIT,
    sessions: kept.map((s) => toSessionView(s, gitCommits.get(s.sessionId) ?? [])).reverse(),
    sessionsTotal: digests.length,
    byDeveloper: summarizeBy(summarized, 'developer'),
    byAgent: summarizeBy(summarized, 'agent'),
    facets: result.facets,
    problems: result.problems.length,
    otlpConfigured,
  };
}

/** A session for the timeline: its counts, and the commits it produced (recorded, then named by git). */
export function toSessionView(s: SessionDigest, gitCommits: readonly string[]): AuditSessionView {
  return {
    sessionId: s.sessionId,
    start: s.start,
    end: s.end,
    agent: s.agent,
    developer: s.developer,
    chains: s.chains,
    commits: [...new Set([...s.commits, ...gitCommits])],
    instruction: s.instruction,
    entries: s.entries,
    proposals: s.proposals,
    asks: s.asks,
    approved: s.approvals,
    rejected: s.rejections,
    automatic: s.automatic,
    errors: s.errors,
    ended: s.ended,
  };
}

export function toQuery(filters: AuditFilters): AuditQuery {
  const query: AuditQuery = {};
  for (const [key, value] of Object.entries(filters) as Array<[keyof AuditFilters, string | undefined]>) {
    if (typeof value === 'string' && value.trim() !== '') (query as Record<string, string>)[key] = value.trim();
  }
  return query;
}

export function toRowView(row: AuditRow, entry: AuditEntry | undefined): AuditRowView {
  // The entry's data exactly as recorded (old keys included): the row's fields are the normalized reading.
  let detail = entry ? JSON.stringify(entry.data, null, 2) : '{}';
  if (detail.length > DETAIL_LIMIT)
    detail = `${detail.slice(0, DETAIL_LIMIT)}\n… (${detail.length - DETAIL_LIMIT} more characters; export or open the entry to see all)`;
  return {
    seq: row.seq,
    time: row.time,
    sessionId: row.sessionId,
    type: row.type,
    actorKind: row.actorKind,
    actorId: row.actorId,
    actorName: row.actorName,
    agent: row.agent,
    kind: row.kind,
    path: row.path,
    commandLine: row.commandLine,
    decision: row.decision,
    automatic: row.automatic,
    reviewer: row.reviewer,
    ruleId: row.ruleId,
    reason: row.reason,
    exitCode: row.exitCode,
    summary: row.summary,
    hasDiff: row.hasDiff && row.path !== null,
    file: row.file,
    line: row.line,
    hash: row.hash,
    detail,
  };
}

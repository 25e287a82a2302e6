import { readAuditEvent } from './events';
import { AuditRowBuilder, parseDateBound, readAuditLog, type AuditRecord, type AuditRow } from './query';

/**
 * The lead's view of a team's log: one digest per session (over every chain), and summaries
 * per developer and per agent. A session's developer is the reviewer its `session.starting`
 * names (the person the session ran for), else the first human who decided in it.
 */

export interface SessionDecision {
  time: string;
  proposalId: string | null;
  verdict: 'approve' | 'reject';
  /** What was decided on: a path, a command line, or the proposal id. */
  subject: string;
  /** `Name <email>` of a human, or `policy rule <id>`, or `warden: …`. */
  by: string;
  ruleId: string | null;
  automatic: boolean;
  /** Time from the proposal to this decision, when both are recorded. */
  decideMs: number | null;
}

export interface SessionDigest {
  sessionId: string;
  /** The chains holding its entries. */
  chains: string[];
  developer: string | null;
  agent: string | null;
  instruction: string | null;
  start: string;
  end: string;
  entries: number;
  proposals: number;
  /** Proposals a human was asked to decide. */
  asks: number;
  approvals: number;
  rejections: number;
  automatic: number;
  /** `error` entries. */
  errors: number;
  decisions: SessionDecision[];
  /** Rules that decided (or asked), with how often. */
  rules: Record<string, number>;
  /** Commits recorded by git.committed entries. */
  commits: string[];
  ended: string | null;
}

export interface GroupSummary {
  key: string;
  sessions: number;
  asks: number;
  approvals: number;
  rejections: number;
  automatic: number;
  /** Median time from proposal to a human's decision (ms), null with none. */
  medianDecideMs: number | null;
  /** 90th percentile (nearest rank) of the same times. */
  p90DecideMs: number | null;
}

export interface SessionFilter {
  developer?: string;
  agent?: string;
  rule?: string;
  /** ISO date (inclusive) bounds on the session's start. */
  since?: string;
  until?: string;
}

const label = (name: string | undefined, email: string | undefined): string | null =>
  name ? (email ? `${name} <${email}>` : name) : (email ?? null);

/**
 * Builds session digests from records in log order. It takes the row the caller already built,
 * so one pass over the log can feed both the query (rows, facets) and the digests.
 */
export class SessionDigester {
  private readonly sessions = new Map<string, SessionDigest>();
  private readonly proposedAt = new Map<string, number>();

  add(record: AuditRecord, row: AuditRow): void {
    const { entry } = record;
    let s = this.sessions.get(entry.sessionId);
    if (!s) {
      s = {
        sessionId: entry.sessionId,
        chains: [],
        developer: null,
        agent: null,
        instruction: null,
        start: entry.time,
        end: entry.time,
        entries: 0,
        proposals: 0,
        asks: 0,
        approvals: 0,
        rejections: 0,
        automatic: 0,
        errors: 0,
        decisions: [],
        rules: {},
        commits: [],
        ended: null,
      };
      this.sessions.set(entry.sessionId, s);
    }
    if (!s.chains.includes(record.chain)) s.chains.push(record.chain);
    s.entries++;
    if (entry.time < s.start) s.start = entry.time;
    if (entry.time > s.end) s.end = entry.time;
    s.agent ??= row.agent;
    const event = readAuditEvent(entry);
    if (event.known && event.type === 'session.starting' && event.data.reviewer?.kind === 'human') {
      s.developer = label(event.data.reviewer.name, event.data.reviewer.email) ?? s.developer;
    }
    if (event.known && event.type === 'instruction') s.instruction ??= (event.data.text ?? '').slice(0, 300);
    if (event.known && event.type === 'session.ended') s.ended = event.data.reason ?? 'ended';
    if (event.known && event.type === 'git.committed' && typeof event.data.commit === 'string' && !s.commits.includes(event.data.commit))
      s.commits.push(event.data.commit);
    if (entry.type === 'error') s.errors++;
    if (entry.type === 'proposal' && row.proposalId) {
      s.proposals++;
      this.proposedAt.set(`${entry.sessionId}\u0000${row.proposalId}`, Date.parse(entry.time));
    }
    if (entry.type === 'decision' && row.decision) {
      const automatic = row.automatic === true;
      const asked = row.proposalId ? this.proposedAt.get(`${entry.sessionId}\u0000${row.proposalId}`) : undefined;
      const decideMs = asked === undefined ? null : Math.max(0, Date.parse(entry.time) - asked);
      if (!automatic) {
        s.asks++;
        if (s.developer === null && entry.actor.kind === 'human') s.developer = label(entry.actor.name, entry.actor.email);
      } else s.automatic++;
      if (row.decision === 'approve') s.approvals++;
      else s.rejections++;
      if (row.ruleId) s.rules[row.ruleId] = (s.rules[row.ruleId] ?? 0) + 1;
      s.decisions.push({
        time: entry.time,
        proposalId: row.proposalId,
        verdict: row.decision,
        subject: row.path ?? row.commandLine ?? row.proposalId ?? '',
        by: row.reviewer ?? entry.actor.id,
        ruleId: row.ruleId,
        automatic,
        decideMs,
      });
    }
  }

  /** Every session seen, oldest first. */
  digests(): SessionDigest[] {
    return [...this.sessions.values()].sort((a, b) => a.start.localeCompare(b.start) || a.sessionId.localeCompare(b.sessionId));
  }
}

/** One pass over every chain: a digest per session, oldest first. `only` limits it to some sessions. */
export async function sessionDigests(workspaceRoot: string, only?: ReadonlySet<string>): Promise<SessionDigest[]> {
  const builder = new AuditRowBuilder();
  const digester = new SessionDigester();
  for await (const record of readAuditLog(workspaceRoot)) {
    if (only && !only.has(record.entry.sessionId)) continue;
    digester.add(record, builder.row(record));
  }
  return digester.digests();
}

/**
 * The sessions a filter keeps (substring matches, case-insensitive). Dates keep a session that
 * was active in the range (a bare `YYYY-MM-DD` covers that whole day, UTC).
 */
export function filterSessions(sessions: SessionDigest[], filter: SessionFilter): SessionDigest[] {
  const has = (value: string | null, part: string | undefined): boolean =>
    !part?.trim() || (value ?? '').toLowerCase().includes(part.trim().toLowerCase());
  const since = filter.since?.trim() ? parseDateBound(filter.since, 'start') : undefined;
  const until = filter.until?.trim() ? parseDateBound(filter.until, 'end') : undefined;
  return sessions.filter(
    (s) =>
      has(s.developer, filter.developer) &&
      has(s.agent, filter.agent) &&
      (!filter.rule?.trim() || Object.keys(s.rules).some((r) => has(r, filter.rule))) &&
      (since === undefined || Date.parse(s.end) >= since) &&
      (until === undefined || Date.parse(s.start) <= until),
  );
}

/** Per-developer or per-agent totals, by key. */
export function summarizeBy(sessions: SessionDigest[], by: 'developer' | 'agent'): GroupSummary[] {
  const groups = new Map<string, { summary: GroupSummary; times: number[] }>();
  for (const s of sessions) {
    const key = (by === 'developer' ? s.developer : s.agent) ?? '(unknown)';
    let g = groups.get(key);
    if (!g) {
      g = {
        summary: { key, sessions: 0, asks: 0, approvals: 0, rejections: 0, automatic: 0, medianDecideMs: null, p90DecideMs: null },
        times: [],
      };
      groups.set(key, g);
    }
    g.summary.sessions++;
    g.summary.asks += s.asks;
    g.summary.approvals += s.approvals;
    g.summary.rejections += s.rejections;
    g.summary.automatic += s.automatic;
    for (const d of s.decisions) if (!d.automatic && d.decideMs !== null) g.times.push(d.decideMs);
  }
  return [...groups.values()]
    .map(({ summary, times }) => ({ ...summary, medianDecideMs: median(times), p90DecideMs: percentile(times, 90) }))
    .sort((a, b) => a.key.localeCompare(b.key));
}

export function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? null) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** Nearest-rank percentile (`p` in 1..100): the smallest value with at least p % of the values at or below it. */
export function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1] ?? null;
}

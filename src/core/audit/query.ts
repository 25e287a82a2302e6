import * as path from 'node:path';
import { sha256Hex } from '../util/hash';
import { readLines } from './lines';
import { chainDir, listAllSegments, type Chain } from './chains';
import { listSegments, type Segment } from './segments';
import { readAuditEvent, type AuditEventView, type AuditReadDataOf } from './events';
import type { AuditEntry } from './types';
import { toAuditEntry } from './verify';

/**
 * Reading and querying the audit log: one streaming pass over every segment, constant memory
 * apart from the small per-session and per-proposal indexes that let a decision or a result
 * say which agent, kind and path it belongs to.
 *
 * The reader never fails on a bad line: it skips it and counts it in `problems` (verify is
 * the tool that judges the chain; the reader shows what is there).
 */

/** One entry as read, with where it is and its own hash (what the next entry's `prev` must be). */
export interface AuditRecord {
  entry: AuditEntry;
  /** The chain it belongs to (`legacy`, or its directory under .warden/audit/sessions/). */
  chain: string;
  /** Segment file, relative to the workspace, with forward slashes. */
  file: string;
  /** 1-based line in that file. */
  line: number;
  /** SHA-256 (hex) of the line's bytes. */
  hash: string;
}

export interface AuditReadProblem {
  file: string;
  line: number;
  reason: string;
}

/** Streams every entry of every chain, chain by chain, each in log order. Unreadable lines go to `onProblem`. */
export async function* readAuditLog(workspaceRoot: string, onProblem?: (problem: AuditReadProblem) => void): AsyncGenerator<AuditRecord> {
  for (const segment of await listAllSegments(workspaceRoot)) yield* readSegment(workspaceRoot, segment, onProblem);
}

/** The entries of one chain (none when it does not exist). */
export async function* readChainRecords(
  workspaceRoot: string,
  chain: string | Chain,
  onProblem?: (problem: AuditReadProblem) => void,
): AsyncGenerator<AuditRecord> {
  const id = typeof chain === 'string' ? chain : chain.id;
  const dir = typeof chain === 'string' ? chainDir(workspaceRoot, chain) : chain.dir;
  for (const segment of await listSegments(dir)) yield* readSegment(workspaceRoot, { ...segment, chain: id }, onProblem);
}

async function* readSegment(
  workspaceRoot: string,
  segment: Segment & { chain: string },
  onProblem?: (problem: AuditReadProblem) => void,
): AsyncGenerator<AuditRecord> {
  const file = path.relative(workspaceRoot, segment.path).split(path.sep).join('/');
  for await (const line of readLines(segment.path)) {
    if (line.bytes.length === 0 && line.terminated) {
      onProblem?.({ file, line: line.number, reason: 'empty line' });
      continue;
    }
    let json: unknown;
    try {
      json = JSON.parse(line.bytes.toString('utf8'));
    } catch {
      onProblem?.({ file, line: line.number, reason: line.terminated ? 'not valid JSON' : 'torn last line (no newline)' });
      continue;
    }
    const parsed = toAuditEntry(json);
    if (!parsed.ok) {
      onProblem?.({ file, line: line.number, reason: 'not a valid audit entry' });
      continue;
    }
    yield { entry: parsed.entry, chain: segment.chain, file, line: line.number, hash: sha256Hex(line.bytes) };
  }
}

// ---------------------------------------------------------------- flattened rows

export type DecisionVerdict = 'approve' | 'reject';

/**
 * An entry flattened for tables, filters and exports: the raw entry plus what can be derived
 * from it and from earlier entries of its session and proposal.
 */
export interface AuditRow {
  seq: number;
  time: string;
  sessionId: string;
  type: string;
  actorKind: AuditEntry['actor']['kind'];
  actorId: string;
  actorName: string | null;
  actorEmail: string | null;
  /** The session's agent (from its agent entries), for every entry of the session. */
  agent: string | null;
  /** The developer the session ran for (its session.starting reviewer), for every entry of the session. */
  developer: string | null;
  /** The chain the entry is in. */
  chain: string;
  proposalId: string | null;
  /** Proposal kind (edit, command, permission), also on the proposal's decision and results. */
  kind: string | null;
  path: string | null;
  commandLine: string | null;
  cwd: string | null;
  /** On decisions, and on the proposal's later entries (results). */
  decision: DecisionVerdict | null;
  /** True when a decision was not made by a human (a policy rule or an earlier approval). */
  automatic: boolean | null;
  /** An approve with the reviewer's changes: some hunks only ('partial', with the hunks counted) or their own text ('edited'). */
  change: 'partial' | 'edited' | null;
  hunksApproved: number | null;
  hunksRejected: number | null;
  /** Who decided: `name <email>` for a human, `policy rule <id>` for the team policy. */
  reviewer: string | null;
  /** The policy rule behind the decision, when recorded: the rule that decided, or for a human decision the rule that asked. */
  ruleId: string | null;
  reason: string | null;
  exitCode: number | null;
  outputHash: string | null;
  /** Hashes of the diff and of the new content, when the entry has them. */
  diffHash: string | null;
  contentHash: string | null;
  hasDiff: boolean;
  /** One human-readable line. */
  summary: string;
  file: string;
  line: number;
  hash: string;
  prev: string;
}

/** What later entries of a proposal inherit from the proposal and its decision. */
type ProposalInfo = Pick<
  AuditRow,
  'kind' | 'path' | 'commandLine' | 'cwd' | 'decision' | 'automatic' | 'reviewer' | 'ruleId' | 'change' | 'hunksApproved' | 'hunksRejected'
>;
const UNDECIDED = { decision: null, automatic: null, reviewer: null, ruleId: null, change: null, hunksApproved: null, hunksRejected: null };

/** Builds rows from records in log order; keeps the per-session agent and per-proposal facts. */
export class AuditRowBuilder {
  private readonly agents = new Map<string, string>();
  private readonly developers = new Map<string, string>();
  private readonly proposals = new Map<string, ProposalInfo>();

  row(record: AuditRecord): AuditRow {
    const { entry } = record;
    // Through the catalog: old keys mapped to current ones, known fields typed.
    const event = readAuditEvent(entry);
    const data = event.data;
    if (entry.actor.kind === 'agent' && !this.agents.has(entry.sessionId)) this.agents.set(entry.sessionId, entry.actor.id);
    if (event.known && event.type === 'session.starting' && event.data.reviewer?.kind === 'human') {
      const { name, email } = event.data.reviewer;
      if (name) this.developers.set(entry.sessionId, email ? `${name} <${email}>` : name);
    }
    const proposalId = str(data.proposalId);
    let info = proposalId ? this.proposals.get(proposalId) : undefined;
    if (event.known && event.type === 'proposal' && proposalId) {
      info = {
        kind: event.data.kind ?? null,
        path: event.data.path ?? null,
        commandLine: event.data.commandLine ?? null,
        cwd: event.data.cwd ?? null,
        ...UNDECIDED,
      };
      this.proposals.set(proposalId, info);
    }
    if (event.known && event.type === 'decision') {
      const d = event.data;
      const verdict = d.verdict ?? null;
      const kind = reviewerKind(d.reviewer, entry.actor);
      const ruleId = d.ruleId ?? (kind === 'policy' ? reviewerName(d.reviewer) : null);
      // A write carried out on an earlier permission is credited to that permission and who approved it, not to "warden".
      const grant = d.grantedBy ? this.proposals.get(d.grantedBy) : undefined;
      const reviewer =
        ruleId !== null && kind === 'policy'
          ? `policy rule ${ruleId}`
          : d.grantedBy
            ? `permission ${d.grantedBy}${grant?.reviewer ? ` (approved by ${grant.reviewer})` : ''}`
            : reviewerLabel(d.reviewer, entry.actor);
      const automatic = kind !== 'human';
      const decided = {
        decision: verdict,
        automatic,
        reviewer,
        ruleId,
        change: verdict !== 'approve' ? null : d.hunks ? ('partial' as const) : d.edited ? ('edited' as const) : null,
        hunksApproved: d.hunks ? (d.hunks.accepted?.length ?? 0) : null,
        hunksRejected: d.hunks ? (d.hunks.rejected?.length ?? 0) : null,
      };
      if (info) Object.assign(info, decided);
      else info = { kind: null, path: null, commandLine: null, cwd: null, ...decided };
    }
    // A refusal names its own rule (under `ruleId`, or `rule` in older entries): it wins over the proposal's decision.
    const refusedRule = event.known && event.type === 'refused' ? (event.data.ruleId ?? null) : null;
    const diff = str(data.diff);
    return {
      seq: entry.seq,
      time: entry.time,
      sessionId: entry.sessionId,
      type: entry.type,
      actorKind: entry.actor.kind,
      actorId: entry.actor.id,
      actorName: entry.actor.name ?? null,
      actorEmail: entry.actor.email ?? null,
      agent: this.agents.get(entry.sessionId) ?? null,
      developer: this.developers.get(entry.sessionId) ?? null,
      chain: record.chain,
      proposalId,
      kind: info?.kind ?? (event.known && event.type === 'proposal' ? (event.data.kind ?? null) : null),
      path: str(data.path) ?? info?.path ?? null,
      commandLine: str(data.commandLine) ?? info?.commandLine ?? null,
      cwd: str(data.cwd) ?? info?.cwd ?? null,
      decision: info?.decision ?? null,
      automatic: info?.automatic ?? null,
      change: info?.change ?? null,
      hunksApproved: info?.hunksApproved ?? null,
      hunksRejected: info?.hunksRejected ?? null,
      reviewer: info?.reviewer ?? null,
      ruleId: refusedRule ?? info?.ruleId ?? null,
      reason: str(data.reason),
      exitCode: typeof data.exitCode === 'number' ? data.exitCode : null,
      outputHash: str(data.outputHash),
      diffHash: diff === null ? null : sha256Hex(diff),
      contentHash: str(data.newHash) ?? str(data.reviewedHash),
      hasDiff: diff !== null && diff.length > 0,
      summary: summarize(event, entry.actor, info),
      file: record.file,
      line: record.line,
      hash: record.hash,
      prev: entry.prev,
    };
  }
}

function str(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

type ReviewerData = AuditReadDataOf<'decision'>['reviewer'];

function reviewerKind(reviewer: ReviewerData, actor: AuditEntry['actor']): string {
  return reviewer?.kind ?? actor.kind;
}

function reviewerName(reviewer: ReviewerData): string | null {
  return reviewer?.name ?? null;
}

function reviewerLabel(reviewer: ReviewerData, actor: AuditEntry['actor']): string {
  if (reviewer) {
    if (typeof reviewer.ruleId === 'string') return `policy rule ${reviewer.ruleId}`;
    const name = reviewer.name ?? actor.name ?? actor.id;
    const kind = reviewer.kind ?? actor.kind;
    if (kind === 'human') return reviewer.email !== undefined ? `${name} <${reviewer.email}>` : name;
    return reviewer.source !== undefined ? `${kind}: ${name} (${reviewer.source})` : `${kind}: ${name}`;
  }
  return actor.email ? `${actor.name ?? actor.id} <${actor.email}>` : (actor.name ?? actor.id);
}

function clip(text: string, max = 200): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

function partlyApproved(accepted: number, rejected: number): string {
  return `Partly approved (${accepted} of ${accepted + rejected} hunks; ${rejected} rejected)`;
}

function summarize(event: AuditEventView, actor: AuditEntry['actor'], info: ProposalInfo | undefined): string {
  if (event.known) {
    switch (event.type) {
      case 'instruction':
        return `Instruction: ${clip(event.data.text ?? '')}`;
      case 'proposal': {
        const d = event.data;
        return `Proposal (${d.kind ?? '?'}): ${clip(d.title ?? d.path ?? d.commandLine ?? '')}`;
      }
      case 'decision': {
        const d = event.data;
        const verb =
          d.verdict === 'reject'
            ? 'Rejected'
            : d.verdict !== 'approve'
              ? 'Decided'
              : d.hunks
                ? partlyApproved(d.hunks.accepted?.length ?? 0, d.hunks.rejected?.length ?? 0)
                : d.edited
                  ? 'Approved with edits'
                  : 'Approved';
        const what = info?.path ?? info?.commandLine ?? d.proposalId ?? '';
        return `${verb} ${clip(what, 120)} by ${info?.reviewer ?? actor.id}${d.reason ? ` (${clip(d.reason, 80)})` : ''}`;
      }
      case 'command.result': {
        const d = event.data;
        return `Command ${clip(info?.commandLine ?? '', 120)} exited ${d.exitCode === null || d.exitCode === undefined ? `(signal ${d.signal ?? 'none'})` : String(d.exitCode)}`;
      }
      case 'edit.applied':
      case 'edit.stale':
      case 'edit.failed':
      case 'edit.mismatch':
        return `${event.type}: ${event.data.path ?? info?.path ?? ''}`;
      case 'file.read':
        return `Read ${event.data.path ?? ''}`;
      case 'error':
        return `Error${event.data.during !== undefined ? ` during ${event.data.during}` : ''}: ${clip(event.data.message ?? '')}`;
      case 'session.ended':
        return `Session ended: ${clip(event.data.reason ?? '')}`;
      case 'turn.ended':
        return `Turn ended (${event.data.stopReason ?? '?'})`;
      case 'refused': {
        const d = event.data;
        const hint = d.reason ?? d.path ?? d.commandLine ?? '';
        return `refused${d.ruleId !== undefined ? ` (rule ${d.ruleId})` : ''}: ${clip(hint)}`;
      }
      case 'sandbox.withheld':
      case 'sandbox.withheld.exposed': {
        // The Audit view's row: how many paths, by which rules (the entry lists them with hashes).
        const entries = event.data.entries ?? [];
        const rules = [...new Set(entries.map((e) => e?.ruleId).filter((r): r is string => typeof r === 'string'))].join(', ');
        const count = event.type === 'sandbox.withheld' ? (event.data.total ?? entries.length) : entries.length;
        const what = event.type === 'sandbox.withheld' ? 'Withheld from the sandbox' : 'Readable in the sandbox although denied';
        return `${what}: ${count} file(s)${rules ? ` (rule ${rules})` : ''}${event.type === 'sandbox.withheld.exposed' ? `: ${clip(entries.map((e) => e?.path ?? '').join(', '), 120)}` : ''}`;
      }
      default:
        break;
    }
  }
  const d = event.data;
  const hint = str(d.reason) ?? str(d.path) ?? str(d.message) ?? '';
  return hint ? `${event.type}: ${clip(hint)}` : event.type;
}

// ---------------------------------------------------------------- query

export interface AuditQuery {
  sessionId?: string;
  /** Substring of the session's agent id (case-insensitive). */
  agent?: string;
  /** approved / rejected: the verdict; automatic: decided by a policy or an earlier approval; human: by a person. */
  decision?: 'approved' | 'rejected' | 'automatic' | 'human';
  /** Proposal kind: edit, command or permission. */
  kind?: string;
  /** Event type, exact (e.g. `decision`) or a prefix ending in `.` (e.g. `edit.`). */
  type?: string;
  /** Substring of the path (case-insensitive). */
  path?: string;
  /** ISO date or date-time; inclusive. A bare date `until` covers the whole day. */
  since?: string;
  until?: string;
  /** Substring of the reviewer (name, email or rule id; case-insensitive). */
  reviewer?: string;
  /** Substring of the developer the session ran for (name or email; case-insensitive). */
  developer?: string;
  /** Substring of the policy rule that decided or asked (case-insensitive). */
  rule?: string;
  /** Full-text: every word must occur somewhere in the entry (any field, case-insensitive). */
  text?: string;
}

export interface AuditQueryOptions {
  /** Keep at most this many matching rows, the newest ones. Default: all. */
  limit?: number;
  /** Sees every record and its row (matching or not), so a caller builds more from the same pass. */
  onRow?: (record: AuditRecord, row: AuditRow) => void;
}

export interface AuditSessionSummary {
  sessionId: string;
  start: string;
  end: string;
  agent: string | null;
  developer: string | null;
  /** The chains holding its entries. */
  chains: string[];
  /** Commits its approved changes went into (git.committed). */
  commits: string[];
  /** The first instruction, clipped. */
  instruction: string | null;
  entries: number;
  proposals: number;
  approved: number;
  rejected: number;
  automatic: number;
  /** Of the approved: some hunks only, and the reviewer's own text; hunks counted across the partly approved. */
  partlyApproved: number;
  approvedWithEdits: number;
  hunksApproved: number;
  hunksRejected: number;
  errors: number;
  /** Why it ended, if a session.ended entry was written. */
  ended: string | null;
}

export interface AuditQueryResult {
  rows: AuditRow[];
  /** The entries behind `rows`, same order. */
  entries: AuditEntry[];
  /** Entries that matched (may be more than rows.length when limited). */
  matched: number;
  /** Entries read. */
  total: number;
  /** Every session of the log, oldest first (not filtered). */
  sessions: AuditSessionSummary[];
  /** Values seen, for filter pickers. */
  facets: { agents: string[]; kinds: string[]; types: string[]; reviewers: string[]; developers: string[]; rules: string[] };
  problems: AuditReadProblem[];
}

export type AuditRowPredicate = (row: AuditRow, entry: AuditEntry) => boolean;

/** A predicate for a query; exported so other readers (the CLI, exports) filter the same way. */
export function auditRowFilter(query: AuditQuery = {}): AuditRowPredicate {
  const lower = (s: string | undefined): string | undefined => (s === undefined || s.trim() === '' ? undefined : s.trim().toLowerCase());
  const agent = lower(query.agent);
  const pathPart = lower(query.path);
  const reviewer = lower(query.reviewer);
  const developer = lower(query.developer);
  const rule = lower(query.rule);
  const kind = lower(query.kind);
  const type = query.type?.trim() || undefined;
  const words = lower(query.text)?.split(/\s+/).filter(Boolean) ?? [];
  const since = query.since ? parseDateBound(query.since, 'start') : undefined;
  const until = query.until ? parseDateBound(query.until, 'end') : undefined;
  return (row, entry) => {
    if (query.sessionId && row.sessionId !== query.sessionId) return false;
    if (agent && !(row.agent ?? '').toLowerCase().includes(agent)) return false;
    if (kind && (row.kind ?? '').toLowerCase() !== kind) return false;
    if (type && !(type.endsWith('.') ? row.type.startsWith(type) : row.type === type)) return false;
    if (pathPart && !(row.path ?? '').toLowerCase().includes(pathPart)) return false;
    if (reviewer && !(row.reviewer ?? '').toLowerCase().includes(reviewer)) return false;
    if (developer && !(row.developer ?? '').toLowerCase().includes(developer)) return false;
    if (rule && !(row.ruleId ?? '').toLowerCase().includes(rule)) return false;
    if (query.decision) {
      if (row.decision === null) return false;
      if (query.decision === 'approved' && row.decision !== 'approve') return false;
      if (query.decision === 'rejected' && row.decision !== 'reject') return false;
      if (query.decision === 'automatic' && row.automatic !== true) return false;
      if (query.decision === 'human' && row.automatic !== false) return false;
    }
    if (since !== undefined || until !== undefined) {
      const t = Date.parse(row.time);
      if (since !== undefined && !(t >= since)) return false;
      if (until !== undefined && !(t <= until)) return false;
    }
    if (words.length > 0) {
      const haystack = searchText(entry);
      if (!words.every((w) => haystack.includes(w))) return false;
    }
    return true;
  };
}

/** `YYYY-MM-DD` means the start (or end) of that day in UTC; anything else is parsed as a date-time. */
export function parseDateBound(value: string, side: 'start' | 'end'): number {
  const day = /^\d{4}-\d{2}-\d{2}$/.test(value.trim());
  const t = Date.parse(day ? `${value.trim()}T${side === 'start' ? '00:00:00.000' : '23:59:59.999'}Z` : value);
  if (Number.isNaN(t)) throw new Error(`Not a date: ${value}`);
  return t;
}

/** Every string and number in the entry, lower-cased, for full-text search. */
function searchText(entry: AuditEntry): string {
  const parts: string[] = [entry.type, entry.sessionId, entry.actor.id, entry.actor.name ?? '', entry.actor.email ?? ''];
  const walk = (value: unknown): void => {
    if (typeof value === 'string') parts.push(value);
    else if (typeof value === 'number' || typeof value === 'boolean') parts.push(String(value));
    else if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        parts.push(k);
        walk(v);
      }
    }
  };
  walk(entry.data);
  return parts.join('\n').toLowerCase();
}

/** Streams rows that match `query`, in log order. */
export async function* queryAuditRows(
  workspaceRoot: string,
  query: AuditQuery = {},
  onProblem?: (problem: AuditReadProblem) => void,
): AsyncGenerator<{ row: AuditRow; entry: AuditEntry }> {
  const builder = new AuditRowBuilder();
  const matches = auditRowFilter(query);
  for await (const record of readAuditLog(workspaceRoot, onProblem)) {
    const row = builder.row(record);
    if (matches(row, record.entry)) yield { row, entry: record.entry };
  }
}

/** One pass: matching rows (newest `limit` if set), every session's summary, and facets. */
export async function queryAuditLog(
  workspaceRoot: string,
  query: AuditQuery = {},
  options: AuditQueryOptions = {},
): Promise<AuditQueryResult> {
  const builder = new AuditRowBuilder();
  const matches = auditRowFilter(query);
  const problems: AuditReadProblem[] = [];
  const rows: AuditRow[] = [];
  const entries: AuditEntry[] = [];
  const sessions = new Map<string, AuditSessionSummary>();
  const facets = {
    agents: new Set<string>(),
    kinds: new Set<string>(),
    types: new Set<string>(),
    reviewers: new Set<string>(),
    developers: new Set<string>(),
    rules: new Set<string>(),
  };
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  let matched = 0;
  let total = 0;
  for await (const record of readAuditLog(workspaceRoot, (p) => problems.length < 100 && problems.push(p))) {
    total++;
    const row = builder.row(record);
    options.onRow?.(record, row);
    summarizeInto(sessions, row, record.entry);
    if (row.agent) facets.agents.add(row.agent);
    if (row.kind) facets.kinds.add(row.kind);
    facets.types.add(row.type);
    if (row.reviewer) facets.reviewers.add(row.reviewer);
    if (row.developer) facets.developers.add(row.developer);
    if (row.ruleId) facets.rules.add(row.ruleId);
    if (!matches(row, record.entry)) continue;
    matched++;
    rows.push(row);
    entries.push(record.entry);
    // Chains are read one after another: keep the newest by time, trimming in batches.
    if (rows.length >= 2 * limit) trimNewest(rows, entries, limit);
  }
  trimNewest(rows, entries, limit);
  const sorted = (set: Set<string>): string[] => [...set].sort((a, b) => a.localeCompare(b));
  return {
    rows,
    entries,
    matched,
    total,
    sessions: [...sessions.values()].sort((a, b) => a.start.localeCompare(b.start) || a.sessionId.localeCompare(b.sessionId)),
    facets: {
      agents: sorted(facets.agents),
      kinds: sorted(facets.kinds),
      types: sorted(facets.types),
      reviewers: sorted(facets.reviewers),
      developers: sorted(facets.developers),
      rules: sorted(facets.rules),
    },
    problems,
  };
}

/** Sorts rows (and their entries) by time, oldest first, keeping the newest `limit`. */
function trimNewest(rows: AuditRow[], entries: AuditEntry[], limit: number): void {
  const order = rows.map((_, i) => i).sort((a, b) => (rows[a]?.time ?? '').localeCompare(rows[b]?.time ?? '') || a - b);
  const keep = Number.isFinite(limit) ? order.slice(Math.max(0, order.length - limit)) : order;
  const keptRows = keep.map((i) => rows[i]).filter((r): r is AuditRow => r !== undefined);
  const keptEntries = keep.map((i) => entries[i]).filter((e): e is AuditEntry => e !== undefined);
  rows.splice(0, rows.length, ...keptRows);
  entries.splice(0, entries.length, ...keptEntries);
}

function summarizeInto(sessions: Map<string, AuditSessionSummary>, row: AuditRow, entry: AuditEntry): void {
  let s = sessions.get(row.sessionId);
  if (!s) {
    s = {
      sessionId: row.sessionId,
      start: row.time,
      end: row.time,
      agent: null,
      developer: null,
      chains: [],
      commits: [],
      instruction: null,
      entries: 0,
      proposals: 0,
      approved: 0,
      rejected: 0,
      automatic: 0,
      partlyApproved: 0,
      approvedWithEdits: 0,
      hunksApproved: 0,
      hunksRejected: 0,
      errors: 0,
      ended: null,
    };
    sessions.set(row.sessionId, s);
  }
  s.entries++;
  s.end = row.time;
  s.agent ??= row.agent;
  s.developer ??= row.developer;
  if (!s.chains.includes(row.chain)) s.chains.push(row.chain);
  switch (row.type) {
    case 'git.committed': {
      const commit = str(entry.data.commit);
      if (commit) s.commits.push(commit);
      break;
    }
    case 'instruction':
      s.instruction ??= clip(str(readAuditEvent(entry).data.text) ?? '', 160);
      break;
    case 'proposal':
      s.proposals++;
      break;
    case 'decision':
      if (row.decision === 'approve') s.approved++;
      if (row.decision === 'reject') s.rejected++;
      if (row.automatic) s.automatic++;
      if (row.change === 'partial') s.partlyApproved++;
      if (row.change === 'edited') s.approvedWithEdits++;
      s.hunksApproved += row.hunksApproved ?? 0;
      s.hunksRejected += row.hunksRejected ?? 0;
      break;
    case 'error':
      s.errors++;
      break;
    case 'session.ended':
      s.ended = str(readAuditEvent(entry).data.reason) ?? 'ended';
      break;
  }
}

/**
 * An entry by its hash (unique across chains), or by `seq` alone for a log with one chain
 * (each chain has its own seq, so a seq alone names the first chain's entry).
 */
export async function findAuditEntry(workspaceRoot: string, seq: number, hash?: string): Promise<AuditRecord | undefined> {
  for await (const record of readAuditLog(workspaceRoot)) {
    if (hash !== undefined ? record.hash === hash && record.entry.seq === seq : record.entry.seq === seq) return record;
  }
  return undefined;
}

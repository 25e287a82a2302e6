import * as path from 'node:path';
import * as z from 'zod';
import { sha256Hex } from '../util/hash';
import { forEachLine, keepingLineBlocks, readLineBatches, type Line } from './lines';
import { PREV_FROM_END, scanCanonicalLine } from './lineScan';
import { listChains, type Chain } from './chains';
import { GENESIS_PREV, listSegments, segmentName, type Segment } from './segments';
import type { AuditEntry, ChainVerifyReport, VerifyBreak, VerifyReport } from './types';

const actorSchema = z.object({
  kind: z.enum(['agent', 'human', 'policy', 'warden']),
  id: z.string(),
  name: z.string().optional(),
  email: z.string().optional(),
});

/** The on-disk shape of one line; kept in step with `AuditEntry` by the type check below. */
export const auditEntrySchema = z.object({
  v: z.literal(1),
  seq: z.number().int().positive(),
  time: z.iso.datetime({ offset: true }),
  sessionId: z.string(),
  actor: actorSchema,
  type: z.string().min(1),
  data: z.record(z.string(), z.unknown()),
  prev: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex characters'),
});
// Compile-time guard: the schema's output must be assignable to the public type.
const _schemaMatchesType = (entry: z.infer<typeof auditEntrySchema>): AuditEntry => entry;
void _schemaMatchesType;

/** zod's own date-time pattern, so the fast path below accepts exactly the same times (undefined: always use zod). */
const TIME_PATTERN: RegExp | undefined =
  (auditEntrySchema.shape.time as unknown as { _zod?: { def?: { pattern?: unknown } } })._zod?.def?.pattern instanceof RegExp
    ? (auditEntrySchema.shape.time as unknown as { _zod: { def: { pattern: RegExp } } })._zod.def.pattern
    : undefined;
const ENTRY_KEYS = new Set(['v', 'seq', 'time', 'sessionId', 'actor', 'type', 'data', 'prev']);
const ACTOR_KEYS = new Set(['kind', 'id', 'name', 'email']);
const ACTOR_KINDS = new Set(['agent', 'human', 'policy', 'warden']);
const HASH = /^[0-9a-f]{64}$/;

/**
 * A hand-written check for the common case, cheaper than running the zod schema on every
 * one of a million entries. It accepts a subset of what the schema accepts (no unknown keys, which the
 * schema would strip); anything else goes through the schema, which also explains failures.
 */
function fastEntry(json: unknown): AuditEntry | undefined {
  if (!TIME_PATTERN || typeof json !== 'object' || json === null || Array.isArray(json)) return undefined;
  const e = json as Record<string, unknown>;
  for (const key in e) if (!ENTRY_KEYS.has(key)) return undefined;
  const actor = e.actor as Record<string, unknown> | null;
  if (e.v !== 1 || typeof e.seq !== 'number' || !Number.isSafeInteger(e.seq) || e.seq <= 0) return undefined;
  if (typeof e.time !== 'string' || !TIME_PATTERN.test(e.time) || typeof e.sessionId !== 'string') return undefined;
  if (typeof e.type !== 'string' || e.type.length === 0 || typeof e.prev !== 'string' || !HASH.test(e.prev)) return undefined;
  if (typeof e.data !== 'object' || e.data === null || Array.isArray(e.data)) return undefined;
  if (typeof actor !== 'object' || actor === null || Array.isArray(actor)) return undefined;
  for (const key in actor) if (!ACTOR_KEYS.has(key)) return undefined;
  if (typeof actor.kind !== 'string' || !ACTOR_KINDS.has(actor.kind) || typeof actor.id !== 'string') return undefined;
  if ((actor.name !== undefined && typeof actor.name !== 'string') || (actor.email !== undefined && typeof actor.email !== 'string'))
    return undefined;
  return json as AuditEntry;
}

/** Validates a parsed line: the fast check, else the schema (with its first issue as the error). */
export function toAuditEntry(
  json: unknown,
): { ok: true; entry: AuditEntry } | { ok: false; issue: { path: PropertyKey[]; message: string } | undefined } {
  const fast = fastEntry(json);
  if (fast) return { ok: true, entry: fast };
  const result = auditEntrySchema.safeParse(json);
  if (result.success) return { ok: true, entry: result.data };
  return { ok: false, issue: result.error.issues[0] };
}

type Parsed = { ok: true; entry: AuditEntry } | { ok: false; reason: string };

function parseLine(line: Line, isLastInLog: boolean): Parsed {
  const where = `line ${line.number}`;
  if (line.bytes.length === 0) return { ok: false, reason: `${where} is empty` };
  let json: unknown;
  try {
    json = JSON.parse(line.bytes.toString('utf8'));
  } catch {
    const cause = !line.terminated && isLastInLog ? 'torn write?' : 'corrupted';
    return { ok: false, reason: `${where} is not valid JSON (${cause})` };
  }
  if (!line.terminated) {
    const cause = isLastInLog ? 'torn write?' : 'the segment was cut short';
    return { ok: false, reason: `${where} has no trailing newline (${cause})` };
  }
  const result = toAuditEntry(json);
  if (!result.ok) {
    const issue = result.issue;
    const field = issue?.path.length ? issue.path.map(String).join('.') : 'entry';
    return { ok: false, reason: `${where} is not a valid audit entry: ${field}: ${issue?.message ?? 'invalid'}` };
  }
  return { ok: true, entry: result.entry };
}

/** Checks every chain on its own and sums up; the first break of each chain is in `chains`. */
export async function verifyAuditLog(workspaceRoot: string): Promise<VerifyReport> {
  const list = await listChains(workspaceRoot);
  const chains: ChainVerifyReport[] = [];
  // Several chains at a time: a team's log is a thousand small files, and each costs some
  // round trips (list, open, read, close) that overlap well; memory stays at most
  // VERIFY_CONCURRENCY read blocks (lines.ts, reused from file to file).
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < list.length; i = next++) {
      const chain = list[i];
      if (chain) chains[i] = await verifyChain(workspaceRoot, chain);
    }
  };
  await keepingLineBlocks(() => Promise.all(Array.from({ length: Math.min(VERIFY_CONCURRENCY, list.length) }, worker)));
  return summarizeChains(chains);
}

const VERIFY_CONCURRENCY = 8;

export function summarizeChains(chains: ChainVerifyReport[]): VerifyReport {
  const broken = chains.find((c) => !c.ok);
  const only = chains.length === 1 ? chains[0] : undefined;
  return {
    ok: !broken,
    entries: chains.reduce((n, c) => n + c.entries, 0),
    segments: chains.reduce((n, c) => n + c.segments, 0),
    head: only?.head ?? null,
    headSeq: only?.headSeq ?? 0,
    ...(broken?.firstBreak ? { firstBreak: broken.firstBreak } : {}),
    chains,
  };
}

/**
 * Checks every segment of one chain, line by line in constant memory, and reports its first break.
 * The quick pass (below) answers for an intact chain in the writer's own format; anything else,
 * every break included, is judged by the full check, so the verdicts and reasons are the same.
 */
export async function verifyChain(workspaceRoot: string, chain: Chain): Promise<ChainVerifyReport> {
  return (await quickVerifyChain(chain)) ?? (await fullyVerifyChain(workspaceRoot, chain));
}

/**
 * The quick pass: large blocks, each line hashed straight from the block, seq and prev read by a
 * byte scan of the envelope (lineScan.ts) instead of building the entry. A line's `data` is not
 * parsed: its bytes are what the next line's `prev` hashes, so any change to them is a chain
 * break; the last line, which no later line covers, is parsed and validated fully. Undefined at
 * the first thing it cannot vouch for (a break, a line in another format, a torn tail): the
 * full check then reads the chain again and names the break exactly as it always has.
 */
async function quickVerifyChain(chain: Chain): Promise<ChainVerifyReport | undefined> {
  const timePattern = TIME_PATTERN;
  if (!timePattern) return undefined;
  const segments = await listSegments(chain.dir);
  let entries = 0;
  let lastSeq = 0;
  let head = GENESIS_PREV;
  for (const [i, segment] of segments.entries()) {
    if (segment.index !== i + 1) return undefined;
    const isLastSegment = i === segments.length - 1;
    let unsure = false;
    await forEachLine(segment.path, (buf, start, end, nextStart) => {
      const seq = end >= 0 ? scanCanonicalLine(buf, start, end, timePattern) : undefined;
      const last = isLastSegment && nextStart < 0;
      if (seq !== lastSeq + 1 || !sameHex(buf, end - PREV_FROM_END, head) || (last && !fullyValid(buf, start, end))) {
        unsure = true;
        return true;
      }
      head = sha256Hex(buf.subarray(start, end));
      lastSeq = seq;
      entries++;
      return undefined;
    });
    if (unsure) return undefined;
  }
  const done = entries > 0 ? { head, headSeq: lastSeq } : { head: null, headSeq: 0 };
  return { chain: chain.id, ok: true, entries, segments: segments.length, ...done };
}

/** `hex` (lowercase, as sha256Hex writes it) equals the bytes at `at`, compared in place. */
function sameHex(buf: Buffer, at: number, hex: string): boolean {
  for (let k = 0; k < hex.length; k++) if (buf[at + k] !== hex.charCodeAt(k)) return false;
  return true;
}

/** The full parse and schema check of one line, as the full check does it. */
function fullyValid(buf: Buffer, start: number, end: number): boolean {
  try {
    return toAuditEntry(JSON.parse(buf.toString('utf8', start, end))).ok;
  } catch {
    return false;
  }
}

/** The full check: every line parsed and validated, the first break named with its reason (exported for tests that compare it with the quick pass). */
export async function fullyVerifyChain(workspaceRoot: string, chain: Chain): Promise<ChainVerifyReport> {
  const segments = await listSegments(chain.dir);
  const relative = (segment: Segment): string => path.relative(workspaceRoot, segment.path).split(path.sep).join('/');
  let entries = 0;
  let lastSeq = 0;
  let head: string | null = null;
  /** Where the previous good entry was, to name it in a reason. */
  let previous: { segment: Segment; line: number } | undefined;
  const report = (firstBreak: VerifyBreak): ChainVerifyReport => ({
    chain: chain.id,
    ok: false,
    entries,
    segments: segments.length,
    head,
    headSeq: lastSeq,
    firstBreak: { chain: chain.id, ...firstBreak },
  });

  for (const [i, segment] of segments.entries()) {
    const expectedIndex = (segments[i - 1]?.index ?? 0) + 1;
    if (segment.index !== expectedIndex) {
      const missing =
        segment.index - expectedIndex === 1
          ? `segment ${segmentName(expectedIndex)} is missing`
          : `segments ${segmentName(expectedIndex)} to ${segmentName(segment.index - 1)} are missing`;
      return report({ file: relative(segment), line: 1, reason: `${missing}: part of the log was deleted` });
    }
    const isLastSegment = i === segments.length - 1;
    /** Checks one line knowing the next (to tell a reorder from a deletion, and the last line). */
    const check = (line: Line, next: Line | undefined): ChainVerifyReport | undefined => {
      const parsed = parseLine(line, isLastSegment && !next);
      const at = { file: relative(segment), line: line.number };
      if (!parsed.ok) return report({ ...at, reason: parsed.reason });
      const { entry } = parsed;
      const seqReason = checkSeq(entry.seq, lastSeq, line.number, next);
      if (seqReason) return report({ ...at, seq: entry.seq, reason: seqReason });
      const expectedPrev = head ?? GENESIS_PREV;
      if (entry.prev !== expectedPrev) {
        return report({ ...at, seq: entry.seq, reason: prevReason(line.number, segment, previous, relative) });
      }
      head = sha256Hex(line.bytes);
      lastSeq = entry.seq;
      entries++;
      previous = { segment, line: line.number };
      return undefined;
    };
    // One line of lookahead: each line is checked when the next one is known.
    let held: Line | undefined;
    const batches = readLineBatches(segment.path);
    try {
      for await (const batch of batches) {
        for (const line of batch) {
          if (held) {
            const broken = check(held, line);
            if (broken) return broken;
          }
          held = line;
        }
      }
    } finally {
      await batches.return(undefined);
    }
    if (held) {
      const broken = check(held, undefined);
      if (broken) return broken;
    }
  }
  return { chain: chain.id, ok: true, entries, segments: segments.length, head, headSeq: lastSeq };
}

function checkSeq(seq: number, lastSeq: number, lineNumber: number, next: Line | undefined): string | undefined {
  const expected = lastSeq + 1;
  if (seq === expected) return undefined;
  const nextSeq = next ? peekSeq(next) : undefined;
  if (seq > expected && nextSeq === expected) {
    return `entries are out of order: line ${lineNumber} has seq ${seq} before line ${lineNumber + 1} with seq ${expected} (reordered?)`;
  }
  if (lastSeq === 0) return `the first entry has seq ${seq}, expected 1: the start of the log was deleted`;
  if (seq > expected) {
    const gap = seq - expected;
    return `seq jumps from ${lastSeq} to ${seq}: ${gap === 1 ? 'an entry was' : `${gap} entries were`} deleted`;
  }
  return `seq goes back from ${lastSeq} to ${seq}: entries were reordered or duplicated`;
}

function peekSeq(line: Line): number | undefined {
  try {
    const value = JSON.parse(line.bytes.toString('utf8')) as { seq?: unknown };
    return typeof value.seq === 'number' ? value.seq : undefined;
  } catch {
    return undefined;
  }
}

function prevReason(
  lineNumber: number,
  segment: Segment,
  previous: { segment: Segment; line: number } | undefined,
  relative: (segment: Segment) => string,
): string {
  if (!previous) return `entry was modified: prev of line ${lineNumber} is not the genesis hash (64 zeros)`;
  const of = previous.segment === segment ? `line ${previous.line}` : `the last line (${previous.line}) of ${relative(previous.segment)}`;
  return `entry was modified: prev of line ${lineNumber} does not match the hash of ${of}`;
}

const plural = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;

/** One line for the user: the result, or where and why the (first broken) chain breaks. */
export function formatVerifyReport(report: VerifyReport): string {
  const count = plural(report.entries, 'entry', 'entries');
  const chains = plural(report.chains.length, 'chain', 'chains');
  if (report.ok) {
    if (report.entries === 0) return 'Audit log is empty (0 entries); nothing to verify.';
    const segments = plural(report.segments, 'segment', 'segments');
    const head = report.head ? `, head ${report.head.slice(0, 12)}` : '';
    return `Audit log verified: ${count} in ${segments} of ${chains}, every chain intact${head}.`;
  }
  const broken = report.chains.filter((c) => !c.ok);
  const b = report.firstBreak;
  if (!b) return `Audit log is broken (${count} verified before the break).`;
  const seq = b.seq === undefined ? '' : `, seq ${b.seq}`;
  const others = broken.length > 1 ? ` ${broken.length} of ${chains} are broken (see each chain).` : '';
  return `Audit log is broken at ${b.file}:${b.line}${seq}: ${b.reason}. ${count} verified before the break.${others}`;
}

/** One line per chain: what a team lead reads after a pull. */
export function formatChainReports(report: VerifyReport): string[] {
  return report.chains.map((c) => {
    const count = plural(c.entries, 'entry', 'entries');
    if (c.ok) return `  ok      ${c.chain}: ${count}, head seq ${c.headSeq}${c.head ? ` ${c.head.slice(0, 12)}` : ''}`;
    const b = c.firstBreak;
    const where = b ? `${b.file}:${b.line}${b.seq === undefined ? '' : `, seq ${b.seq}`}: ${b.reason}` : 'broken';
    return `  BROKEN  ${c.chain}: first break at ${where} (${count} verified before it)`;
  });
}

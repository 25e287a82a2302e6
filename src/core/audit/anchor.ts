import { simpleGit, type SimpleGit } from 'simple-git';
import { readAuditLog } from './query';
import type { VerifyReport } from './types';
import { verifyAuditLog } from './verify';

/**
 * Anchoring the chain head in git. The hash chain proves that no entry was changed inside the
 * log, but someone with write access could cut the tail off, or rewrite the tail and re-chain
 * it. An anchor records `seq` and hash of the head in git, outside the log: a git note on the
 * current commit (ref `refs/notes/warden-audit`), or a `Warden-Audit-Head:` trailer in a
 * commit message. Verifying anchors checks the log still has an entry with that hash at that
 * seq. Pushed notes (`git push origin refs/notes/warden-audit`) make this hold against a
 * rewrite of the local repository too.
 */

export const AUDIT_NOTES_REF = 'refs/notes/warden-audit';
export const AUDIT_TRAILER = 'Warden-Audit-Head';
/** The trailer agent commits carry for each audit entry behind them (src/core/git/commit.ts). */
export const AUDIT_ENTRY_TRAILER = 'Warden-Audit';

export interface AuditAnchor {
  /** Null for a `Warden-Audit: <hash>` trailer of an agent commit, which names an entry by hash only. */
  seq: number | null;
  /** SHA-256 of the entry's line. */
  hash: string;
  /** The commit it is attached to. */
  commit: string;
  /** note: refs/notes/warden-audit; trailer: `Warden-Audit-Head:`; commit-entry: `Warden-Audit: <hash>` on an agent commit. */
  source: 'note' | 'trailer' | 'commit-entry';
}

export interface AnchorResult {
  anchor: AuditAnchor;
  /** The git note text written. */
  note: string;
  report: VerifyReport;
}

export class AuditAnchorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuditAnchorError';
  }
}

/** `Warden-Audit-Head: seq=42 sha256=<64 hex>` */
export function formatAnchorLine(seq: number, hash: string): string {
  return `${AUDIT_TRAILER}: seq=${seq} sha256=${hash}`;
}

const ANCHOR_LINE = new RegExp(`^${AUDIT_TRAILER}:\\s*seq=(\\d+)\\s+sha256=([0-9a-f]{64})\\s*$`, 'gim');

const ENTRY_LINE = new RegExp(`^${AUDIT_ENTRY_TRAILER}:\\s*([0-9a-f]{64})\\s*$`, 'gim');

export function parseAnchorLines(text: string): Array<{ seq: number; hash: string }> {
  return [...text.matchAll(ANCHOR_LINE)].map((m) => ({ seq: Number(m[1]), hash: (m[2] ?? '').toLowerCase() }));
}

function git(workspaceRoot: string): SimpleGit {
  return simpleGit({ baseDir: workspaceRoot, timeout: { block: 30_000 } });
}

/**
 * Verifies the log and records its head as a git note on HEAD (appended, so several anchors
 * on one commit are all kept). Refuses a broken or empty log: anchoring a broken chain would
 * bless it.
 */
export async function anchorAuditHead(workspaceRoot: string): Promise<AnchorResult> {
  const report = await verifyAuditLog(workspaceRoot);
  if (!report.ok) throw new AuditAnchorError('The audit log does not verify; repair or investigate it before anchoring its head.');
  if (!report.head || report.headSeq === 0) throw new AuditAnchorError('The audit log is empty; there is no head to anchor.');
  const g = git(workspaceRoot);
  let commit: string;
  try {
    commit = (await g.revparse(['--verify', 'HEAD^{commit}'])).trim();
  } catch (error) {
    throw new AuditAnchorError(
      `Cannot anchor the audit head: ${workspaceRoot} is not a git repository with at least one commit (${errorText(error)})`,
    );
  }
  const note = formatAnchorLine(report.headSeq, report.head);
  try {
    await g.raw(['notes', '--ref', AUDIT_NOTES_REF, 'append', '-m', note, commit]);
  } catch (error) {
    throw new AuditAnchorError(`git notes failed: ${errorText(error)}`);
  }
  return { anchor: { seq: report.headSeq, hash: report.head, commit, source: 'note' }, note, report };
}

/** Every anchor in the repository: notes under refs/notes/warden-audit and commit trailers (all refs). */
export async function listAuditAnchors(workspaceRoot: string): Promise<AuditAnchor[]> {
  const g = git(workspaceRoot);
  if (!(await g.checkIsRepo().catch(() => false))) return [];
  const anchors: AuditAnchor[] = [];
  const notes = await g.raw(['notes', '--ref', AUDIT_NOTES_REF, 'list']).catch(() => '');
  for (const line of notes.split('\n')) {
    const commit = line.trim().split(/\s+/)[1];
    if (!commit) continue;
    const text = await g.raw(['notes', '--ref', AUDIT_NOTES_REF, 'show', commit]).catch(() => '');
    for (const a of parseAnchorLines(text)) anchors.push({ ...a, commit, source: 'note' });
  }
  const log = await g.raw(['log', '--all', `--grep=^${AUDIT_ENTRY_TRAILER}`, '--format=%H%x00%B%x1e']).catch(() => '');
  for (const record of log.split('\x1e')) {
    const [commit, body] = record.replace(/^\s+/, '').split('\x00');
    if (!commit || body === undefined) continue;
    for (const a of parseAnchorLines(body)) anchors.push({ ...a, commit, source: 'trailer' });
    for (const m of body.matchAll(ENTRY_LINE))
      anchors.push({ seq: null, hash: (m[1] ?? '').toLowerCase(), commit, source: 'commit-entry' });
  }
  return anchors;
}

export interface AnchorCheck {
  anchor: AuditAnchor;
  ok: boolean;
  reason?: string;
}

export interface AnchorVerifyReport {
  /** True when the chain verifies and every anchor is found (vacuously true with no anchors). */
  ok: boolean;
  chain: VerifyReport;
  anchors: AnchorCheck[];
  /** The first failed anchor, for messages. */
  firstFailure?: AnchorCheck;
}

/** Verifies the chain and that every anchored (seq, hash) is still in the log. */
export async function verifyAuditAnchors(workspaceRoot: string): Promise<AnchorVerifyReport> {
  const [chain, anchors] = await Promise.all([verifyAuditLog(workspaceRoot), listAuditAnchors(workspaceRoot)]);
  const wanted = new Map<number, AuditAnchor[]>();
  const byHash = new Map<string, AuditAnchor[]>();
  for (const a of anchors) {
    if (a.seq === null) byHash.set(a.hash, [...(byHash.get(a.hash) ?? []), a]);
    else wanted.set(a.seq, [...(wanted.get(a.seq) ?? []), a]);
  }
  const checks: AnchorCheck[] = [];
  const found = new Set<AuditAnchor>();
  let lastSeq = 0;
  if (anchors.length > 0) {
    for await (const record of readAuditLog(workspaceRoot)) {
      lastSeq = Math.max(lastSeq, record.entry.seq);
      for (const anchor of byHash.get(record.hash) ?? []) {
        if (found.has(anchor)) continue;
        found.add(anchor);
        checks.push({ anchor, ok: true });
      }
      for (const anchor of wanted.get(record.entry.seq) ?? []) {
        if (found.has(anchor)) continue;
        found.add(anchor);
        checks.push(
          record.hash === anchor.hash
            ? { anchor, ok: true }
            : {
                anchor,
                ok: false,
                reason: `entry seq ${anchor.seq} (${record.file}:${record.line}) was rewritten: its hash is ${record.hash.slice(0, 12)}, the ${anchor.source} on commit ${anchor.commit.slice(0, 12)} recorded ${anchor.hash.slice(0, 12)}`,
              },
        );
      }
    }
  }
  for (const anchor of anchors) {
    if (found.has(anchor)) continue;
    if (anchor.seq === null) {
      checks.push({
        anchor,
        ok: false,
        reason: `commit ${anchor.commit.slice(0, 12)} carries audit entry ${anchor.hash.slice(0, 12)} (Warden-Audit trailer), which is no longer in the log: it was rewritten or cut off`,
      });
      continue;
    }
    checks.push({
      anchor,
      ok: false,
      reason: `the log was truncated: the ${anchor.source} on commit ${anchor.commit.slice(0, 12)} anchors seq ${anchor.seq}, but the log ends at seq ${lastSeq}`,
    });
  }
  checks.sort((a, b) => (a.anchor.seq ?? Number.MAX_SAFE_INTEGER) - (b.anchor.seq ?? Number.MAX_SAFE_INTEGER));
  const firstFailure = checks.find((c) => !c.ok);
  return { ok: chain.ok && !firstFailure, chain, anchors: checks, ...(firstFailure ? { firstFailure } : {}) };
}

export function formatAnchorReport(report: AnchorVerifyReport): string {
  const n = report.anchors.length;
  if (n === 0) return 'No git anchors of the audit head were found.';
  if (report.firstFailure) return `Audit anchor check failed: ${report.firstFailure.reason}.`;
  const heads = report.anchors.filter((c) => c.anchor.seq !== null);
  const entries = n - heads.length;
  const latest = heads[heads.length - 1];
  const parts = [
    ...(heads.length
      ? [`${heads.length} git ${heads.length === 1 ? 'anchor' : 'anchors'} of the audit head (latest seq ${latest?.anchor.seq ?? '?'})`]
      : []),
    ...(entries ? [`${entries} audit ${entries === 1 ? 'entry' : 'entries'} named by agent commits`] : []),
  ];
  return `${parts.join(' and ')}: all found in the log.`;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message.trim() : String(error);
}

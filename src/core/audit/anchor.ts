import { simpleGit, type SimpleGit } from 'simple-git';
import * as path from 'node:path';
import { LEGACY_CHAIN, SESSIONS_DIR } from './chains';
import { readChainRecords } from './query';
import { AUDIT_DIR } from './segments';
import type { VerifyReport } from './types';
import { verifyAuditLog } from './verify';

/**
 * Anchoring chain heads in git. The hash chain proves that no entry was changed inside a
 * chain, but someone with write access could delete a whole chain, cut its tail off, or
 * rewrite the tail and re-chain it. An anchor records, outside the log, a chain's name with the
 * `seq` and hash of its head: `Warden-Audit-Chain: <chain> <seq> <sha256>`. Verify checks every
 * anchored chain still has that entry, so "session S is referenced by commit C but its log is
 * gone or shorter" is reported.
 *
 * Anchors travel with history that merges: trailers of the commits Warden makes (Commit
 * Approved Changes) and of the commit `warden audit anchor` makes (it commits .warden/audit/
 * with the trailers, so the log and its anchor land together). A git note on HEAD
 * (`--note`, ref refs/notes/warden-audit) is kept for teams that want no extra commits; notes
 * need their own refspec and `git notes merge -s cat_sort_uniq` when two developers anchor the
 * same commit, which is why commits are the default. Older anchors (`Warden-Audit-Head:
 * seq= sha256=`) name the legacy single chain.
 */

export const AUDIT_NOTES_REF = 'refs/notes/warden-audit';
export const AUDIT_TRAILER = 'Warden-Audit-Head';
/** The trailer agent commits carry for each audit entry behind them (src/core/git/commit.ts). */
export const AUDIT_ENTRY_TRAILER = 'Warden-Audit';
/** One chain's head: `Warden-Audit-Chain: <chain> <seq> <sha256>`. */
export const AUDIT_CHAIN_TRAILER = 'Warden-Audit-Chain';

export interface AuditAnchor {
  /** The chain anchored (`legacy` for a Warden-Audit-Head anchor); null for an entry named by hash only. */
  chain: string | null;
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
  /** One per intact, non-empty chain. */
  anchors: AuditAnchor[];
  /** The commit made (mode commit) or annotated (mode note). */
  commit: string;
  mode: AnchorMode;
  /** The trailer or note lines written. */
  text: string;
  report: VerifyReport;
  /** Broken chains, not anchored (anchoring a broken chain would bless it). */
  skipped: string[];
}

/** commit: an anchor commit carrying .warden/audit/ and the trailers; note: a git note on HEAD. */
export type AnchorMode = 'commit' | 'note';

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

const CHAIN_LINE = new RegExp(`^${AUDIT_CHAIN_TRAILER}:\\s*([A-Za-z0-9][A-Za-z0-9._-]{0,99})\\s+(\\d+)\\s+([0-9a-f]{64})\\s*$`, 'gim');

/** `Warden-Audit-Chain: <chain> <seq> <sha256>` */
export function formatChainAnchor(chain: string, seq: number, hash: string): string {
  return `${AUDIT_CHAIN_TRAILER}: ${chain} ${seq} ${hash}`;
}

/** Chain anchors and legacy head anchors in a commit message or note (legacy ones name the legacy chain). */
export function parseAnchorLines(text: string): Array<{ chain: string; seq: number; hash: string }> {
  const legacy = [...text.matchAll(ANCHOR_LINE)].map((m) => ({ chain: LEGACY_CHAIN, seq: Number(m[1]), hash: (m[2] ?? '').toLowerCase() }));
  const chains = [...text.matchAll(CHAIN_LINE)].map((m) => ({ chain: m[1] ?? '', seq: Number(m[2]), hash: (m[3] ?? '').toLowerCase() }));
  return [...legacy, ...chains];
}

function git(workspaceRoot: string): SimpleGit {
  return simpleGit({ baseDir: workspaceRoot, timeout: { block: 30_000 } });
}

/** The anchor lines for every intact, non-empty chain of a report. */
export function chainAnchorLines(report: VerifyReport): { lines: string[]; skipped: string[] } {
  const lines: string[] = [];
  const skipped: string[] = [];
  for (const c of report.chains) {
    if (!c.ok) skipped.push(c.chain);
    else if (c.head && c.headSeq > 0) lines.push(formatChainAnchor(c.chain, c.headSeq, c.head));
  }
  return { lines, skipped };
}

/**
 * Anchors the head of every intact chain: by default a commit of .warden/audit/ (only that
 * path; the rest of the index is left as it is) whose message carries one trailer per chain;
 * with mode 'note', a git note on HEAD (appended, so several anchors on one commit are kept).
 * Broken chains are skipped and named; with none to anchor, it refuses.
 */
export async function anchorAuditHead(workspaceRoot: string, options: { mode?: AnchorMode } = {}): Promise<AnchorResult> {
  const mode = options.mode ?? 'commit';
  const report = await verifyAuditLog(workspaceRoot);
  const { lines, skipped } = chainAnchorLines(report);
  if (lines.length === 0) {
    throw new AuditAnchorError(
      skipped.length > 0
        ? `No audit chain verifies (${skipped.join(', ')}); repair or investigate before anchoring.`
        : 'The audit log is empty; there is no head to anchor.',
    );
  }
  const g = git(workspaceRoot);
  let head: string;
  try {
    head = (await g.revparse(['--verify', 'HEAD^{commit}'])).trim();
  } catch (error) {
    throw new AuditAnchorError(
      `Cannot anchor the audit head: ${workspaceRoot} is not a git repository with at least one commit (${errorText(error)})`,
    );
  }
  let text = lines.join('\n');
  let commit = head;
  try {
    if (mode === 'note') await g.raw(['notes', '--ref', AUDIT_NOTES_REF, 'append', '-m', text, head]);
    else {
      const dir = AUDIT_DIR.split(path.sep).join('/');
      await g.raw(['add', '--all', '--', dir, ':(exclude,glob)**/audit.lock']);
      // Only the chains this commit brings (new or grown): a cherry-pick of it then claims no chain it does not carry.
      const staged = await g.raw(['diff', '--cached', '--name-only', '--', dir]);
      const touched = new Set(staged.split('\n').flatMap((f) => chainOfPath(f.trim()) ?? []));
      if (touched.size > 0) text = lines.filter((l) => touched.has(parseAnchorLines(l)[0]?.chain ?? '')).join('\n') || text;
      const count = text.split('\n').length;
      const subject = `Warden audit anchor: ${count} ${count === 1 ? 'chain' : 'chains'}`;
      await g.raw(['commit', '--quiet', '--allow-empty', '--no-verify', '-m', `${subject}\n\n${text}`, '--', dir]);
      commit = (await g.revparse(['--verify', 'HEAD^{commit}'])).trim();
    }
  } catch (error) {
    throw new AuditAnchorError(`git ${mode === 'note' ? 'notes' : 'commit'} failed: ${errorText(error)}`);
  }
  const anchors = parseAnchorLines(text).map((a) => ({ ...a, commit, source: mode === 'note' ? ('note' as const) : ('trailer' as const) }));
  return { anchors, commit, mode, text, report, skipped };
}

/** The chain a path under .warden/audit/ belongs to (`legacy` for a top-level segment). */
function chainOfPath(file: string): string | undefined {
  const prefix = `${AUDIT_DIR.split(path.sep).join('/')}/`;
  if (!file.startsWith(prefix)) return undefined;
  const rest = file.slice(prefix.length).split('/');
  if (rest.length === 1 && /^audit-\d{6,}\.jsonl$/.test(rest[0] ?? '')) return LEGACY_CHAIN;
  return rest[0] === SESSIONS_DIR && rest.length >= 3 ? rest[1] : undefined;
}

/**
 * The anchors of the history checked out: trailers of the commits reachable from HEAD, and notes
 * (refs/notes/warden-audit) on those commits. Another branch's commits are left out: the log in
 * the working tree is this branch's, and a chain that only another branch carries is not missing.
 */
export async function listAuditAnchors(workspaceRoot: string): Promise<AuditAnchor[]> {
  const g = git(workspaceRoot);
  if (!(await g.checkIsRepo().catch(() => false))) return [];
  const anchors: AuditAnchor[] = [];
  const notes = await g.raw(['notes', '--ref', AUDIT_NOTES_REF, 'list']).catch(() => '');
  const reachable = notes.trim() ? new Set((await g.raw(['rev-list', 'HEAD']).catch(() => '')).split('\n').filter(Boolean)) : new Set();
  for (const line of notes.split('\n')) {
    const commit = line.trim().split(/\s+/)[1];
    if (!commit || !reachable.has(commit)) continue;
    const text = await g.raw(['notes', '--ref', AUDIT_NOTES_REF, 'show', commit]).catch(() => '');
    for (const a of parseAnchorLines(text)) anchors.push({ ...a, commit, source: 'note' });
  }
  const log = await g.raw(['log', 'HEAD', `--grep=^${AUDIT_ENTRY_TRAILER}`, '--format=%H%x00%B%x1e', '--']).catch(() => '');
  for (const record of log.split('\x1e')) {
    const [commit, body] = record.replace(/^\s+/, '').split('\x00');
    if (!commit || body === undefined) continue;
    for (const a of parseAnchorLines(body)) anchors.push({ ...a, commit, source: 'trailer' });
    for (const m of body.matchAll(ENTRY_LINE))
      anchors.push({ chain: null, seq: null, hash: (m[1] ?? '').toLowerCase(), commit, source: 'commit-entry' });
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

/** Verifies every chain and that every anchored (chain, seq, hash) is still in the log. */
export async function verifyAuditAnchors(workspaceRoot: string): Promise<AnchorVerifyReport> {
  const [chain, anchors] = await Promise.all([verifyAuditLog(workspaceRoot), listAuditAnchors(workspaceRoot)]);
  const present = new Set(chain.chains.map((c) => c.chain));
  const byChain = new Map<string, AuditAnchor[]>();
  const byHash = new Map<string, AuditAnchor[]>();
  for (const a of anchors) {
    if (a.chain === null) byHash.set(a.hash, [...(byHash.get(a.hash) ?? []), a]);
    else byChain.set(a.chain, [...(byChain.get(a.chain) ?? []), a]);
  }
  const checks: AnchorCheck[] = [];
  const found = new Set<AuditAnchor>();
  const lastSeq = new Map<string, number>();
  // Only the chains an anchor names are read, unless an entry is named by hash alone.
  const toRead = byHash.size > 0 ? [...present] : [...byChain.keys()].filter((c) => present.has(c));
  for (const id of toRead) {
    const wanted = new Map<number, AuditAnchor[]>();
    for (const a of byChain.get(id) ?? []) if (a.seq !== null) wanted.set(a.seq, [...(wanted.get(a.seq) ?? []), a]);
    for await (const record of readChainRecords(workspaceRoot, id)) {
      lastSeq.set(id, Math.max(lastSeq.get(id) ?? 0, record.entry.seq));
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
                reason: `chain ${id}: entry seq ${anchor.seq} (${record.file}:${record.line}) was rewritten: its hash is ${record.hash.slice(0, 12)}, the ${anchor.source} on commit ${anchor.commit.slice(0, 12)} recorded ${anchor.hash.slice(0, 12)}`,
              },
        );
      }
    }
  }
  for (const anchor of anchors) {
    if (found.has(anchor)) continue;
    const on = `commit ${anchor.commit.slice(0, 12)}`;
    if (anchor.chain === null) {
      checks.push({
        anchor,
        ok: false,
        reason: `${on} carries audit entry ${anchor.hash.slice(0, 12)} (Warden-Audit trailer), which is no longer in the log: it was rewritten or cut off`,
      });
    } else if (!present.has(anchor.chain)) {
      checks.push({
        anchor,
        ok: false,
        reason: `session chain ${anchor.chain} is referenced by ${on} (seq ${anchor.seq ?? '?'}) but its log is gone`,
      });
    } else {
      checks.push({
        anchor,
        ok: false,
        reason: `session chain ${anchor.chain} is referenced by ${on} but its log is shorter: the ${anchor.source} anchors seq ${anchor.seq ?? '?'}, the log ends at seq ${lastSeq.get(anchor.chain) ?? 0} (truncated)`,
      });
    }
  }
  checks.sort(
    (a, b) =>
      (a.anchor.chain ?? '\uffff').localeCompare(b.anchor.chain ?? '\uffff') ||
      (a.anchor.seq ?? Number.MAX_SAFE_INTEGER) - (b.anchor.seq ?? Number.MAX_SAFE_INTEGER),
  );
  const firstFailure = checks.find((c) => !c.ok);
  return { ok: chain.ok && !firstFailure, chain, anchors: checks, ...(firstFailure ? { firstFailure } : {}) };
}

/** Every failed anchor, one line each (a missing chain does not hide a truncated one). */
export function formatAnchorReport(report: AnchorVerifyReport): string {
  const n = report.anchors.length;
  if (n === 0) return 'No git anchors of audit chains were found.';
  const failed = report.anchors.filter((c) => !c.ok);
  if (failed.length > 0) return failed.map((c) => `Audit anchor check failed: ${c.reason ?? 'unknown'}.`).join('\n');
  const heads = report.anchors.filter((c) => c.anchor.seq !== null);
  const chains = new Set(heads.map((c) => c.anchor.chain));
  const entries = n - heads.length;
  const parts = [
    ...(heads.length
      ? [`${heads.length} git ${heads.length === 1 ? 'anchor' : 'anchors'} of ${chains.size} ${chains.size === 1 ? 'chain' : 'chains'}`]
      : []),
    ...(entries ? [`${entries} audit ${entries === 1 ? 'entry' : 'entries'} named by agent commits`] : []),
  ];
  return `${parts.join(' and ')}: all found in the log.`;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message.trim() : String(error);
}

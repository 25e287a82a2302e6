import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { approvedEdits, type ApprovedEdit } from './editLines';
import { AuditGitError, chainsTouched, gitAt, readCommitLinks, type CommitLinks } from './gitLinks';
import { parseAddedLines, parseBlamePorcelain, toSpans } from './gitOutput';
import { readAuditLog } from './query';
import { AUDIT_DIR } from './segments';

/**
 * Audit blame: which sessions and approvals stand behind each changed file and line of a commit,
 * a range, or a file. Git says which commit brought a line; the commit's trailers (and the log's
 * git.committed entries) say which sessions it came from; the line itself is matched by path and
 * content against the lines each approved edit added (src/core/audit/editLines.ts). A line no
 * approved edit added stays unattributed: it was written by other means.
 */

export interface BlameApproval extends Omit<ApprovedEdit, 'added' | 'applied'> {
  /** Key into `AuditBlame.approvals`. */
  id: number;
}

export interface BlameLine {
  /** 1-based line in the file's new version. */
  line: number;
  text: string;
  /** The commit that brought the line; null for a change not committed yet. */
  commit: string | null;
  /** Index into `approvals`, or null when no approved edit added this line. */
  approval: number | null;
  /** The approval's session is one the line's commit names (trailers or git.committed); false: matched by content only. */
  linked: boolean;
}

export interface BlameFile {
  path: string;
  lines: BlameLine[];
  /** Lines matched to an approved edit. */
  attributed: number;
  /** Sessions behind the file: of its matched lines, and named by the commits that changed it. */
  sessions: string[];
  /** Approval ids behind its lines. */
  approvals: number[];
}

export interface BlameCommit {
  commit: string;
  subject: string;
  author: string;
  time: string;
  /** Sessions it names: Warden-Session and Warden-Audit-Chain trailers, Warden-Audit entries, git.committed entries. */
  sessions: string[];
  approvedBy: string[];
}

export interface AuditBlame {
  /** The revision, range or file blamed. */
  target: string;
  commits: BlameCommit[];
  files: BlameFile[];
  approvals: BlameApproval[];
}

// ---------------------------------------------------------------- matching (pure)

/**
 * Attributes lines to approved edits of the same path. Lines come in blocks (consecutive lines
 * of one commit); each line goes to the edit, among those that added its text, that added the
 * most lines of its block; then to one whose session the commit names; then to the newest.
 * Only lines with a letter or digit count towards that: a blank line or a lone `}` is attributed
 * only through an edit that also added a real line of its block. A line committed before an
 * approval (by more than a second) cannot come from it, unless the commit names its session.
 */
export function attributeLines(
  path: string,
  lines: Array<{ line: number; text: string; commit: string | null }>,
  edits: ApprovedEdit[],
  ids: Map<ApprovedEdit, number>,
  sessionsOf: (commit: string | null) => ReadonlySet<string>,
  committedAt: (commit: string | null) => number | undefined = () => undefined,
): BlameLine[] {
  const forPath = edits.filter((e) => e.path === path);
  const sets = new Map(forPath.map((e) => [e, new Set(e.added)]));
  const out: BlameLine[] = [];
  let start = 0;
  while (start < lines.length) {
    let end = start + 1;
    while (end < lines.length && lines[end]?.commit === lines[start]?.commit && lines[end]!.line === lines[end - 1]!.line + 1) end++;
    const block = lines.slice(start, end);
    const linked = sessionsOf(block[0]?.commit ?? null);
    const at = committedAt(block[0]?.commit ?? null);
    const possible = forPath.filter((e) => linked.has(e.sessionId) || at === undefined || at + 1000 >= Date.parse(e.decidedAt));
    const score = new Map<ApprovedEdit, number>();
    for (const l of block) {
      if (!/[\p{L}\p{N}]/u.test(l.text)) continue;
      for (const e of possible) if (sets.get(e)?.has(l.text)) score.set(e, (score.get(e) ?? 0) + 1);
    }
    for (const l of block) {
      let best: ApprovedEdit | undefined;
      for (const e of possible) {
        if (!sets.get(e)?.has(l.text) || !score.has(e)) continue;
        if (!best) best = e;
        else {
          const by = (score.get(e) ?? 0) - (score.get(best) ?? 0);
          const link = Number(linked.has(e.sessionId)) - Number(linked.has(best.sessionId));
          if (by > 0 || (by === 0 && (link > 0 || (link === 0 && e.decidedAt >= best.decidedAt)))) best = e;
        }
      }
      out.push({
        line: l.line,
        text: l.text,
        commit: l.commit,
        approval: best ? (ids.get(best) ?? null) : null,
        linked: best ? linked.has(best.sessionId) : false,
      });
    }
    start = end;
  }
  return out;
}

// ---------------------------------------------------------------- git + log

/** Session ids behind commits, from their trailers and the log (one pass for Warden-Audit hashes and git.committed). */
async function commitSessions(
  workspaceRoot: string,
  links: CommitLinks[],
  touched: ReadonlyMap<string, string[]>,
): Promise<Map<string, Set<string>>> {
  const byCommit = new Map(links.map((l) => [l.commit, new Set(l.sessions)]));
  const byHash = new Map<string, string[]>();
  const byChain = new Map<string, string[]>();
  for (const l of links) {
    for (const h of l.entries) byHash.set(h, [...(byHash.get(h) ?? []), l.commit]);
    for (const c of [...l.chains, ...(touched.get(l.commit) ?? [])]) byChain.set(c, [...(byChain.get(c) ?? []), l.commit]);
  }
  for await (const { entry, hash, chain } of readAuditLog(workspaceRoot)) {
    for (const c of [...(byHash.get(hash) ?? []), ...(byChain.get(chain) ?? [])]) byCommit.get(c)?.add(entry.sessionId);
    if (entry.type === 'git.committed' && typeof entry.data.commit === 'string') byCommit.get(entry.data.commit)?.add(entry.sessionId);
  }
  return byCommit;
}

/** The log itself is not blamed (its lines are entries, not code). */
function isAuditPath(file: string): boolean {
  return file.startsWith(`${AUDIT_DIR.split('\\').join('/')}/`);
}

async function build(
  workspaceRoot: string,
  target: string,
  links: CommitLinks[],
  files: Map<string, Array<{ line: number; text: string; commit: string | null }>>,
  touched: ReadonlyMap<string, string[]>,
): Promise<AuditBlame> {
  const [edits, sessions] = await Promise.all([approvedEdits(workspaceRoot), commitSessions(workspaceRoot, links, touched)]);
  const ids = new Map(edits.map((e, i) => [e, i]));
  const none = new Set<string>();
  const sessionsOf = (commit: string | null): ReadonlySet<string> => (commit ? (sessions.get(commit) ?? none) : none);
  const times = new Map(links.map((l) => [l.commit, Date.parse(l.time)]));
  const committedAt = (commit: string | null): number | undefined => {
    const t = commit ? times.get(commit) : undefined;
    return t === undefined || Number.isNaN(t) ? undefined : t;
  };
  const used = new Set<number>();
  const out: BlameFile[] = [];
  for (const [file, lines] of [...files].sort(([a], [b]) => a.localeCompare(b))) {
    if (isAuditPath(file)) continue;
    const blamed = attributeLines(file, lines, edits, ids, sessionsOf, committedAt);
    const approvals = [...new Set(blamed.map((l) => l.approval).filter((a): a is number => a !== null))];
    approvals.forEach((a) => used.add(a));
    const fileSessions = new Set(approvals.map((a) => edits[a]?.sessionId ?? ''));
    for (const commit of new Set(lines.map((l) => l.commit)))
      for (const s of sessionsOf(commit)) if (edits.some((e) => e.sessionId === s && e.path === file)) fileSessions.add(s);
    fileSessions.delete('');
    out.push({
      path: file,
      lines: blamed,
      attributed: blamed.filter((l) => l.approval !== null).length,
      sessions: [...fileSessions].sort(),
      approvals,
    });
  }
  const approvals: BlameApproval[] = [];
  edits.forEach((e, id) => {
    if (!used.has(id)) return;
    const { added: _added, applied: _applied, ...rest } = e;
    approvals.push({ id, ...rest });
  });
  return {
    target,
    commits: links.map((l) => ({
      commit: l.commit,
      subject: l.subject,
      author: l.author,
      time: l.time,
      sessions: [...(sessions.get(l.commit) ?? [])].sort(),
      approvedBy: l.approvedBy,
    })),
    files: out,
    approvals,
  };
}

function gitFailed(what: string, error: unknown): AuditGitError {
  return new AuditGitError(`git could not read ${what}: ${error instanceof Error ? error.message.trim() : String(error)}`);
}

/**
 * Blame of a commit (`HEAD`, a hash, a branch: the lines it added against its first parent) or a
 * range (`A..B`: the lines B adds since the merge base, each with the commit that last touched it).
 */
export async function auditBlame(workspaceRoot: string, revOrRange: string): Promise<AuditBlame> {
  if (revOrRange.startsWith('-')) throw new AuditGitError(`Not a revision or range: ${revOrRange}`);
  const g = gitAt(workspaceRoot);
  const range = /\.\./.test(revOrRange);
  let diff: string;
  let links: CommitLinks[];
  let touched: Map<string, string[]>;
  try {
    if (range) {
      const [base, head] = revOrRange.includes('...') ? revOrRange.split('...') : revOrRange.split('..');
      diff = await g.raw([
        '-c',
        'core.quotePath=false',
        'diff',
        '-U0',
        '--no-color',
        '--no-renames',
        '--relative',
        `${base || 'HEAD'}...${head || 'HEAD'}`,
      ]);
      links = await readCommitLinks(g, [revOrRange]);
      touched = await chainsTouched(g, [revOrRange]);
    } else {
      const [commit, ...parents] = (await g.raw(['rev-list', '--parents', '-n', '1', `${revOrRange}^{commit}`, '--'])).trim().split(/\s+/);
      if (!commit) throw new Error(`${revOrRange} names no commit`);
      const parent = parents[0] ?? (await g.raw(['hash-object', '-t', 'tree', '/dev/null'])).trim();
      diff = await g.raw(['-c', 'core.quotePath=false', 'diff', '-U0', '--no-color', '--no-renames', '--relative', parent, commit]);
      links = await readCommitLinks(g, [commit], ['--no-walk']);
      touched = await chainsTouched(g, [commit], ['--no-walk']);
    }
  } catch (error) {
    throw error instanceof AuditGitError ? error : gitFailed(revOrRange, error);
  }
  const added = parseAddedLines(diff);
  const files = new Map<string, Array<{ line: number; text: string; commit: string | null }>>();
  if (!range) {
    const commit = links[0]?.commit ?? null;
    for (const [file, lines] of added)
      files.set(
        file,
        lines.map((l) => ({ ...l, commit })),
      );
  } else {
    // Which commit of the range last touched each added line: blame at the range's head, those lines only.
    const head = (revOrRange.split(/\.\.\.?/)[1] || 'HEAD').trim();
    for (const [file, lines] of added) {
      if (isAuditPath(file) || lines.length === 0) continue;
      const spans = toSpans(lines.map((l) => l.line));
      let blame: Array<{ line: number; commit: string; text: string }>;
      try {
        blame = parseBlamePorcelain(
          await g.raw(['blame', '--porcelain', ...spans.flatMap(([a, b]) => ['-L', `${a},${b}`]), head, '--', file]),
        );
      } catch (error) {
        throw gitFailed(`the blame of ${file} at ${head}`, error);
      }
      const byLine = new Map(blame.map((b) => [b.line, b.commit]));
      files.set(
        file,
        lines.map((l) => ({ ...l, commit: byLine.get(l.line) ?? null })),
      );
    }
  }
  return build(workspaceRoot, revOrRange, links, files, touched);
}

/** Every line of one file (workspace-relative), as it is on disk (or at `rev`), with the sessions and approvals behind it. */
export async function fileAuditBlame(workspaceRoot: string, file: string, rev?: string): Promise<AuditBlame> {
  const g = gitAt(workspaceRoot);
  const relative = file.split('\\').join('/');
  let blame: Array<{ line: number; commit: string; text: string }>;
  let links: CommitLinks[];
  let touched = new Map<string, string[]>();
  try {
    blame = await blameOrUntracked(workspaceRoot, relative, rev);
    const commits = [...new Set(blame.map((b) => b.commit).filter((c) => !/^0+$/.test(c)))];
    links = commits.length ? await readCommitLinks(g, commits, ['--no-walk']) : [];
    if (commits.length) touched = await chainsTouched(g, commits, ['--no-walk']);
  } catch (error) {
    throw error instanceof AuditGitError ? error : gitFailed(`the blame of ${relative}`, error);
  }
  const lines = blame.map((b) => ({ line: b.line, text: b.text, commit: /^0+$/.test(b.commit) ? null : b.commit }));
  return build(workspaceRoot, relative, links, new Map([[relative, lines]]), touched);
}

/** `git blame` of a file; a file git does not track yet is all uncommitted lines. */
async function blameOrUntracked(
  workspaceRoot: string,
  relative: string,
  rev?: string,
): Promise<Array<{ line: number; commit: string; text: string }>> {
  const g = gitAt(workspaceRoot);
  try {
    return parseBlamePorcelain(await g.raw(['blame', '--porcelain', ...(rev ? [rev] : []), '--', relative]));
  } catch (error) {
    const tracked = await g.raw(['ls-files', '--error-unmatch', '--', relative]).then(
      () => true,
      () => false,
    );
    if (rev || tracked) throw error;
    const text = await fs.readFile(path.join(workspaceRoot, relative), 'utf8');
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    return lines.map((t, i) => ({ line: i + 1, commit: '0'.repeat(40), text: t.replace(/\r$/, '') }));
  }
}

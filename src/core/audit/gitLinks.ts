import { simpleGit, type SimpleGit } from 'simple-git';
import { AUDIT_ENTRY_TRAILER, parseAnchorLines } from './anchor';
import { SESSIONS_DIR } from './chains';
import { AUDIT_DIR } from './segments';

/**
 * What git history says about audit sessions: the trailers of each commit. Commits Warden
 * makes (Commit Approved Changes, src/core/git/commit.ts) carry `Warden-Session:`,
 * `Approved-by:` and one `Warden-Audit: <entry hash>` per entry behind them; anchors carry
 * `Warden-Audit-Chain:` lines. An anchor commit (`warden audit anchor`) names every chain, so
 * its chains say nothing about which session produced what and are kept apart.
 */

export interface CommitLinks {
  commit: string;
  subject: string;
  author: string;
  /** ISO time of the commit (committer date). */
  time: string;
  /** `Warden-Session:` trailers. */
  sessions: string[];
  /** Chains named by `Warden-Audit-Chain:` trailers (none for an anchor commit). */
  chains: string[];
  /** `Warden-Audit:` entry hashes. */
  entries: string[];
  approvedBy: string[];
  /** A `Warden audit anchor` commit. */
  anchor: boolean;
}

export class AuditGitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuditGitError';
  }
}

const FORMAT = '--format=%H%x00%an <%ae>%x00%cI%x00%s%x00%B%x1e';

function trailer(body: string, key: string): string[] {
  return [...body.matchAll(new RegExp(`^${key}:[ \\t]*(.+?)[ \\t]*$`, 'gim'))].map((m) => m[1] ?? '').filter(Boolean);
}

/** Parses `git log` output written with FORMAT. Pure, for tests. */
export function parseCommitLog(text: string): CommitLinks[] {
  const out: CommitLinks[] = [];
  for (const record of text.split('\x1e')) {
    const [commit, author, time, subject, body] = record.replace(/^\s+/, '').split('\x00');
    if (!commit || body === undefined) continue;
    const anchor = (subject ?? '').startsWith('Warden audit anchor');
    out.push({
      commit,
      subject: subject ?? '',
      author: author ?? '',
      time: time ?? '',
      sessions: [...new Set(trailer(body, 'Warden-Session'))],
      chains: anchor ? [] : [...new Set(parseAnchorLines(body).map((a) => a.chain))],
      entries: trailer(body, AUDIT_ENTRY_TRAILER).filter((h) => /^[0-9a-f]{64}$/i.test(h)),
      approvedBy: trailer(body, 'Approved-by'),
      anchor,
    });
  }
  return out;
}

export function gitAt(workspaceRoot: string): SimpleGit {
  return simpleGit({ baseDir: workspaceRoot, timeout: { block: 60_000 } });
}

/** The commits `git log <revs>` lists, with their links to audit sessions. */
export async function readCommitLinks(g: SimpleGit, revs: string[], extra: string[] = []): Promise<CommitLinks[]> {
  try {
    return parseCommitLog(await g.raw(['-c', 'core.quotePath=false', 'log', FORMAT, ...extra, ...revs, '--']));
  } catch (error) {
    throw new AuditGitError(`git could not read ${revs.join(' ')}: ${error instanceof Error ? error.message.trim() : String(error)}`);
  }
}

/**
 * Session id -> the commits of HEAD's history that name it (`Warden-Session:` trailers), newest
 * first. Empty outside a git repository or before the first commit: the panel still shows the
 * commits the log itself records (git.committed).
 */
export async function sessionCommitsFromGit(workspaceRoot: string, max = 5000): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  let links: CommitLinks[];
  try {
    const g = gitAt(workspaceRoot);
    if (!(await g.checkIsRepo())) return out;
    links = await readCommitLinks(g, ['HEAD'], [`--max-count=${max}`, '--grep=^Warden-Session:', '--extended-regexp']);
  } catch {
    return out;
  }
  for (const c of links) {
    for (const s of c.sessions) {
      const list = out.get(s) ?? [];
      if (!list.includes(c.commit)) list.push(c.commit);
      out.set(s, list);
    }
  }
  return out;
}

/**
 * Commit -> the session chains whose files it adds or changes (`git log --name-only` over
 * .warden/audit/sessions/). A commit that carries a session's log says that session is behind it.
 */
export async function chainsTouched(g: SimpleGit, revs: string[], extra: string[] = []): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  let text: string;
  try {
    text = await g.raw([
      '-c',
      'core.quotePath=false',
      'log',
      '--format=%x1e%H',
      '--name-only',
      '--relative',
      ...extra,
      ...revs,
      '--',
      SESSION_FILES,
    ]);
  } catch (error) {
    throw new AuditGitError(`git could not read ${revs.join(' ')}: ${error instanceof Error ? error.message.trim() : String(error)}`);
  }
  for (const record of text.split('\x1e')) {
    const [commit, ...files] = record.trim().split('\n');
    if (!commit) continue;
    const chains = new Set<string>();
    for (const f of files) {
      const m = CHAIN_FILE.exec(f.trim());
      if (m?.[1]) chains.add(m[1]);
    }
    if (chains.size) out.set(commit.trim(), [...chains]);
  }
  return out;
}

const SESSION_FILES = `${AUDIT_DIR.split('\\').join('/')}/${SESSIONS_DIR}`;
const CHAIN_FILE = new RegExp(`^${SESSION_FILES.replace(/\./g, '\\.')}/([^/]+)/`);

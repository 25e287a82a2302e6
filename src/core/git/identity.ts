import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { simpleGit } from 'simple-git';
import type { Reviewer } from '../proposals/model';
import { GitRepo } from './repo';

/**
 * The human behind a decision: git's user.name/user.email for the workspace when set,
 * otherwise the OS account. Read once per session; decisions record it verbatim.
 *
 * Asked of git once and remembered while every config file git read stays as it was (and the
 * usual ones that did not exist still do not): each git run forks the calling process, which in
 * a large extension host holds its event loop for 10-20 ms, at the start of every session
 * (issue 21). The window asks while it is idle, so a session finds the answer ready.
 */
export async function resolveReviewer(workspaceRoot: string): Promise<Reviewer> {
  const env = configEnvironment();
  const known = remembered.get(workspaceRoot);
  if (known && known.env === env && (await unchanged(known.files))) return known.reviewer;
  const watched = [...usualConfigFiles(), ...repositoryMarks(workspaceRoot)];
  const before = await stamps(watched);
  const read = await readReviewer(workspaceRoot);
  const after = await stamps([...new Set([...watched, ...read.files])]);
  // Not remembered when git could not say, when a file changed while git read it, or when a
  // config includes a file by the branch checked out (then it depends on HEAD too): asked again.
  const steady = [...before].every(([file, was]) => after.get(file) === was);
  if (read.remember && steady) remembered.set(workspaceRoot, { reviewer: read.reviewer, files: after, env });
  else remembered.delete(workspaceRoot);
  return read.reviewer;
}

const remembered = new Map<string, { reviewer: Reviewer; files: Map<string, string>; env: string }>();

async function readReviewer(workspaceRoot: string): Promise<{ reviewer: Reviewer; files: string[]; remember: boolean }> {
  try {
    const { name, email, files, byBranch } = await userConfig(workspaceRoot);
    const reviewer: Reviewer = name ? { kind: 'human', name, ...(email ? { email } : {}), source: 'git config' } : osUser();
    return { reviewer, files, remember: !byBranch };
  } catch {
    // Git is missing or failed: fall back to the OS user.
    return { reviewer: osUser(), files: [], remember: false };
  }
}

function osUser(): Reviewer {
  return { kind: 'human', name: os.userInfo().username, source: 'os user' };
}

/**
 * user.name and user.email as git resolves them (every config file, includes, the last value
 * wins), and the files they came from, in one git run.
 */
async function userConfig(workspaceRoot: string): Promise<{ name?: string; email?: string; files: string[]; byBranch: boolean }> {
  const git = simpleGit({ baseDir: workspaceRoot, timeout: { block: 5000 } });
  // Records of origin NUL key LF value NUL: "file:/home/a/.gitconfig\0user.name\nAna\0". The
  // repository's own config is named relative to its top level ("file:.git/config").
  const [out, repo] = await Promise.all([git.raw(['config', '--list', '--show-origin', '--null']), GitRepo.open(workspaceRoot)]);
  const base = repo?.toplevel ?? workspaceRoot;
  const found: { name?: string; email?: string; files: string[]; byBranch: boolean } = { files: [], byBranch: false };
  const files = new Set<string>(repo ? [path.join(repo.gitDir, 'config')] : []);
  const records = out.split('\0');
  for (let i = 0; i + 1 < records.length; i += 2) {
    const origin = records[i] ?? '';
    const record = records[i + 1] ?? '';
    if (origin.startsWith('file:')) files.add(path.resolve(base, origin.slice('file:'.length)));
    const newline = record.indexOf('\n');
    const key = (newline < 0 ? record : record.slice(0, newline)).toLowerCase();
    if (key.startsWith('includeif.onbranch:')) found.byBranch = true;
    const value = newline < 0 ? '' : record.slice(newline + 1).trim();
    if (!value) continue;
    if (key === 'user.name') found.name = value;
    else if (key === 'user.email') found.email = value;
  }
  found.files = [...files];
  return found;
}

/** The environment git's configuration depends on, beyond its files. */
function configEnvironment(): string {
  return JSON.stringify(
    Object.entries(process.env).filter(([name]) => /^(GIT_CONFIG|GIT_DIR$|GIT_COMMON_DIR$|HOME$|XDG_CONFIG_HOME$)/.test(name)),
  );
}

/** Where a user's and the system's config usually live, so that one created later is noticed. */
function usualConfigFiles(): string[] {
  const home = process.env.HOME ?? os.homedir();
  const xdg = process.env.XDG_CONFIG_HOME || path.join(home, '.config');
  return [
    ...(process.env.GIT_CONFIG_GLOBAL ? [process.env.GIT_CONFIG_GLOBAL] : [path.join(home, '.gitconfig'), path.join(xdg, 'git', 'config')]),
    process.env.GIT_CONFIG_SYSTEM ?? '/etc/gitconfig',
  ];
}

/**
 * `.git` in the workspace and each folder above it: a repository made or removed around the
 * workspace changes which local config git reads. Marked by existence and identity only (a
 * `.git` folder's times move with every commit).
 */
function repositoryMarks(workspaceRoot: string): string[] {
  const marks: string[] = [];
  for (let dir = path.resolve(workspaceRoot); ; dir = path.dirname(dir)) {
    marks.push(`${MARK}${path.join(dir, '.git')}`);
    if (path.dirname(dir) === dir) return marks;
  }
}

const MARK = 'mark:';

async function stamps(files: string[]): Promise<Map<string, string>> {
  return new Map(await Promise.all(files.map(async (file) => [file, await stamp(file)] as const)));
}

/** What a file is now: absent, or its identity, size and times (an edit moves at least one). */
async function stamp(file: string): Promise<string> {
  try {
    if (file.startsWith(MARK)) {
      const s = await fs.lstat(file.slice(MARK.length), { bigint: true });
      return `${s.dev}:${s.ino}`;
    }
    const s = await fs.stat(file, { bigint: true });
    return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
  } catch {
    return 'absent';
  }
}

async function unchanged(files: Map<string, string>): Promise<boolean> {
  const now = await stamps([...files.keys()]);
  return [...files].every(([file, was]) => now.get(file) === was);
}

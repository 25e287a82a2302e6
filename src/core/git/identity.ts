import * as os from 'node:os';
import { simpleGit } from 'simple-git';
import type { Reviewer } from '../proposals/model';

/**
 * The human behind a decision: git's user.name/user.email for the workspace when set,
 * otherwise the OS account. Read once per session; decisions record it verbatim.
 */
export async function resolveReviewer(workspaceRoot: string): Promise<Reviewer> {
  try {
    const { name, email } = await userConfig(workspaceRoot);
    if (name) return { kind: 'human', name, ...(email ? { email } : {}), source: 'git config' };
  } catch {
    // Not a git repository, or git is missing: fall back to the OS user below.
  }
  return { kind: 'human', name: os.userInfo().username, source: 'os user' };
}

/**
 * user.name and user.email as git resolves them (every config file, includes, the last value
 * wins), in one git run: each run forks the calling process, which in a large extension host
 * holds its event loop for 10-20 ms (issue 21).
 */
async function userConfig(workspaceRoot: string): Promise<{ name?: string; email?: string }> {
  const git = simpleGit({ baseDir: workspaceRoot, timeout: { block: 5000 } });
  // Exits 1 with no output when neither is set; simple-git then resolves with ''.
  const out = await git.raw(['config', '--null', '--get-regexp', '^user\\.(name|email)$']);
  const found: { name?: string; email?: string } = {};
  for (const record of out.split('\0')) {
    const newline = record.indexOf('\n');
    if (newline < 0) continue;
    const key = record.slice(0, newline).toLowerCase();
    const value = record.slice(newline + 1).trim();
    if (!value) continue;
    if (key === 'user.name') found.name = value;
    else if (key === 'user.email') found.email = value;
  }
  return found;
}

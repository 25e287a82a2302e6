import * as os from 'node:os';
import { simpleGit } from 'simple-git';
import type { Reviewer } from '../proposals/model';

/**
 * The human behind a decision: git's user.name/user.email for the workspace when set,
 * otherwise the OS account. Read once per session; decisions record it verbatim.
 */
export async function resolveReviewer(workspaceRoot: string): Promise<Reviewer> {
  try {
    const git = simpleGit({ baseDir: workspaceRoot, timeout: { block: 5000 } });
    const [name, email] = await Promise.all([configValue(git, 'user.name'), configValue(git, 'user.email')]);
    if (name) return { kind: 'human', name, ...(email ? { email } : {}), source: 'git config' };
  } catch {
    // Not a git repository, or git is missing: fall back to the OS user below.
  }
  return { kind: 'human', name: os.userInfo().username, source: 'os user' };
}

async function configValue(git: ReturnType<typeof simpleGit>, key: string): Promise<string | undefined> {
  const result = await git.getConfig(key);
  const value = result.value?.trim();
  return value ? value : undefined;
}

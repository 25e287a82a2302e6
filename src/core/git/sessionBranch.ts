import { assertWritableBranch, DEFAULT_PROTECTED_BRANCHES } from './branchGuard';
import { GitRepo } from './repo';

export const SESSION_BRANCH_PREFIX = 'warden/';

export function sessionBranchName(sessionId: string): string {
  return `${SESSION_BRANCH_PREFIX}${sessionId}`;
}

export type SessionBranch =
  | {
      status: 'created';
      branch: string;
      /** The commit it starts from (HEAD when the session started). */
      base: string;
      /** The branch checked out before (undefined when HEAD was detached). */
      previousBranch: string | undefined;
      /**
       * Workspace paths with uncommitted changes (staged, unstaged or untracked) when the session
       * started. `git switch -c` carries them over untouched; Warden never commits them as the agent's.
       */
      carried: string[];
    }
  | { status: 'none'; reason: string };

/**
 * Puts the session on its own branch `warden/<session>`, created from HEAD and checked out
 * with `git switch -c`. That never loses uncommitted work: the new branch points at the same
 * commit, so git keeps the index and working tree as they are. When there is no branch to make
 * (not a repository, no commit yet, a merge or rebase in progress), the session runs without
 * one and says why; nothing in the repository changes.
 */
export async function startSessionBranch(
  workspaceRoot: string,
  sessionId: string,
  protectedBranches: readonly string[] = DEFAULT_PROTECTED_BRANCHES,
): Promise<SessionBranch> {
  const repo = await GitRepo.open(workspaceRoot);
  if (!repo) return { status: 'none', reason: 'the workspace is not in a git repository' };
  const base = await repo.head();
  if (!base) return { status: 'none', reason: 'the repository has no commit yet, so there is no HEAD to branch from' };
  const busy = await repo.operationInProgress();
  if (busy)
    return { status: 'none', reason: `${busy} is in progress; finish or abort it, then start a new session to get a session branch` };
  const branch = sessionBranchName(sessionId);
  const valid = await repo.run(['check-ref-format', '--branch', branch]).then(
    () => true,
    () => false,
  );
  if (!valid) return { status: 'none', reason: `"${branch}" is not a valid branch name` };
  assertWritableBranch(branch, 'create-branch', protectedBranches);
  if (await repo.resolve(`refs/heads/${branch}`))
    return { status: 'none', reason: `the branch ${branch} already exists; Warden does not reuse it` };
  const previousBranch = await repo.currentBranch();
  const carried = await changedPaths(repo);
  await repo.run(['switch', '--quiet', '-c', branch, base]);
  return { status: 'created', branch, base, previousBranch, carried };
}

/** Workspace-relative paths with uncommitted changes (Warden's own `.warden/audit` aside). */
export async function changedPaths(repo: GitRepo): Promise<string[]> {
  const out = await repo.run(['status', '--porcelain=v1', '-z', '--untracked-files=all', '--', '.']);
  const fields = out.split('\0');
  const paths: string[] = [];
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i]!;
    if (field.length < 4) continue;
    const status = field.slice(0, 2);
    const repoPath = field.slice(3);
    if (status.startsWith('R') || status.startsWith('C')) i++; // the next field is the rename's source
    if (!repoPath.startsWith(repo.prefix)) continue;
    const relative = repoPath.slice(repo.prefix.length);
    if (!relative.startsWith('.warden/audit/')) paths.push(relative);
  }
  return paths.sort();
}

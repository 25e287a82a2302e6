import { GitRepo } from './repo';
import { changedPaths, SESSION_BRANCH_PREFIX } from './sessionBranch';

/**
 * What a session's branch choice needs to know and do, kept out of the editor so the CLI and
 * tests share it: the branch checked out, the uncommitted work that would otherwise be carried
 * silently onto a session branch (or back from one), and the ways to deal with it first.
 */

export interface BranchState {
  /** The branch checked out (undefined when HEAD is detached). */
  current: string | undefined;
  /** Workspace paths with uncommitted changes (Warden's own audit log aside). */
  uncommitted: string[];
}

/** What to do with uncommitted work before switching branches; `carry` is only ever an explicit choice. */
export type UncommittedChoice = 'stash' | 'commit' | 'carry';

/** The git state of the workspace, or undefined outside a repository (or before its first commit). */
export async function branchState(workspaceRoot: string): Promise<BranchState | undefined> {
  const repo = await GitRepo.open(workspaceRoot);
  if (!repo || !(await repo.head())) return undefined;
  return { current: await repo.currentBranch(), uncommitted: await changedPaths(repo) };
}

/** Warden's own files stay where they are: the audit log is appended to while sessions run. */
const KEEP_OUT = ':(exclude).warden/audit';

/** Deals with the uncommitted work as the human chose (a stash or a commit in their name); `carry` leaves it. */
export async function settleUncommitted(workspaceRoot: string, choice: UncommittedChoice, message: string): Promise<string | undefined> {
  const repo = await GitRepo.open(workspaceRoot);
  if (!repo || choice === 'carry') return undefined;
  // An ignored .warden/ needs no exclusion, and naming an ignored path makes git refuse (after stashing).
  const ignored = (await repo.run(['check-ignore', '.warden/audit']).catch(() => '')).trim() !== '';
  const paths = ignored ? ['.'] : ['.', KEEP_OUT];
  if (choice === 'stash') {
    await repo.run(['stash', 'push', '--include-untracked', '--message', message, '--', ...paths]);
    return (await repo.run(['rev-parse', 'refs/stash'])).trim();
  }
  await repo.run(['add', '--all', '--', ...paths]);
  await repo.run(['commit', '--quiet', '--no-verify', '--message', message]);
  return (await repo.run(['rev-parse', 'HEAD'])).trim();
}

export class BranchSwitchError extends Error {}

/**
 * Checks out `branch` again (leaving a session branch). Refused while there is uncommitted work
 * unless the human chose what happens to it: it would otherwise move across with the switch.
 */
export async function returnToBranch(workspaceRoot: string, branch: string, uncommitted?: UncommittedChoice): Promise<void> {
  const repo = await GitRepo.open(workspaceRoot);
  if (!repo) throw new BranchSwitchError('The workspace is not in a git repository');
  if (!(await repo.resolve(`refs/heads/${branch}`))) throw new BranchSwitchError(`There is no branch ${branch} to return to`);
  const current = await repo.currentBranch();
  if (current === branch) return;
  const dirty = await changedPaths(repo);
  if (dirty.length > 0) {
    if (!uncommitted)
      throw new BranchSwitchError(
        `${dirty.length} uncommitted change(s) on ${current ?? 'the detached HEAD'} (${dirty.slice(0, 3).join(', ')}${dirty.length > 3 ? '…' : ''}) would move to ${branch}: commit or stash them first`,
      );
    await settleUncommitted(workspaceRoot, uncommitted, `Warden: work left on ${current ?? 'HEAD'} before returning to ${branch}`);
  }
  await repo.run(['switch', '--quiet', branch]);
}

/** Whether a branch is one Warden made for a session. */
export function isSessionBranch(branch: string | undefined): boolean {
  return branch?.startsWith(SESSION_BRANCH_PREFIX) ?? false;
}

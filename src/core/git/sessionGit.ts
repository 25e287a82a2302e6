import * as path from 'node:path';
import { classifyGitCommand, resolveProtectedBranches, type GitCommandVerdict } from './branchGuard';
import { Checkpoints, type Checkpoint, type PruneOptions } from './checkpoints';
import { GitRepo } from './repo';
import { SessionScope, type ScopeVerdict, type WriteScope } from './scope';
import { startSessionBranch, type SessionBranch } from './sessionBranch';

export interface SessionGitOptions {
  workspaceRoot: string;
  /** Branch globs nobody's agent writes (default main, master, release/*); a policy followed with followPolicy() takes precedence. */
  protectedBranches?: readonly string[];
  /** What the session may touch (settings and policy layers). */
  scope?: SessionScope;
  /** The workspace folder's name in a multi-root workspace (default: its base name). */
  folderName?: string;
  /** Pruning of other sessions' checkpoints when a session starts; false to keep everything. */
  prune?: PruneOptions | false;
}

export interface SessionGitStart {
  branch: SessionBranch;
  /** Checkpoint refs deleted by pruning. */
  pruned: string[];
}

/**
 * The git side of one session, behind the narrow calls the supervisor makes: a branch at
 * the start, a checkpoint before each applied batch, the scope of writes and the verdict on
 * git command lines. A workspace outside git gets no branch and no checkpoints, and says so.
 */
export class SessionGit implements WriteScope {
  readonly scope: SessionScope;
  private checkpoints: Promise<Checkpoints | undefined> | undefined;
  private policyGit: (() => { protectedBranches?: readonly string[] } | undefined) | undefined;

  constructor(private readonly options: SessionGitOptions) {
    this.scope = options.scope ?? SessionScope.unrestricted();
  }

  /**
   * Takes the protected branches from the policy's `git` section, read at each use so an
   * edited policy applies at once. The narrow interface to the policy engine.
   */
  followPolicy(git: () => { protectedBranches?: readonly string[] } | undefined): void {
    this.policyGit = git;
  }

  /** The policy's list when it has one, else the option, else main, master, release/*. */
  get protectedBranches(): readonly string[] {
    const fromPolicy = this.policyGit?.()?.protectedBranches;
    return resolveProtectedBranches(fromPolicy && fromPolicy.length > 0 ? fromPolicy : this.options.protectedBranches);
  }

  async begin(sessionId: string): Promise<SessionGitStart> {
    const branch = await startSessionBranch(this.options.workspaceRoot, sessionId, this.protectedBranches).catch(
      (error: unknown): SessionBranch => ({ status: 'none', reason: `creating the session branch failed: ${error instanceof Error ? error.message : String(error)}` }),
    );
    const checkpoints = await this.store();
    const pruned = checkpoints && this.options.prune !== false ? await checkpoints.prune({ ...(this.options.prune ?? {}), keepSessions: [sessionId] }) : [];
    return { branch, pruned };
  }

  /** Records a checkpoint before a batch; undefined when the workspace is not in git. */
  async checkpoint(sessionId: string, batch: { paths: readonly string[]; label: string }): Promise<Checkpoint | undefined> {
    const checkpoints = await this.store();
    return checkpoints?.create(sessionId, batch);
  }

  async checkWrite(relativePath: string): Promise<ScopeVerdict> {
    if (!this.scope.restricted) return { allowed: true };
    const repo = await GitRepo.open(this.options.workspaceRoot);
    const branch = repo ? await repo.currentBranch() : undefined;
    const root = this.options.workspaceRoot;
    return this.scope.check({ folder: { name: this.options.folderName ?? path.basename(root), path: root }, path: relativePath, branch });
  }

  /** The verdict on a command line that runs git, with the branch checked out now. */
  async classifyCommand(command: string | readonly string[]): Promise<GitCommandVerdict | null> {
    const repo = await GitRepo.open(this.options.workspaceRoot);
    const currentBranch = repo ? await repo.currentBranch() : undefined;
    return classifyGitCommand(command, { currentBranch, protectedBranches: this.protectedBranches });
  }

  private store(): Promise<Checkpoints | undefined> {
    this.checkpoints ??= Checkpoints.open(this.options.workspaceRoot);
    return this.checkpoints;
  }
}

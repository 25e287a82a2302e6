import * as path from 'node:path';
import { classifyGitCommand, resolveProtectedBranches, type GitCommandVerdict } from './branchGuard';
import { Checkpoints, type Checkpoint, type PruneOptions } from './checkpoints';
import { GitRepo } from './repo';
import { SessionScope, type ScopeLayer, type ScopeVerdict, type WriteScope } from './scope';
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
  /**
   * Put the session on its own branch `warden/<session>` (default true). False: the session
   * works on the branch checked out (`warden run`); the guard, the scope and the protected
   * branches apply all the same.
   */
  sessionBranch?: boolean;
  /** A checkpoint before each applied batch, and pruning at the start (default true). False: neither (`warden run`). */
  checkpoints?: boolean;
}

/** The reason a session without a session branch (sessionBranch: false) records. */
export const NO_SESSION_BRANCH_REASON = 'session branches are off for this session: it works on the branch checked out';

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
  private policyScope: (() => readonly ScopeLayer[]) | undefined;

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

  /** Only the write scope, from the policy's layers: for sessions without branches or checkpoints (the CLI). */
  static scopeOnly(workspaceRoot: string, layers: () => readonly ScopeLayer[]): WriteScope {
    const git = new SessionGit({ workspaceRoot });
    git.followPolicyScope(layers);
    return git;
  }

  /**
   * Takes scope layers from the policy (team first, then the user's and the machine's
   * tightening), read at each write so an edited policy applies at once. They narrow the
   * scope given at construction (the settings'); nothing widens it.
   */
  followPolicyScope(layers: () => readonly ScopeLayer[]): void {
    this.policyScope = layers;
  }

  /** The scope a write is checked against now: the policy's layers, then the settings'. */
  get effectiveScope(): SessionScope {
    const fromPolicy = this.policyScope?.() ?? [];
    return fromPolicy.length === 0 ? this.scope : new SessionScope([...fromPolicy, ...this.scope.layers]);
  }

  /** The policy's list when it has one, else the option, else main, master, release/*. */
  get protectedBranches(): readonly string[] {
    const fromPolicy = this.policyGit?.()?.protectedBranches;
    return resolveProtectedBranches(fromPolicy && fromPolicy.length > 0 ? fromPolicy : this.options.protectedBranches);
  }

  async begin(sessionId: string): Promise<SessionGitStart> {
    const branch: SessionBranch =
      this.options.sessionBranch === false
        ? { status: 'none', reason: NO_SESSION_BRANCH_REASON }
        : await startSessionBranch(this.options.workspaceRoot, sessionId, this.protectedBranches).catch(
            (error: unknown): SessionBranch => ({
              status: 'none',
              reason: `creating the session branch failed: ${error instanceof Error ? error.message : String(error)}`,
            }),
          );
    const checkpoints = this.options.checkpoints === false ? undefined : await this.store();
    const pruned =
      checkpoints && this.options.prune !== false
        ? await checkpoints.prune({ ...(this.options.prune ?? {}), keepSessions: [sessionId] })
        : [];
    return { branch, pruned };
  }

  /** Records a checkpoint before a batch; undefined when the workspace is not in git or checkpoints are off. */
  async checkpoint(sessionId: string, batch: { paths: readonly string[]; label: string }): Promise<Checkpoint | undefined> {
    if (this.options.checkpoints === false) return undefined;
    const checkpoints = await this.store();
    return checkpoints?.create(sessionId, batch);
  }

  async checkWrite(relativePath: string): Promise<ScopeVerdict> {
    const scope = this.effectiveScope;
    if (!scope.restricted) return { allowed: true };
    const repo = await GitRepo.open(this.options.workspaceRoot);
    const branch = repo ? await repo.currentBranch() : undefined;
    const root = this.options.workspaceRoot;
    return scope.check({ folder: { name: this.options.folderName ?? path.basename(root), path: root }, path: relativePath, branch });
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

import type { ResolvedAgent } from '../agent/presets';
import { RedactionConfigError } from '../audit/redact';
import type { PruneOptions } from '../git/checkpoints';
import type { SessionScope } from '../git/scope';
import { SessionGit } from '../git/sessionGit';
import type { PolicyProvider } from '../policy/effective';
import type { RuleSuggestion } from '../policy/suggestions';
import type { Reviewer } from '../proposals/model';
import type { ProposalStore } from '../proposals/store';
import type { ReviewMode } from '../proposals/turns';
import { DEFAULT_WORKSPACE_MODE, type SandboxProgress, type SandboxProvider, type WorkspaceMode } from '../sandbox/types';
import { AgentSession, type AuditSink, type SessionOptions } from '../supervisor';
import type { WorkspaceFiles } from '../workspace/files';
import { configureAuditSecrets, type AuditSecrets } from './auditSecrets';
import { rejectAsks, type HeadlessAsks } from './headlessAsks';

/**
 * The git side of a session. The guard on git command lines, the protected branches (the
 * policy's `git.protectedBranches`) and the write scope always apply; these choose the rest.
 */
export interface SessionGitChoices {
  /** Put the session on its own branch `warden/<session>` (the editor); false: stay on the branch checked out (`warden run`). */
  sessionBranch: boolean;
  /** A checkpoint before each applied batch, others' pruned at the start by these limits (the editor); false: none (`warden run`). */
  checkpoints: Pick<PruneOptions, 'keepLast' | 'maxAgeDays'> | false;
  /** What the settings let the session touch (`warden.session.scope`); the policy's scope layers narrow it. Default: no settings layer. */
  scope?: SessionScope;
}

/**
 * Everything a session is made of, passed in. The editor (`src/vscode/sessionController.ts`) and
 * `warden run` (`src/cli/run.ts`) both start sessions through `assembleSession`; where they differ
 * it is one of the named choices below (`git`, `reuseSandbox`, `asks`), never a missing part.
 */
export interface SessionAssembly {
  /** The workspace folder on the host, and its name in a multi-root workspace (default: the base name). */
  workspace: { root: string; name?: string };
  /** Host folder with Warden's bundled agents (the demo agent), mounted read-only. */
  agentsHostPath: string;
  /** What starts: preset, command (empty: the demo agent) and protocol (`resolveAgent`). */
  agent: ResolvedAgent;
  /** The agent process's own secrets (its model API key); masked in the audit too. */
  agentEnv?: Record<string, string>;
  sandboxProvider: SandboxProvider;
  store: ProposalStore;
  audit: AuditSink;
  files: WorkspaceFiles;
  /** The human on whose behalf the session runs (git identity or OS user). */
  reviewer: Reviewer;
  /** The effective team policy (an invalid one is the safest policy: everything asks). */
  policy: PolicyProvider;
  git: SessionGitChoices;
  /** The host's secrets masked in the audit (configured for the process at start). */
  secrets: AuditSecrets;
  /** Keep the sandbox stopped at the end and reuse a kept one at start (the editor); false: removed (`warden run`). */
  reuseSandbox: boolean;
  /** Who answers the policy's asks: a human (the editor's Review panel), or nobody (`warden run --on-ask`: rejected). */
  asks: 'human' | HeadlessAsks;
  /** How the agent sees the workspace; default DEFAULT_WORKSPACE_MODE (copy). */
  workspaceMode?: WorkspaceMode;
  /** How long a proposal may wait for a human before it is rejected; default 30 minutes. */
  decisionTimeoutMs?: number;
  /** 'turn': the turn's changes in the copy are reviewed together at its end; default 'action' (every write waits). */
  reviewMode?: ReviewMode;
  /** Host variables that may enter the sandbox; default LANG, LANGUAGE, LC_*, TZ, TERM. */
  environmentAllowList?: readonly string[];
  /** Resume this agent session instead of starting one. */
  resumeAgentSessionId?: string;
  log?: (line: string) => void;
  onSandboxProgress?: (progress: SandboxProgress) => void;
  onSuggestion?: (suggestion: RuleSuggestion) => void;
}

/** The one way a session is put together and started (DESIGN.md, invariant 9). */
export async function assembleSession(assembly: SessionAssembly): Promise<AgentSession> {
  configureSecrets(assembly);
  const asks = assembly.asks === 'human' ? undefined : rejectAsks(assembly.store, assembly.asks);
  try {
    const session = await AgentSession.start(sessionOptions(assembly));
    if (asks) session.onEvent((event) => event.type === 'ended' && asks.dispose());
    return session;
  } catch (error) {
    asks?.dispose();
    throw error;
  }
}

/** The supervisor's options for an assembly: the defaults applied here, and only here. */
export function sessionOptions(assembly: SessionAssembly): SessionOptions {
  const { agent } = assembly;
  return {
    workspaceRoot: assembly.workspace.root,
    agentsHostPath: assembly.agentsHostPath,
    agentCommand: agent.command,
    agentProtocol: agent.protocol,
    ...(assembly.agentEnv ? { agentEnv: assembly.agentEnv } : {}),
    ...(assembly.resumeAgentSessionId ? { resumeAgentSessionId: assembly.resumeAgentSessionId } : {}),
    sandboxProvider: assembly.sandboxProvider,
    store: assembly.store,
    audit: assembly.audit,
    files: assembly.files,
    reviewer: assembly.reviewer,
    policy: assembly.policy,
    git: sessionGit(assembly.workspace, assembly.git),
    reuseSandbox: assembly.reuseSandbox,
    workspaceMode: assembly.workspaceMode ?? DEFAULT_WORKSPACE_MODE,
    ...(assembly.reviewMode ? { reviewMode: assembly.reviewMode } : {}),
    ...(assembly.decisionTimeoutMs !== undefined ? { decisionTimeoutMs: assembly.decisionTimeoutMs } : {}),
    ...(assembly.environmentAllowList ? { environmentAllowList: assembly.environmentAllowList } : {}),
    ...(assembly.log ? { log: assembly.log } : {}),
    ...(assembly.onSandboxProgress ? { onSandboxProgress: assembly.onSandboxProgress } : {}),
    ...(assembly.onSuggestion ? { onSuggestion: assembly.onSuggestion } : {}),
  };
}

function sessionGit(workspace: SessionAssembly['workspace'], choices: SessionGitChoices): SessionGit {
  return new SessionGit({
    workspaceRoot: workspace.root,
    ...(workspace.name !== undefined ? { folderName: workspace.name } : {}),
    ...(choices.scope ? { scope: choices.scope } : {}),
    sessionBranch: choices.sessionBranch,
    checkpoints: choices.checkpoints !== false,
    prune: choices.checkpoints === false ? false : { ...choices.checkpoints },
  });
}

/**
 * The host's and the agent's secrets, masked in the audit from here on. A bad pattern keeps the
 * previous ones in force (the editor reported it when the setting changed); the session starts.
 */
function configureSecrets(assembly: SessionAssembly): void {
  const log = assembly.log ?? (() => undefined);
  try {
    const masked = configureAuditSecrets(assembly.secrets, assembly.agentEnv);
    log(
      `audit redaction: the values of ${masked.envValues} of ${masked.envVars} variables, ${masked.patterns} patterns and ${masked.agentSecrets} agent secrets`,
    );
  } catch (error) {
    if (!(error instanceof RedactionConfigError)) throw error;
    log(`audit redaction: ${error.message}; the previous patterns stay in force`);
  }
}

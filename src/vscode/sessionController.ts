import * as vscode from 'vscode';
import type { StopReason } from '@agentclientprotocol/sdk';
import { AuditLog } from '../core/audit';
import { resolveReviewer } from '../core/git/identity';
import { SessionGit } from '../core/git/sessionGit';
import { decisionFor, type ReviewChoice } from '../core/proposals/decisions';
import { HunkChoices } from '../core/proposals/hunkChoices';
import type { Decision, Reviewer } from '../core/proposals/model';
import type { ProposalStore } from '../core/proposals/store';
import type { SandboxProgress, SandboxProvider } from '../core/sandbox/types';
import { AgentSession, errorMessage, type SessionEvent } from '../core/supervisor';
import { EditorWorkspaceFiles } from './editorWorkspaceFiles';
import type { PolicyService } from './policyService';
import { readGitSettings, sessionScopeFromSettings } from './gitSettings';
import { readSettings } from './settings';
import { AgentSecrets, readAgentSettings, readSecretEnvNames } from './agentSettings';
import { Emitter } from '../core/util/events';
import { SessionFeed, type FeedEntry } from '../core/session/sessionFeed';
import type { RuleSuggestion } from '../core/policy/suggestions';
import type { SessionSummary } from '../shared/sessionProtocol';
import type { SessionViewSource } from './sessionView';

export interface StartSessionResult {
  sessionId: string;
  /** Resolves when the agent's first turn ends. */
  turn: Promise<StopReason>;
}

/**
 * Owns the window's agent session (one at a time for now): starts it with progress,
 * forwards what the agent does to the output channel, and records reviewers' decisions.
 */
export class SessionController implements vscode.Disposable, SessionViewSource {
  private session: AgentSession | undefined;
  /** What the Session view shows of the current (or last) session. */
  private feed = new SessionFeed();
  private agentLabel = '';
  private readonly feedChanged = new Emitter<void>();
  readonly onDidChange = this.feedChanged.event;
  private secrets: AgentSecrets | undefined;
  private suggestionSink: ((suggestion: RuleSuggestion, folder: vscode.WorkspaceFolder) => void) | undefined;
  private reviewer: Reviewer | undefined;
  private currentTurn: Promise<StopReason> | undefined;
  private policies: PolicyService | undefined;
  private last: { folder: vscode.WorkspaceFolder; sessionId: string } | undefined;
  private readonly activeChanged = new vscode.EventEmitter<AgentSession | undefined>();
  /** Fires when a session starts (the session) or ends (undefined). */
  readonly onDidChangeActive = this.activeChanged.event;
  /** Per-hunk choices from the editor's lenses and the Review panel, shared so both show the same. */
  readonly hunks: HunkChoices;

  constructor(
    private readonly store: ProposalStore,
    private readonly sandboxProvider: SandboxProvider,
    private readonly agentsHostPath: string,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.hunks = new HunkChoices({ store, review: (id, choice) => this.review(id, choice) });
  }

  get activeSession(): AgentSession | undefined {
    return this.session?.state === 'ended' ? undefined : this.session;
  }

  get lastTurn(): Promise<StopReason> | undefined {
    return this.currentTurn;
  }

  /** The window's running or most recent session (git commands act on it after it ended, too). */
  get lastSession(): { folder: vscode.WorkspaceFolder; sessionId: string } | undefined {
    return this.last;
  }

  /** Agent API keys (SecretStorage) and where suggested rules go (set once at activation). */
  useAgentSupport(secrets: AgentSecrets, onSuggestion: (suggestion: RuleSuggestion, folder: vscode.WorkspaceFolder) => void): void {
    this.secrets = secrets;
    this.suggestionSink = onSuggestion;
  }

  /** The team policy for sessions started from now on (set once at activation). */
  usePolicies(policies: PolicyService): void {
    this.policies = policies;
  }

  async start(folder: vscode.WorkspaceFolder, instruction: string, resumeAgentSessionId?: string): Promise<StartSessionResult> {
    if (this.activeSession) throw new Error('A Warden session is already running. Stop it first (Warden: Stop Session).');
    const workspaceRoot = folder.uri.fsPath;
    this.reviewer = await resolveReviewer(workspaceRoot);
    const reviewer = this.reviewer;
    const settings = readSettings(folder.uri);
    const agent = readAgentSettings(folder.uri);
    const agentEnv = await this.secrets?.envFor(agent, readSecretEnvNames(folder.uri));
    if (agent.apiKeyEnv && !agentEnv && agent.command) {
      this.log.warn(`[session] no API key is configured for ${agent.apiKeyEnv} (Warden: Set Agent API Key); the agent gets none`);
    }
    this.feed.dispose();
    this.feed = new SessionFeed();
    this.feed.onDidChange(() => this.feedChanged.fire());
    this.agentLabel = agent.command || 'Warden demo agent';
    const policy = await this.policies?.forSession(folder);
    const gitSettings = readGitSettings(folder.uri);
    const git = new SessionGit({
      workspaceRoot,
      scope: sessionScopeFromSettings(gitSettings),
      folderName: folder.name,
      prune: { keepLast: gitSettings.checkpointsKeep, maxAgeDays: gitSettings.checkpointsMaxAgeDays },
    });
    const session = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'Warden: starting the sandbox', cancellable: false },
      async (progress) =>
        AgentSession.start({
          workspaceRoot,
          agentsHostPath: this.agentsHostPath,
          agentCommand: agent.command,
          agentProtocol: agent.protocol,
          ...(agentEnv ? { agentEnv } : {}),
          ...(resumeAgentSessionId ? { resumeAgentSessionId } : {}),
          onSuggestion: (suggestion) => this.suggestionSink?.(suggestion, folder),
          decisionTimeoutMs: settings.decisionTimeoutMs,
          // Stop Session keeps the sandbox (stopped) for the next session; a changed configuration rebuilds it.
          reuseSandbox: true,
          workspaceMode: settings.workspaceMode,
          sandboxProvider: this.sandboxProvider,
          store: this.store,
          audit: AuditLog.forWorkspace(workspaceRoot),
          files: new EditorWorkspaceFiles(folder.uri),
          reviewer,
          git,
          ...(policy ? { policy } : {}),
          ...(settings.environmentAllowList ? { environmentAllowList: settings.environmentAllowList } : {}),
          log: (line) => this.log.info(`[sandbox] ${line}`),
          // Pull per layer and build per step; the build log itself goes to the output channel.
          onSandboxProgress: (() => {
            let shown = 0;
            return (step: SandboxProgress) => {
              const percent = step.fraction === undefined ? shown : Math.round(step.fraction * 100);
              progress.report({ message: step.message.slice(0, 160), ...(percent > shown ? { increment: percent - shown } : {}) });
              shown = Math.max(shown, percent); // the bar only moves forward
            };
          })(),
        }),
    );
    this.session = session;
    this.last = { folder, sessionId: session.id };
    this.activeChanged.fire(session);
    session.onEvent((event) => event.type === 'ended' && this.activeChanged.fire(undefined));
    this.log.info(`[session ${session.id}] started in container ${session.containerId ?? '?'}`);
    session.onEvent((event) => this.logEvent(session.id, event));
    const feed = this.feed;
    session.onEvent((event) => {
      feed.push(event);
      if (event.type === 'ended') this.feedChanged.fire();
    });
    this.feedChanged.fire();
    return { sessionId: session.id, turn: this.runTurn(session, instruction) };
  }

  /** A follow-up instruction to the running session (from the Session view). */
  async prompt(instruction: string): Promise<StopReason> {
    const session = this.activeSession;
    if (!session) throw new Error('No Warden session is running. Start one with "Warden: Start Agent Session".');
    return this.runTurn(session, instruction);
  }

  async cancel(): Promise<void> {
    await this.activeSession?.cancel();
  }

  /** A human's answer to a question the agent asked. */
  async answer(proposalId: string, answer: string): Promise<void> {
    const reviewer = await this.requireReviewer();
    this.store.decide(proposalId, { verdict: 'approve', reviewer, answer, decidedAt: new Date().toISOString() });
  }

  async decline(proposalId: string): Promise<void> {
    await this.decide(proposalId, 'reject', 'the human declined to answer');
  }

  showReview(): void {
    void vscode.commands.executeCommand('warden.showReview');
  }

  summary(): SessionSummary | null {
    const session = this.session;
    if (!session) return null;
    const info = session.agentSession;
    return {
      id: session.id,
      state: session.state,
      agent: info?.agentName ? `${info.agentName} (${this.agentLabel})` : this.agentLabel,
      protocol: info?.protocol ?? 'acp',
      ...(info ? { agentSessionId: info.agentSessionId } : {}),
      pendingReviews: this.store.pending().filter((p) => p.sessionId === session.id && p.kind !== 'question').length,
    };
  }

  entries(): FeedEntry[] {
    return this.feed.all();
  }

  private runTurn(session: AgentSession, instruction: string): Promise<StopReason> {
    this.currentTurn = session.prompt(instruction);
    this.feedChanged.fire();
    this.currentTurn.finally(() => this.feedChanged.fire()).catch(() => undefined);
    this.currentTurn.then(
      (stopReason) => this.log.info(`[session ${session.id}] turn ended: ${stopReason}`),
      (error: unknown) => {
        this.log.error(`[session ${session.id}] turn failed: ${errorMessage(error)}`);
        void vscode.window.showErrorMessage(`Warden: the agent's turn failed: ${errorMessage(error)}`);
      },
    );
    return this.currentTurn;
  }

  /** The kill switch: the container is killed and removed at once; pending proposals are orphaned first. */
  async kill(reason = 'Warden: Stop Agent Now'): Promise<boolean> {
    const session = this.activeSession;
    if (!session) return false;
    await session.kill(reason);
    return true;
  }

  async stop(reason = 'stopped by the user'): Promise<boolean> {
    const session = this.activeSession;
    if (!session) return false;
    await session.stop(reason);
    return true;
  }

  /** A human decision from the review panel, a CodeLens or a command. */
  async decide(proposalId: string, verdict: Decision['verdict'], reason?: string, optionId?: string): Promise<void> {
    const reviewer = await this.requireReviewer();
    this.hunks.clear(proposalId);
    this.store.decide(proposalId, { verdict, reviewer, decidedAt: new Date().toISOString(), ...(reason ? { reason } : {}), ...(optionId ? { optionId } : {}) });
  }

  /** A human decision with more in it than a verdict: chosen hunks, edited content, an edited command. */
  async review(proposalId: string, choice: ReviewChoice): Promise<void> {
    const proposal = this.store.get(proposalId);
    if (!proposal) throw new Error(`No proposal with id ${proposalId}`);
    const reviewer = await this.requireReviewer();
    const decision = decisionFor(proposal, choice, reviewer);
    this.hunks.clear(proposalId);
    this.store.decide(proposalId, decision);
  }

  private async requireReviewer(): Promise<Reviewer> {
    const folder = vscode.workspace.workspaceFolders?.[0];
    const reviewer = this.reviewer ?? (folder ? await resolveReviewer(folder.uri.fsPath) : undefined);
    if (!reviewer) throw new Error('No reviewer identity: open a workspace folder');
    return reviewer;
  }

  dispose(): void {
    void this.stop('VS Code window closed or extension deactivated');
    this.activeChanged.dispose();
  }

  private logEvent(sessionId: string, event: SessionEvent): void {
    switch (event.type) {
      case 'agent-message':
        this.log.info(`[agent ${sessionId}] ${event.text.trimEnd()}`);
        break;
      case 'tool-call':
        this.log.info(`[agent ${sessionId}] ${event.kind}: ${event.title} (${event.status})`);
        break;
      case 'plan':
        this.log.info(`[agent ${sessionId}] plan: ${event.entries.map((e) => `${e.content} [${e.status}]`).join('; ')}`);
        break;
      case 'ended':
        this.log.info(`[session ${sessionId}] ended: ${event.reason}`);
        break;
    }
  }
}

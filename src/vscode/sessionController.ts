import * as vscode from 'vscode';
import { chooseSessionBranch, SessionBranches, type BranchArgs } from './sessionBranches';
import type { StopReason } from '@agentclientprotocol/sdk';
import { AuditLog } from '../core/audit';
import { resolveReviewer } from '../core/git/identity';
import { decisionFor, type ReviewChoice } from '../core/proposals/decisions';
import { HunkChoices } from '../core/proposals/hunkChoices';
import type { Decision, Reviewer } from '../core/proposals/model';
import type { ProposalStore } from '../core/proposals/store';
import { effectiveReviewMode, turnKey, type ReviewMode } from '../core/proposals/turns';
import type { TurnInfo } from '../shared/reviewProtocol';
import type { SandboxProgress, SandboxProvider } from '../core/sandbox/types';
import { errorMessage, type AgentSession, type SessionEvent } from '../core/supervisor';
import { assembleSession, type SessionGitChoices } from '../core/session/assembly';
import { EditorWorkspaceFiles } from './editorWorkspaceFiles';
import type { PolicyService } from './policyService';
import { readGitSettings, sessionScopeFromSettings, type GitSettings } from './gitSettings';
import { readSettings } from './settings';
import { readAgentSettings, readSecretEnvNames, type AgentSecrets } from './agentSettings';
import { Emitter } from '../core/util/events';
import { SessionFeed, type FeedChanges } from '../core/session/sessionFeed';
import { EGRESS_NOTICE_PREFIX } from '../core/egress/session';
import { AgentMessageLog } from './agentMessageLog';
import type { RuleSuggestion } from '../core/policy/suggestions';
import type { SessionSummary } from '../shared/conversationProtocol';
import type { ConversationSource } from './conversation';

/** What the controller is built from (extension.ts), all of it at construction. */
export interface SessionControllerDeps {
  store: ProposalStore;
  sandboxProvider: SandboxProvider;
  /** Host folder with Warden's bundled agents. */
  agentsHostPath: string;
  log: vscode.LogOutputChannel;
  /** The team policy of each session. */
  policies: PolicyService;
  /** Agent API keys (SecretStorage). */
  secrets: AgentSecrets;
}

/** A rule an "always allow" answer suggested, and the folder whose policy it belongs in. */
export interface SuggestedRule {
  suggestion: RuleSuggestion;
  folder: vscode.WorkspaceFolder;
}

export interface StartSessionResult {
  sessionId: string;
  /** Resolves when the agent's first turn ends. */
  turn: Promise<StopReason>;
}

/**
 * Owns the window's agent session (one at a time for now): starts it with progress,
 * forwards what the agent does to the output channel, and records reviewers' decisions.
 */
export class SessionController implements vscode.Disposable, ConversationSource {
  private session: AgentSession | undefined;
  /** What the conversation shows of the current (or last) session. */
  private feed = new SessionFeed();
  /** Instructions given while the agent works: each goes out when the turn before it ends. */
  private queue: string[] = [];
  private readonly instructionReturned = new Emitter<{ text: string; reason: string }>();
  /** Fires with a queued instruction that could not be sent after all (the session ended first): it is offered back. */
  readonly onDidReturnInstruction = this.instructionReturned.event;
  private agentLabel = '';
  private readonly feedChanged = new Emitter<void>();
  readonly onDidChange = this.feedChanged.event;
  private reviewer: Reviewer | undefined;
  private currentTurn: Promise<StopReason> | undefined;
  private last: { folder: vscode.WorkspaceFolder; sessionId: string } | undefined;
  private readonly activeChanged = new vscode.EventEmitter<AgentSession | undefined>();
  /** Fires when a session starts (the session) or ends (undefined). */
  readonly onDidChangeActive = this.activeChanged.event;
  private readonly suggested = new vscode.EventEmitter<SuggestedRule>();
  /** Fires when an "always allow" answer suggests a policy rule. */
  readonly onDidSuggestRule = this.suggested.event;
  /** Per-hunk choices from the editor's lenses and the Review panel, shared so both show the same. */
  readonly hunks: HunkChoices;
  /** The session branch the last session created, and the way back to the branch it left. */
  readonly branches: SessionBranches;
  private readonly store: ProposalStore;
  private readonly log: vscode.LogOutputChannel;
  /** The review mode of the current (or last) session; before any, the first folder's. */
  private mode: ReviewMode | undefined;
  private readonly turnEnded = new Emitter<string>();
  /** Fires with `<sessionId>#<turn>` when a turn whose changes wait for review ends (turn mode). */
  readonly onDidEndTurnWithChanges = this.turnEnded.event;

  constructor(private readonly deps: SessionControllerDeps) {
    this.store = deps.store;
    this.log = deps.log;
    this.hunks = new HunkChoices({ store: deps.store, review: (id, choice) => this.review(id, choice) });
    this.branches = new SessionBranches(deps.log);
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

  /** Starts a session; undefined when the reviewer cancelled at the branch question (nothing started, nothing changed). */
  async start(
    folder: vscode.WorkspaceFolder,
    instruction: string,
    resumeAgentSessionId?: string,
    branchArgs?: BranchArgs,
  ): Promise<StartSessionResult | undefined> {
    if (this.activeSession) throw new Error('A Warden session is already running. Stop it first (Warden: Stop Session).');
    const sessionBranch = await chooseSessionBranch(folder, branchArgs);
    if (sessionBranch === undefined) return undefined;
    const workspaceRoot = folder.uri.fsPath;
    this.reviewer = await resolveReviewer(workspaceRoot);
    const reviewer = this.reviewer;
    const settings = readSettings(folder.uri);
    const agent = readAgentSettings(folder.uri);
    const agentEnv = await this.deps.secrets.envFor(agent, readSecretEnvNames(folder.uri));
    if (agent.apiKeyEnv && !agentEnv && agent.command) {
      this.log.warn(`[session] no API key is configured for ${agent.apiKeyEnv} (Warden: Set Agent API Key); the agent gets none`);
    }
    this.feed.dispose();
    this.feed = new SessionFeed();
    this.feed.onDidChange(() => this.feedChanged.fire());
    this.agentLabel = agent.command || 'Warden demo agent';
    const policy = await this.deps.policies.forSession(folder);
    this.mode = effectiveReviewMode(settings.reviewMode, policy.current().defaults.command);
    const git = editorGit(readGitSettings(folder.uri), sessionBranch);
    const session = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'Warden: starting the sandbox', cancellable: false },
      async (progress) =>
        assembleSession({
          workspace: { root: workspaceRoot, name: folder.name },
          agentsHostPath: this.deps.agentsHostPath,
          agent,
          ...(agentEnv ? { agentEnv } : {}),
          ...(resumeAgentSessionId ? { resumeAgentSessionId } : {}),
          sandboxProvider: this.deps.sandboxProvider,
          store: this.store,
          audit: AuditLog.forWorkspace(workspaceRoot),
          files: new EditorWorkspaceFiles(folder.uri),
          reviewer,
          policy,
          git,
          secrets: { env: process.env, ...settings.auditRedact },
          // Stop Session keeps the sandbox (stopped) for the next session; a changed configuration rebuilds it.
          reuseSandbox: true,
          // A human answers in the Review panel.
          asks: 'human',
          workspaceMode: settings.workspaceMode,
          reviewMode: this.mode,
          decisionTimeoutMs: settings.decisionTimeoutMs,
          ...(settings.environmentAllowList ? { environmentAllowList: settings.environmentAllowList } : {}),
          onSuggestion: (suggestion) => this.suggested.fire({ suggestion, folder }),
          log: (line) => this.log.info(`[sandbox] ${line}`),
          onSandboxProgress: progressReporter(progress),
        }),
    );
    this.session = session;
    this.last = { folder, sessionId: session.id };
    this.branches.announce(folder, session.sessionBranch);
    this.activeChanged.fire(session);
    session.onEvent((event) => event.type === 'ended' && this.activeChanged.fire(undefined));
    session.onEvent((event) => event.type === 'ended' && this.returnQueued(`the session ended: ${event.reason}`));
    this.log.info(`[session ${session.id}] started in container ${session.containerId ?? '?'}`);
    const messages = new AgentMessageLog((lines) => this.log.info(lines.map((line) => `[agent ${session.id}] ${line}`).join('\n')));
    session.onEvent((event) => this.logEvent(session.id, event, messages));
    const feed = this.feed;
    session.onEvent((event) => {
      feed.push(event);
      if (event.type === 'ended') this.feedChanged.fire();
    });
    // Files coming in: the reviewer sees at the start what the policy kept out of the sandbox.
    const withheld = session.withheldSummary;
    if (withheld) {
      this.log.info(`[session ${session.id}] ${withheld}`);
      feed.push({ type: 'notice', level: 'info', text: `${withheld} (the audit lists them with their hashes).` });
    }
    this.feedChanged.fire();
    return { sessionId: session.id, turn: this.runTurn(session, instruction) };
  }

  /** A follow-up instruction to the running session, sent now (the agent's turn is over). */
  async prompt(instruction: string): Promise<StopReason> {
    const session = this.activeSession;
    if (!session) throw new Error('No Warden session is running. Start one with "Warden: Start Agent Session".');
    return this.runTurn(session, instruction);
  }

  /**
   * An instruction for the running session (the panel's box, Start Agent Session while one runs):
   * sent at once when the agent waits for one, else queued and sent when the turn under way ends
   * (ACP takes one prompt at a time). Throws when no session runs: the caller keeps the text.
   */
  instruct(instruction: string): 'sent' | 'queued' {
    const session = this.activeSession;
    if (!session) throw new Error('No Warden session is running. Start one with "Warden: Start Agent Session".');
    if (session.state === 'ready' && this.queue.length === 0) {
      void this.runTurn(session, instruction).catch(() => undefined);
      return 'sent';
    }
    this.queue.push(instruction);
    this.feedChanged.fire();
    return 'queued';
  }

  /** The instructions waiting for the running turn to end, in order. */
  queued(): string[] {
    return [...this.queue];
  }

  /** The next queued instruction goes out once the agent is ready again. */
  private sendQueued(session: AgentSession): void {
    if (session !== this.session) return;
    if (session.state === 'ended') {
      this.returnQueued('the session ended before it could be sent');
      return;
    }
    const next = session.state === 'ready' ? this.queue.shift() : undefined;
    if (next !== undefined) void this.runTurn(session, next).catch(() => undefined);
  }

  /** Queued instructions that will not be sent: offered back (the panel's box), said in a notification and logged in full. */
  private returnQueued(reason: string): void {
    const texts = this.queue.splice(0);
    if (texts.length === 0) return;
    for (const text of texts) {
      this.log.warn(`[session] an instruction was not sent (${reason}): ${text}`);
      this.instructionReturned.fire({ text, reason });
    }
    const first = texts[0] ?? '';
    void vscode.window.showWarningMessage(
      `Warden: ${texts.length === 1 ? 'your instruction was' : `${texts.length} instructions were`} not sent (${reason}): "${first.slice(0, 200)}"${texts.length > 1 ? ' …' : ''}. The full text is in the Warden output; an open Warden panel puts it back in its box.`,
    );
    this.feedChanged.fire();
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

  feedChanges(since: number): FeedChanges {
    return this.feed.changes(since);
  }

  /** How the Review panel shows pending proposals: the session's mode, else what a new session would use. */
  reviewMode(): ReviewMode {
    if (this.mode) return this.mode;
    const folder = vscode.workspace.workspaceFolders?.[0];
    return effectiveReviewMode(readSettings(folder?.uri).reviewMode, 'ask');
  }

  /** The turns of the current (or last) session; the one under way is marked running. */
  turns(): TurnInfo[] {
    const session = this.session;
    if (!session || session.turn === 0) return [];
    return Array.from({ length: session.turn }, (_, i) => ({
      sessionId: session.id,
      turn: i + 1,
      running: i + 1 === session.turn && session.state === 'prompting',
    }));
  }

  private runTurn(session: AgentSession, instruction: string): Promise<StopReason> {
    this.currentTurn = session.prompt(instruction);
    const turn = session.turn;
    this.feed.instruction(instruction, turn);
    // Turn review: once the turn is over, its changes (all in now) are shown together.
    void this.currentTurn.then(
      () => {
        const waiting = this.store.pending().some((p) => p.sessionId === session.id && p.turn === turn);
        if (session.reviewsTurns && waiting) this.turnEnded.fire(turnKey(session.id, turn));
      },
      () => undefined,
    );
    this.feedChanged.fire();
    this.currentTurn
      .finally(() => {
        this.feedChanged.fire();
        // After the turn's own handlers (the state is 'ready' again once prompt() settled).
        setImmediate(() => this.sendQueued(session));
      })
      .catch(() => undefined);
    this.currentTurn.then(
      (stopReason) => this.log.info(`[session ${session.id}] turn ended: ${stopReason}`),
      (error: unknown) => {
        // Stopped or killed on purpose: the turn ends with the session; that is not a failure to report.
        if (session.state === 'ended') {
          this.log.info(`[session ${session.id}] the turn ended with the session: ${errorMessage(error)}`);
          return;
        }
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
    this.store.decide(proposalId, {
      verdict,
      reviewer,
      decidedAt: new Date().toISOString(),
      ...(reason ? { reason } : {}),
      ...(optionId ? { optionId } : {}),
    });
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
    this.suggested.dispose();
    this.turnEnded.dispose();
    this.instructionReturned.dispose();
    this.branches.dispose();
  }

  private logEvent(sessionId: string, event: SessionEvent, messages: AgentMessageLog): void {
    // The agent's stream goes out in batches; anything else first sends what waits.
    switch (event.type) {
      case 'agent-message':
        messages.chunk(event.text);
        return;
      case 'thought':
        return;
      case 'tool-call':
        messages.line(`${event.kind}: ${event.title} (${event.status})`);
        return;
      case 'plan':
        messages.line(`plan: ${event.entries.map((e) => `${e.content} [${e.status}]`).join('; ')}`);
        return;
    }
    messages.flush();
    switch (event.type) {
      case 'ended':
        this.log.info(`[session ${sessionId}] ended: ${event.reason}`);
        break;
      case 'notice':
        if (event.level === 'info') this.log.info(`[session ${sessionId}] ${event.text}`);
        else this.log.warn(`[session ${sessionId}] ${event.text}`);
        // Losing the way out mid-session changes what the agent can do: said outside the feed too.
        if (event.level === 'warning' && event.text.startsWith(EGRESS_NOTICE_PREFIX))
          void vscode.window.showWarningMessage(`Warden: ${event.text}`);
        break;
    }
  }
}

/** The editor's git choices: a session branch and checkpoints (pruned by the settings), the settings' scope. */
function editorGit(settings: GitSettings, sessionBranch: boolean): SessionGitChoices {
  return {
    sessionBranch,
    checkpoints: { keepLast: settings.checkpointsKeep, maxAgeDays: settings.checkpointsMaxAgeDays },
    scope: sessionScopeFromSettings(settings),
  };
}

/** Pull per layer and build per step on the notification; the build log itself goes to the output channel. */
function progressReporter(progress: vscode.Progress<{ message?: string; increment?: number }>): (step: SandboxProgress) => void {
  let shown = 0;
  return (step) => {
    const percent = step.fraction === undefined ? shown : Math.round(step.fraction * 100);
    progress.report({ message: step.message.slice(0, 160), ...(percent > shown ? { increment: percent - shown } : {}) });
    shown = Math.max(shown, percent); // the bar only moves forward
  };
}

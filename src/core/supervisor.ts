import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type * as acp from '@agentclientprotocol/sdk';
import { agentArgv } from './agent/agentCommand';
import type { AgentConnection, AgentProtocol, AgentSessionInfo } from './agent/connection';
import { connectAgent } from './session/connectAgent';
import { currentOwner, recordDeadSessions } from './session/deadSessions';
import type { SessionEvent } from './session/sessionEvents';
import type { RuleSuggestion } from './policy/suggestions';
import { EgressSession } from './egress/session';
import { NetworkAsks } from './session/networkAsks';
import type { AuditActor, AuditEventInput } from './audit/types';
import type { RecordedEvent } from './audit/events';
import { policyScopeLayers, policySummary, type PolicyProvider } from './policy/effective';
import { SessionGit } from './git/sessionGit';
import type { SessionBranch } from './git/sessionBranch';
import { ProposalHandlers, type ProposalHandlerDeps } from './session/proposalHandlers';
import { ProposalGate, type ApplyBatch } from './session/gate';
import { SandboxChanges } from './session/sandboxChanges';
import { ExposureWatch, isWithheld, mayDenyReads, readDeniedBy, withheldEvent } from './session/withheldFiles';
import { withholdingSummary, type ReadDenied } from './sandbox/withhold';
import { AgentNotes, withNotes } from './session/agentNotes';
import { TerminalRegistry } from './agent/terminals';
import type { ProposalStore } from './proposals/store';
import type { Reviewer } from './proposals/model';
import type { ReviewMode } from './proposals/turns';
import { WorkspacePathMapper } from './sandbox/paths';
import type { AgentProcess, Sandbox, SandboxProgress, SandboxProvider, WorkspaceMode } from './sandbox/types';
import { BoundedText } from './util/boundedText';
import { removeCopyFolder } from './sandbox/workspaceCopy';
import { Emitter } from './util/events';
import type { WorkspaceFiles } from './workspace/files';

/** The stop reasons ACP defines; anything else answering session/prompt is a protocol violation. */
const STOP_REASON = z.enum(['end_turn', 'max_tokens', 'max_turn_requests', 'refusal', 'cancelled']) satisfies z.ZodType<acp.StopReason>;
/** Where audit events go; the AuditLog implements it (tests may pass a recorder). */
export interface AuditSink {
  append(event: AuditEventInput): Promise<unknown>;
}

/** What one session is made of. The editor and the CLI build it through `assembleSession` (session/assembly.ts), which applies the defaults; tests may build it directly. */
export interface SessionOptions {
  workspaceRoot: string;
  /** Host folder with Warden's bundled agents (the demo agent), mounted read-only. */
  agentsHostPath: string;
  /** `warden.agent.command`; empty means the built-in demo agent. */
  agentCommand?: string;
  sandboxProvider: SandboxProvider;
  store: ProposalStore;
  audit: AuditSink;
  files: WorkspaceFiles;
  /** The human who will review this session's proposals (git identity or OS user). */
  reviewer: Reviewer;
  log?: (line: string) => void;
  sessionId?: string;
  /** The effective team policy: decides allow and deny before a human is asked. Without it, everything asks. */
  policy?: PolicyProvider;
  /** Session branch, checkpoints before applied batches, write scope and the git command guard; none without it. */
  git?: SessionGit;
  /** How long a proposal may wait for a human before it is rejected (never approved); default 30 minutes. */
  decisionTimeoutMs?: number;
  /** Sandbox preparation (pull per layer, build per step), for a progress notification. */
  onSandboxProgress?: (progress: SandboxProgress) => void;
  /** Host variables that may enter the sandbox (default LANG, LANGUAGE, LC_*, TZ, TERM). */
  environmentAllowList?: readonly string[];
  /** The agent's protocol; default ACP. */
  agentProtocol?: AgentProtocol;
  /** Extra environment for the agent process only (its model API key, from a configured secret). */
  agentEnv?: Record<string, string>;
  /** Resume this agent session (ACP `session/load`, app-server `thread/resume`) instead of starting one. */
  resumeAgentSessionId?: string;
  /** An "always allow" answer suggested a policy rule. */
  onSuggestion?: (suggestion: RuleSuggestion) => void;
  /** Keep the sandbox stopped when the session ends, and reuse a kept one with the same configuration at start (the extension does; the CLI does not). */
  reuseSandbox?: boolean;
  /** How the agent sees the workspace: read-only or a private copy whose changes become proposals (the assembly's default: DEFAULT_WORKSPACE_MODE). */
  workspaceMode: WorkspaceMode;
  /**
   * 'turn': in 'copy' mode the agent's writes go to its copy without waiting and the turn's
   * changes come back as one changeset at its end; 'action' (default): every write waits.
   */
  reviewMode?: ReviewMode;
}

/** What the session shows the user while the agent works (see session/sessionEvents.ts). */
export type { SessionEvent } from './session/sessionEvents';

export type SessionState = 'starting' | 'ready' | 'prompting' | 'ended';

/**
 * One supervised agent session: a sandbox, the agent inside it speaking ACP, and every
 * request it makes turned into proposals that wait for a human. Everything is audited.
 */
export class AgentSession {
  readonly id: string;
  private readonly events = new Emitter<SessionEvent>();
  readonly onEvent = this.events.event;
  private stateValue: SessionState = 'starting';
  private sandbox: Sandbox | undefined;
  private agentProcess: AgentProcess | undefined;
  private egress: EgressSession | undefined;
  /** The session's one gate, once open (the egress proxy asks through it). */
  private gate: ProposalGate | undefined;
  private connection: AgentConnection | undefined;
  private agentSessionInfo: AgentSessionInfo | undefined;
  private agentActor: AuditActor = { kind: 'agent', id: 'agent' };
  private readonly terminals = new TerminalRegistry();
  /** What the agent is told with its next instruction (writes the reviewer changed or rejected after the agent moved on). */
  private readonly notes = new AgentNotes();
  private turnMessage = new BoundedText();
  private endPromise: Promise<void> | undefined;
  private changes: SandboxChanges | undefined;
  /** Read-only mode: denied files that appear in the workspace after the masks were mounted. */
  private exposure: ExposureWatch | undefined;
  private readDenied: ReadDenied | undefined;
  private killed = false;
  private branchValue: SessionBranch | undefined;
  /** The agent turn under way or last ended (1-based); 0 before the first prompt. */
  private turnIndex = 0;

  private constructor(private readonly options: SessionOptions) {
    this.id =
      options.sessionId ??
      `s-${new Date()
        .toISOString()
        .replace(/[-:.TZ]/g, '')
        .slice(0, 14)}-${randomUUID().slice(0, 8)}`;
  }

  get state(): SessionState {
    return this.stateValue;
  }

  /** The number of the turn under way or last ended (0 before the first). */
  get turn(): number {
    return this.turnIndex;
  }

  /** Whether the turn's changes are reviewed together (turn review in 'copy' mode). */
  get reviewsTurns(): boolean {
    return this.options.reviewMode === 'turn' && this.changes !== undefined;
  }

  get containerId(): string | undefined {
    return this.sandbox?.containerId;
  }

  /** What the policy withheld from the sandbox at start, in one line for the reviewer (undefined: nothing). */
  get withheldSummary(): string | undefined {
    return this.sandbox?.withheld ? withholdingSummary(this.sandbox.withheld) : undefined;
  }

  /** The session's branch (created, with the branch it left), or why there is none; undefined before the start or without git. */
  get sessionBranch(): SessionBranch | undefined {
    return this.branchValue;
  }

  /** The agent's own session (its id is what "Resume Agent Session" names), once open. */
  get agentSession(): AgentSessionInfo | undefined {
    return this.agentSessionInfo;
  }

  /** Starts the sandbox and the agent, and opens an ACP session. Cleans up everything on failure. */
  static async start(options: SessionOptions): Promise<AgentSession> {
    const session = new AgentSession(options);
    try {
      await session.open();
      return session;
    } catch (error) {
      await session.end(`failed to start: ${errorMessage(error)}`).catch(() => undefined);
      throw error;
    }
  }

  /** Sends an instruction and resolves when the agent's turn ends. */
  async prompt(instruction: string): Promise<acp.StopReason> {
    const connection = this.requireConnection();
    if (this.stateValue !== 'ready') throw new Error(`The session is ${this.stateValue}; wait for the current turn to end`);
    this.stateValue = 'prompting';
    this.turnMessage = new BoundedText();
    const turn = ++this.turnIndex;
    const notes = this.notes.take();
    await this.record({
      actor: this.humanActor(),
      type: 'instruction',
      data: { text: instruction, ...(notes.length > 0 ? { notes } : {}) },
    });
    await this.checkExposure('turn start');
    try {
      const stopReason = await connection.prompt(withNotes(instruction, notes));
      if (!STOP_REASON.safeParse(stopReason).success) {
        // A peer that answers the prompt request with something else (a forged response for its id) ends the turn as a violation.
        await this.record({
          actor: this.wardenActor(),
          type: 'protocol.violation',
          data: {
            kind: 'invalid-prompt-response',
            detail: `session/prompt was answered without a valid stopReason (${JSON.stringify(stopReason)?.slice(0, 200) ?? 'nothing'})`,
          },
        });
        throw new Error('The agent answered the instruction without a valid stop reason; the turn is over and nothing was approved');
      }
      // The SDK settles a response before the handlers of notifications that arrived ahead of
      // it have run; let them run, so the agent's last words belong to this turn's record.
      await new Promise((resolve) => setImmediate(resolve));
      await this.changes?.scan('turn end');
      await this.checkExposure('turn end');
      await this.record({
        actor: this.agentActor,
        type: 'turn.ended',
        data: { stopReason, agentMessage: this.turnMessage.toString(), turn },
      });
      return stopReason;
    } catch (error) {
      await this.record({ actor: this.wardenActor(), type: 'error', data: { during: 'session/prompt', message: errorMessage(error) } });
      throw error;
    } finally {
      if (this.stateValue === 'prompting') this.stateValue = 'ready';
    }
  }

  /** Cancels the agent's turn (pending proposals of the turn are orphaned by the agent's exit or its cancel). */
  async cancel(): Promise<void> {
    await this.connection?.cancel().catch(() => undefined);
  }

  /** Stops the agent and its sandbox. Pending proposals become orphaned, never applied. */
  stop(reason = 'stopped by the user'): Promise<void> {
    return this.end(reason);
  }

  /**
   * The kill switch: pending proposals are orphaned first, then the container is killed and
   * removed at once (SIGKILL to everything in it); nothing waits for the agent to answer.
   */
  async kill(reason = 'kill switch pulled'): Promise<void> {
    // Also while a graceful stop is under way (it may be waiting on the agent): kill through it.
    if (this.killed || (this.endPromise && !this.sandbox)) return this.endPromise ?? Promise.resolve();
    this.killed = true;
    this.options.store.orphanSession(this.id, `Session killed: ${reason}`);
    const started = Date.now();
    const sandbox = this.sandbox;
    const outcome = sandbox
      ? await (sandbox.kill ? sandbox.kill() : sandbox.stop()).then(
          () => ({ removed: true }),
          (error: unknown) => ({ removed: false, error: errorMessage(error) }),
        )
      : { removed: false };
    await this.record({
      actor: this.humanActor(),
      type: 'session.killed',
      data: { reason, containerId: sandbox?.containerId ?? null, ms: Date.now() - started, ...outcome },
    }).catch(() => undefined);
    return this.end(`killed: ${reason}`);
  }

  /** Starts everything, in order: the record, git, the sandbox (with egress), the agent, the gate, the protocol. */
  private async open(): Promise<void> {
    await this.recordStart();
    await this.beginGit();
    const sandbox = await this.startSandbox();
    const agent = await this.startAgentProcess(sandbox);
    const gate = this.proposalGate();
    this.gate = gate;
    this.changes = sandbox.copyHostPath ? await this.watchCopy(sandbox, sandbox.copyHostPath, gate) : undefined;
    await this.connectAgent(sandbox, agent, gate);
    this.stateValue = 'ready';
  }

  private get logLine(): (line: string) => void {
    return this.options.log ?? (() => undefined);
  }

  /** session.starting, closing the record of sessions whose supervisor died, and the policy as loaded. */
  private async recordStart(): Promise<void> {
    const { options } = this;
    const log = this.logLine;
    await this.record({
      actor: this.wardenActor(),
      type: 'session.starting',
      data: { workspace: options.workspaceRoot, reviewer: options.reviewer, owner: currentOwner() },
    });
    // Sessions of this workspace whose supervisor died get their record closed (deadSessions.ts).
    await recordDeadSessions({
      workspaceRoot: options.workspaceRoot,
      foundBy: this.id,
      append: (event) => options.audit.append(event),
      ...(options.sandboxProvider.inspectSandbox ? { inspect: (id: string) => options.sandboxProvider.inspectSandbox!(id) } : {}),
      log,
    }).catch((error: unknown) => log(`could not look for sessions whose supervisor died: ${errorMessage(error)}`));
    if (options.policy) {
      const policy = options.policy.current();
      const summary = policySummary(policy);
      await this.record(
        policy.valid
          ? { actor: this.wardenActor(), type: 'policy.loaded', data: summary }
          : { actor: this.wardenActor(), type: 'policy.invalid', data: summary },
      );
      if (!policy.valid) log('a policy source is invalid: running with the safest policy (everything asks) until it is fixed');
    }
  }

  /** The egress proxy (the policy's allow-list), then the sandbox, on the record; stopped again if the session ended meanwhile. */
  private async startSandbox(): Promise<Sandbox> {
    const { options } = this;
    const log = this.logLine;
    // The policy's network allow-list, if any: the only way out of the sandbox (an invalid policy allows none).
    const policy = options.policy?.current();
    this.readDenied = options.policy ? readDeniedBy(() => options.policy!.current()) : undefined;
    // A host not on the allow-list is asked about through the gate (once it exists).
    const networkAsks = new NetworkAsks({
      sessionId: this.id,
      gate: () => this.gate,
      policy: () => options.policy?.current(),
      proposals: () => options.store.all(),
    });
    this.egress = policy?.valid
      ? await EgressSession.open({
          allow: policy.network?.allow ?? [],
          record: (event) => this.record(event),
          onUnlisted: (request) => networkAsks.decide(request),
          log,
          onChannelChange: (change) =>
            this.events.fire({ type: 'notice', level: change.state === 'lost' ? 'warning' : 'info', text: change.text }),
        })
      : undefined;
    const sandbox = await options.sandboxProvider.start({
      workspaceHostPath: options.workspaceRoot,
      agentsHostPath: options.agentsHostPath,
      sessionId: this.id,
      onLog: log,
      // The team policy decides which security-relevant devcontainer properties are honoured.
      sandboxPolicy: options.policy?.current().sandbox,
      ...(options.onSandboxProgress ? { onProgress: options.onSandboxProgress } : {}),
      ...(options.environmentAllowList ? { environmentAllowList: options.environmentAllowList } : {}),
      onLifecycleCommand: (record) =>
        this.record({ actor: this.wardenActor(), type: 'lifecycle.command', data: { ...record } }).then(() => undefined),
      reuse: options.reuseSandbox === true,
      workspaceMode: options.workspaceMode,
      // Only a policy that can deny a read makes the sandbox walk the workspace for what to withhold.
      ...(this.readDenied && policy && mayDenyReads(policy) ? { readDenied: this.readDenied } : {}),
    });
    this.sandbox = sandbox;
    if (this.stateValue === 'ended') {
      // Stopped or killed while the sandbox was starting: it must not outlive the session.
      await (sandbox.kill ? sandbox.kill() : sandbox.stop()).catch(() => undefined);
      throw new Error('The session was stopped while its sandbox was starting');
    }
    await this.record({
      actor: this.wardenActor(),
      type: 'sandbox.started',
      data: {
        containerId: sandbox.containerId,
        image: sandbox.image,
        workspaceFolder: sandbox.workspaceFolder,
        workspaceMode: sandbox.copyHostPath ? 'copy' : 'readonly',
      },
    });
    await this.recordOrigin(sandbox);
    await this.recordWithheld(sandbox);
    if (this.egress) {
      await this.egress.attach(sandbox);
      await this.record({
        actor: this.wardenActor(),
        type: 'network.egress',
        data: { rules: [...this.egress.rules], proxy: this.egress.proxyAddress },
      });
    }
    return sandbox;
  }

  /** The agent's process in the sandbox; its exit ends the session. */
  private async startAgentProcess(sandbox: Sandbox): Promise<{ argv: string[]; label: string; process: AgentProcess }> {
    const { options } = this;
    const log = this.logLine;
    const { argv, label } = agentArgv(options.agentCommand, sandbox.agentsFolder);
    this.agentActor = { kind: 'agent', id: label };
    const agentProcess = await sandbox.execAgent(argv, { ...options.agentEnv, ...this.egress?.envFor({ kind: 'agent' }) });
    this.agentProcess = agentProcess;
    agentProcess.stderr.on('data', (chunk: Buffer) => log(`[agent stderr] ${chunk.toString('utf8').trimEnd()}`));
    void agentProcess.exited.then((status) => {
      if (this.stateValue !== 'ended')
        void this.end(`the agent exited (code ${status.exitCode ?? 'none'}${status.signal ? `, signal ${status.signal}` : ''})`);
    });
    return { argv, label, process: agentProcess };
  }

  /** The one gate every proposal of this session passes (session/gate/). */
  private proposalGate(): ProposalGate {
    const { options } = this;
    return new ProposalGate({
      sessionId: this.id,
      store: options.store,
      files: options.files,
      record: (event) => this.record(event),
      agentActor: () => this.agentActor,
      turn: () => (this.turnIndex > 0 ? this.turnIndex : undefined),
      ...(options.policy ? { policy: () => options.policy!.current() } : {}),
      ...(options.decisionTimeoutMs ? { decisionTimeoutMs: options.decisionTimeoutMs } : {}),
      ...(!options.git && options.policy
        ? { scope: SessionGit.scopeOnly(options.workspaceRoot, () => policyScopeLayers(options.policy!.current())) }
        : {}),
      ...(options.git
        ? {
            beforeApply: (batch: ApplyBatch) => this.checkpoint(batch),
            scope: options.git,
            classifyCommand: (command: string | readonly string[]) => options.git!.classifyCommand(command),
          }
        : {}),
    });
  }

  /** The protocol mapper over the gate, connected to the agent's stdio; the agent's session opened and on the record. */
  private async connectAgent(
    sandbox: Sandbox,
    agent: { argv: string[]; label: string; process: AgentProcess },
    gate: ProposalGate,
  ): Promise<void> {
    const { options } = this;
    const changes = this.changes;
    const deps: ProposalHandlerDeps = {
      sessionId: this.id,
      gate,
      sandbox,
      mapper: new WorkspacePathMapper(options.workspaceRoot, sandbox.workspaceFolder),
      store: options.store,
      files: options.files,
      terminals: this.terminals,
      record: (event) => this.record(event),
      agentActor: () => this.agentActor,
      onEvent: (event) => this.onAgentEvent(event),
      notes: this.notes,
      // Turn review scans the copy once, at the turn's end: a file changed twice in a turn is one proposal, not a stale first half.
      ...(changes ? { afterWrite: (path: string, text: string) => changes.mirror(path, text) } : {}),
      ...(changes && options.reviewMode !== 'turn'
        ? { sandboxActivity: (reason: string) => changes.scan(reason) }
        : this.exposure
          ? { sandboxActivity: (reason: string) => this.checkExposure(reason) }
          : {}),
      ...(changes && options.reviewMode === 'turn'
        ? {
            turnCopy: {
              read: (path: string) => changes.readFromCopy(path),
              write: (path: string, text: string) => changes.writeToCopy(path, text),
            },
          }
        : {}),
      commandEnv: (proposalId: string) => this.egress?.envFor({ kind: 'command', proposalId }) ?? {},
      ...(options.onSuggestion ? { onSuggestion: options.onSuggestion } : {}),
    };
    const protocol = options.agentProtocol ?? 'acp';
    this.connection = connectAgent(protocol, agent.process, new ProposalHandlers(deps), deps, (violation) => {
      void this.record({ actor: this.agentActor, type: 'protocol.violation', data: { ...violation } }).catch(() => undefined);
    });
    void this.connection.closed.then(() => {
      if (this.stateValue !== 'ended') void this.end('the agent connection closed');
    });
    const info = await this.connection.open({
      cwd: sandbox.workspaceFolder,
      ...(options.resumeAgentSessionId ? { resumeSessionId: options.resumeAgentSessionId } : {}),
    });
    this.agentSessionInfo = info;
    if (info.agentName) this.agentActor = { kind: 'agent', id: info.agentName, name: agent.label };
    await this.record({
      actor: this.agentActor,
      type: 'agent.started',
      data: {
        command: agent.argv,
        protocol: info.protocol,
        protocolVersion: info.protocolVersion,
        agentInfo: info.agentInfo,
        agentSessionId: info.agentSessionId,
        ...(info.resumed ? { resumed: true } : {}),
        // Names only: the values are secrets and never enter the audit log.
        ...(options.agentEnv ? { agentEnvNames: Object.keys(options.agentEnv).sort() } : {}),
      },
    });
  }

  /** The session branch (or why there is none) and pruning of old checkpoints, on the record. */
  private async beginGit(): Promise<void> {
    const git = this.options.git;
    if (!git) return;
    const policy = this.options.policy;
    if (policy) {
      git.followPolicy(() => policy.current().git);
      git.followPolicyScope(() => policyScopeLayers(policy.current()));
    }
    const { branch, pruned } = await git.begin(this.id);
    this.branchValue = branch;
    await this.record({
      actor: this.wardenActor(),
      type: 'git.branch',
      data: { ...branch, protectedBranches: [...git.protectedBranches] },
    });
    if (branch.status === 'none') this.options.log?.(`no session branch: ${branch.reason}`);
    if (pruned.length > 0) await this.record({ actor: this.wardenActor(), type: 'checkpoint.pruned', data: { refs: pruned } });
  }

  /**
   * A checkpoint of the working tree before an applied batch. A failure is recorded and the
   * batch still applies: the checkpoint is a way back, not an approval.
   */
  private async checkpoint(batch: ApplyBatch): Promise<void> {
    const git = this.options.git;
    if (!git) return;
    try {
      const checkpoint = await git.checkpoint(this.id, {
        paths: batch.paths,
        label: `Before applying ${batch.paths.join(', ')} (${batch.proposalIds.join(', ')})`,
      });
      if (!checkpoint) return;
      await this.record({
        actor: this.wardenActor(),
        type: 'checkpoint.created',
        data: { n: checkpoint.n, ref: checkpoint.ref, commit: checkpoint.commit, paths: checkpoint.paths, proposalIds: batch.proposalIds },
      });
    } catch (error) {
      await this.record({
        actor: this.wardenActor(),
        type: 'checkpoint.failed',
        data: { proposalIds: batch.proposalIds, error: errorMessage(error) },
      });
    }
  }

  /** 'copy' mode: what the agent changes in its copy on its own becomes proposals (see SandboxChanges). */
  private async watchCopy(sandbox: Sandbox, copyHostPath: string, gate: ProposalGate): Promise<SandboxChanges> {
    const { options } = this;
    return SandboxChanges.begin({
      gate,
      sandbox,
      copyHostPath,
      workspaceRoot: options.workspaceRoot,
      store: options.store,
      files: options.files,
      record: (event) => this.record(event),
      notes: this.notes,
      ...(options.log ? { log: options.log } : {}),
      withheld: (relative: string) => isWithheld(sandbox.withheld, this.readDenied, relative),
    });
  }

  /** Files coming in: what the policy withheld (on the record and in the log), and in read-only mode a watch for denied files that appear later. */
  private async recordWithheld(sandbox: Sandbox): Promise<void> {
    const mode = sandbox.copyHostPath ? 'copy' : 'readonly';
    const event = sandbox.withheld ? withheldEvent(mode, sandbox.withheld) : undefined;
    if (event) await this.record(event);
    const summary = this.withheldSummary;
    if (summary) this.logLine(summary);
    if (mode === 'readonly' && this.readDenied)
      this.exposure = new ExposureWatch({
        sandbox,
        workspaceRoot: this.options.workspaceRoot,
        denied: this.readDenied,
        mayDeny: () => (this.options.policy ? mayDenyReads(this.options.policy.current()) : false),
        record: (e) => this.record(e),
        notify: (e) => this.events.fire(e),
        log: this.logLine,
      });
  }

  /** Read-only mode: looks for denied files the sandbox can read after all; a failed look is logged, never fatal. */
  private async checkExposure(reason: string): Promise<void> {
    await this.exposure?.check(reason).catch((error: unknown) => this.logLine(`checking for exposed files failed: ${errorMessage(error)}`));
  }

  /** Reuse and rebuild of kept sandboxes, on the record with the configuration hash. */
  private async recordOrigin(sandbox: Sandbox): Promise<void> {
    const origin = sandbox.origin;
    if (!origin || origin.kind === 'created') return;
    const kept = { containerId: sandbox.containerId, configHash: sandbox.configHash ?? null };
    await this.record(
      origin.kind === 'reused'
        ? { actor: this.wardenActor(), type: 'sandbox.reused', data: kept }
        : {
            actor: this.wardenActor(),
            type: 'sandbox.rebuilt',
            data: { ...kept, previousContainerIds: origin.previousContainerIds, previousConfigHashes: origin.previousConfigHashes },
          },
    );
  }

  private onAgentEvent(event: SessionEvent): void {
    if (event.type === 'agent-message') this.turnMessage.append(event.text);
    this.events.fire(event);
  }

  private end(reason: string): Promise<void> {
    this.endPromise ??= this.doEnd(reason);
    return this.endPromise;
  }

  private async doEnd(reason: string): Promise<void> {
    const wasOpen = this.stateValue !== 'starting';
    this.stateValue = 'ended';
    // The sandbox stops below: its egress bridge ending then is no loss to record.
    this.egress?.ending();
    // Orphan first: whatever happens below, nothing pending can be applied any more.
    this.options.store.orphanSession(this.id, `Session ended: ${reason}`);
    if (!this.killed) {
      await this.cancel();
      await this.terminals.releaseAll();
    }
    this.connection?.close();
    if (!this.killed) await this.agentProcess?.kill().catch(() => undefined);
    // A killed sandbox is never kept: nothing about its state is trusted.
    const keep = this.options.reuseSandbox === true && !this.killed;
    if (this.sandbox) {
      const containerId = this.sandbox.containerId;
      const stopped = await this.sandbox.stop({ keep }).then(
        () => ({ removed: !keep, kept: keep }),
        (error: unknown) => {
          this.options.log?.(`stopping the sandbox failed: ${errorMessage(error)}`);
          return { removed: false, error: errorMessage(error) };
        },
      );
      await this.record({ actor: this.wardenActor(), type: 'sandbox.stopped', data: { containerId, ...stopped } }).catch(() => undefined);
      // What the agent left in its copy goes on the record (born orphaned, never applied).
      await this.changes?.finalScan('session end');
      if (!keep) await removeCopyFolder(this.sandbox.copyHostPath).catch(() => undefined);
    }
    await this.egress?.close().catch(() => undefined);
    await this.record({ actor: this.wardenActor(), type: 'session.ended', data: { reason, wasOpen } }).catch(() => undefined);
    this.events.fire({ type: 'ended', reason });
    this.events.dispose();
  }

  private record(event: RecordedEvent): Promise<unknown> {
    return this.options.audit.append({ ...event, sessionId: this.id });
  }

  private humanActor(): AuditActor {
    const reviewer = this.options.reviewer;
    return {
      kind: 'human',
      id: reviewer.email ?? reviewer.name,
      name: reviewer.name,
      ...(reviewer.email ? { email: reviewer.email } : {}),
    };
  }

  private wardenActor(): AuditActor {
    return { kind: 'warden', id: 'warden' };
  }

  private requireConnection(): AgentConnection {
    if (!this.connection || this.stateValue === 'ended') throw new Error('The session has ended');
    return this.connection;
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

import { randomUUID } from 'node:crypto';
import type * as acp from '@agentclientprotocol/sdk';
import { type AcpClientHandlers, notFound, refusal } from '../agent/acpClient';
import { displayCommandLine } from '../agent/agentCommand';
import { settledStatus, type TerminalRegistry } from '../agent/terminals';
import type { AuditActor, AuditEventInput } from '../audit/types';
import type { GitCommandVerdict } from '../git/branchGuard';
import type { WriteScope } from '../git/scope';
import { unifiedDiff } from '../proposals/diff';
import { isTextEdit, rebaseEdit } from '../proposals/rebase';
import { evaluateCommand, evaluatePath, filesPerProposalVerdict, type EffectivePolicy, type PolicyVerdict } from '../policy';
import { placeAgentDiff } from '../proposals/diffContent';
import type { CommandProposal, Decision, EditProposal, PermissionProposal, Proposal, QuestionProposal } from '../proposals/model';
import { appliedContent, type AppliedContent } from '../proposals/decisions';
import { editedDecisionData } from '../proposals/decisionAudit';
import { suggestRule, type RuleSuggestion } from '../policy/suggestions';
import type { ProposalStore } from '../proposals/store';
import { PathOutsideWorkspaceError, type WorkspacePathMapper } from '../sandbox/paths';
import type { Sandbox } from '../sandbox/types';
import { eventFromAcpUpdate, type SessionEvent } from './sessionEvents';
import { sha256Hex } from '../util/hash';
import { hostPathProblem } from '../workspace/containment';
import type { WorkspaceFiles } from '../workspace/files';

export interface ProposalHandlerDeps {
  sessionId: string;
  sandbox: Sandbox;
  mapper: WorkspacePathMapper;
  store: ProposalStore;
  files: WorkspaceFiles;
  terminals: TerminalRegistry;
  record(event: Omit<AuditEventInput, 'sessionId'>): Promise<unknown>;
  agentActor(): AuditActor;
  onEvent(event: SessionEvent): void;
  /** The effective team policy, evaluated before any human is asked; without it, everything asks. */
  policy?: () => EffectivePolicy;
  /** Runs before each applied batch (one approved edit in this skeleton): the checkpoint hook. */
  beforeApply?(batch: ApplyBatch): Promise<void>;
  /** What the session may write; out-of-scope writes are refused before any proposal exists. */
  scope?: WriteScope;
  /** Verdict on command lines that run git (protected branches); a deny is refused before any proposal exists. */
  classifyCommand?(command: string | readonly string[]): Promise<GitCommandVerdict | null>;
  /** How long a proposal may wait for a human before Warden rejects it (never approves). Default 30 minutes. */
  decisionTimeoutMs?: number;
  /** 'copy' mode: look for changes the agent made in its copy on its own (before a permission request, after a command exits). */
  sandboxActivity?(reason: string): Promise<void>;
  /** 'copy' mode: an applied fs/write_text_file, mirrored into the agent's copy. */
  afterWrite?(path: string, text: string): Promise<void>;
  /** Environment Warden adds to an approved command (the egress proxy and its per-command credential); it wins over the agent's. */
  commandEnv?(proposalId: string): Record<string, string>;
  /** An "always allow" answer became a suggested policy rule (a human adds it, or not). */
  onSuggestion?(suggestion: RuleSuggestion): void;
}

/** Default wait for a human decision; a timeout rejects. */
export const DEFAULT_DECISION_TIMEOUT_MS = 30 * 60 * 1000;

/** Approved changes applied together; a checkpoint is recorded before each batch. */
export interface ApplyBatch {
  proposalIds: string[];
  /** Workspace-relative paths the batch writes. */
  paths: string[];
}

/** Default cap on a command's kept output when the agent sets none. */
const DEFAULT_OUTPUT_LIMIT = 1024 * 1024;
/** How much command output an audit entry keeps verbatim (the rest is covered by its hash). */
const AUDIT_OUTPUT_EXCERPT = 4096;

/** A write the reviewer already approved through a permission request, bytes pinned by hash. */
interface WriteGrant {
  path: string;
  newHash: string;
  /** The file as the reviewer saw it; if it changed since, the write is stale. */
  oldText: string | null;
  proposalId: string;
}

/**
 * Turns every ACP request an agent makes into a proposal, waits for the human's decision,
 * and only then touches the workspace or runs anything. Refusals reach the agent as
 * JSON-RPC errors, so it knows what happened.
 */
export class ProposalHandlers implements AcpClientHandlers {
  private readonly writeGrants: WriteGrant[] = [];
  private readonly commandGrants: Array<{ commandLine: string; proposalId: string }> = [];
  /** Notes the agent reads first in a terminal's output (the reviewer edited its command). */
  private readonly terminalNotes = new Map<string, string>();

  constructor(private readonly deps: ProposalHandlerDeps) {}

  async readTextFile(params: acp.ReadTextFileRequest): Promise<acp.ReadTextFileResponse> {
    const relative = await this.workspacePath(params.path, 'read');
    await this.checkRead(relative);
    const text = await this.deps.files.read(relative);
    if (text === null) throw notFound(params.path);
    const content = sliceLines(text, params.line ?? undefined, params.limit ?? undefined);
    await this.deps.record({
      actor: this.deps.agentActor(),
      type: 'file.read',
      data: { path: relative, hash: sha256Hex(text), line: params.line ?? null, limit: params.limit ?? null },
    });
    return { content };
  }

  async writeTextFile(params: acp.WriteTextFileRequest): Promise<acp.WriteTextFileResponse> {
    const relative = await this.workspacePath(params.path, 'write');
    await this.checkScope(relative, 'write');
    const grant = this.takeWriteGrant(relative, sha256Hex(params.content));
    // With a grant, the base is what the reviewer saw then, so a later change makes it stale.
    const oldText = grant ? grant.oldText : await this.deps.files.read(relative);
    const verdict = grant ? undefined : this.evaluate(() => evaluatePath(this.deps.policy!(), oldText === null ? 'create' : 'write', relative));
    const granted = grant ? this.grantDecision(grant.proposalId) : policyDecision(verdict);
    const proposal = this.addProposal<EditProposal>(granted, {
      ...(verdict ? { policy: verdict } : {}),
      kind: 'edit',
      origin: 'fs/write_text_file',
      title: `${oldText === null ? 'Create' : 'Edit'} ${relative}`,
      path: relative,
      oldText,
      newText: params.content,
      baseHash: oldText === null ? null : sha256Hex(oldText),
      newHash: sha256Hex(params.content),
      diff: unifiedDiff(relative, oldText, params.content),
    });
    await this.recordProposal(proposal);
    const decision = grant && granted ? await this.recordGrant(proposal.id, granted, grant.proposalId) : await this.decisionFor(proposal);
    if (decision.verdict === 'reject') {
      throw refusal(`${rejectedBy(decision)} the write to ${relative}${decision.reason ? `: ${decision.reason}` : ''}`, { proposalId: proposal.id, ...ruleData(decision) });
    }
    const { text, change } = await this.applyEdit(this.current<EditProposal>(proposal.id));
    await this.deps.afterWrite?.(relative, text);
    // The agent believes the file holds its bytes: say what the reviewer changed so it reads the file again.
    if (change) throw refusal(`Applied with changes: ${change.summary}. Read ${relative} again before editing it.`, { proposalId: proposal.id, applied: true, change });
    return {};
  }

  async requestPermission(params: acp.RequestPermissionRequest): Promise<acp.RequestPermissionResponse> {
    // What the agent already did on its own surfaces before it asks for more.
    await this.deps.sandboxActivity?.('permission request');
    const toolCall = params.toolCall;
    const toolKind = toolCall.kind ?? 'other';
    const edit = await this.permissionEdit(toolCall);
    const commandLine = toolKind === 'execute' ? commandFromToolCall(toolCall) : undefined;
    if (commandLine) await this.checkGitCommand(commandLine);
    const verdict = this.evaluate(() => {
      const policy = this.deps.policy!();
      const tooManyFiles = filesPerProposalVerdict(policy, diffPaths(toolCall));
      if (tooManyFiles) return tooManyFiles;
      if (edit) return evaluatePath(policy, edit.oldText === null ? 'create' : 'write', edit.path);
      if (commandLine && !hasRawCommand(toolCall)) {
        return { decision: 'ask', ruleId: 'default', reason: 'The agent described the command only by its title, so the policy cannot judge it: a human decides' };
      }
      if (commandLine) return evaluateCommand(policy, { commandLine, resolvePath: (p) => this.resolveCommandPath(p, this.deps.sandbox.workspaceFolder) });
      if (toolKind === 'delete') return { decision: 'ask', ruleId: 'builtin.irreversible', reason: 'Deleting is irreversible: a human decides', labels: ['irreversible: delete'] };
      return { decision: 'ask', ruleId: 'default', reason: `No policy rule covers "${toolKind}" permission requests, so a human decides` };
    });
    const proposal = this.addProposal<PermissionProposal>(policyDecision(verdict), {
      ...(verdict ? { policy: verdict } : {}),
      kind: 'permission',
      origin: 'session/request_permission',
      title: toolCall.title ?? `${toolKind} (${toolCall.toolCallId})`,
      toolKind,
      options: params.options.map((o) => ({ optionId: o.optionId, name: o.name, kind: o.kind })),
      ...(edit ? { edit } : {}),
      ...(commandLine ? { commandLine } : {}),
    });
    await this.recordProposal(proposal);
    const decision = await this.decisionFor(proposal);

    const picked = decision.optionId ? params.options.find((o) => o.optionId === decision.optionId) : undefined;
    const option = answerOption(params.options, decision.verdict, picked);
    this.deps.store.setState(proposal.id, decision.verdict === 'approve' ? 'applied' : 'rejected', undefined, {
      ...(option ? { chosenOptionId: option.optionId } : {}),
    });
    if (decision.verdict === 'approve' && picked?.kind === 'allow_always') await this.suggest(this.current<PermissionProposal>(proposal.id), decision);
    if (decision.verdict === 'approve' && edit?.unlocated) {
      // Approving an edit Warden could not place grants nothing: it is never applied blind.
    } else if (decision.verdict === 'approve' && edit) this.writeGrants.push({ path: edit.path, newHash: edit.newHash, oldText: edit.oldText, proposalId: proposal.id });
    if (decision.verdict === 'approve' && commandLine) this.commandGrants.push({ commandLine, proposalId: proposal.id });
    await this.deps.record({
      actor: { kind: 'warden', id: 'warden' },
      type: 'permission.answered',
      data: {
        proposalId: proposal.id,
        outcome: option ? { selected: option.optionId, kind: option.kind } : 'cancelled',
        ...(picked && picked.optionId !== option?.optionId ? { reviewerPicked: { optionId: picked.optionId, kind: picked.kind } } : {}),
      },
    });
    return { outcome: option ? { outcome: 'selected', optionId: option.optionId } : { outcome: 'cancelled' } };
  }

  async createTerminal(params: acp.CreateTerminalRequest): Promise<acp.CreateTerminalResponse> {
    const args = params.args ?? [];
    // A bare command string with no args is a shell command line, as agents send it.
    let argv = args.length > 0 ? [params.command, ...args] : ['sh', '-c', params.command];
    const commandLine = args.length > 0 ? displayCommandLine(argv) : params.command;
    await this.checkGitCommand(args.length > 0 ? argv : params.command);
    const cwd = params.cwd ?? this.deps.sandbox.workspaceFolder;
    const env = Object.fromEntries((params.env ?? []).map((v) => [v.name, v.value]));
    const grant = this.takeCommandGrant(commandLine);
    const verdict = grant
      ? undefined
      : this.evaluate(() =>
          evaluateCommand(this.deps.policy!(), {
            ...(args.length > 0 ? { argv } : { commandLine }),
            resolvePath: (p) => this.resolveCommandPath(p, cwd),
          }),
        );
    const granted = grant ? this.grantDecision(grant.proposalId) : policyDecision(verdict);
    const proposal = this.addProposal<CommandProposal>(granted, {
      ...(verdict ? { policy: verdict } : {}),
      kind: 'command',
      origin: 'terminal/create',
      title: `Run ${truncate(commandLine, 80)}`,
      argv,
      commandLine,
      cwd,
      env,
    });
    await this.recordProposal(proposal);
    const decision = grant && granted ? await this.recordGrant(proposal.id, granted, grant.proposalId) : await this.decisionFor(proposal);
    if (decision.verdict === 'reject') {
      throw refusal(`${rejectedBy(decision)} the command ${commandLine}${decision.reason ? `: ${decision.reason}` : ''}`, { proposalId: proposal.id, ...ruleData(decision) });
    }
    const edited = decision.editedCommand === undefined ? undefined : await this.checkEditedCommand(proposal, decision.editedCommand);
    if (edited) argv = edited.argv;

    const policyLimit = this.deps.policy?.().limits.outputBytes ?? DEFAULT_OUTPUT_LIMIT;
    const outputByteLimit = Math.min(params.outputByteLimit ?? DEFAULT_OUTPUT_LIMIT, DEFAULT_OUTPUT_LIMIT, policyLimit);
    let running;
    try {
      running = await this.deps.sandbox.runCommand(argv, { cwd, env: { ...env, ...this.deps.commandEnv?.(proposal.id) }, outputByteLimit });
    } catch (error) {
      this.deps.store.setState(proposal.id, 'failed', `Could not start: ${message(error)}`);
      await this.deps.record({ actor: { kind: 'warden', id: 'warden' }, type: 'command.failed', data: { proposalId: proposal.id, error: message(error) } });
      throw refusal(`Warden could not start the command: ${message(error)}`);
    }
    const terminalId = this.deps.terminals.add(running);
    // Agents read what ran through the terminal's output: the first lines say it was edited.
    if (edited) this.terminalNotes.set(terminalId, `[warden] The reviewer edited your command before it ran.\n[warden] You asked for: ${commandLine}\n[warden] It ran instead: ${edited.commandLine}\n`);
    void running.exited.then(async (status) => {
      const output = running.output();
      const result = {
        exitCode: status.exitCode,
        signal: status.signal,
        outputExcerpt: output.text.slice(-AUDIT_OUTPUT_EXCERPT),
        outputHash: sha256Hex(output.text),
        truncated: output.truncated,
      };
      this.deps.store.setState(proposal.id, 'applied', `exit code ${status.exitCode ?? 'none'}`, { result });
      await this.deps.record({ actor: { kind: 'warden', id: 'warden' }, type: 'command.result', data: { proposalId: proposal.id, terminalId, ...result } });
      await this.deps.sandboxActivity?.('command exited');
    });
    // The agent is told that what runs is the reviewer's command, not its own.
    return edited ? { terminalId, _meta: { warden: { editedCommand: edited.commandLine, proposedCommandLine: commandLine } } } : { terminalId };
  }

  async terminalOutput(params: acp.TerminalOutputRequest): Promise<acp.TerminalOutputResponse> {
    const terminal = this.deps.terminals.get(params.terminalId);
    const { text, truncated } = terminal.output();
    const status = await settledStatus(terminal);
    return { output: `${this.terminalNotes.get(params.terminalId) ?? ''}${text}`, truncated, ...(status ? { exitStatus: status } : {}) };
  }

  async waitForTerminalExit(params: acp.WaitForTerminalExitRequest): Promise<acp.WaitForTerminalExitResponse> {
    return this.deps.terminals.get(params.terminalId).exited;
  }

  async killTerminal(params: acp.KillTerminalRequest): Promise<acp.KillTerminalResponse> {
    await this.deps.terminals.get(params.terminalId).kill();
    return {};
  }

  async releaseTerminal(params: acp.ReleaseTerminalRequest): Promise<acp.ReleaseTerminalResponse> {
    await this.deps.terminals.release(params.terminalId);
    this.terminalNotes.delete(params.terminalId);
    return {};
  }

  sessionUpdate(params: acp.SessionNotification): void {
    const event = eventFromAcpUpdate(params.update, (d) => unifiedDiff(d.path, d.oldText ?? null, d.newText));
    if (event) this.deps.onEvent(event);
  }

  /**
   * `_warden/ask_human`: the agent asks the human a question or flags uncertainty. It waits
   * as a "needs your input" proposal; an answer goes back as text, a decline or a timeout
   * as an error (never as a made-up answer).
   */
  async askHuman(params: { question: string; choices?: string[] | undefined; origin?: string }): Promise<{ answer: string }> {
    const proposal = this.addProposal<QuestionProposal>(undefined, {
      kind: 'question',
      origin: params.origin ?? '_warden/ask_human',
      title: `Question: ${truncate(params.question.replace(/\s+/g, ' '), 80)}`,
      question: params.question,
      ...(params.choices?.length ? { choices: params.choices } : {}),
    });
    await this.recordProposal(proposal);
    const decision = await this.decisionFor(proposal);
    if (decision.verdict === 'reject' || decision.answer === undefined) {
      this.deps.store.setState(proposal.id, 'rejected', decision.reason);
      throw refusal(`${decision.reviewer.kind === 'human' ? 'The human declined to answer' : 'No answer'}${decision.reason ? `: ${decision.reason}` : ''}`, { proposalId: proposal.id });
    }
    this.deps.store.setState(proposal.id, 'applied', undefined, { answer: decision.answer });
    return { answer: decision.answer };
  }

  /** An "always allow" becomes a suggested rule (audited), never a standing grant. */
  private async suggest(proposal: PermissionProposal, decision: Decision): Promise<void> {
    const result = suggestRule(proposal, decision.reviewer.name);
    if ('reason' in result) {
      await this.deps.record({ actor: { kind: 'warden', id: 'warden' }, type: 'policy.suggestion', data: { proposalId: proposal.id, suggested: null, reason: result.reason } });
      return;
    }
    const suggestion: RuleSuggestion = { id: `sg-${randomUUID()}`, sessionId: this.deps.sessionId, proposalId: proposal.id, createdAt: new Date().toISOString(), ...result };
    await this.deps.record({
      actor: { kind: 'warden', id: 'warden' },
      type: 'policy.suggestion',
      data: { proposalId: proposal.id, suggestionId: suggestion.id, section: result.suggested.section, rule: result.suggested.rule, summary: result.summary },
    });
    this.deps.onSuggestion?.(suggestion);
  }

  /**
   * The reviewer's edited command replaces the agent's; the policy and the branch guard judge
   * it again, and a deny is refused naming the rule (nothing runs).
   */
  private async checkEditedCommand(proposal: CommandProposal, commandLine: string): Promise<{ argv: string[]; commandLine: string }> {
    const refuse = async (rule: string, reason: string): Promise<never> => {
      const detail = `The edited command was denied by policy rule ${rule}: ${reason}`;
      this.deps.store.setState(proposal.id, 'failed', detail, { proposedCommandLine: proposal.commandLine, commandLine });
      await this.deps.record({ actor: { kind: 'policy', id: rule }, type: 'refused', data: { action: 'command', proposalId: proposal.id, commandLine, edited: true, rule, reason } });
      throw refusal(`The reviewer edited the command ${proposal.commandLine} to ${commandLine}, and ${lowerFirst(detail)}`, { proposalId: proposal.id, rule });
    };
    const git = await this.deps.classifyCommand?.(commandLine);
    if (git?.verdict === 'deny') return refuse(git.rule, git.reason);
    const verdict = this.evaluate(() => evaluateCommand(this.deps.policy!(), { commandLine, resolvePath: (p) => this.resolveCommandPath(p, proposal.cwd) }));
    if (verdict?.decision === 'deny') return refuse(verdict.ruleId, verdict.reason);
    const argv = ['sh', '-c', commandLine];
    this.deps.store.setState(proposal.id, 'approved', undefined, { proposedCommandLine: proposal.commandLine, commandLine, argv, ...(verdict ? { policy: verdict } : {}) });
    await this.deps.record({
      actor: { kind: 'warden', id: 'warden' },
      type: 'command.edited',
      data: { proposalId: proposal.id, proposedCommandLine: proposal.commandLine, commandLine, argv, ...(verdict ? { ruleId: verdict.ruleId, policy: verdict } : {}) },
    });
    return { argv, commandLine };
  }

  /**
   * Applies an approved edit, unless the file changed since the reviewer saw it; says how the
   * written bytes differ from the agent's (hunks rejected or edited by the reviewer).
   * @internal shared with the other protocol mappers
   */
  async applyEdit(approved: EditProposal): Promise<AppliedContent> {
    const current = await this.deps.files.read(approved.path);
    const currentHash = current === null ? null : sha256Hex(current);
    // Changed since the reviewer saw it (typed in between): carry the same change over, or stale.
    const proposal = currentHash === approved.baseHash ? approved : await this.rediffBeforeApply(approved, current);
    if (currentHash !== proposal.baseHash) {
      const detail = `${proposal.path} changed since the proposal was made; it was not applied`;
      this.deps.store.setState(proposal.id, 'stale', detail);
      await this.deps.record({ actor: { kind: 'warden', id: 'warden' }, type: 'edit.stale', data: { proposalId: proposal.id, path: proposal.path, baseHash: proposal.baseHash, currentHash } });
      throw refusal(detail, { proposalId: proposal.id });
    }
    await this.deps.beforeApply?.({ proposalIds: [proposal.id], paths: [proposal.path] });
    const content = appliedContent(proposal);
    const reviewedHash = content.change ? sha256Hex(content.text) : proposal.newHash;
    let diskHash: string;
    try {
      ({ diskHash } = await this.deps.files.write(proposal.path, content.text));
    } catch (error) {
      this.deps.store.setState(proposal.id, 'failed', `Writing failed: ${message(error)}`);
      await this.deps.record({ actor: { kind: 'warden', id: 'warden' }, type: 'edit.failed', data: { proposalId: proposal.id, path: proposal.path, error: message(error) } });
      throw refusal(`Warden could not write ${proposal.path}: ${message(error)}`);
    }
    const exact = diskHash === reviewedHash;
    this.deps.store.setState(
      proposal.id,
      exact ? 'applied' : 'failed',
      exact ? (content.change ? upperFirst(content.change.summary) : undefined) : 'The bytes on disk differ from the reviewed bytes (the editor changed line endings or encoding)',
      content.change ? { appliedHash: reviewedHash } : {},
    );
    await this.deps.record({
      actor: { kind: 'warden', id: 'warden' },
      type: exact ? 'edit.applied' : 'edit.mismatch',
      data: {
        proposalId: proposal.id,
        path: proposal.path,
        reviewedHash,
        diskHash,
        ...(content.change?.kind === 'edited' ? { edited: true, proposedHash: proposal.newHash } : {}),
        ...(content.change?.kind === 'hunks' ? { hunks: { accepted: content.change.accepted, rejected: content.change.rejected }, proposedHash: proposal.newHash } : {}),
      },
    });
    if (!exact) throw refusal(`${proposal.path} was written but differs from the reviewed content`);
    return content;
  }

  /** The approved edit re-diffed onto the current text when its change still fits exactly (audited); otherwise unchanged, so it goes stale. */
  private async rediffBeforeApply(proposal: EditProposal, current: string | null): Promise<EditProposal> {
    if (!isTextEdit(proposal)) return proposal;
    // A decision on particular hunks or with the reviewer's own text was made against the old
    // text: carrying it over could write bytes nobody reviewed, so that proposal goes stale.
    if (proposal.decision?.hunks !== undefined || proposal.decision?.editedText !== undefined) return proposal;
    const outcome = rebaseEdit(proposal, current);
    if (outcome.kind !== 'rebased') return proposal;
    const { kind: _kind, ...sides } = outcome;
    const updated = this.deps.store.setState(proposal.id, proposal.state, `Re-diffed against the current ${proposal.path} before applying`, sides) as EditProposal;
    await this.deps.record({
      actor: { kind: 'warden', id: 'warden' },
      type: 'proposal.rediffed',
      data: { proposalId: proposal.id, path: proposal.path, previousBaseHash: proposal.baseHash, baseHash: outcome.baseHash, previousNewHash: proposal.newHash, newHash: outcome.newHash, diff: outcome.diff },
    });
    return updated;
  }

  private async permissionEdit(toolCall: acp.ToolCallUpdate): Promise<PermissionProposal['edit']> {
    const diff = toolCall.content?.find((c): c is Extract<acp.ToolCallContent, { type: 'diff' }> => c.type === 'diff');
    if (!diff) return undefined;
    const relative = await this.workspacePath(diff.path, 'edit');
    await this.checkScope(relative, 'edit');
    // The current file is the truth the reviewer compares against, whatever oldText the agent sent.
    const oldText = await this.deps.files.read(relative);
    const placed = placeAgentDiff(oldText, diff);
    if (!placed.ok) {
      const note = `Warden could not place this change in the current file: ${placed.reason}. It is shown as the agent sent it and will not be applied.`;
      const agentOld = diff.oldText ?? '';
      return { path: relative, oldText, newText: diff.newText, newHash: sha256Hex(diff.newText), diff: unifiedDiff(relative, agentOld, diff.newText), unlocated: note };
    }
    return { path: relative, oldText, newText: placed.newText, newHash: sha256Hex(placed.newText), diff: unifiedDiff(relative, oldText, placed.newText), shape: placed.shape };
  }

  /** @internal shared with the other protocol mappers */
  async decisionFor(proposal: Proposal): Promise<Decision> {
    const decision = await this.waitForHuman(proposal.id);
    await this.deps.record({
      actor: reviewerActor(decision),
      type: 'decision',
      data: {
        proposalId: proposal.id,
        verdict: decision.verdict,
        reviewer: decision.reviewer,
        reason: decision.reason ?? null,
        ...(proposal.policy ? { ruleId: proposal.policy.ruleId, policy: proposal.policy } : {}),
        ...editedDecisionData(proposal, decision),
      },
    });
    return decision;
  }

  /** Waits for the reviewer; when nobody decides in time, Warden rejects: a timeout never approves. */
  private async waitForHuman(proposalId: string): Promise<Decision> {
    const timeoutMs = this.deps.decisionTimeoutMs ?? DEFAULT_DECISION_TIMEOUT_MS;
    const timer = setTimeout(() => {
      const proposal = this.deps.store.get(proposalId);
      if (proposal?.state !== 'pending') return;
      this.deps.store.decide(proposalId, {
        verdict: 'reject',
        reviewer: { kind: 'warden', name: 'warden', source: 'decision timeout' },
        reason: `no decision within ${Math.round(timeoutMs / 1000)} s (warden.review.decisionTimeoutSeconds)`,
        decidedAt: new Date().toISOString(),
      });
    }, timeoutMs);
    try {
      return await this.deps.store.waitForDecision(proposalId);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Evaluates the policy (when there is one). An evaluation that throws asks: it never allows. */
  /** @internal shared with the other protocol mappers */
  evaluate(run: () => PolicyVerdict): PolicyVerdict | undefined {
    if (!this.deps.policy) return undefined;
    try {
      return run();
    } catch (error) {
      return { decision: 'ask', ruleId: 'builtin.policy-error', reason: `The policy could not be evaluated (${message(error)}), so a human decides` };
    }
  }

  /** Reads the policy denies are refused (audited, naming the rule). */
  private async checkRead(relative: string): Promise<void> {
    const verdict = this.evaluate(() => evaluatePath(this.deps.policy!(), 'read', relative));
    if (!verdict || verdict.decision === 'allow') return;
    await this.deps.record({ actor: { kind: 'policy', id: verdict.ruleId }, type: 'refused', data: { action: 'read', path: relative, ruleId: verdict.ruleId, reason: verdict.reason } });
    throw refusal(`Denied by policy rule ${verdict.ruleId}: ${verdict.reason}`, { rule: verdict.ruleId });
  }

  /** A path a command names, relative to its working directory in the container, as a workspace path (null outside it). */
  /** @internal shared with the other protocol mappers */
  resolveCommandPath(raw: string, cwd: string): string | null {
    try {
      return this.deps.mapper.toWorkspaceRelative(raw.startsWith('/') ? raw : `${cwd.replace(/\/$/, '')}/${raw}`);
    } catch {
      const absolute = raw.startsWith('/') ? raw : `${cwd.replace(/\/$/, '')}/${raw}`;
      // The workspace folder itself (e.g. `rm -rf .`) is inside the workspace.
      return absolute.replace(/\/+$/, '').replace(/\/\.$/, '') === this.deps.sandbox.workspaceFolder.replace(/\/$/, '') ? '.' : null;
    }
  }

  /** The decision for a request a reviewer already approved through a permission request. */
  private grantDecision(permissionProposalId: string): Decision {
    return {
      verdict: 'approve',
      reviewer: { kind: 'warden', name: 'warden', source: 'earlier approval' },
      reason: `approved as permission request ${permissionProposalId}`,
      decidedAt: new Date().toISOString(),
    };
  }

  private async recordGrant(proposalId: string, decision: Decision, grantedBy: string | undefined): Promise<Decision> {
    await this.deps.record({
      actor: { kind: 'warden', id: 'warden' },
      type: 'decision',
      data: { proposalId, verdict: decision.verdict, reviewer: decision.reviewer, reason: decision.reason ?? null, ...(grantedBy ? { grantedBy } : {}) },
    });
    return decision;
  }

  /** Refuses (audited, naming the rule) a write outside the session's scope. */
  /** @internal shared with the other protocol mappers */
  async checkScope(relative: string, action: string): Promise<void> {
    const verdict = await this.deps.scope?.checkWrite(relative);
    if (!verdict || verdict.allowed) return;
    await this.deps.record({ actor: { kind: 'warden', id: 'warden' }, type: 'refused', data: { action, path: relative, rule: verdict.rule, reason: verdict.reason } });
    throw refusal(`Out of this session's scope (rule ${verdict.rule}): ${verdict.reason}`, { rule: verdict.rule });
  }

  /** Refuses (audited, naming the rule) a git command that would write a protected branch. */
  /** @internal shared with the other protocol mappers */
  async checkGitCommand(command: string | readonly string[]): Promise<void> {
    const verdict = await this.deps.classifyCommand?.(command);
    if (verdict?.verdict !== 'deny') return;
    const commandLine = typeof command === 'string' ? command : displayCommandLine([...command]);
    await this.deps.record({ actor: { kind: 'warden', id: 'warden' }, type: 'refused', data: { action: 'command', commandLine, rule: verdict.rule, reason: verdict.reason } });
    throw refusal(`Refused (rule ${verdict.rule}): ${verdict.reason}`, { rule: verdict.rule });
  }

  /** Takes (once) the grant of a permission approval for exactly these bytes at this path; sandbox changes use it too. */
  takeWriteGrant(path: string, newHash: string): WriteGrant | undefined {
    const index = this.writeGrants.findIndex((g) => g.path === path && g.newHash === newHash);
    return index < 0 ? undefined : this.writeGrants.splice(index, 1)[0];
  }

  private takeCommandGrant(commandLine: string): { proposalId: string } | undefined {
    const index = this.commandGrants.findIndex((g) => g.commandLine === commandLine);
    return index < 0 ? undefined : this.commandGrants.splice(index, 1)[0];
  }

  /** Adds a proposal; one that is already granted is born approved, so it never shows as pending. */
  /** @internal shared with the other protocol mappers */
  addProposal<P extends Proposal>(granted: Decision | undefined, fields: Omit<P, 'id' | 'sessionId' | 'createdAt' | 'state'>): P {
    const proposal = {
      ...fields,
      id: `p-${randomUUID()}`,
      sessionId: this.deps.sessionId,
      createdAt: new Date().toISOString(),
      state: granted ? (granted.verdict === 'approve' ? 'approved' : 'rejected') : 'pending',
      ...(granted ? { decision: granted } : {}),
    } as P;
    this.deps.store.add(proposal);
    return proposal;
  }

  /** @internal shared with the other protocol mappers */
  async recordProposal(proposal: Proposal): Promise<void> {
    await this.deps.record({ actor: this.deps.agentActor(), type: 'proposal', data: proposalAuditData(proposal) });
  }

  /** @internal shared with the other protocol mappers */
  current<P extends Proposal>(id: string): P {
    const proposal = this.deps.store.get(id);
    if (!proposal) throw new Error(`Proposal ${id} disappeared`);
    return proposal as P;
  }

  /** @internal shared with the other protocol mappers */
  async workspacePath(agentPath: string, action: string): Promise<string> {
    let relative: string;
    try {
      relative = this.deps.mapper.toWorkspaceRelative(agentPath);
    } catch (error) {
      if (error instanceof PathOutsideWorkspaceError) {
        void this.deps.record({ actor: { kind: 'warden', id: 'warden' }, type: 'refused', data: { action, path: agentPath, reason: error.message } });
        throw refusal(error.message);
      }
      throw error;
    }
    // The string stays inside; the host file system must too (no symlink out, no directory).
    const problem = await hostPathProblem(this.deps.mapper.hostRoot, relative);
    if (problem) {
      const reason = `Refused path ${JSON.stringify(agentPath)}: ${problem}`;
      await this.deps.record({ actor: { kind: 'warden', id: 'warden' }, type: 'refused', data: { action, path: agentPath, reason } });
      throw refusal(reason);
    }
    return relative;
  }
}

/** What the audit keeps of a proposal: everything needed to review it later. */
function proposalAuditData(proposal: Proposal): Record<string, unknown> {
  const base = { proposalId: proposal.id, kind: proposal.kind, title: proposal.title, origin: proposal.origin };
  switch (proposal.kind) {
    case 'edit':
      return { ...base, path: proposal.path, baseHash: proposal.baseHash, newHash: proposal.newHash, diff: proposal.diff };
    case 'command':
      return { ...base, argv: proposal.argv, commandLine: proposal.commandLine, cwd: proposal.cwd, env: proposal.env };
    case 'question':
      return { ...base, question: proposal.question, ...(proposal.choices ? { choices: proposal.choices } : {}) };
    case 'permission':
      return {
        ...base,
        toolKind: proposal.toolKind,
        options: proposal.options,
        ...(proposal.edit ? { path: proposal.edit.path, newHash: proposal.edit.newHash, diff: proposal.edit.diff } : {}),
        ...(proposal.commandLine ? { commandLine: proposal.commandLine } : {}),
      };
  }
}

/** A proposal the policy decides is born decided (never pending); ask leaves it to a human. */
export function policyDecision(verdict: PolicyVerdict | undefined): Decision | undefined {
  if (!verdict || verdict.decision === 'ask') return undefined;
  return {
    verdict: verdict.decision === 'allow' ? 'approve' : 'reject',
    reviewer: { kind: 'policy', name: verdict.ruleId, source: 'policy' },
    reason: verdict.reason,
    decidedAt: new Date().toISOString(),
  };
}

function rejectedBy(decision: Decision): string {
  return decision.reviewer.kind === 'policy' ? `The team policy (rule ${decision.reviewer.name}) denied` : 'The reviewer rejected';
}

function ruleData(decision: Decision): Record<string, unknown> {
  return decision.reviewer.kind === 'policy' ? { rule: decision.reviewer.name } : {};
}

function reviewerActor(decision: Decision): AuditActor {
  const r = decision.reviewer;
  return { kind: r.kind, id: r.email ?? r.name, name: r.name, ...(r.email ? { email: r.email } : {}) };
}

/**
 * The option sent to the agent. The reviewer's pick is honoured, except that an "always
 * allow" is sent as the one-time allow when the agent offers one: a standing grant is a
 * policy rule a human adds, never something the agent keeps. Without a pick (Accept/Reject,
 * the policy, a timeout): a one-time allow, or a one-time reject.
 */
function answerOption(options: acp.PermissionOption[], verdict: Decision['verdict'], picked: acp.PermissionOption | undefined): acp.PermissionOption | undefined {
  const pickFits = picked && (verdict === 'approve') === picked.kind.startsWith('allow');
  if (pickFits && picked.kind !== 'allow_always') return picked;
  const preferred = verdict === 'approve' ? ['allow_once', 'allow_always'] : ['reject_once', 'reject_always'];
  for (const kind of preferred) {
    const option = options.find((o) => o.kind === kind);
    if (option) return option;
  }
  return undefined;
}

/** The paths of every diff a permission request carries (one proposal may hold several files). */
function diffPaths(toolCall: acp.ToolCallUpdate): string[] {
  return (toolCall.content ?? []).flatMap((c) => (c.type === 'diff' ? [c.path] : []));
}

/** Whether the agent sent the command itself (rawInput.command), not only a title describing it. */
function hasRawCommand(toolCall: acp.ToolCallUpdate): boolean {
  const raw = toolCall.rawInput;
  return !!raw && typeof raw === 'object' && 'command' in raw && (typeof (raw as { command: unknown }).command === 'string' || Array.isArray((raw as { command: unknown }).command));
}

function commandFromToolCall(toolCall: acp.ToolCallUpdate): string | undefined {
  const raw = toolCall.rawInput;
  if (raw && typeof raw === 'object' && 'command' in raw) {
    const command = (raw as { command: unknown }).command;
    if (typeof command === 'string') return command;
    if (Array.isArray(command) && command.every((w) => typeof w === 'string')) return displayCommandLine(command as string[]);
  }
  return toolCall.title ?? undefined;
}

/** ACP lines are 1-based; `limit` counts lines. */
function sliceLines(text: string, line: number | undefined, limit: number | undefined): string {
  if (line === undefined && limit === undefined) return text;
  const lines = text.split('\n');
  const start = Math.max(0, (line ?? 1) - 1);
  const end = limit === undefined ? lines.length : start + limit;
  return lines.slice(start, end).join('\n');
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

function upperFirst(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

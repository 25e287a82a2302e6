import { randomUUID } from 'node:crypto';
import type * as acp from '@agentclientprotocol/sdk';
import { type AcpClientHandlers, notFound, refusal } from '../agent/acpClient';
import { displayCommandLine } from '../agent/agentCommand';
import { settledStatus, type TerminalRegistry } from '../agent/terminals';
import type { AuditActor } from '../audit/types';
import type { RecordedEvent } from '../audit/events';
import { unifiedDiff } from '../proposals/diff';
import { evaluateCommand, evaluatePath, filesPerProposalVerdict, type EffectivePolicy, type PolicyVerdict } from '../policy';
import { placeAgentDiff } from '../proposals/diffContent';
import { applyRawPatch, rawInputPatch } from './rawInputPatch';
import { rejectionNote, type AgentNotes } from './agentNotes';
import type { CommandProposal, Decision, EditProposal, PermissionProposal, Proposal } from '../proposals/model';
import { suggestRule, type RuleSuggestion } from '../policy/suggestions';
import { ProposalOrphanedError, type ProposalStore } from '../proposals/store';
import type { WorkspacePathMapper } from '../sandbox/paths';
import type { Sandbox } from '../sandbox/types';
import { eventFromAcpUpdate, type SessionEvent } from './sessionEvents';
import { sha256Hex } from '../util/hash';
import type { WorkspaceFiles } from '../workspace/files';
import { AgentPaths } from './agentPaths';
import type { ApplyOutcome, GateRefusal, ProposalGate } from './gate';

export interface ProposalHandlerDeps {
  sessionId: string;
  /** The one proposal gate: minting, policy, waiting, applying and auditing go through it. */
  gate: ProposalGate;
  sandbox: Sandbox;
  mapper: WorkspacePathMapper;
  store: ProposalStore;
  files: WorkspaceFiles;
  terminals: TerminalRegistry;
  record(event: RecordedEvent): Promise<unknown>;
  agentActor(): AuditActor;
  onEvent(event: SessionEvent): void;
  /** What the agent is told with its next instruction (a write applied with the reviewer's changes). */
  notes?: AgentNotes;
  /** 'copy' mode: look for changes the agent made in its copy on its own (before a permission request, after a command exits). */
  sandboxActivity?(reason: string): Promise<void>;
  /** 'copy' mode: an applied fs/write_text_file, mirrored into the agent's copy. */
  afterWrite?(path: string, text: string): Promise<void>;
  /** Environment Warden adds to an approved command (the egress proxy and its per-command credential); it wins over the agent's. */
  commandEnv?(proposalId: string): Record<string, string>;
  /** An "always allow" answer became a suggested policy rule (a human adds it, or not). */
  onSuggestion?(suggestion: RuleSuggestion): void;
  /**
   * Turn review in 'copy' mode: the agent's reads and writes go to its private copy and do
   * not wait; what it changed comes back as the turn's changeset (SandboxChanges).
   */
  turnCopy?: { read(path: string): Promise<string | null>; write(path: string, text: string): Promise<void> };
}

/** Default cap on a command's kept output when the agent sets none. */
const DEFAULT_OUTPUT_LIMIT = 1024 * 1024;
/** How much command output an audit entry keeps verbatim (the rest is covered by its hash). */
const AUDIT_OUTPUT_EXCERPT = 4096;

/**
 * Maps every ACP request an agent makes to the proposal gate and back: the gate proposes,
 * waits for the decision and applies; this class turns ACP messages into proposals and
 * outcomes into ACP answers. Refusals reach the agent as JSON-RPC errors, so it knows what
 * happened.
 */
export class ProposalHandlers implements AcpClientHandlers {
  /** Notes the agent reads first in a terminal's output (the reviewer edited its command). */
  private readonly terminalNotes = new Map<string, string>();
  private readonly gate: ProposalGate;
  private readonly paths: AgentPaths;

  constructor(private readonly deps: ProposalHandlerDeps) {
    this.gate = deps.gate;
    this.paths = new AgentPaths(deps.mapper, deps.sandbox.workspaceFolder, deps.gate);
  }

  async readTextFile(params: acp.ReadTextFileRequest): Promise<acp.ReadTextFileResponse> {
    const relative = await this.workspacePath(params.path, 'read');
    throwIfRefused(await this.gate.checkRead(relative));
    const text = this.deps.turnCopy ? await this.deps.turnCopy.read(relative) : await this.deps.files.read(relative);
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
    throwIfRefused(await this.gate.checkScope(relative, 'write'));
    if (this.deps.turnCopy && (await this.writeToCopy(relative, params.content))) return {};
    const grant = this.gate.takeWriteGrant(relative, sha256Hex(params.content));
    // With a grant, the base is what the reviewer saw then, so a later change makes it stale.
    const oldText = grant ? grant.oldText : await this.deps.files.read(relative);
    const verdict = grant
      ? undefined
      : this.gate.evaluate((policy) => evaluatePath(policy, oldText === null ? 'create' : 'write', relative));
    const fields = {
      kind: 'edit' as const,
      origin: 'fs/write_text_file',
      title: `${oldText === null ? 'Create' : 'Edit'} ${relative}`,
      path: relative,
      oldText,
      newText: params.content,
      baseHash: oldText === null ? null : sha256Hex(oldText),
      newHash: sha256Hex(params.content),
      diff: unifiedDiff(relative, oldText, params.content),
    };
    const proposal = await this.gate.propose<EditProposal>(fields, { verdict, grantedBy: grant?.proposalId });
    const decision = await this.decided(proposal);
    if (decision.verdict === 'reject') {
      throw refusal(`${rejectedBy(decision)} the write to ${relative}${decision.reason ? `: ${decision.reason}` : ''}`, {
        proposalId: proposal.id,
        ...ruleData(decision),
      });
    }
    const applied = appliedOrThrow(await this.gate.apply(this.gate.current<EditProposal>(proposal.id)));
    await this.deps.afterWrite?.(relative, applied.text ?? '');
    // The write happened, differently: an error would make the agent retry or undo the reviewer's
    // change, so it is told the truth as a success that says what changed (ACP's answer has no
    // field for it, so in _meta), and again with its next instruction.
    const change = applied.change;
    if (!change) return {};
    const note = `${relative} was written with the reviewer's changes (${change.summary}); it now holds what the reviewer accepted.`;
    this.deps.notes?.add(relative, note);
    return {
      _meta: { warden: { appliedWithChanges: { path: relative, kind: change.kind, summary: change.summary, proposalId: proposal.id } } },
    };
  }

  /**
   * Turn review: the write goes into the agent's copy (inside the sandbox) and is proposed
   * with the turn. A path the policy denies is not written: false, so it is refused as usual.
   */
  private async writeToCopy(relative: string, content: string): Promise<boolean> {
    const exists = (await this.deps.files.read(relative)) !== null;
    const verdict = this.gate.evaluate((policy) => evaluatePath(policy, exists ? 'write' : 'create', relative));
    if (verdict?.decision === 'deny') return false;
    await this.deps.turnCopy!.write(relative, content);
    await this.deps.record({ actor: this.deps.agentActor(), type: 'sandbox.write', data: { path: relative, hash: sha256Hex(content) } });
    return true;
  }

  async requestPermission(params: acp.RequestPermissionRequest): Promise<acp.RequestPermissionResponse> {
    // What the agent already did on its own surfaces before it asks for more.
    await this.deps.sandboxActivity?.('permission request');
    const toolCall = params.toolCall;
    const toolKind = toolCall.kind ?? 'other';
    const edit = await this.permissionEdit(toolCall);
    const commandLine = toolKind === 'execute' ? commandFromToolCall(toolCall) : undefined;
    if (commandLine) throwIfRefused(await this.gate.checkGitCommand(commandLine));
    const resolvePath = (p: string): string | null => this.paths.resolveCommandPath(p, this.deps.sandbox.workspaceFolder);
    const verdict = this.gate.evaluate((policy) => permissionVerdict(policy, toolCall, edit, commandLine, resolvePath));
    // Turn review: an edit only reaches the copy, so asking about it now would be asking twice.
    const inTurn = this.deps.turnCopy && edit && !commandLine && verdict?.decision !== 'deny' ? turnReviewDecision(edit.path) : undefined;
    const proposal = await this.gate.propose<PermissionProposal>(
      {
        kind: 'permission',
        origin: 'session/request_permission',
        title: toolCall.title ?? `${toolKind} (${toolCall.toolCallId})`,
        toolKind,
        options: params.options.map((o) => ({ optionId: o.optionId, name: o.name, kind: o.kind })),
        ...(edit ? { edit } : {}),
        ...(commandLine ? { commandLine } : {}),
      },
      { verdict, decided: inTurn },
    );
    const decision = await this.gate.decide(proposal).catch(orphanedAsUndefined);
    // The session ended first (Stop, the kill switch, a reload): ACP's own answer for a request that will never be decided.
    if (!decision) return { outcome: { outcome: 'cancelled' } };

    const picked = decision.optionId ? params.options.find((o) => o.optionId === decision.optionId) : undefined;
    const option = answerOption(params.options, decision.verdict, picked);
    this.deps.store.setState(proposal.id, decision.verdict === 'approve' ? 'applied' : 'rejected', undefined, {
      ...(option ? { chosenOptionId: option.optionId } : {}),
    });
    if (decision.verdict === 'approve') await this.grant(proposal.id, picked, decision, edit, commandLine);
    // ACP's reject option carries no reason: the agent reads it in _meta now and with its next instruction.
    const why = rejectionNote(`Your request "${proposal.title}"`, decision);
    if (why) this.deps.notes?.add(edit?.path ?? commandLine ?? proposal.title, why);
    await this.deps.record({
      actor: { kind: 'warden', id: 'warden' },
      type: 'permission.answered',
      data: {
        proposalId: proposal.id,
        outcome: option ? { selected: option.optionId, kind: option.kind } : 'cancelled',
        ...(picked && picked.optionId !== option?.optionId ? { reviewerPicked: { optionId: picked.optionId, kind: picked.kind } } : {}),
      },
    });
    return {
      outcome: option ? { outcome: 'selected', optionId: option.optionId } : { outcome: 'cancelled' },
      ...(why ? { _meta: { warden: { rejected: { reason: decision.reason, by: decision.reviewer.kind } } } } : {}),
    };
  }

  async createTerminal(params: acp.CreateTerminalRequest): Promise<acp.CreateTerminalResponse> {
    const args = params.args ?? [];
    // A bare command string with no args is a shell command line, as agents send it.
    let argv = args.length > 0 ? [params.command, ...args] : ['sh', '-c', params.command];
    const commandLine = args.length > 0 ? displayCommandLine(argv) : params.command;
    throwIfRefused(await this.gate.checkGitCommand(args.length > 0 ? argv : params.command));
    const cwd = params.cwd ?? this.deps.sandbox.workspaceFolder;
    const env = Object.fromEntries((params.env ?? []).map((v) => [v.name, v.value]));
    const grant = this.gate.takeCommandGrant(commandLine);
    const resolvePath = (p: string): string | null => this.paths.resolveCommandPath(p, cwd);
    const verdict = grant
      ? undefined
      : this.gate.evaluate((policy) => evaluateCommand(policy, { ...(args.length > 0 ? { argv } : { commandLine }), resolvePath }));
    const proposal = await this.gate.propose<CommandProposal>(
      { kind: 'command', origin: 'terminal/create', title: `Run ${truncate(commandLine, 80)}`, argv, commandLine, cwd, env },
      { verdict, grantedBy: grant?.proposalId },
    );
    const decision = await this.decided(proposal);
    if (decision.verdict === 'reject') {
      throw refusal(`${rejectedBy(decision)} the command ${commandLine}${decision.reason ? `: ${decision.reason}` : ''}`, {
        proposalId: proposal.id,
        ...ruleData(decision),
      });
    }
    let edited: { argv: string[]; commandLine: string } | undefined;
    if (decision.editedCommand !== undefined) {
      const rechecked = await this.gate.recheckEditedCommand(proposal, decision.editedCommand, resolvePath);
      if ('refused' in rechecked) throw refusal(rechecked.refused.message, { proposalId: proposal.id, rule: rechecked.refused.ruleId });
      edited = rechecked;
      argv = edited.argv;
    }
    const terminalId = await this.run(proposal.id, argv, cwd, env, params.outputByteLimit ?? undefined);
    // Agents read what ran through the terminal's output: the first lines say it was edited.
    if (edited)
      this.terminalNotes.set(
        terminalId,
        `[warden] The reviewer edited your command before it ran.\n[warden] You asked for: ${commandLine}\n[warden] It ran instead: ${edited.commandLine}\n`,
      );
    // The agent is told that what runs is the reviewer's command, not its own.
    return edited
      ? { terminalId, _meta: { warden: { editedCommand: edited.commandLine, proposedCommandLine: commandLine } } }
      : { terminalId };
  }

  /** Runs an approved command in the sandbox; its result is recorded when it exits. */
  private async run(
    proposalId: string,
    argv: string[],
    cwd: string,
    env: Record<string, string>,
    agentLimit: number | undefined,
  ): Promise<string> {
    const policyLimit = this.gate.currentPolicy()?.limits.outputBytes ?? DEFAULT_OUTPUT_LIMIT;
    const outputByteLimit = Math.min(agentLimit ?? DEFAULT_OUTPUT_LIMIT, DEFAULT_OUTPUT_LIMIT, policyLimit);
    let running;
    try {
      running = await this.deps.sandbox.runCommand(argv, { cwd, env: { ...env, ...this.deps.commandEnv?.(proposalId) }, outputByteLimit });
    } catch (error) {
      this.deps.store.setState(proposalId, 'failed', `Could not start: ${message(error)}`);
      await this.deps.record({
        actor: { kind: 'warden', id: 'warden' },
        type: 'command.failed',
        data: { proposalId, error: message(error) },
      });
      throw refusal(`Warden could not start the command: ${message(error)}`);
    }
    const terminalId = this.deps.terminals.add(running);
    void running.exited.then(async (status) => {
      const output = running.output();
      const result = {
        exitCode: status.exitCode,
        signal: status.signal,
        outputExcerpt: output.text.slice(-AUDIT_OUTPUT_EXCERPT),
        outputHash: sha256Hex(output.text),
        truncated: output.truncated,
      };
      this.deps.store.setState(proposalId, 'applied', `exit code ${status.exitCode ?? 'none'}`, { result });
      await this.deps.record({
        actor: { kind: 'warden', id: 'warden' },
        type: 'command.result',
        data: { proposalId, terminalId, ...result },
      });
      await this.deps.sandboxActivity?.('command exited');
    });
    return terminalId;
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
    const outcome = await this.gate.ask({
      question: params.question,
      choices: params.choices,
      origin: params.origin ?? '_warden/ask_human',
    });
    if (!outcome.answered) throw refusal(outcome.message, { proposalId: outcome.proposalId });
    return { answer: outcome.answer };
  }

  /** An approved permission grants the write or command it shows (used once), and an "always allow" suggests a rule. */
  private async grant(
    proposalId: string,
    picked: acp.PermissionOption | undefined,
    decision: Decision,
    edit: PermissionProposal['edit'],
    commandLine: string | undefined,
  ): Promise<void> {
    if (picked?.kind === 'allow_always') await this.suggest(this.gate.current<PermissionProposal>(proposalId), decision);
    // Approving an edit Warden could not place grants nothing: it is never applied blind.
    // In turn review the write goes to the copy and is decided with the turn: no grant either.
    if (edit && !edit.unlocated && !this.deps.turnCopy)
      this.gate.grantWrite({ path: edit.path, newHash: edit.newHash, oldText: edit.oldText, proposalId });
    if (commandLine) this.gate.grantCommand(commandLine, proposalId);
  }

  /** An "always allow" becomes a suggested rule (audited), never a standing grant. */
  private async suggest(proposal: PermissionProposal, decision: Decision): Promise<void> {
    const result = suggestRule(proposal, decision.reviewer.name);
    if ('reason' in result) {
      await this.deps.record({
        actor: { kind: 'warden', id: 'warden' },
        type: 'policy.suggestion',
        data: { proposalId: proposal.id, suggested: null, reason: result.reason },
      });
      return;
    }
    const suggestion: RuleSuggestion = {
      id: `sg-${randomUUID()}`,
      sessionId: this.deps.sessionId,
      proposalId: proposal.id,
      createdAt: new Date().toISOString(),
      ...result,
    };
    await this.deps.record({
      actor: { kind: 'warden', id: 'warden' },
      type: 'policy.suggestion',
      data: {
        proposalId: proposal.id,
        suggestionId: suggestion.id,
        section: result.suggested.section,
        rule: result.suggested.rule,
        summary: result.summary,
      },
    });
    this.deps.onSuggestion?.(suggestion);
  }

  private async permissionEdit(toolCall: acp.ToolCallUpdate): Promise<PermissionProposal['edit']> {
    const diff = toolCall.content?.find((c): c is Extract<acp.ToolCallContent, { type: 'diff' }> => c.type === 'diff');
    if (!diff) return this.rawPatchEdit(toolCall);
    const relative = await this.workspacePath(diff.path, 'edit');
    throwIfRefused(await this.gate.checkScope(relative, 'edit'));
    // The current file is the truth the reviewer compares against, whatever oldText the agent sent.
    const oldText = await this.deps.files.read(relative);
    const placed = placeAgentDiff(oldText, diff);
    if (!placed.ok) {
      const note = `Warden could not place this change in the current file: ${placed.reason}. It is shown as the agent sent it and will not be applied.`;
      const agentOld = diff.oldText ?? '';
      return {
        path: relative,
        oldText,
        newText: diff.newText,
        newHash: sha256Hex(diff.newText),
        diff: unifiedDiff(relative, agentOld, diff.newText),
        unlocated: note,
      };
    }
    return {
      path: relative,
      oldText,
      newText: placed.newText,
      newHash: sha256Hex(placed.newText),
      diff: unifiedDiff(relative, oldText, placed.newText),
      shape: placed.shape,
    };
  }

  /** An edit carried only as a unified diff in rawInput (Copilot CLI), placed against the current file. */
  private async rawPatchEdit(toolCall: acp.ToolCallUpdate): Promise<PermissionProposal['edit']> {
    const raw = rawInputPatch(toolCall.rawInput);
    if (!raw) return undefined;
    const relative = await this.workspacePath(raw.path, 'edit');
    throwIfRefused(await this.gate.checkScope(relative, 'edit'));
    const oldText = await this.deps.files.read(relative);
    const applied = applyRawPatch(oldText, raw.patch);
    if (!applied.ok) {
      return {
        path: relative,
        oldText,
        newText: oldText ?? '',
        newHash: sha256Hex(oldText ?? ''),
        diff: raw.patch.trimStart(),
        unlocated: `Warden could not place this change in the current file: ${applied.reason}. It is shown as the agent sent it.`,
      };
    }
    return {
      path: relative,
      oldText,
      newText: applied.newText,
      newHash: sha256Hex(applied.newText),
      diff: unifiedDiff(relative, oldText ?? '', applied.newText),
    };
  }

  /** The decision; when the session ends first (Stop, the kill switch, a reload), a refusal that says so, not the SDK's bare "Internal error". */
  private async decided(proposal: Proposal): Promise<Decision> {
    const decision = await this.gate.decide(proposal).catch(orphanedAsUndefined);
    if (decision) return decision;
    const detail = this.gate.current(proposal.id).stateDetail ?? 'the session ended';
    throw refusal(`No decision was made (${detail}); nothing was applied or run.`, { proposalId: proposal.id, orphaned: true });
  }

  /** The workspace path of a path the agent named; a path outside it is refused (audited). */
  private async workspacePath(agentPath: string, action: string): Promise<string> {
    const result = await this.paths.toWorkspace(agentPath, action);
    if (!result.ok) throw refusal(result.reason);
    return result.path;
  }
}

/** An orphaned proposal's wait ends without a decision; any other error stays an error. */
function orphanedAsUndefined(error: unknown): undefined {
  if (error instanceof ProposalOrphanedError) return undefined;
  throw error;
}

/** A refusal of the gate, as the JSON-RPC error the agent receives (naming the rule). */
function throwIfRefused(refused: GateRefusal | undefined): void {
  if (refused) throw refusal(refused.message, { rule: refused.ruleId });
}

/** An edit the gate applied, or the JSON-RPC error saying why it was not. */
function appliedOrThrow(outcome: ApplyOutcome): Extract<ApplyOutcome, { kind: 'applied' }> {
  if (outcome.kind === 'applied') return outcome;
  throw refusal(outcome.detail, outcome.kind === 'stale' ? { proposalId: outcome.proposalId } : undefined);
}

/** The policy's verdict on a permission request, by what it carries: files, an edit, a command, or only a kind. */
function permissionVerdict(
  policy: EffectivePolicy,
  toolCall: acp.ToolCallUpdate,
  edit: PermissionProposal['edit'],
  commandLine: string | undefined,
  resolvePath: (raw: string) => string | null,
): PolicyVerdict {
  const toolKind = toolCall.kind ?? 'other';
  const tooManyFiles = filesPerProposalVerdict(policy, diffPaths(toolCall));
  if (tooManyFiles) return tooManyFiles;
  if (edit) return evaluatePath(policy, edit.oldText === null ? 'create' : 'write', edit.path);
  if (commandLine && !hasRawCommand(toolCall)) {
    return {
      decision: 'ask',
      ruleId: 'default',
      reason: 'The agent described the command only by its title, so the policy cannot judge it: a human decides',
    };
  }
  if (commandLine) return evaluateCommand(policy, { commandLine, resolvePath });
  if (toolKind === 'delete')
    return {
      decision: 'ask',
      ruleId: 'builtin.irreversible',
      reason: 'Deleting is irreversible: a human decides',
      labels: ['irreversible: delete'],
    };
  return { decision: 'ask', ruleId: 'default', reason: `No policy rule covers "${toolKind}" permission requests, so a human decides` };
}

/** Warden's answer to an edit permission in turn review: go ahead in the copy; the human decides the change with the turn. */
function turnReviewDecision(path: string): Decision {
  return {
    verdict: 'approve',
    reviewer: { kind: 'warden', name: 'turn-review', source: 'warden.review.mode' },
    reason: `turn review: the edit of ${path} lands in the sandbox copy; it is reviewed with the turn's changes`,
    decidedAt: new Date().toISOString(),
  };
}

function rejectedBy(decision: Decision): string {
  return decision.reviewer.kind === 'policy' ? `The team policy (rule ${decision.reviewer.name}) denied` : 'The reviewer rejected';
}

function ruleData(decision: Decision): Record<string, unknown> {
  return decision.reviewer.kind === 'policy' ? { rule: decision.reviewer.name } : {};
}

/**
 * The option sent to the agent. The reviewer's pick is honoured, except that an "always
 * allow" is sent as the one-time allow when the agent offers one: a standing grant is a
 * policy rule a human adds, never something the agent keeps. Without a pick (Accept/Reject,
 * the policy, a timeout): a one-time allow, or a one-time reject.
 */
function answerOption(
  options: acp.PermissionOption[],
  verdict: Decision['verdict'],
  picked: acp.PermissionOption | undefined,
): acp.PermissionOption | undefined {
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
  return !!raw && typeof raw === 'object' && 'command' in raw && (typeof raw.command === 'string' || Array.isArray(raw.command));
}

function commandFromToolCall(toolCall: acp.ToolCallUpdate): string | undefined {
  const raw = toolCall.rawInput;
  if (raw && typeof raw === 'object' && 'command' in raw) {
    const command = raw.command;
    if (typeof command === 'string') return command;
    if (Array.isArray(command) && command.every((w) => typeof w === 'string')) return displayCommandLine(command);
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

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

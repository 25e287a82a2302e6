import * as path from 'node:path';
import { applyPatch } from 'diff';
import type { ProtocolViolation } from '../agent/acpClient';
import type { AppServerHandlers } from '../agent/codex/appServerClient';
import type {
  AppServerNotification,
  CommandApprovalDecision,
  CommandApprovalParams,
  FileChangeApprovalDecision,
  FileChangeApprovalParams,
  FileUpdateChange,
  UserInputParams,
  UserInputResponse,
} from '../agent/codex/protocol';
import { refusal } from '../agent/acpClient';
import { evaluateCommand, evaluatePath } from '../policy';
import { unifiedDiff } from '../proposals/diff';
import type { CommandProposal, Decision, EditProposal } from '../proposals/model';
import { ProposalOrphanedError } from '../proposals/store';
import { sha256Hex } from '../util/hash';
import { AgentPaths } from './agentPaths';
import { notesMessage, rejectionNote } from './agentNotes';
import { type CodexView, declinedButWrittenNote, type LandedFile, landedFile, landedNote, PATCH_LEAD } from './codexPatchTruth';
import type { ProposalGate } from './gate';
import type { ProposalHandlerDeps } from './proposalHandlers';
import { clip } from './sessionEvents';

/** What the Codex mapper needs: the gate, and the session's sandbox, workspace and audit. */
export type CodexApprovalDeps = Pick<
  ProposalHandlerDeps,
  'gate' | 'sandbox' | 'mapper' | 'store' | 'files' | 'record' | 'onEvent' | 'notes' | 'afterWrite'
>;

const AUDIT_OUTPUT_EXCERPT = 4096;
const WARDEN = { kind: 'warden', id: 'warden' } as const;

/** One file of a Codex patch, placed against the current workspace file. */
type PlacedChange = { ok: true; path: string; oldText: string | null; newText: string } | { ok: false; path: string; reason: string };

/**
 * Maps the Codex app-server's approvals to Warden proposals. Codex runs commands and applies
 * patches itself, inside the sandbox, once told `accept`; the real workspace only changes
 * when Warden applies the approved edits it showed the reviewer. A command approval is a
 * command proposal (with Codex's cwd); a file change approval is one edit proposal per file,
 * built from the changes announced in `item/started` (the latest `turn/diff/updated` is kept
 * for the record). A patch applies whole or not at all.
 *
 * Codex has no "accepted with changes": a patch the reviewer accepted with changes (hunks
 * dropped, text edited) is answered `accept`, because the write happened, and Codex is told
 * the truth at once in its running turn (`turn/steer`, which the model reads with the patch
 * result) or else with its next instruction. In the copy, Codex then applies its own version
 * there; once it is done (`item/completed`) the copy gets what was written, so the copy's
 * scan never proposes Codex's version again. Read-only, Codex's own apply cannot write, so it
 * is told for every accepted patch that Warden wrote it.
 */
export class CodexApprovals implements AppServerHandlers {
  /** fileChange item id -> its changes, from `item/started`. */
  private readonly patches = new Map<string, FileUpdateChange[]>();
  /** commandExecution item id -> the approved command proposal, to record its result. */
  private readonly approvedCommands = new Map<string, string>();
  /** fileChange item id -> what Warden wrote for it, until Codex reports the item done. */
  private readonly landed = new Map<string, LandedFile[]>();
  private readonly streamedMessages = new Set<string>();
  private turnDiff = '';
  private readonly gate: ProposalGate;
  private readonly paths: AgentPaths;

  constructor(
    private readonly deps: CodexApprovalDeps,
    private readonly onViolation: (violation: ProtocolViolation) => void = () => undefined,
  ) {
    this.gate = deps.gate;
    this.paths = new AgentPaths(deps.mapper, deps.sandbox.workspaceFolder, deps.gate);
  }

  notification(n: AppServerNotification): void {
    const emit = this.deps.onEvent;
    switch (n.method) {
      case 'item/started': {
        const item = n.params.item;
        if (item.type === 'fileChange' && 'changes' in item) {
          this.patches.set(item.id, item.changes);
          emit({
            type: 'tool-call',
            toolCallId: item.id,
            title: `Patch ${item.changes.map((c) => c.path).join(', ')}`,
            status: 'pending',
            kind: 'edit',
            content: item.changes.map((c) => ({ type: 'diff' as const, path: c.path, diff: clip(c.diff) })),
          });
        } else if (item.type === 'commandExecution' && 'command' in item) {
          emit({ type: 'tool-call', toolCallId: item.id, title: item.command, status: 'pending', kind: 'execute' });
        }
        break;
      }
      case 'item/completed': {
        const item = n.params.item;
        if (item.type === 'commandExecution' && 'command' in item) {
          void this.commandFinished(item.id, item.status, item.exitCode ?? null, item.aggregatedOutput ?? '');
          emit({
            type: 'tool-call',
            toolCallId: item.id,
            title: item.command,
            status: item.status === 'completed' ? 'completed' : 'failed',
            kind: 'execute',
            ...(item.aggregatedOutput ? { content: [{ type: 'text', text: clip(item.aggregatedOutput) }] } : {}),
          });
        } else if (item.type === 'fileChange' && 'changes' in item) {
          const written = this.landed.get(item.id);
          this.landed.delete(item.id);
          // Codex's own apply is done: the copy gets what Warden wrote (Codex's version, or its failure, would be proposed again).
          if (written && this.view === 'copy')
            for (const file of written) if (file.summary || item.status !== 'completed') void this.mirror(file);
          emit({
            type: 'tool-call',
            toolCallId: item.id,
            title: `Patch ${item.changes.map((c) => c.path).join(', ')}`,
            status: written || item.status === 'completed' ? 'completed' : 'failed',
            kind: 'edit',
          });
        } else if (item.type === 'agentMessage' && 'text' in item && !this.streamedMessages.has(item.id)) {
          emit({ type: 'agent-message', text: item.text });
        }
        break;
      }
      case 'item/agentMessage/delta':
        this.streamedMessages.add(n.params.itemId);
        emit({ type: 'agent-message', text: n.params.delta });
        break;
      case 'item/reasoning/summaryTextDelta':
        emit({ type: 'thought', text: n.params.delta });
        break;
      case 'turn/plan/updated':
        emit({
          type: 'plan',
          entries: n.params.plan.map((p) => ({ content: p.step, status: p.status === 'inProgress' ? 'in_progress' : p.status })),
        });
        break;
      case 'turn/diff/updated':
        this.turnDiff = n.params.diff;
        break;
      case 'error':
        emit({ type: 'notice', level: 'error', text: n.params.error.message });
        break;
      default:
        break;
    }
  }

  protocolError(message: string): void {
    this.onViolation({ kind: 'malformed-frame', detail: message });
  }

  async commandApproval(params: CommandApprovalParams): Promise<CommandApprovalDecision> {
    const commandLine = params.command?.trim();
    if (!commandLine) return this.refuse('command', params.itemId, 'Codex asked to run a command without saying which');
    const cwd = params.cwd ?? this.deps.sandbox.workspaceFolder;
    if (await this.gate.checkGitCommand(commandLine)) return 'decline'; // refused and audited by the guard
    const verdict = this.gate.evaluate((policy) =>
      evaluateCommand(policy, { commandLine, resolvePath: (p) => this.paths.resolveCommandPath(p, cwd) }),
    );
    const proposal = await this.gate.propose<CommandProposal>(
      {
        kind: 'command',
        origin: 'item/commandExecution/requestApproval',
        title: `Run ${commandLine.length > 80 ? `${commandLine.slice(0, 79)}…` : commandLine}`,
        argv: ['sh', '-c', commandLine],
        commandLine,
        cwd,
        env: {},
      },
      { verdict },
    );
    const decision = await this.decide(proposal);
    if (decision?.verdict !== 'approve') {
      this.noteRejection(`Your command ${commandLine}`, commandLine, decision);
      return decision ? 'decline' : 'cancel';
    }
    this.approvedCommands.set(params.itemId, proposal.id);
    return 'accept';
  }

  async fileChangeApproval(
    params: FileChangeApprovalParams,
    steer: (text: string) => Promise<boolean> = () => Promise.resolve(false),
  ): Promise<FileChangeApprovalDecision> {
    const changes = this.patches.get(params.itemId);
    if (!changes?.length)
      return this.refuse('edit', params.itemId, 'Codex asked to apply a patch Warden was never shown (no item/started file change)');
    const placed: PlacedChange[] = [];
    for (const change of changes) placed.push(await this.place(change));
    const unplaced = placed.find((p): p is Extract<PlacedChange, { ok: false }> => !p.ok);
    if (unplaced) return this.refuse('edit', params.itemId, `${unplaced.path}: ${unplaced.reason}`, { turnDiff: this.turnDiff });
    const edits = placed as Array<Extract<PlacedChange, { ok: true }>>;
    for (const edit of edits) if (await this.gate.checkScope(edit.path, 'write')) return 'decline';

    const proposals: EditProposal[] = [];
    for (const edit of edits) proposals.push(await this.proposeEdit(edit));
    const decisions = await Promise.all(proposals.map((p) => this.decide(p)));
    if (decisions.some((d) => d === undefined)) return 'cancel';
    if (!decisions.every((d) => d?.verdict === 'approve')) {
      for (const [i, p] of proposals.entries()) this.noteRejection(`Your change to ${p.path}`, p.path, decisions[i]);
      for (const [i, p] of proposals.entries()) {
        if (decisions[i]?.verdict === 'approve')
          this.deps.store.setState(
            p.id,
            'failed',
            'Not applied: another file of the same Codex patch was rejected, and a patch applies whole or not at all',
          );
      }
      return 'decline';
    }
    const written: LandedFile[] = [];
    for (const p of proposals) {
      const outcome = await this.gate.apply(this.gate.current<EditProposal>(p.id));
      const file = landedFile(p, outcome);
      if (file) {
        written.push(file);
        continue;
      }
      // Stale or failed: set and recorded by the gate; Codex is told no, and of the files already written.
      const why = outcome.kind === 'applied' ? 'no text was written' : outcome.detail;
      for (const done of written) {
        this.deps.notes?.add(done.path, declinedButWrittenNote(done, why));
        if (this.view === 'copy') void this.mirror(done); // Codex applies nothing after a decline
      }
      return 'decline';
    }
    await this.tellTruth(params.itemId, written, steer);
    this.landed.set(params.itemId, written);
    return 'accept';
  }

  /** How Codex sees the workspace. */
  private get view(): CodexView {
    return this.deps.sandbox.copyHostPath ? 'copy' : 'readonly';
  }

  /**
   * Tells Codex what its accepted patch really did, before the answer (so the message is in the
   * model's next request, with the patch result); with the next instruction when the turn
   * cannot take it.
   */
  private async tellTruth(itemId: string, written: LandedFile[], steer: (text: string) => Promise<boolean>): Promise<void> {
    const told = written.flatMap((file) => {
      const note = landedNote(file, this.view);
      return note ? [{ file, note }] : [];
    });
    if (told.length === 0) return;
    const notes = told.map((t) => t.note);
    if (await steer(notesMessage(PATCH_LEAD, notes))) {
      await this.deps.record({
        actor: WARDEN,
        type: 'agent.told',
        data: { via: 'turn/steer', itemId, proposalIds: told.map((t) => t.file.proposalId), notes },
      });
      return;
    }
    for (const { file, note } of told) this.deps.notes?.add(file.path, note);
  }

  /** Puts what Warden wrote into the copy (through the copy watcher, so its scan sees it). */
  private async mirror(file: LandedFile): Promise<void> {
    try {
      await this.deps.afterWrite?.(file.path, file.text);
    } catch (error) {
      this.deps.onEvent({
        type: 'notice',
        level: 'warning',
        text: `Could not put what was written to ${file.path} into the sandbox copy: ${error instanceof Error ? error.message : String(error)}`,
      });
    }
  }

  async userInput(params: UserInputParams): Promise<UserInputResponse> {
    const answers: UserInputResponse['answers'] = {};
    for (const q of params.questions) {
      if (q.isSecret) throw new Error('Warden does not pass secrets typed by a human to the agent');
      const outcome = await this.gate.ask({
        question: q.header && q.header !== q.question ? `${q.header}: ${q.question}` : q.question,
        ...(q.options?.length ? { choices: q.options.map((o) => o.label) } : {}),
        origin: 'item/tool/requestUserInput',
      });
      if (!outcome.answered) throw refusal(outcome.message, { proposalId: outcome.proposalId });
      answers[q.id] = { answers: [outcome.answer] };
    }
    return { answers };
  }

  private proposeEdit(edit: Extract<PlacedChange, { ok: true }>): Promise<EditProposal> {
    const verdict = this.gate.evaluate((policy) => evaluatePath(policy, edit.oldText === null ? 'create' : 'write', edit.path));
    const fields = {
      kind: 'edit' as const,
      origin: 'item/fileChange/requestApproval',
      title: `${edit.oldText === null ? 'Create' : 'Edit'} ${edit.path}`,
      path: edit.path,
      oldText: edit.oldText,
      newText: edit.newText,
      baseHash: edit.oldText === null ? null : sha256Hex(edit.oldText),
      newHash: sha256Hex(edit.newText),
      diff: unifiedDiff(edit.path, edit.oldText, edit.newText),
    };
    return this.gate.propose<EditProposal>(fields, { verdict });
  }

  /** Places one Codex change in the current file: add = the new content, update = a unified diff applied to the file. */
  private async place(change: FileUpdateChange): Promise<PlacedChange> {
    const absolute = change.path.startsWith('/') ? change.path : path.posix.join(this.deps.sandbox.workspaceFolder, change.path);
    const mapped = await this.paths.toWorkspace(absolute, 'edit');
    if (!mapped.ok) return { ok: false, path: change.path, reason: 'outside the workspace' };
    const relative = mapped.path;
    const current = await this.deps.files.read(relative);
    // Codex reads inside the sandbox, where a read-denied file never is: a patch over one was made blind, and its diff would show the file.
    const read = current === null ? undefined : this.gate.evaluate((policy) => evaluatePath(policy, 'read', relative));
    if (read?.decision === 'deny')
      return {
        ok: false,
        path: relative,
        reason: `${relative} is withheld from the sandbox by policy rule ${read.ruleId} (Codex never saw it), so Warden does not patch it; change it yourself if you agree`,
      };
    switch (change.kind.type) {
      case 'add':
        return { ok: true, path: relative, oldText: current, newText: change.diff };
      case 'delete':
        return {
          ok: false,
          path: relative,
          reason: 'Warden does not apply deletions from a Codex patch yet; delete the file yourself if you agree',
        };
      case 'update': {
        if (change.kind.move_path) return { ok: false, path: relative, reason: 'Warden does not apply renames from a Codex patch yet' };
        if (current === null) return { ok: false, path: relative, reason: 'the patch updates a file that does not exist in the workspace' };
        const patched = applyPatch(current, change.diff);
        if (patched === false)
          return {
            ok: false,
            path: relative,
            reason: 'the patch does not apply to the current file (it changed, or Codex saw another version)',
          };
        return { ok: true, path: relative, oldText: current, newText: patched };
      }
    }
  }

  /** Codex's decline carries no reason: the agent reads the reviewer's with its next instruction. */
  private noteRejection(what: string, key: string, decision: Decision | undefined): void {
    const note = decision && rejectionNote(what, decision);
    if (note) this.deps.notes?.add(key, note);
  }

  /** A decision, or undefined when the session ended first (the proposal is orphaned, never applied). */
  private async decide(proposal: CommandProposal | EditProposal): Promise<Decision | undefined> {
    try {
      return await this.gate.decide(proposal);
    } catch (error) {
      if (error instanceof ProposalOrphanedError) return undefined;
      throw error;
    }
  }

  private async refuse(action: string, itemId: string, reason: string, extra: Record<string, unknown> = {}): Promise<'decline'> {
    await this.gate.refuse({ action, itemId, reason, ...extra });
    this.deps.onEvent({ type: 'notice', level: 'warning', text: `Declined: ${reason}` });
    return 'decline';
  }

  private async commandFinished(itemId: string, status: string, exitCode: number | null, output: string): Promise<void> {
    const proposalId = this.approvedCommands.get(itemId);
    if (!proposalId) return;
    this.approvedCommands.delete(itemId);
    const result = {
      exitCode,
      signal: null,
      outputExcerpt: output.slice(-AUDIT_OUTPUT_EXCERPT),
      outputHash: sha256Hex(output),
      truncated: false,
    };
    this.deps.store.setState(
      proposalId,
      status === 'completed' ? 'applied' : 'failed',
      `${status}, exit code ${exitCode ?? 'none'} (run by Codex in the sandbox)`,
      { result },
    );
    await this.deps.record({ actor: WARDEN, type: 'command.result', data: { proposalId, itemId, ranBy: 'codex', status, ...result } });
  }
}

import * as path from 'node:path';
import * as vscode from 'vscode';
import * as z from 'zod';
import { formatAnchorReport, formatChainReports, formatVerifyReport, verifyAuditAnchors } from '../core/audit';
import type { ProposalStore } from '../core/proposals/store';
import { latestTurn } from '../core/proposals/turns';
import { PROPOSAL_SCHEME, ProposalDocuments } from './proposalDocuments';
import { ReviewPanel } from './reviewPanel';
import { reviewHandlers } from './reviewCommands';
import type { SessionController } from './sessionController';
import { commandRegistrar } from './commandRegistrar';
import { BranchArgs } from './sessionBranches';
import { MAX_REASON } from '../shared/reviewProtocol';
import { rejectReason } from '../core/proposals/decisions';

/** Arguments tests and other extensions may pass; users get prompts instead. */
const StartArgs = z
  .object({ instruction: z.string().min(1).optional(), folder: z.string().optional() })
  .extend(BranchArgs.shape)
  .optional();
const ProposalArg = z.union([z.string(), z.object({ proposalId: z.string() })]).optional();
/** A reject may carry its reason (tests, other extensions); without one the reviewer is asked for it. */
const RejectArg = z.object({ proposalId: z.string(), reason: z.string().max(MAX_REASON) });

export function registerCommands(
  context: vscode.ExtensionContext,
  store: ProposalStore,
  sessions: SessionController,
  log: vscode.LogOutputChannel,
): void {
  const showReview = (): void => {
    ReviewPanel.createOrShow(context.extensionUri, store, reviewHandlers(store, sessions), log);
  };

  const register = commandRegistrar(context, log);

  register('warden.startSession', async (raw) => {
    const args = StartArgs.parse(raw);
    // One session at a time: while one runs, the instruction goes to it (queued behind a turn under way).
    if (sessions.activeSession) return instructRunning(args?.instruction);
    const folder = await pickFolder(args?.folder);
    if (!folder) return undefined;
    const instruction =
      args?.instruction ??
      (await vscode.window.showInputBox({
        title: 'Warden: Start Agent Session',
        prompt: 'What should the agent do? It runs in a sandbox; you review every edit and command.',
        placeHolder: 'e.g. add a farewell function with tests',
        ignoreFocusOut: true,
        validateInput: (value) => (value.trim() ? undefined : 'Type an instruction for the agent'),
      }));
    if (!instruction?.trim()) return undefined;
    showReview();
    const { instruction: _text, folder: _folder, ...branchArgs } = args ?? {};
    const started = await sessions.start(folder, instruction.trim(), undefined, branchArgs);
    return started?.sessionId;
  });

  /** Start Agent Session while a session runs: the panel opens and the instruction goes to the session, never lost. */
  async function instructRunning(given: string | undefined): Promise<string | undefined> {
    showReview();
    const instruction =
      given ??
      (await vscode.window.showInputBox({
        title: 'Warden: the agent session is running',
        prompt: 'What should the agent do next? It gets this when its current turn ends.',
        ignoreFocusOut: true,
        validateInput: (value) => (value.trim() ? undefined : 'Type an instruction for the agent'),
      }));
    if (!instruction?.trim()) return undefined;
    try {
      sessions.instruct(instruction.trim());
      return sessions.lastSession?.sessionId;
    } catch (error) {
      // The text is offered back in the panel's instruction box.
      ReviewPanel.current?.offerInstruction(instruction.trim(), error instanceof Error ? error.message : String(error));
      throw error;
    }
  }

  register('warden.stopSession', async () => {
    const stopped = await sessions.stop();
    void vscode.window.showInformationMessage(
      stopped ? 'Warden: session stopped; pending proposals are orphaned.' : 'Warden: no session is running.',
    );
    return stopped;
  });

  register('warden.showReview', () => showReview());

  register('warden.returnToPreviousBranch', async (raw) => {
    if (sessions.activeSession) throw new Error('Stop the session first (Warden: Stop Session): its agent works on the session branch');
    return sessions.branches.returnToPrevious(BranchArgs.parse(raw ?? {}));
  });

  // Turn review: the latest turn's changes as one changeset (also opened when a turn ends).
  const reviewTurn = (key?: string): void => {
    showReview();
    ReviewPanel.current?.showTurn(key ?? latestTurn(store.all())?.key);
  };
  register('warden.reviewTurn', () => reviewTurn());
  context.subscriptions.push(sessions.onDidEndTurnWithChanges((key) => reviewTurn(key)));

  register('warden.verifyAuditLog', async () => {
    const folder = await pickFolder();
    if (!folder) return undefined;
    // Every chain, and the git anchors that name them (a cut or rewritten tail still chains).
    const checked = await verifyAuditAnchors(folder.uri.fsPath);
    const report = checked.chain;
    const anchors = checked.anchors.length > 0 ? ` ${formatAnchorReport(checked).replace(/\n/g, ' ')}` : '';
    const message = `${formatVerifyReport(report)}${anchors}`;
    log.info(`[audit] ${message}`);
    // One line per chain in the output channel: each broken chain's own first break.
    for (const line of formatChainReports(report)) log.info(`[audit] ${line.trim()}`);
    if (report.ok && checked.firstFailure) {
      void vscode.window.showErrorMessage(`Warden: ${message}`);
    } else if (report.ok) {
      void vscode.window.showInformationMessage(`Warden: ${message}`);
    } else if (report.firstBreak) {
      const where = report.firstBreak;
      void vscode.window.showErrorMessage(`Warden: ${message}`, 'Open').then(async (choice) => {
        if (choice !== 'Open') return;
        const document = await vscode.workspace.openTextDocument(vscode.Uri.file(path.join(folder.uri.fsPath, where.file)));
        const line = Math.max(0, where.line - 1);
        await vscode.window.showTextDocument(document, { selection: new vscode.Range(line, 0, line, 0) });
      });
    }
    return report;
  });

  register('warden.acceptProposal', (raw) => acceptCommand(store, sessions, raw));
  register('warden.rejectProposal', async (raw) => {
    const given = RejectArg.safeParse(raw);
    if (given.success) {
      await sessions.decide(given.data.proposalId, 'reject', rejectReason('reject', given.data.reason));
      return true;
    }
    const id = await proposalIdFrom(store, raw);
    if (!id) return false;
    // Escape skips the reason: the proposal is still rejected (a dismissed box never approves).
    const reason = await askRejectReason(store.get(id)?.title ?? id);
    await sessions.decide(id, 'reject', rejectReason('reject', reason));
    return true;
  });
  register('warden.openProposalDiff', async (raw) => {
    const id = await proposalIdFrom(store, raw);
    if (id) await ProposalDocuments.openDiff(store, id);
  });
}

async function acceptCommand(store: ProposalStore, sessions: SessionController, raw: unknown): Promise<boolean> {
  const id = await proposalIdFrom(store, raw);
  if (!id) return false;
  await sessions.decide(id, 'approve');
  return true;
}

/** The reviewer's optional reason for a reject; undefined when they press Escape or leave it blank. */
export function askRejectReason(title: string): Thenable<string | undefined> {
  return vscode.window.showInputBox({
    title: `Warden: Reject ${title}`,
    prompt: 'Why? (optional) The agent is told, and the audit log keeps it. Escape rejects without a reason.',
    placeHolder: 'e.g. use the existing helper in src/util.js instead',
    ignoreFocusOut: true,
    validateInput: (value) => (value.length > MAX_REASON ? `At most ${MAX_REASON} characters` : undefined),
  });
}

/** A proposal id from the argument, or the user's pick among pending proposals. */
async function proposalIdFrom(store: ProposalStore, raw: unknown): Promise<string | undefined> {
  // Accept/Reject in the title bar of the diff Open Diff shows: the document names its proposal.
  if (raw instanceof vscode.Uri && raw.scheme === PROPOSAL_SCHEME) return raw.query;
  const arg = ProposalArg.parse(raw);
  if (typeof arg === 'string') return arg;
  if (arg) return arg.proposalId;
  const pending = store.pending();
  if (pending.length === 0) {
    void vscode.window.showInformationMessage('Warden: nothing is waiting for review.');
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    pending.map((p) => ({ label: p.title, description: `${p.kind} · session ${p.sessionId}`, id: p.id })),
    { title: 'Warden: pick a proposal' },
  );
  return picked?.id;
}

async function pickFolder(fsPath?: string): Promise<vscode.WorkspaceFolder | undefined> {
  const folders = vscode.workspace.workspaceFolders ?? [];
  if (fsPath) {
    const match = folders.find((f) => f.uri.fsPath === fsPath);
    if (!match) throw new Error(`${fsPath} is not a folder of this workspace`);
    return match;
  }
  if (folders.length === 0) throw new Error('Open a folder with a .devcontainer/devcontainer.json first');
  if (folders.length === 1) return folders[0];
  return vscode.window.showWorkspaceFolderPick({ placeHolder: 'Which folder should the agent work in?' });
}

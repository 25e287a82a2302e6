import * as path from 'node:path';
import * as vscode from 'vscode';
import * as z from 'zod';
import {
  anchorAuditHead,
  fileAuditBlame,
  formatBlameText,
  repairAuditLog,
  verifyAuditLog,
  type AnchorResult,
  type AuditBlame,
  type RepairResult,
} from '../core/audit';
import { configureAuditSecrets } from '../core/session/auditSecrets';
import { resolveReviewer } from '../core/git/identity';
import { errorMessage } from '../core/supervisor';
import { AUDIT_BLAME_SCHEME, AUDIT_DIFF_SCHEME, AuditBlameDocuments, AuditDocuments } from './auditDocuments';
import { AuditPanel, type AuditPanelDeps, type RenderedCounts } from './auditPanel';
import { readSettings } from './settings';
import { commandRegistrar } from './commandRegistrar';

/** A folder path, or `{ folder, confirmed }` from tests and the panel. */
const FolderArgs = z
  .union([
    z.string(),
    z.object({
      folder: z.string().optional(),
      confirmed: z.boolean().optional(),
      /** Show Audit Log: resolve once the panel has drawn the log, with what it lists. */
      waitForRender: z.boolean().optional(),
      /** Show Audit Log with waitForRender: then blame this commit or range ('' for the default) and resolve once drawn. */
      blame: z.string().max(500).optional(),
    }),
  ])
  .optional();

/**
 * The audit commands (Show Audit Log, Repair, Anchor in Git), the diff documents of recorded
 * diffs and the panel serializer. "Warden: Verify Audit Log" lives with the session commands.
 */
export function registerAuditCommands(context: vscode.ExtensionContext, log: vscode.LogOutputChannel): void {
  const documents = new AuditDocuments();
  const deps: AuditPanelDeps = {
    log: { info: (m) => log.info(m), warn: (m) => log.warn(m), error: (m) => log.error(m) },
    documents,
    otlp: () => readSettings().auditOtlp,
  };
  const blameDocuments = new AuditBlameDocuments();
  context.subscriptions.push(
    vscode.workspace.registerTextDocumentContentProvider(AUDIT_DIFF_SCHEME, documents),
    vscode.workspace.registerTextDocumentContentProvider(AUDIT_BLAME_SCHEME, blameDocuments),
    AuditPanel.registerSerializer(context.extensionUri, deps),
    {
      dispose: () => AuditPanel.current?.dispose(),
    },
  );

  // Configured secrets: masked in every audit entry this window writes (sessions, git commits);
  // each session start configures them again, with the agent's own secrets (session/assembly.ts).
  const applyRedaction = (): void => {
    const { envVars, patterns } = readSettings().auditRedact;
    try {
      const masked = configureAuditSecrets({ env: process.env, envVars, patterns });
      log.info(
        `[audit] redacting the values of ${masked.envValues} of ${masked.envVars} configured environment variables and ${masked.patterns} extra patterns`,
      );
    } catch (error) {
      log.error(`[audit] ${errorMessage(error)}`);
      void vscode.window.showErrorMessage(
        `Warden: ${errorMessage(error)} (setting warden.audit.redact.patterns); the previous redaction settings stay in force.`,
      );
    }
  };
  applyRedaction();
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((event) => event.affectsConfiguration('warden.audit.redact') && applyRedaction()),
  );

  const register = commandRegistrar(context, log);

  register('warden.showAuditLog', async (raw): Promise<true | RenderedCounts | undefined> => {
    const args = FolderArgs.parse(raw);
    const folder = await auditFolder(raw);
    if (!folder) return undefined;
    const panel = AuditPanel.createOrShow(context.extensionUri, folder, deps);
    if (typeof args !== 'object' || args.waitForRender !== true) return true;
    const rendered = panel.nextRender();
    await panel.refresh(false);
    const counts = await rendered;
    if (args.blame === undefined) return counts;
    const target = await panel.blameTarget(args.blame);
    const drawn = panel.nextRender((c) => c.blame?.target === target);
    await panel.blame(target);
    return drawn;
  });

  register('warden.repairAuditLog', async (raw): Promise<RepairResult | undefined> => {
    const args = FolderArgs.parse(raw);
    const folder = await auditFolder(raw);
    if (!folder) return undefined;
    const root = folder.uri.fsPath;
    const before = await verifyAuditLog(root);
    if (before.ok) {
      void vscode.window.showInformationMessage('Warden: the audit log verifies; nothing to repair.');
      return { repaired: false, message: 'The audit log verifies; nothing to repair.', before, after: before, repairs: [] };
    }
    const confirmed = typeof args === 'object' && args.confirmed === true;
    if (!confirmed) {
      const where = before.firstBreak ? `${before.firstBreak.file}:${before.firstBreak.line}` : 'the log';
      const choice = await vscode.window.showWarningMessage(
        `Repair the audit log? Only a torn last line (a write cut short by a crash) is repaired: it is moved to a side file next to the segment, never dropped, and an audit.repaired entry records it. Break: ${where}.`,
        { modal: true },
        'Repair',
      );
      if (choice !== 'Repair') return undefined;
    }
    const reviewer = await resolveReviewer(root);
    const result = await repairAuditLog(root, {
      actor: {
        kind: 'human',
        id: reviewer.email ?? reviewer.name,
        name: reviewer.name,
        ...(reviewer.email ? { email: reviewer.email } : {}),
      },
    });
    log.info(`[audit] repair: ${result.message}`);
    if (result.repaired) void vscode.window.showInformationMessage(`Warden: ${result.message}`);
    else void vscode.window.showWarningMessage(`Warden: ${result.message}`);
    return result;
  });

  register('warden.showAuditBlame', async (raw): Promise<AuditBlame> => {
    const { folder, relative } = blameTarget(raw);
    const blame = await fileAuditBlame(folder.uri.fsPath, relative);
    const file = blame.files[0];
    log.info(`[audit] blame of ${relative}: ${file?.attributed ?? 0} of ${file?.lines.length ?? 0} lines from approved edits`);
    await blameDocuments.open(relative, formatBlameText(blame));
    return blame;
  });

  register('warden.anchorAuditHead', async (raw): Promise<AnchorResult | undefined> => {
    const folder = await auditFolder(raw);
    if (!folder) return undefined;
    const result = await anchorAuditHead(folder.uri.fsPath);
    const skipped = result.skipped.length > 0 ? ` Not anchored (broken): ${result.skipped.join(', ')}.` : '';
    const message = `anchored the heads of ${result.anchors.length} audit chain(s) in commit ${result.commit.slice(0, 12)} (Warden-Audit-Chain trailers); push it with your branch.${skipped}`;
    log.info(`[audit] ${message}`);
    void vscode.window.showInformationMessage(`Warden: ${message}`);
    return result;
  });
}

/** The file to blame: a `file://` URI or path argument, else the active editor's file. */
const BlameArgs = z.union([z.string(), z.object({ fsPath: z.string() })]).optional();

function blameTarget(raw: unknown): { folder: vscode.WorkspaceFolder; relative: string } {
  const args = BlameArgs.safeParse(raw);
  const given = args.success ? (typeof args.data === 'string' ? args.data : args.data?.fsPath) : undefined;
  const editor = vscode.window.activeTextEditor?.document;
  const fsPath = given ?? (editor?.uri.scheme === 'file' ? editor.uri.fsPath : undefined);
  if (!fsPath) throw new Error('Open a file of the workspace first: audit blame explains the lines of one file');
  const uri = vscode.Uri.file(fsPath);
  const folder = vscode.workspace.getWorkspaceFolder(uri);
  if (!folder) throw new Error(`${fsPath} is not in a folder of this workspace`);
  return { folder, relative: path.relative(folder.uri.fsPath, uri.fsPath).split(path.sep).join('/') };
}

async function auditFolder(raw: unknown): Promise<vscode.WorkspaceFolder | undefined> {
  const args = FolderArgs.parse(raw);
  const fsPath = typeof args === 'string' ? args : args?.folder;
  const folders = vscode.workspace.workspaceFolders ?? [];
  if (fsPath) {
    const match = folders.find((f) => path.resolve(f.uri.fsPath) === path.resolve(fsPath));
    if (!match) throw new Error(`${fsPath} is not a folder of this workspace`);
    return match;
  }
  if (folders.length === 0) throw new Error('Open a folder first: the audit log lives in its .warden/audit/');
  if (folders.length === 1) return folders[0];
  return vscode.window.showWorkspaceFolderPick({ placeHolder: 'Which folder’s audit log?' });
}

import * as vscode from 'vscode';
import * as z from 'zod';
import { AuditLog } from '../core/audit/auditLog';
import { resolveProtectedBranches } from '../core/git/branchGuard';
import { Checkpoints, rollbackSession } from '../core/git/checkpoints';
import { commitApprovedChanges } from '../core/git/commit';
import { resolveReviewer } from '../core/git/identity';
import { loadWorkspacePolicy } from '../core/policy/workspace';
import { EditorWorkspaceFiles } from './editorWorkspaceFiles';
import { readGitSettings } from './gitSettings';
import type { SessionController } from './sessionController';
import { commandRegistrar } from './commandRegistrar';

const SessionArg = z
  .object({ sessionId: z.string().min(1).optional(), folder: z.string().optional(), checkpoint: z.number().int().positive().optional() })
  .optional();

/** "Commit Approved Changes" and "Roll Back to Checkpoint", for the window's current (or last) session. */
export function registerGitCommands(context: vscode.ExtensionContext, sessions: SessionController, log: vscode.LogOutputChannel): void {
  const register = commandRegistrar(context, log);

  register('warden.commitApprovedChanges', async (raw) => {
    const { folder, sessionId } = target(sessions, raw);
    const reviewer = await resolveReviewer(folder.uri.fsPath);
    if (!reviewer.email)
      throw new Error('Set your git identity (git config user.name and user.email): you are the committer of the approved changes');
    const settings = readGitSettings(folder.uri);
    // The team policy's protected branches (an unreadable policy keeps the default list).
    const policy = await loadWorkspacePolicy(folder.uri.fsPath).catch(() => undefined);
    const result = await commitApprovedChanges({
      workspaceRoot: folder.uri.fsPath,
      sessionId,
      agent: settings.agentIdentity,
      committer: { name: reviewer.name, email: reviewer.email },
      protectedBranches: resolveProtectedBranches(policy?.git?.protectedBranches),
    });
    log.info(`[git] committed ${result.paths.length} file(s) of session ${sessionId} on ${result.branch}: ${result.commit}`);
    void vscode.window.showInformationMessage(
      `Warden: committed ${result.paths.length} approved file(s) on ${result.branch} (${result.commit.slice(0, 10)}), authored by ${settings.agentIdentity.name}.`,
    );
    return result;
  });

  register('warden.rollbackToCheckpoint', async (raw) => {
    const { folder, sessionId } = target(sessions, raw);
    const checkpoints = await Checkpoints.open(folder.uri.fsPath);
    if (!checkpoints) throw new Error(`${folder.name} is not in a git repository, so its sessions have no checkpoints`);
    const list = await checkpoints.list(sessionId);
    if (list.length === 0) throw new Error(`Session ${sessionId} has no checkpoints yet (one is recorded before each applied edit)`);
    let n = SessionArg.parse(raw)?.checkpoint;
    if (n === undefined) {
      const picked = await vscode.window.showQuickPick(
        [...list].reverse().map((c) => ({
          label: `Checkpoint ${c.n}: ${checkpointWhat(c.label)}`,
          description: c.time.toLocaleString(),
          detail: c.paths.length ? `Restores ${c.paths.join(', ')} and what later edits changed` : undefined,
          n: c.n,
        })),
        {
          title: `Warden: roll back session ${sessionId}`,
          placeHolder: 'Pick the state to go back to; you confirm before anything changes',
        },
      );
      if (!picked) return undefined;
      // Rolling back rewrites files: only an explicit confirmation goes on.
      const confirm = `Roll Back to Checkpoint ${picked.n}`;
      const answer = await vscode.window.showWarningMessage(
        `Roll back session ${sessionId} to checkpoint ${picked.n}?`,
        {
          modal: true,
          detail: `${picked.detail ?? 'The files the session changed since then go back to how they were'}. A new checkpoint keeps the state before the rollback, and the editor can undo it.`,
        },
        confirm,
      );
      if (answer !== confirm) return undefined;
      n = picked.n;
    }
    const reviewer = await resolveReviewer(folder.uri.fsPath);
    const result = await rollbackSession({
      workspaceRoot: folder.uri.fsPath,
      sessionId,
      n,
      files: new EditorWorkspaceFiles(folder.uri),
      actor: {
        kind: 'human',
        id: reviewer.email ?? reviewer.name,
        name: reviewer.name,
        ...(reviewer.email ? { email: reviewer.email } : {}),
      },
      audit: AuditLog.forWorkspace(folder.uri.fsPath),
    });
    const skipped = result.skipped.length ? ` Skipped: ${result.skipped.map((s) => `${s.path} (${s.reason})`).join(', ')}.` : '';
    log.info(
      `[git] rolled back session ${sessionId} to checkpoint ${n}: restored ${result.restored.join(', ') || 'nothing'}, deleted ${result.deleted.join(', ') || 'nothing'}`,
    );
    void vscode.window.showInformationMessage(
      `Warden: rolled back to checkpoint ${n}: ${result.restored.length} restored, ${result.deleted.length} deleted.${skipped} Checkpoint ${result.safety.n} holds the state before the rollback.`,
    );
    return result;
  });
}

/** The session a git command acts on: the argument, else the window's current or last session. */
function target(sessions: SessionController, raw: unknown): { folder: vscode.WorkspaceFolder; sessionId: string } {
  const args = SessionArg.parse(raw);
  const last = sessions.lastSession;
  const folders = vscode.workspace.workspaceFolders ?? [];
  const folder = args?.folder ? folders.find((f) => f.uri.fsPath === args.folder) : (last?.folder ?? folders[0]);
  if (!folder) throw new Error(args?.folder ? `${args.folder} is not a folder of this workspace` : 'Open a folder first');
  const sessionId = args?.sessionId ?? last?.sessionId;
  if (!sessionId) throw new Error('No Warden session in this window yet: start one (Warden: Start Agent Session)');
  return { folder, sessionId };
}

/** What a checkpoint was taken before, without the proposal ids the audit keeps (`Before applying a.js (p-…)` -> `before applying a.js`). */
function checkpointWhat(label: string): string {
  const text = label.replace(/ \(p-[^)]*\)$/, '');
  return text.charAt(0).toLowerCase() + text.slice(1);
}

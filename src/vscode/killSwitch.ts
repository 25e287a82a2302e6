import * as vscode from 'vscode';
import { dockerClient, resolveEngine } from '../core/sandbox/engine';
import { removeKeptSandboxes } from '../core/sandbox/reuse';
import { commandRegistrar } from './commandRegistrar';
import { readSandboxSettings } from './settings';
import type { SessionController } from './sessionController';

/**
 * The kill switch (command, keybinding, and a status bar button while a session runs) and
 * "Warden: Remove Sandbox" for the sandbox Stop Session keeps for reuse.
 */
export function registerLifecycleCommands(
  context: vscode.ExtensionContext,
  sessions: SessionController,
  log: vscode.LogOutputChannel,
): void {
  const register = commandRegistrar(context, log);

  register('warden.stopAgentNow', async () => {
    const killed = await sessions.kill('Warden: Stop Agent Now');
    if (killed) log.warn('[session] kill switch pulled: the agent and its container were killed; pending proposals are orphaned');
    void vscode.window.showInformationMessage(
      killed ? 'Warden: agent killed and its sandbox removed; pending proposals are orphaned.' : 'Warden: no session is running.',
    );
    return killed;
  });

  register('warden.removeSandbox', async () => {
    const folder = vscode.workspace.workspaceFolders?.[0];
    if (!folder) throw new Error('Open a folder first');
    if (sessions.activeSession) throw new Error('A session is running: stop it first (Warden: Stop Session or Stop Agent Now)');
    const { removed, running } = await removeKeptSandboxes(
      dockerClient(resolveEngine({ setting: readSandboxSettings().dockerHost })),
      folder.uri.fsPath,
    );
    log.info(`[sandbox] removed kept sandboxes ${removed.map((id) => id.slice(0, 12)).join(', ') || '(none)'}`);
    const busy = running.length > 0 ? ` ${running.length} running sandbox(es) of another window were left alone.` : '';
    void vscode.window.showInformationMessage(
      `Warden: ${removed.length === 0 ? 'no kept sandbox to remove' : `removed ${removed.length} kept sandbox(es)`}.${busy}`,
    );
    return removed;
  });

  const item = vscode.window.createStatusBarItem('warden.stopAgentNow', vscode.StatusBarAlignment.Left, 99);
  item.name = 'Warden kill switch';
  item.text = '$(debug-stop) Stop agent';
  item.tooltip = 'Warden: Stop Agent Now — kill the agent and its sandbox at once; pending proposals are orphaned';
  item.command = 'warden.stopAgentNow';
  item.backgroundColor = new vscode.ThemeColor('statusBarItem.errorBackground');
  context.subscriptions.push(
    item,
    sessions.onDidChangeActive((session) => (session ? item.show() : item.hide())),
  );
}

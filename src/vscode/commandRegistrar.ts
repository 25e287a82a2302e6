import * as vscode from 'vscode';
import { errorMessage } from '../core/supervisor';

export type CommandHandler = (...args: unknown[]) => unknown;

/**
 * Registers Warden commands so that every failure is logged and shown as one clear message,
 * and the command resolves to undefined instead of throwing into VS Code.
 */
export function commandRegistrar(
  context: vscode.ExtensionContext,
  log: vscode.LogOutputChannel,
): (id: string, handler: CommandHandler) => void {
  return (id, handler) => {
    context.subscriptions.push(
      vscode.commands.registerCommand(id, async (...args: unknown[]) => {
        try {
          return await handler(...args);
        } catch (error) {
          log.error(`${id}: ${errorMessage(error)}`);
          void vscode.window.showErrorMessage(`Warden: ${errorMessage(error)}`);
          return undefined;
        }
      }),
    );
  };
}

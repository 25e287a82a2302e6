import * as vscode from 'vscode';

/** Typed reads of Warden's settings; the only place that knows their keys. */
export interface WardenSettings {
  /** Command line that starts an ACP agent inside the sandbox; empty means the built-in demo agent. */
  agentCommand: string;
}

export function readSettings(scope?: vscode.ConfigurationScope): WardenSettings {
  const config = vscode.workspace.getConfiguration('warden', scope);
  const agentCommand = config.get<unknown>('agent.command');
  return { agentCommand: typeof agentCommand === 'string' ? agentCommand : '' };
}

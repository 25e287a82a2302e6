import * as vscode from 'vscode';

/** Typed reads of Warden's settings; the only place that knows their keys. */
export interface WardenSettings {
  /** Command line that starts an ACP agent inside the sandbox; empty means the built-in demo agent. */
  agentCommand: string;
  /** OpenTelemetry OTLP/HTTP logs URL for audit exports; undefined when not configured. */
  auditOtlp: { endpoint: string; headers: Record<string, string> } | undefined;
}

export function readSettings(scope?: vscode.ConfigurationScope): WardenSettings {
  const config = vscode.workspace.getConfiguration('warden', scope);
  const agentCommand = config.get<unknown>('agent.command');
  const endpoint = config.get<unknown>('audit.otlp.endpoint');
  const rawHeaders = config.get<unknown>('audit.otlp.headers');
  const headers: Record<string, string> = {};
  if (rawHeaders && typeof rawHeaders === 'object') for (const [k, v] of Object.entries(rawHeaders)) if (typeof v === 'string') headers[k] = v;
  return {
    agentCommand: typeof agentCommand === 'string' ? agentCommand : '',
    auditOtlp: typeof endpoint === 'string' && /^https?:\/\//.test(endpoint.trim()) ? { endpoint: endpoint.trim(), headers } : undefined,
  };
}

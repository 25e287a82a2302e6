import * as vscode from 'vscode';
import { resolveAgent, type ResolvedAgent } from '../core/agent/presets';

/** `warden.agent.preset`, `.command`, `.protocol` and `.apiKeyEnv`, resolved to what starts. */
export function readAgentSettings(scope?: vscode.ConfigurationScope): ResolvedAgent {
  const config = vscode.workspace.getConfiguration('warden.agent', scope);
  const str = (key: string): string | undefined => {
    const value = config.get<unknown>(key);
    return typeof value === 'string' ? value : undefined;
  };
  return resolveAgent({ preset: str('preset'), command: str('command'), protocol: str('protocol'), apiKeyEnv: str('apiKeyEnv') });
}

const SECRET_PREFIX = 'warden.agent.apiKey.';

/**
 * The agent's model API keys, in VS Code's SecretStorage (the OS keychain), by variable
 * name. They reach only the agent process's environment, never the host's, the audit log
 * or the commands the agent runs.
 */
export class AgentSecrets {
  constructor(private readonly secrets: vscode.SecretStorage) {}

  get(envName: string): Thenable<string | undefined> {
    return this.secrets.get(SECRET_PREFIX + envName);
  }

  set(envName: string, value: string): Thenable<void> {
    return this.secrets.store(SECRET_PREFIX + envName, value);
  }

  delete(envName: string): Thenable<void> {
    return this.secrets.delete(SECRET_PREFIX + envName);
  }

  /** The agent's environment: its key variable, when a key is configured. */
  async envFor(agent: ResolvedAgent): Promise<Record<string, string> | undefined> {
    if (!agent.apiKeyEnv) return undefined;
    const value = await this.get(agent.apiKeyEnv);
    return value ? { [agent.apiKeyEnv]: value } : undefined;
  }
}

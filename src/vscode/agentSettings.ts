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
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `warden.agent.secretEnv`: more variables the agent gets from secret storage (valid names only). */
export function readSecretEnvNames(scope?: vscode.ConfigurationScope): string[] {
  const value = vscode.workspace.getConfiguration('warden.agent', scope).get<unknown>('secretEnv');
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string' && ENV_NAME.test(v)) : [];
}

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

  /**
   * The agent's environment: its key variable and the extra secrets named in
   * `warden.agent.secretEnv` (a scoped token of the agent's own), each when it is stored.
   */
  async envFor(agent: ResolvedAgent, extraNames: readonly string[] = []): Promise<Record<string, string> | undefined> {
    const names = [...new Set([...(agent.apiKeyEnv ? [agent.apiKeyEnv] : []), ...extraNames])];
    const env: Record<string, string> = {};
    for (const name of names) {
      const value = await this.get(name);
      if (value) env[name] = value;
    }
    return Object.keys(env).length > 0 ? env : undefined;
  }
}

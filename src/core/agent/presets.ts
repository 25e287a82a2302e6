import * as z from 'zod';
import type { AgentProtocol } from './connection';

/**
 * The agents Warden knows how to start inside the sandbox. A preset says which command
 * starts the agent, which protocol it speaks, which environment variable carries its model
 * API key (filled from a configured secret, never from the host environment) and which hosts
 * it needs (to be allowed in the policy's `network.allow`). The README's agent table is kept
 * in step with this list by a unit test.
 */
export const AgentPresetId = z.enum(['custom', 'gemini', 'codex-acp', 'codex-app-server', 'claude', 'copilot', 'opencode']);
export type AgentPresetId = z.infer<typeof AgentPresetId>;

export interface AgentPreset {
  id: AgentPresetId;
  label: string;
  /** Command line run by the container's shell; empty for custom (the `warden.agent.command` setting). */
  command: string;
  protocol: AgentProtocol;
  /** The variable the agent reads its API key from. */
  apiKeyEnv?: string;
  /** Hosts its model API lives on: add them to the policy's network.allow. */
  hosts: string[];
  /** How to install it in the dev container (a Dockerfile line). */
  install: string;
}

/**
 * Claude Code's permission settings in the sandbox's (fresh, Warden-owned) home: Manual mode,
 * so every edit and command comes to Warden as a permission request. Without a `defaultMode`
 * the adapter starts in Claude Code's "auto" mode, where Claude's own classifier (more model
 * calls) decides and edits in the working folder go ahead without asking; bypass mode is
 * switched off too. A repository's own `.claude/settings.json` can still loosen this; the
 * sandbox (read-only mount or private copy) stays the boundary either way.
 */
export const CLAUDE_SETTINGS = {
  permissions: { defaultMode: 'default', disableAutoMode: 'disable', disableBypassPermissionsMode: 'disable' },
} as const;
const CLAUDE_AGENT_ACP_COMMAND = `sh -c 'mkdir -p "$HOME/.claude" && echo "${JSON.stringify(CLAUDE_SETTINGS).replace(/"/g, '\\"')}" > "$HOME/.claude/settings.json" && exec claude-agent-acp'`;

/**
 * OpenCode's permissions, passed in `OPENCODE_PERMISSION` (which OpenCode merges over every
 * config file it reads, the repository's `opencode.json` included): edits, commands, fetches
 * and paths outside the workspace ask, so each comes to Warden as a permission request.
 * OpenCode's own default is "allow" for edits and commands: `opencode acp` alone edits and
 * runs commands without asking anyone (only the sandbox stops it).
 */
export const OPENCODE_PERMISSION = { edit: 'ask', bash: 'ask', webfetch: 'ask', external_directory: 'ask' } as const;

/**
 * GitHub Copilot CLI speaking ACP. `COPILOT_ALLOW_ALL=false` on its own command line wins over
 * a `COPILOT_ALLOW_ALL=true` a repository's devcontainer.json could put in the container's
 * environment, which would make `copilot --acp` run every tool without asking (while its ACP
 * "Allow All" option still reports "off").
 */
export const COPILOT_COMMAND = 'env COPILOT_ALLOW_ALL=false copilot --acp';

export const AGENT_PRESETS: Readonly<Record<AgentPresetId, AgentPreset>> = {
  custom: {
    id: 'custom',
    label: 'Custom command (or the built-in demo agent when empty)',
    command: '',
    protocol: 'acp',
    hosts: [],
    install: 'whatever your command needs',
  },
  gemini: {
    id: 'gemini',
    label: 'Gemini CLI (ACP)',
    command: 'gemini --acp',
    protocol: 'acp',
    apiKeyEnv: 'GEMINI_API_KEY',
    hosts: ['generativelanguage.googleapis.com'],
    install: 'RUN npm install -g @google/gemini-cli',
  },
  'codex-acp': {
    id: 'codex-acp',
    label: 'Codex through codex-acp (ACP)',
    // The container is the sandbox (Codex's own bwrap cannot start in it); untrusted: it asks before acting.
    command: 'codex-acp -c sandbox_mode="danger-full-access" -c approval_policy="untrusted"',
    protocol: 'acp',
    apiKeyEnv: 'OPENAI_API_KEY',
    hosts: ['api.openai.com'],
    install: 'RUN npm install -g @zed-industries/codex-acp',
  },
  'codex-app-server': {
    id: 'codex-app-server',
    label: 'Codex app-server (native protocol)',
    command: 'codex app-server',
    protocol: 'codex-app-server',
    apiKeyEnv: 'OPENAI_API_KEY',
    hosts: ['api.openai.com'],
    install: 'RUN npm install -g @openai/codex',
  },
  claude: {
    id: 'claude',
    label: 'Claude Code through its ACP adapter',
    command: CLAUDE_AGENT_ACP_COMMAND,
    protocol: 'acp',
    apiKeyEnv: 'ANTHROPIC_API_KEY',
    hosts: ['api.anthropic.com'],
    // Formerly @zed-industries/claude-code-acp; the SDK's platform package carries the Claude Code binary.
    install: 'RUN npm install -g @agentclientprotocol/claude-agent-acp',
  },
  copilot: {
    id: 'copilot',
    label: 'GitHub Copilot CLI (ACP)',
    command: COPILOT_COMMAND,
    protocol: 'acp',
    // A fine-grained token with the "Copilot Requests" permission; Copilot reads it before GH_TOKEN/GITHUB_TOKEN.
    apiKeyEnv: 'COPILOT_GITHUB_TOKEN',
    // Sign-in and models: api.github.com, and the plan's endpoint (api.individual/business/enterprise.githubcopilot.com).
    hosts: ['api.github.com', '*.githubcopilot.com'],
    install: 'RUN npm install -g @github/copilot',
  },
  opencode: {
    id: 'opencode',
    label: 'OpenCode (ACP)',
    command: `env OPENCODE_PERMISSION='${JSON.stringify(OPENCODE_PERMISSION)}' opencode acp`,
    protocol: 'acp',
    // OpenCode talks to the provider you configure; Anthropic's key is the common case.
    apiKeyEnv: 'ANTHROPIC_API_KEY',
    hosts: ['api.anthropic.com'],
    install: 'RUN npm install -g opencode-ai',
  },
};

export interface ResolvedAgent {
  preset: AgentPresetId;
  /** Command line for the container shell; empty means the built-in demo agent. */
  command: string;
  protocol: AgentProtocol;
  /** The variable that receives the configured secret, if any. */
  apiKeyEnv: string | undefined;
}

/**
 * What to start: the preset's command unless `command` overrides it (extra flags, another
 * path), the preset's protocol (custom: `protocol`, default ACP), and the key variable
 * (`apiKeyEnv` overrides the preset's).
 */
export function resolveAgent(settings: { preset?: string; command?: string; protocol?: string; apiKeyEnv?: string }): ResolvedAgent {
  const id = AgentPresetId.catch('custom').parse(settings.preset ?? 'custom');
  const preset = AGENT_PRESETS[id];
  const command = settings.command?.trim() || preset.command;
  const protocol: AgentProtocol =
    id === 'custom' ? (settings.protocol === 'codex-app-server' ? 'codex-app-server' : 'acp') : preset.protocol;
  const apiKeyEnv = settings.apiKeyEnv?.trim() || preset.apiKeyEnv;
  return { preset: id, command, protocol, apiKeyEnv: apiKeyEnv && ENV_NAME.test(apiKeyEnv) ? apiKeyEnv : undefined };
}

export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

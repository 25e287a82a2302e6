import type { StopReason } from '@agentclientprotocol/sdk';

/** The wire protocols Warden can supervise an agent through. */
export type AgentProtocol = 'acp' | 'codex-app-server';

/** What Warden learns when a connection opens; recorded in the audit (`agent.started`). */
export interface AgentSessionInfo {
  protocol: AgentProtocol;
  protocolVersion: number | string;
  /** The agent's own name for itself (ACP agentInfo.name, the app-server's user agent). */
  agentName?: string;
  agentInfo: unknown;
  /** The agent's session (ACP) or thread (app-server) id: what a resume names. */
  agentSessionId: string;
  /** Whether this session was resumed rather than created. */
  resumed: boolean;
  /** Whether the agent can resume sessions later (ACP `loadSession`; the app-server always can). */
  canResume: boolean;
}

/**
 * One agent, whatever protocol it speaks: the supervisor only opens it, prompts it, cancels
 * a turn and closes it. Requests from the agent reach the proposal handlers inside each
 * implementation; `closed` resolves when the agent is gone.
 */
export interface AgentConnection {
  readonly protocol: AgentProtocol;
  open(options: { cwd: string; resumeSessionId?: string }): Promise<AgentSessionInfo>;
  /** Runs one turn; resolves when it ends (rejects when the agent fails it or goes away). */
  prompt(text: string): Promise<StopReason>;
  cancel(): Promise<void>;
  close(): void;
  readonly closed: Promise<unknown>;
}

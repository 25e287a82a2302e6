import * as acp from '@agentclientprotocol/sdk';
import type { StopReason } from '@agentclientprotocol/sdk';
import * as z from 'zod';
import type { AgentProcess } from '../sandbox/types';
import { ACP_PROTOCOL_VERSION, type AcpClientHandlers, connectAcpClient, type ProtocolViolation } from './acpClient';
import type { AgentConnection, AgentSessionInfo } from './connection';

/**
 * Warden's ACP extension for escalation: an agent that needs a human's input (a question,
 * or "I am not sure, please confirm") sends this request; the answer is free text. Agents
 * see it advertised in `clientCapabilities._meta.warden.askHuman`.
 */
export const ASK_HUMAN_METHOD = '_warden/ask_human';
export const AskHumanParams = z.object({
  sessionId: z.string().optional(),
  question: z
    .string()
    .min(1)
    .max(16 * 1024),
  choices: z.array(z.string().max(1024)).max(20).optional(),
});
export type AskHumanParams = z.infer<typeof AskHumanParams>;

export interface AcpConnectionHandlers extends AcpClientHandlers {
  askHuman(params: AskHumanParams): Promise<{ answer: string }>;
}

/** An ACP (v1) agent over its stdio. */
export class AcpAgentConnection implements AgentConnection {
  readonly protocol = 'acp' as const;
  private readonly connection: acp.ClientConnection;
  private sessionId: string | undefined;

  constructor(agent: AgentProcess, handlers: AcpConnectionHandlers, onViolation?: (violation: ProtocolViolation) => void) {
    this.connection = connectAcpClient(agent, handlers, onViolation, {
      methods: [ASK_HUMAN_METHOD],
      register: (app) => app.onRequest(ASK_HUMAN_METHOD, AskHumanParams, ({ params }) => handlers.askHuman(params)),
    });
  }

  get closed(): Promise<unknown> {
    return this.connection.closed;
  }

  async open(options: { cwd: string; resumeSessionId?: string }): Promise<AgentSessionInfo> {
    // Honest capabilities: Warden serves fs and terminals (each request a proposal) and the ask-human extension.
    const init = await this.connection.agent.request('initialize', {
      protocolVersion: ACP_PROTOCOL_VERSION,
      clientCapabilities: {
        fs: { readTextFile: true, writeTextFile: true },
        terminal: true,
        _meta: { warden: { askHuman: ASK_HUMAN_METHOD } },
      },
      clientInfo: { name: 'warden', version: '0.1.0' },
    });
    const canResume = init.agentCapabilities?.loadSession === true;
    let resumed = false;
    if (options.resumeSessionId) {
      if (!canResume) throw new Error('This agent does not support resuming sessions (it does not advertise loadSession)');
      await this.connection.agent.request('session/load', { sessionId: options.resumeSessionId, cwd: options.cwd, mcpServers: [] });
      this.sessionId = options.resumeSessionId;
      resumed = true;
    } else {
      const created = await this.connection.agent.request('session/new', { cwd: options.cwd, mcpServers: [] });
      this.sessionId = created.sessionId;
    }
    return {
      protocol: 'acp',
      protocolVersion: init.protocolVersion,
      ...(init.agentInfo?.name ? { agentName: init.agentInfo.name } : {}),
      agentInfo: init.agentInfo ?? null,
      agentSessionId: this.sessionId,
      resumed,
      canResume,
    };
  }

  async prompt(text: string): Promise<StopReason> {
    const response = await this.connection.agent.request('session/prompt', {
      sessionId: this.requireSession(),
      prompt: [{ type: 'text', text }],
    });
    return response.stopReason;
  }

  async cancel(): Promise<void> {
    if (!this.sessionId) return;
    await this.connection.agent.notify('session/cancel', { sessionId: this.sessionId }).catch(() => undefined);
  }

  close(): void {
    this.connection.close();
  }

  private requireSession(): string {
    if (!this.sessionId) throw new Error('The agent has no session yet');
    return this.sessionId;
  }
}

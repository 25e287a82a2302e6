import type { StopReason } from '@agentclientprotocol/sdk';
import type { AgentProcess } from '../../sandbox/types';
import type { AgentConnection, AgentSessionInfo } from '../connection';
import { type AppServerHandlers, CodexAppServerClient } from './appServerClient';

/**
 * Codex through its native `app-server` protocol. Warden's container is the sandbox, so
 * Codex runs with `danger-full-access` inside it and `untrusted` approvals: it asks before
 * every command and patch that is not read-only, and each ask is a Warden proposal.
 */
export class CodexAppServerConnection implements AgentConnection {
  readonly protocol = 'codex-app-server' as const;
  private readonly client: CodexAppServerClient;
  private threadId: string | undefined;

  constructor(agent: AgentProcess, handlers: AppServerHandlers) {
    this.client = new CodexAppServerClient(agent.stdout, agent.stdin, handlers);
  }

  get closed(): Promise<unknown> {
    return this.client.closed;
  }

  async open(options: { cwd: string; resumeSessionId?: string }): Promise<AgentSessionInfo> {
    const init = await this.client.initialize({ name: 'warden', title: 'Warden', version: '0.1.0' });
    this.threadId = options.resumeSessionId
      ? await this.client.resumeThread(options.resumeSessionId, { cwd: options.cwd })
      : await this.client.startThread({ cwd: options.cwd });
    return {
      protocol: 'codex-app-server',
      protocolVersion: 'v2',
      agentName: init.userAgent.split('/')[0] || 'codex',
      agentInfo: { userAgent: init.userAgent },
      agentSessionId: this.threadId,
      resumed: options.resumeSessionId !== undefined,
      canResume: true,
    };
  }

  async prompt(text: string): Promise<StopReason> {
    if (!this.threadId) throw new Error('Codex has no thread yet');
    const turn = await this.client.runTurn(this.threadId, text);
    if (turn.status === 'failed') throw new Error(`Codex failed the turn: ${turn.error?.message ?? 'no reason given'}`);
    return turn.status === 'interrupted' ? 'cancelled' : 'end_turn';
  }

  async cancel(): Promise<void> {
    await this.client.interrupt().catch(() => undefined);
  }

  close(): void {
    this.client.close();
  }
}

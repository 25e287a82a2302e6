import { AcpAgentConnection } from '../agent/acpConnection';
import { CodexAppServerConnection } from '../agent/codex/appServerConnection';
import type { ProtocolViolation } from '../agent/acpClient';
import type { AgentConnection, AgentProtocol } from '../agent/connection';
import type { AgentProcess } from '../sandbox/types';
import { CodexApprovals } from './codexApprovals';
import type { ProposalHandlerDeps, ProposalHandlers } from './proposalHandlers';

/** The connection for the agent's protocol; every request it makes goes through the same proposal handlers. */
export function connectAgent(
  protocol: AgentProtocol,
  agent: AgentProcess,
  handlers: ProposalHandlers,
  deps: ProposalHandlerDeps,
  onViolation: (violation: ProtocolViolation) => void = () => undefined,
): AgentConnection {
  switch (protocol) {
    case 'codex-app-server':
      return new CodexAppServerConnection(agent, new CodexApprovals(deps, onViolation));
    case 'acp':
      return new AcpAgentConnection(agent, handlers, onViolation);
  }
}

import { readAuditEvent } from './events';
import { readAuditLog } from './query';

/** An agent session Warden ran in this workspace, as "Resume Agent Session" lists it. */
export interface ResumableSession {
  /** The agent's own session (ACP) or thread (Codex app-server) id: what a resume names. */
  agentSessionId: string;
  /** Warden's session that ran it. */
  sessionId: string;
  time: string;
  protocol: string;
  /** The agent's command line. */
  agent: string;
  /** The first instruction of that Warden session, when recorded. */
  instruction: string | undefined;
}

/**
 * The agent sessions recorded in the audit log (`agent.started`), newest first, one per agent
 * session id (a resumed one counts once, at its latest run). Whether the agent can still resume
 * it is the agent's to say: a refusal comes back as an error, never as a new session.
 */
export async function resumableSessions(workspaceRoot: string): Promise<ResumableSession[]> {
  const byId = new Map<string, ResumableSession>();
  const instructions = new Map<string, string>();
  for await (const { entry } of readAuditLog(workspaceRoot)) {
    const event = readAuditEvent(entry);
    if (!event.known) continue;
    if (event.type === 'instruction' && !instructions.has(entry.sessionId) && event.data.text)
      instructions.set(entry.sessionId, event.data.text);
    if (event.type !== 'agent.started' || !event.data.agentSessionId) continue;
    const previous = byId.get(event.data.agentSessionId);
    if (previous && previous.time > entry.time) continue;
    byId.set(event.data.agentSessionId, {
      agentSessionId: event.data.agentSessionId,
      sessionId: entry.sessionId,
      time: entry.time,
      protocol: event.data.protocol ?? 'acp',
      agent: (event.data.command ?? []).join(' '),
      instruction: undefined,
    });
  }
  return [...byId.values()]
    .map((s) => ({ ...s, instruction: instructions.get(s.sessionId) }))
    .sort((a, b) => (a.time < b.time ? 1 : a.time > b.time ? -1 : 0));
}

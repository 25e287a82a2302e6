import type * as acp from '@agentclientprotocol/sdk';

/**
 * What a session shows the user while the agent works, whatever protocol the agent speaks.
 * Plain data (no classes): the Warden panel's conversation receives these over postMessage, and the shared
 * zod contract (`src/shared/conversationProtocol.ts`) validates them on both sides.
 */
export type ToolCallContentView =
  { type: 'text'; text: string } | { type: 'diff'; path: string; diff: string } | { type: 'terminal'; terminalId: string };

export type SessionEvent =
  | { type: 'agent-message'; text: string }
  | { type: 'thought'; text: string }
  | {
      type: 'tool-call';
      /** Stable across a tool call's updates (absent from older producers). */
      toolCallId?: string;
      title: string;
      status: string;
      kind: string;
      content?: ToolCallContentView[];
      locations?: string[];
    }
  | { type: 'plan'; entries: Array<{ content: string; status: string }> }
  | { type: 'commands'; commands: Array<{ name: string; description: string }> }
  | { type: 'mode'; modeId: string }
  | { type: 'notice'; level: 'info' | 'warning' | 'error'; text: string }
  | { type: 'ended'; reason: string };

const MAX_TEXT = 64 * 1024;

/** A display copy of long text: the view never needs megabytes of it. */
export function clip(text: string, max = MAX_TEXT): string {
  return text.length <= max ? text : `${text.slice(0, max)}\n… (${text.length - max} more characters not shown)`;
}

/**
 * Maps one ACP `session/update` to what the session view shows. Diffs are rendered by the
 * caller (`diffFor`), which knows the current file; everything else is copied as data.
 */
export function eventFromAcpUpdate(
  update: acp.SessionUpdate,
  diffFor: (d: { path: string; oldText?: string | null; newText: string }) => string,
): SessionEvent | undefined {
  switch (update.sessionUpdate) {
    case 'agent_message_chunk':
      return update.content.type === 'text' ? { type: 'agent-message', text: update.content.text } : undefined;
    case 'agent_thought_chunk':
      return update.content.type === 'text' ? { type: 'thought', text: update.content.text } : undefined;
    case 'tool_call':
    case 'tool_call_update': {
      const content = update.content?.map((c) => toolContent(c, diffFor)).filter((c): c is ToolCallContentView => c !== undefined);
      const locations = update.locations?.map((l) => (l.line ? `${l.path}:${l.line}` : l.path));
      if (update.sessionUpdate === 'tool_call_update' && !update.status && !content?.length && !update.title) return undefined;
      return {
        type: 'tool-call',
        toolCallId: update.toolCallId,
        title: update.title ?? update.toolCallId,
        status: update.status ?? 'pending',
        kind: update.kind ?? 'other',
        ...(content?.length ? { content } : {}),
        ...(locations?.length ? { locations } : {}),
      };
    }
    case 'plan':
      return { type: 'plan', entries: update.entries.map((e) => ({ content: e.content, status: e.status })) };
    case 'available_commands_update':
      return { type: 'commands', commands: update.availableCommands.map((c) => ({ name: c.name, description: c.description })) };
    case 'current_mode_update':
      return { type: 'mode', modeId: update.currentModeId };
    default:
      return undefined; // user message echoes, usage, config options: nothing to show
  }
}

function toolContent(
  content: acp.ToolCallContent,
  diffFor: (d: { path: string; oldText?: string | null; newText: string }) => string,
): ToolCallContentView | undefined {
  switch (content.type) {
    case 'content':
      return content.content.type === 'text' ? { type: 'text', text: clip(content.content.text) } : undefined;
    case 'diff':
      return { type: 'diff', path: content.path, diff: clip(diffFor(content)) };
    case 'terminal':
      return { type: 'terminal', terminalId: content.terminalId };
  }
}

import { promises as fs } from 'node:fs';
import * as http from 'node:http';
import * as z from 'zod';
import { listenOnLoopback } from './socket';

/**
 * A scripted stand-in for the Anthropic Messages API (`POST /v1/messages`), the model behind
 * Claude Code in the real-agent tests. Like the Responses mock beside it, it listens on the
 * host's loopback and the exec-stream forwarder into the `--network none` container
 * (test/support/execForward.ts) gives the agent a loopback URL (`ANTHROPIC_BASE_URL`). Streaming requests get the SSE
 * events of the real API (message_start, content_block_start/delta/stop for text and
 * tool_use, message_delta with the stop reason, message_stop); others get one JSON message.
 *
 * The script is for the main conversation only: a request that offers the model no tools is
 * an auxiliary call of the agent (a title, a summary) and gets a short text without using up
 * a turn, and so is a side query forked from the conversation (it carries the tools, for the
 * prompt cache): Claude Code's next-prompt suggestion, sent after a turn ends, when it likes. Every request is kept, and anything the mock does not serve is recorded, so a
 * failing test can say what a new agent version asked for.
 */

const contentBlockSchema = z.looseObject({
  type: z.string(),
  text: z.string().optional(),
  tool_use_id: z.string().optional(),
  content: z.unknown().optional(),
  is_error: z.boolean().optional(),
});
const messageSchema = z.looseObject({
  role: z.string(),
  content: z.union([z.string(), z.array(contentBlockSchema)]),
});
export const messagesRequestSchema = z.looseObject({
  model: z.string().optional(),
  stream: z.boolean().optional(),
  messages: z.array(messageSchema).default([]),
  tools: z.array(z.looseObject({ name: z.string().optional(), type: z.string().optional() })).default([]),
});
export type MessagesRequest = z.infer<typeof messagesRequestSchema>;

/** What the model "says" in one main-conversation turn. */
export type MessagesTurn = (request: MessagesRequest, index: number) => MessageBlock[];
export type MessageBlock = { type: 'text'; text: string } | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> };

/** A tool result the agent sent back to the model. */
export interface ToolResult {
  text: string;
  isError: boolean;
}

export class MockMessagesServer {
  /** Main-conversation requests (each one used a turn of the script), in order. */
  readonly requests: MessagesRequest[] = [];
  /** The agent's auxiliary calls (no tools, or a side query), answered with a short text. */
  readonly auxiliaryRequests: MessagesRequest[] = [];
  /** Requests the mock does not serve (method, path and the start of the body), for diagnostics. */
  readonly otherRequests: string[] = [];
  private readonly waiters: Array<{ count: number; resolve: () => void }> = [];

  private constructor(
    private readonly server: http.Server,
    readonly portFile: string,
    private readonly turns: MessagesTurn[] | MessagesTurn,
  ) {}

  /**
   * Listens on a free port of the host's loopback, written to `portFile` for the harness. Each main-conversation
   * `POST /v1/messages` is answered by the next turn; when the script is used up the model
   * ends with a message. A single function instead answers every main request itself (a
   * script that follows the conversation, e.g. what the last tool result was).
   */
  static async start(portFile: string, turns: MessagesTurn[] | MessagesTurn): Promise<MockMessagesServer> {
    const server = http.createServer();
    const mock = new MockMessagesServer(server, portFile, turns);
    server.on('request', (req, res) => void mock.handle(req, res));
    await listenOnLoopback(server, portFile);
    return mock;
  }

  /** Resolves once `count` main-conversation requests have arrived. */
  waitForRequests(count: number): Promise<void> {
    if (this.requests.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  /** The result the agent reported to the model for the tool use `toolUseId` (output, error, refusal). */
  toolResult(toolUseId: string): ToolResult | undefined {
    for (const request of this.requests) {
      for (const message of request.messages) {
        if (typeof message.content === 'string') continue;
        for (const block of message.content) {
          if (block.type === 'tool_result' && block.tool_use_id === toolUseId)
            return { text: blockText(block.content), isError: block.is_error === true };
        }
      }
    }
    return undefined;
  }

  /** Tool names offered to the model in the first main request, for clear failures when a version renames them. */
  toolNames(): string[] {
    return (this.requests[0]?.tools ?? []).map((t) => t.name ?? t.type ?? '?');
  }

  /** One line on what the agent asked of the mock: quoted in failure messages. */
  describe(): string {
    return [
      `${this.requests.length} main request(s)`,
      `${this.auxiliaryRequests.length} auxiliary`,
      `tools offered: ${this.toolNames().join(', ') || '(none yet)'}`,
      `not served: ${this.otherRequests.join(' | ') || 'nothing'}`,
    ].join('; ');
  }

  /** One line per main request from `from` on: what it carried, to tell a retry from another kind of call in a failure. */
  describeRequests(from = 0): string {
    return this.requests
      .slice(from)
      .map((request, i) => {
        const last = request.messages.at(-1);
        const text = typeof last?.content === 'string' ? last.content : (last?.content ?? []).map((b) => b.text ?? `[${b.type}]`).join(' ');
        const system = JSON.stringify((request as { system?: unknown }).system ?? '').slice(0, 120);
        return `#${from + i + 1}: ${request.messages.length} message(s), ${request.tools.length} tool(s), last ${last?.role ?? '-'}: ${JSON.stringify(text.slice(-200))}; system ${system}`;
      })
      .join('\n');
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await fs.rm(this.portFile, { force: true });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const route = `${req.method} ${(req.url ?? '').split('?')[0]}`;
    if (route === 'POST /v1/messages/count_tokens') {
      // Claude Code may size a context before sending it; any plausible count will do.
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ input_tokens: Math.ceil(body.length / 4) }));
      return;
    }
    if (route !== 'POST /v1/messages') {
      this.otherRequests.push(`${req.method} ${req.url} ${body.slice(0, 200)}`.trim());
      res
        .writeHead(404, { 'content-type': 'application/json' })
        .end(JSON.stringify({ type: 'error', error: { type: 'not_found_error', message: `mock: no ${req.method} ${req.url}` } }));
      return;
    }
    const parsed = messagesRequestSchema.safeParse(safeJson(body));
    if (!parsed.success) {
      this.otherRequests.push(`${route} with a body the mock cannot read: ${parsed.error.message}`);
      res
        .writeHead(400, { 'content-type': 'application/json' })
        .end(JSON.stringify({ type: 'error', error: { type: 'invalid_request_error', message: `mock: ${parsed.error.message}` } }));
      return;
    }
    const request = parsed.data;
    let blocks: MessageBlock[];
    if (request.tools.length === 0 || isSideQuery(request)) {
      this.auxiliaryRequests.push(request);
      blocks = [{ type: 'text', text: 'Mock model.' }];
    } else {
      const index = this.requests.length;
      this.requests.push(request);
      const turn = typeof this.turns === 'function' ? this.turns : this.turns[index];
      blocks = turn ? turn(request, index) : [{ type: 'text', text: 'Done.' }];
    }
    const id = `msg_mock_${this.requests.length}_${this.auxiliaryRequests.length}`;
    const model = request.model ?? 'claude-mock';
    if (request.stream) {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.end(messageStream(id, model, blocks));
    } else {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(message(id, model, blocks)));
    }
    for (const waiter of this.waiters.filter((w) => this.requests.length >= w.count)) {
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  }
}

/**
 * Instructions that mark a side query forked from the main conversation. Claude Code asks for a
 * suggested next prompt after a turn, in the background: without this it would take the next
 * scripted turn whenever it happened to arrive first.
 */
const SIDE_QUERY_MARKERS = [/Reply with ONLY the suggestion, no quotes or explanation\.\s*$/];

function isSideQuery(request: MessagesRequest): boolean {
  const last = request.messages.at(-1);
  if (last?.role !== 'user') return false;
  const text = typeof last.content === 'string' ? last.content : last.content.map((b) => b.text ?? '').join('\n');
  return SIDE_QUERY_MARKERS.some((marker) => marker.test(text));
}

const stopReason = (blocks: MessageBlock[]): string => (blocks.some((b) => b.type === 'tool_use') ? 'tool_use' : 'end_turn');
const usage = { input_tokens: 10, output_tokens: 5, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };

/** A whole (non-streamed) message. */
export function message(id: string, model: string, blocks: MessageBlock[]): Record<string, unknown> {
  return { id, type: 'message', role: 'assistant', model, content: blocks, stop_reason: stopReason(blocks), stop_sequence: null, usage };
}

/**
 * The SSE body of one streamed message. Text and tool input arrive in two deltas each, as
 * the real API splits them, so the agent's stream assembly is exercised.
 */
export function messageStream(id: string, model: string, blocks: MessageBlock[]): string {
  const events: Array<Record<string, unknown>> = [
    {
      type: 'message_start',
      message: {
        id,
        type: 'message',
        role: 'assistant',
        model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { ...usage, output_tokens: 1 },
      },
    },
  ];
  blocks.forEach((block, index) => {
    if (block.type === 'text') {
      events.push({ type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
      for (const part of halves(block.text)) events.push({ type: 'content_block_delta', index, delta: { type: 'text_delta', text: part } });
    } else {
      events.push({ type: 'content_block_start', index, content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} } });
      for (const part of halves(JSON.stringify(block.input)))
        events.push({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: part } });
    }
    events.push({ type: 'content_block_stop', index });
  });
  events.push({
    type: 'message_delta',
    delta: { stop_reason: stopReason(blocks), stop_sequence: null },
    usage: { output_tokens: usage.output_tokens },
  });
  events.push({ type: 'message_stop' });
  return events.map((e) => `event: ${String(e.type)}\ndata: ${JSON.stringify(e)}\n\n`).join('');
}

function halves(text: string): string[] {
  const middle = Math.ceil(text.length / 2);
  return text.length < 2 ? [text] : [text.slice(0, middle), text.slice(middle)];
}

/** A tool_result's content: a string, or text blocks. */
function blockText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content))
    return content.map((c: unknown) => (c && typeof c === 'object' && 'text' in c ? String(c.text) : '')).join('');
  return content === undefined ? '' : JSON.stringify(content);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

import { promises as fs } from 'node:fs';
import * as http from 'node:http';
import * as z from 'zod';
import { listenOnLoopback } from './socket';

/**
 * A scripted stand-in for the OpenAI Responses API (`POST /v1/responses`, SSE), the model
 * behind codex-acp and `codex app-server` in the real-agent tests. It listens on the host's
 * loopback; the exec-stream forwarder into the `--network none` container
 * (test/support/execForward.ts) gives the agent a loopback URL. Every request body is kept, so a test can check what the
 * agent told the model (a command's output, "rejected by the user").
 */

/** One item of a request's `input`: only the fields the tests read. */
const inputItemSchema = z.looseObject({
  type: z.string().optional(),
  role: z.string().optional(),
  call_id: z.string().optional(),
  name: z.string().optional(),
  output: z.unknown().optional(),
  content: z.unknown().optional(),
});
const toolSchema = z.looseObject({ type: z.string(), name: z.string().optional() });
export const responsesRequestSchema = z.looseObject({
  model: z.string().optional(),
  input: z.array(inputItemSchema).default([]),
  tools: z.array(toolSchema).default([]),
});
export type ResponsesRequest = z.infer<typeof responsesRequestSchema>;

/** What the model "says" for one request: output items, streamed as SSE. */
export type ModelTurn = (request: ResponsesRequest, index: number) => ModelItem[];
export type ModelItem =
  | { type: 'function_call'; name: string; arguments: Record<string, unknown>; callId: string }
  | { type: 'custom_tool_call'; name: string; input: string; callId: string }
  | { type: 'message'; text: string };

export class MockResponsesServer {
  readonly requests: ResponsesRequest[] = [];
  /** Requests on other paths (for diagnostics: an agent version that asks for something new). */
  readonly otherRequests: string[] = [];
  private readonly waiters: Array<{ count: number; resolve: () => void }> = [];

  private constructor(
    private readonly server: http.Server,
    readonly portFile: string,
    private readonly turns: ModelTurn[],
  ) {}

  /**
   * Listens on a free port of the host's loopback, written to `portFile` for the harness. Each `POST …/responses`
   * is answered by the next turn; when the script is used up the model ends with a message.
   */
  static async start(portFile: string, turns: ModelTurn[]): Promise<MockResponsesServer> {
    const server = http.createServer();
    const mock = new MockResponsesServer(server, portFile, turns);
    server.on('request', (req, res) => void mock.handle(req, res));
    await listenOnLoopback(server, portFile);
    return mock;
  }

  /** Resolves once `count` model requests have arrived. */
  waitForRequests(count: number): Promise<void> {
    if (this.requests.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  /** The output the agent reported back for a tool call (a command's output, a patch result, a refusal). */
  toolOutput(callId: string): string | undefined {
    for (const request of this.requests) {
      for (const item of request.input) {
        if (item.call_id === callId && (item.type === 'function_call_output' || item.type === 'custom_tool_call_output')) {
          return typeof item.output === 'string' ? item.output : JSON.stringify(item.output);
        }
      }
    }
    return undefined;
  }

  /** Tool names offered to the model in the first request, for clear failures when a version renames them. */
  toolNames(): string[] {
    return (this.requests[0]?.tools ?? []).map((t) => t.name ?? t.type);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await fs.rm(this.portFile, { force: true });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = req.url ?? '';
    if (req.method !== 'POST' || !/\/responses$/.test(url.split('?')[0] ?? '')) {
      this.otherRequests.push(`${req.method} ${url}`);
      res
        .writeHead(404, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: { message: `mock: no ${req.method} ${url}` } }));
      return;
    }
    const parsed = responsesRequestSchema.safeParse(safeJson(Buffer.concat(chunks).toString('utf8')));
    if (!parsed.success) {
      res
        .writeHead(400, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: { message: `mock: bad request body: ${parsed.error.message}` } }));
      return;
    }
    const index = this.requests.length;
    this.requests.push(parsed.data);
    const turn = this.turns[index];
    const items = turn ? turn(parsed.data, index) : [{ type: 'message' as const, text: 'Done.' }];
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.end(sse(`resp_${index + 1}`, items));
    for (const waiter of this.waiters.filter((w) => this.requests.length >= w.count)) {
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  }
}

/** The SSE body of one response: created, one output_item.done per item, completed. */
export function sse(responseId: string, items: ModelItem[]): string {
  const events: Array<Record<string, unknown>> = [{ type: 'response.created', response: { id: responseId } }];
  items.forEach((item, i) => {
    const outputIndex = { output_index: i };
    if (item.type === 'message') {
      events.push({
        type: 'response.output_item.done',
        ...outputIndex,
        item: { type: 'message', role: 'assistant', id: `msg_${responseId}_${i}`, content: [{ type: 'output_text', text: item.text }] },
      });
    } else if (item.type === 'function_call') {
      events.push({
        type: 'response.output_item.done',
        ...outputIndex,
        item: {
          type: 'function_call',
          id: `fc_${item.callId}`,
          call_id: item.callId,
          name: item.name,
          arguments: JSON.stringify(item.arguments),
        },
      });
    } else {
      events.push({
        type: 'response.output_item.done',
        ...outputIndex,
        item: { type: 'custom_tool_call', id: `ctc_${item.callId}`, call_id: item.callId, name: item.name, input: item.input },
      });
    }
  });
  events.push({
    type: 'response.completed',
    response: {
      id: responseId,
      usage: { input_tokens: 0, input_tokens_details: null, output_tokens: 0, output_tokens_details: null, total_tokens: 0 },
    },
  });
  return events.map((e) => `event: ${String(e.type)}\ndata: ${JSON.stringify(e)}\n\n`).join('');
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

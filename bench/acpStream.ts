/**
 * CPU time per streamed ACP message, in this process (issue 21): what reading an agent's
 * `session/update` stream costs Warden, apart from what the machine does to the extension host
 * (bench/agentStream.ts measures the host's event loop; on a shared machine its tail is the
 * scheduler's). 10,000 notifications of the mix test/fixtures/agents/stream-agent.mjs sends
 * (message and thought chunks, tool calls and their updates) are written in 64 KiB chunks into
 * an in-memory stdout and read to the last handler call, three ways, interleaved, best of five
 * after two warm-ups each: Warden's ACP client (connectAcpClient: the SDK's connection, its zod
 * validation of each message, Warden's protocol watch and time slices), the SDK's connection
 * alone (the same validation, no Warden layers), and the SDK's connection with the params
 * passed through unvalidated (a bound on what a cheaper validator could save). The reference is
 * `JSON.parse` of the same lines: the least any reader of the stream pays.
 */
import { PassThrough, Readable, Writable } from 'node:stream';
import * as acp from '@agentclientprotocol/sdk';
import { connectAcpClient, type AcpClientHandlers } from '../src/core/agent/acpClient';
import type { BenchFigure } from './lib';

const MESSAGES = Number(process.env.WARDEN_BENCH_ACP_MESSAGES ?? 10_000);
const CWD = '/workspaces/demo';

/** The same mix as test/fixtures/agents/stream-agent.mjs. */
function update(i: number): acp.SessionUpdate {
  const kind = i % 10;
  const toolCallId = `call-${Math.floor(i / 10)}`;
  if (kind < 6)
    return { sessionUpdate: 'agent_message_chunk', content: { type: 'text', text: `token ${i} of the answer, streamed word by word. ` } };
  if (kind < 8) return { sessionUpdate: 'agent_thought_chunk', content: { type: 'text', text: `thinking about step ${i}. ` } };
  if (kind === 8)
    return {
      sessionUpdate: 'tool_call',
      toolCallId,
      title: `Read src/file${i}.js`,
      kind: 'read',
      status: 'in_progress',
      locations: [{ path: `${CWD}/src/file${i}.js` }],
    };
  return {
    sessionUpdate: 'tool_call_update',
    toolCallId,
    status: 'completed',
    content: [{ type: 'content', content: { type: 'text', text: `read ${i} lines` } }],
  };
}

const lines = Array.from(
  { length: MESSAGES },
  (_, i) => `${JSON.stringify({ jsonrpc: '2.0', method: 'session/update', params: { sessionId: 's', update: update(i) } })}\n`,
);
const bytes = Buffer.from(lines.join(''));

type Reader = (stdout: PassThrough, stdin: PassThrough, onUpdate: () => void) => void;

const wardenClient: Reader = (stdout, stdin, onUpdate) => {
  const refuse = (): Promise<never> => Promise.reject(new Error('not in this benchmark'));
  const handlers: AcpClientHandlers = {
    readTextFile: refuse,
    writeTextFile: refuse,
    requestPermission: refuse,
    createTerminal: refuse,
    terminalOutput: refuse,
    waitForTerminalExit: refuse,
    killTerminal: refuse,
    releaseTerminal: refuse,
    sessionUpdate: onUpdate,
  };
  connectAcpClient(
    { stdin, stdout, stderr: new PassThrough(), exited: new Promise(() => undefined), kill: async () => undefined },
    handlers,
  );
};

function sdkClient(validate: boolean): Reader {
  return (stdout, stdin, onUpdate) => {
    const app = acp.client({ name: 'bench' });
    const registered = validate
      ? app.onNotification(acp.methods.client.session.update, () => onUpdate())
      : app.onNotification(
          acp.methods.client.session.update,
          (params: unknown) => params,
          () => onUpdate(),
        );
    registered.connect(
      acp.ndJsonStream(Writable.toWeb(stdin) as WritableStream<Uint8Array>, Readable.toWeb(stdout) as ReadableStream<Uint8Array>),
    );
  };
}

/** CPU and wall time (ms) to read every message, through `reader`. */
async function once(reader: Reader): Promise<{ cpuMs: number; wallMs: number }> {
  const stdout = new PassThrough();
  const stdin = new PassThrough();
  stdin.resume();
  let seen = 0;
  const all = new Promise<void>((resolve) => reader(stdout, stdin, () => ++seen === MESSAGES && resolve()));
  const cpu = process.cpuUsage();
  const start = performance.now();
  for (let at = 0; at < bytes.length; at += 65_536) stdout.write(bytes.subarray(at, at + 65_536));
  await all;
  const used = process.cpuUsage(cpu);
  stdout.end();
  return { cpuMs: (used.user + used.system) / 1000, wallMs: performance.now() - start };
}

function parseOnly(): { cpuMs: number; wallMs: number } {
  const cpu = process.cpuUsage();
  const start = performance.now();
  let kept = 0;
  for (const line of lines) kept += (JSON.parse(line) as { params: unknown }).params ? 1 : 0;
  const used = process.cpuUsage(cpu);
  if (kept !== MESSAGES) throw new Error('lost a line');
  return { cpuMs: (used.user + used.system) / 1000, wallMs: performance.now() - start };
}

export async function run(): Promise<BenchFigure[]> {
  const ways = { warden: wardenClient, sdk: sdkClient(true), unvalidated: sdkClient(false) } as const;
  const best: Record<keyof typeof ways | 'parse', { cpuMs: number; wallMs: number }> = {
    warden: { cpuMs: Infinity, wallMs: Infinity },
    sdk: { cpuMs: Infinity, wallMs: Infinity },
    unvalidated: { cpuMs: Infinity, wallMs: Infinity },
    parse: { cpuMs: Infinity, wallMs: Infinity },
  };
  for (let round = 0; round < 7; round++) {
    for (const [name, reader] of Object.entries(ways) as Array<[keyof typeof ways, Reader]>) {
      const result = await once(reader);
      if (round >= 2) best[name] = { cpuMs: Math.min(best[name].cpuMs, result.cpuMs), wallMs: Math.min(best[name].wallMs, result.wallMs) };
    }
    const parsed = parseOnly();
    if (round >= 2) best.parse = { cpuMs: Math.min(best.parse.cpuMs, parsed.cpuMs), wallMs: Math.min(best.parse.wallMs, parsed.wallMs) };
  }
  const perMessage = (ms: number): number => (ms * 1000) / MESSAGES;
  for (const [name, figures] of Object.entries(best))
    process.stderr.write(
      `[acpStream] ${name}: CPU ${perMessage(figures.cpuMs).toFixed(1)} µs per message, wall ${perMessage(figures.wallMs).toFixed(1)} µs\n`,
    );
  const row = (what: string, name: keyof typeof ways): BenchFigure => ({
    figure: `ACP stream, CPU per message, ${what}`,
    unit: 'µs',
    warden: perMessage(best[name].cpuMs),
    reference: perMessage(best.parse.cpuMs),
    referenceLabel: 'JSON.parse of the same lines',
    target: 'report',
  });
  return [
    row("Warden's ACP client (SDK + validation + protocol watch + slices)", 'warden'),
    row("the SDK's connection alone (with its validation)", 'sdk'),
    row("the SDK's connection, params unvalidated (bound)", 'unvalidated'),
  ];
}

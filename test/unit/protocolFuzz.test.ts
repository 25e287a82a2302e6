import { strict as assert } from 'node:assert';
import { AcpAgentConnection } from '../../src/core/agent/acpConnection';
import { CodexAppServerClient } from '../../src/core/agent/codex/appServerClient';
import { CodexApprovals } from '../../src/core/session/codexApprovals';
import { CONTAINER, protocolRig, type ProtocolRig } from '../support/protocolRig';
import { inMemoryAgentProcess } from '../support/inMemoryAgent';

/**
 * Fuzzing the agent boundary: mutated frames (bit flips, truncation, type swaps, huge
 * numbers, deep nesting, valid-but-wrong methods) go through Warden's real connection code
 * over in-memory pipes. Nothing may crash, hang or approve anything; afterwards the
 * connection still answers a well-formed request. Deterministic: a fixed seed.
 */

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const P = `${CONTAINER}/src/a.js`;
const ACP_BASES: Json[] = [
  { jsonrpc: '2.0', id: 1, method: 'fs/read_text_file', params: { sessionId: 's', path: P, line: 1, limit: 2 } },
  { jsonrpc: '2.0', id: 2, method: 'fs/write_text_file', params: { sessionId: 's', path: P, content: 'x' } },
  {
    jsonrpc: '2.0',
    id: 3,
    method: 'session/request_permission',
    params: {
      sessionId: 's',
      toolCall: { toolCallId: 't', kind: 'execute', title: 'rm -rf /', rawInput: { command: 'rm -rf /' } },
      options: [
        { optionId: 'a', name: 'Allow', kind: 'allow_always' },
        { optionId: 'r', name: 'No', kind: 'reject_once' },
      ],
    },
  },
  {
    jsonrpc: '2.0',
    id: 4,
    method: 'session/request_permission',
    params: {
      sessionId: 's',
      toolCall: { toolCallId: 'e', kind: 'edit', content: [{ type: 'diff', path: P, oldText: 'a', newText: 'b' }] },
      options: [{ optionId: 'a', name: 'Allow', kind: 'allow_once' }],
    },
  },
  {
    jsonrpc: '2.0',
    id: 5,
    method: 'terminal/create',
    params: { sessionId: 's', command: 'curl', args: ['http://example.com'], outputByteLimit: 10 },
  },
  { jsonrpc: '2.0', id: 6, method: 'terminal/output', params: { sessionId: 's', terminalId: 'term-x' } },
  { jsonrpc: '2.0', id: 7, method: '_warden/ask_human', params: { sessionId: 's', question: 'ok?', choices: ['yes'] } },
  {
    jsonrpc: '2.0',
    method: 'session/update',
    params: { sessionId: 's', update: { sessionUpdate: 'agent_message_chunk', content: { type: 'text', text: 'hi' } } },
  },
  {
    jsonrpc: '2.0',
    method: 'session/update',
    params: {
      sessionId: 's',
      update: {
        sessionUpdate: 'tool_call',
        toolCallId: 't',
        title: 'x',
        kind: 'edit',
        status: 'pending',
        content: [{ type: 'diff', path: P, oldText: null, newText: 'n' }],
      },
    },
  },
  {
    jsonrpc: '2.0',
    method: 'session/update',
    params: { sessionId: 's', update: { sessionUpdate: 'plan', entries: [{ content: 'a', priority: 'high', status: 'pending' }] } },
  },
  { jsonrpc: '2.0', id: 99, result: { outcome: { outcome: 'selected', optionId: 'a' } } },
  { jsonrpc: '2.0', id: 8, method: 'session/prompt', params: { sessionId: 's', prompt: [] } },
  { jsonrpc: '2.0', id: 9, method: 'initialize', params: { protocolVersion: 1 } },
  { jsonrpc: '2.0', id: 10, method: '_unknown/extension', params: {} },
];

const CODEX_BASES: Json[] = [
  {
    id: 1,
    method: 'item/commandExecution/requestApproval',
    params: { threadId: 't', turnId: 'u', itemId: 'c', command: 'rm -rf /', cwd: CONTAINER },
  },
  { id: 2, method: 'item/fileChange/requestApproval', params: { threadId: 't', turnId: 'u', itemId: 'f' } },
  {
    id: 3,
    method: 'item/tool/requestUserInput',
    params: { threadId: 't', turnId: 'u', itemId: 'q', questions: [{ id: 'a', header: 'h', question: 'q?' }] },
  },
  {
    method: 'item/started',
    params: {
      threadId: 't',
      turnId: 'u',
      item: {
        type: 'fileChange',
        id: 'f',
        status: 'inProgress',
        changes: [{ path: P, kind: { type: 'update', move_path: null }, diff: '@@ -1 +1 @@\n-a\n+b\n' }],
      },
    },
  },
  {
    method: 'item/completed',
    params: {
      threadId: 't',
      turnId: 'u',
      item: { type: 'commandExecution', id: 'c', command: 'x', cwd: '/', status: 'completed', exitCode: 0, aggregatedOutput: 'ok' },
    },
  },
  { method: 'turn/diff/updated', params: { threadId: 't', turnId: 'u', diff: 'diff' } },
  { method: 'turn/completed', params: { threadId: 't', turn: { id: 'u', status: 'completed', error: null } } },
  { method: 'item/agentMessage/delta', params: { threadId: 't', turnId: 'u', itemId: 'm', delta: 'hi' } },
  { id: 77, result: { thread: { id: 'x' } } },
  { id: 4, method: 'applyPatchApproval', params: {} },
  { id: 5, method: 'execCommandApproval', params: { command: ['rm'] } },
];

function swapType(value: Json, rand: () => number): Json {
  const choices: Json[] = [null, true, 0, -1, 1e308, -1e308, 2 ** 64, 'string', '', [], {}, [1, 2], { a: 1 }, 'NaN'];
  return choices[Math.floor(rand() * choices.length)] ?? value;
}

function mutateJson(value: Json, rand: () => number, depth = 0): Json {
  if (value === null || typeof value !== 'object') return rand() < 0.3 ? swapType(value, rand) : value;
  if (Array.isArray(value)) return value.map((v) => (rand() < 0.2 ? swapType(v, rand) : mutateJson(v, rand, depth + 1)));
  const out: { [key: string]: Json } = {};
  for (const [k, v] of Object.entries(value)) {
    const r = rand();
    if (r < 0.08) continue; // drop a field
    out[r < 0.12 ? `${k}_` : k] = r < 0.3 ? swapType(v, rand) : mutateJson(v, rand, depth + 1);
  }
  if (rand() < 0.1) out[`extra${depth}`] = swapType(null, rand);
  return out;
}

function nest(value: Json, levels: number): Json {
  let v = value;
  for (let i = 0; i < levels; i++) v = [v];
  return v;
}

/** One mutated frame (a line without its newline; it may contain newlines of its own). */
function mutatedFrame(bases: Json[], rand: () => number): string {
  const base = bases[Math.floor(rand() * bases.length)]!;
  const kind = Math.floor(rand() * 7);
  switch (kind) {
    case 0: {
      const bytes = Buffer.from(JSON.stringify(base));
      for (let i = 0, n = 1 + Math.floor(rand() * 4); i < n; i++) bytes[Math.floor(rand() * bytes.length)]! ^= 1 << Math.floor(rand() * 8);
      return bytes.toString('latin1');
    }
    case 1: {
      const text = JSON.stringify(base);
      return text.slice(0, Math.floor(rand() * text.length));
    }
    case 2:
      return JSON.stringify(mutateJson(base, rand));
    case 3: {
      const copy = JSON.parse(JSON.stringify(base)) as { [key: string]: Json };
      copy.id = [2 ** 53 + 1, -0, 1e308, 'id', null, 1.5][Math.floor(rand() * 6)] ?? null;
      return JSON.stringify(copy).replace('1e+308', '1e999');
    }
    case 4: {
      const copy = JSON.parse(JSON.stringify(base)) as { [key: string]: Json };
      copy.params = nest(copy.params ?? null, 500 + Math.floor(rand() * 1500));
      return JSON.stringify(copy);
    }
    case 5: {
      const copy = JSON.parse(JSON.stringify(base)) as { [key: string]: Json };
      const methods = [
        'session/new',
        'session/cancel',
        'authenticate',
        'fs/read_text_file',
        'terminal/release',
        'turn/start',
        'initialized',
        '$/cancel_request',
        '__proto__',
        'constructor',
        '',
      ];
      copy.method = methods[Math.floor(rand() * methods.length)]!;
      return JSON.stringify(copy);
    }
    default:
      return [
        '',
        '   ',
        'null',
        '[]',
        '{}',
        '"str"',
        '42',
        '[{"jsonrpc":"2.0","id":1,"method":"fs/read_text_file"}]',
        '{"__proto__":{"polluted":true},"id":1,"method":"x"}',
      ][Math.floor(rand() * 9)]!;
  }
}

async function feed(write: (chunk: string) => void, frames: number, bases: Json[], seed: number): Promise<void> {
  const rand = prng(seed);
  let batch: string[] = [];
  for (let i = 0; i < frames; i++) {
    batch.push(mutatedFrame(bases, rand));
    if (batch.length === 250) {
      write(`${batch.join('\n')}\n`);
      batch = [];
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  if (batch.length) write(`${batch.join('\n')}\n`);
}

/** Resolves once `predicate` holds for a line the client wrote back. */
function waitForLine(lines: string[], onLine: Set<() => void>, predicate: (line: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error('the connection did not answer a well-formed request after the fuzzing (hung?)')),
      30_000,
    );
    const check = (): void => {
      const found = lines.find(predicate);
      if (!found) return;
      clearTimeout(timer);
      onLine.delete(check);
      resolve(found);
    };
    onLine.add(check);
    check();
  });
}

function collect(stream: NodeJS.ReadableStream): { lines: string[]; listeners: Set<() => void> } {
  const lines: string[] = [];
  const listeners = new Set<() => void>();
  let rest = '';
  stream.on('data', (chunk: Buffer) => {
    const parts = (rest + chunk.toString('utf8')).split('\n');
    rest = parts.pop() ?? '';
    lines.push(...parts);
    for (const l of [...listeners]) l();
  });
  return { lines, listeners };
}

function assertNothingApproved(rig: ProtocolRig): void {
  for (const p of rig.store.all()) {
    assert.ok(p.state === 'pending' || p.state === 'rejected' || p.state === 'orphaned', `${p.id} (${p.title}) is ${p.state}`);
    assert.notEqual(p.decision?.verdict, 'approve');
  }
  assert.deepEqual(rig.writes, [], 'nothing was written');
  assert.equal(({} as { polluted?: boolean }).polluted, undefined, 'no prototype pollution');
}

describe('protocol fuzzing (deterministic seed): mutated frames never crash, hang or approve', function () {
  this.timeout(120_000);
  const crashes: unknown[] = [];
  const onCrash = (error: unknown): void => void crashes.push(error);
  // The SDK logs every dropped frame to the console; thousands of lines would bury the report.
  const console0 = { error: console.error, warn: console.warn };
  before(() => {
    process.on('uncaughtException', onCrash);
    process.on('unhandledRejection', onCrash);
    console.error = () => undefined;
    console.warn = () => undefined;
  });
  after(() => {
    process.off('uncaughtException', onCrash);
    process.off('unhandledRejection', onCrash);
    console.error = console0.error;
    console.warn = console0.warn;
  });

  it('ACP: 10,000 mutated frames through the SDK connection and the proposal handlers', async () => {
    const rig = protocolRig({ files: { 'src/a.js': 'a\n' } });
    const pipes = inMemoryAgentProcess();
    const violations: string[] = [];
    const connection = new AcpAgentConnection(pipes.process, rig.handlers, (v) => void violations.push(v.kind));
    const out = collect(pipes.fromClient);
    await feed((c) => pipes.toClient.write(c), 10_000, ACP_BASES, 0x5eed);
    pipes.toClient.write(
      `${JSON.stringify({ jsonrpc: '2.0', id: 'final', method: 'fs/read_text_file', params: { sessionId: 's', path: P } })}\n`,
    );
    const answer = JSON.parse(await waitForLine(out.lines, out.listeners, (l) => l.includes('"final"'))) as {
      result?: { content: string };
    };
    assert.equal(answer.result?.content, 'a\n', 'still answering after the fuzzing');
    assert.ok(violations.length > 0, 'violations were reported');
    assert.ok(
      rig.store.pending().length > 0,
      'some mutated requests were still valid and reached the proposal handlers (pending, undecided)',
    );
    assertNothingApproved(rig);
    rig.store.orphanSession('s-proto', 'fuzz over');
    assertNothingApproved(rig);
    assert.deepEqual(crashes, []);
    connection.close();
  });

  it('Codex app-server: 5,000 mutated frames through the JSON-lines client and the approvals', async () => {
    const rig = protocolRig({ files: { 'src/a.js': 'a\n' } });
    const pipes = inMemoryAgentProcess();
    const client = new CodexAppServerClient(pipes.process.stdout, pipes.process.stdin, new CodexApprovals(rig.deps));
    const out = collect(pipes.fromClient);
    await feed((c) => pipes.toClient.write(c), 5_000, CODEX_BASES, 0xc0de);
    pipes.toClient.write(`${JSON.stringify({ id: 'final', method: 'no/such/method', params: {} })}\n`);
    const answer = JSON.parse(await waitForLine(out.lines, out.listeners, (l) => l.includes('"final"'))) as { error?: { code: number } };
    assert.equal(answer.error?.code, -32601);
    assert.ok(rig.store.all().length > 0, 'some mutated approvals were still valid and became proposals');
    assertNothingApproved(rig);
    rig.store.orphanSession('s-proto', 'fuzz over');
    assertNothingApproved(rig);
    assert.deepEqual(crashes, []);
    client.close();
  });

  it('an oversized frame ends the Codex connection with a clear reason; nothing waits forever', async () => {
    const rig = protocolRig();
    const pipes = inMemoryAgentProcess();
    const client = new CodexAppServerClient(pipes.process.stdout, pipes.process.stdin, new CodexApprovals(rig.deps), {
      maxMessageBytes: 1024,
    });
    const init = client.initialize({ name: 'warden', version: '0' });
    pipes.toClient.write(`{"method":"item/agentMessage/delta","params":{"delta":"${'x'.repeat(4096)}"}}\n`);
    assert.match(await client.closed, /larger than 1024 bytes/);
    await assert.rejects(init, /closed before it answered initialize/);
  });

  it('a flood of 20,000 valid updates reaches the session view bounded', async () => {
    const rig = protocolRig();
    const pipes = inMemoryAgentProcess();
    const connection = new AcpAgentConnection(pipes.process, rig.handlers);
    const out = collect(pipes.fromClient);
    const lines: string[] = [];
    for (let i = 0; i < 20_000; i++)
      lines.push(
        JSON.stringify({
          jsonrpc: '2.0',
          method: 'session/update',
          params: { sessionId: 's', update: { sessionUpdate: 'agent_message_chunk', content: { type: 'text', text: `chunk ${i} ` } } },
        }),
      );
    pipes.toClient.write(
      `${lines.join('\n')}\n${JSON.stringify({ jsonrpc: '2.0', id: 'final', method: 'fs/read_text_file', params: { sessionId: 's', path: `${CONTAINER}/missing` } })}\n`,
    );
    await waitForLine(out.lines, out.listeners, (l) => l.includes('"final"'));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(rig.events.filter((e) => e.type === 'agent-message').length, 20_000);
    connection.close();
  });
});

import { strict as assert } from 'node:assert';
import { PassThrough } from 'node:stream';
import { connectAcpClient, type AcpClientHandlers, type ProtocolViolation } from '../../src/core/agent/acpClient';
import { VIOLATIONS_RECORDED_PER_KIND } from '../../src/core/agent/protocolWatch';
import type { AgentProcess } from '../../src/core/sandbox/types';

/** A real ACP client connection over in-memory pipes: the test plays the agent, line by line. */
function rig(): {
  send(line: string): void;
  violations: ProtocolViolation[];
  replies: () => Array<Record<string, unknown>>;
  settle(): Promise<void>;
} {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const agent: AgentProcess = {
    stdin,
    stdout,
    stderr: new PassThrough(),
    exited: new Promise(() => undefined),
    kill: async () => undefined,
  };
  const refuse = async (): Promise<never> => {
    throw new Error('not in this test');
  };
  const handlers: AcpClientHandlers = {
    readTextFile: async () => ({ content: 'hello' }),
    writeTextFile: refuse,
    requestPermission: refuse,
    createTerminal: refuse,
    terminalOutput: refuse,
    waitForTerminalExit: refuse,
    killTerminal: refuse,
    releaseTerminal: refuse,
    sessionUpdate: () => undefined,
  };
  const violations: ProtocolViolation[] = [];
  let written = '';
  stdin.on('data', (c: Buffer) => (written += c.toString('utf8')));
  connectAcpClient(agent, handlers, (v) => violations.push(v));
  return {
    send: (line) => stdout.write(`${line}\n`),
    violations,
    replies: () =>
      written
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    // A request answered means every frame before it was handled.
    settle: async () => {
      const id = `settle-${Math.random()}`;
      stdout.write(`${JSON.stringify({ jsonrpc: '2.0', id, method: 'fs/read_text_file', params: { sessionId: 's', path: '/w/a' } })}\n`);
      await new Promise<void>((resolve) => {
        const check = (): void => {
          if (!written.includes(id)) return;
          stdin.off('data', check);
          resolve();
        };
        stdin.on('data', check);
      });
    },
  };
}

describe('protocol violations by an agent are reported (for the audit), and the connection goes on', () => {
  it('malformed frames: bad JSON, a batch, a bare number, a request with a non-string method', async () => {
    const r = rig();
    for (const line of ['{nope', '[{"jsonrpc":"2.0","id":1,"method":"x"}]', '42', '{"jsonrpc":"2.0","method":42}']) r.send(line);
    await r.settle();
    assert.deepEqual(
      r.violations.map((v) => v.kind),
      ['malformed-frame', 'malformed-frame', 'malformed-frame', 'malformed-frame'],
      JSON.stringify(r.violations),
    );
    assert.ok(
      r.replies().some((m) => m.id !== null && (m.result as { content?: string } | undefined)?.content === 'hello'),
      'a good request after them is served',
    );
  });

  it('a method Warden does not serve, and a response to a request Warden never sent', async () => {
    const r = rig();
    r.send('{"jsonrpc":"2.0","id":7,"method":"warden/approve","params":{}}');
    r.send('{"jsonrpc":"2.0","method":"warden/approveAll"}');
    r.send('{"jsonrpc":"2.0","id":3,"result":{"outcome":{"outcome":"selected","optionId":"allow"}}}');
    await r.settle();
    assert.deepEqual(
      r.violations.map((v) => [v.kind, v.detail]),
      [
        ['unknown-method', 'request "warden/approve"'],
        ['unknown-method', 'notification "warden/approveAll"'],
        ['unexpected-response', 'a response to request id 3, which Warden never sent (or already had answered)'],
      ],
    );
    assert.equal((r.replies().find((m) => m.id === 7)?.error as { code: number }).code, -32601);
  });

  it(`a flood records ${VIOLATIONS_RECORDED_PER_KIND} violations of a kind one by one, then one line saying more follow`, async () => {
    const r = rig();
    for (let i = 0; i < 100; i++) r.send('{"jsonrpc":"2.0","method":"spam/x"}');
    await r.settle();
    assert.equal(r.violations.length, VIOLATIONS_RECORDED_PER_KIND + 1);
    assert.match(r.violations.at(-1)!.detail, /not recorded one by one/);
  });
});

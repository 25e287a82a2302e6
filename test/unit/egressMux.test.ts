import { strict as assert } from 'node:assert';
import { createHash, randomBytes } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough, type Duplex } from 'node:stream';
import { compileRules } from '../../src/core/egress/allowList';
import { MuxChannel, type MuxStream } from '../../src/core/egress/mux/channel';
import { encodeFrame, FrameDecoder, FrameType, MAX_DATA_BYTES, STREAM_WINDOW_BYTES, windowPayload } from '../../src/core/egress/mux/frames';
import { parseHello } from '../../src/core/egress/mux/hello';
import { EgressProxy, type EgressRecord } from '../../src/core/egress/proxy';

/** A bridge and a host channel joined by two in-memory pipes; `toHost` can be tapped or cut. */
function pair(options: { onOpen?: (stream: MuxStream) => void; maxStreams?: number } = {}): {
  bridge: MuxChannel;
  host: MuxChannel;
  toHost: PassThrough;
  toBridge: PassThrough;
  closed: { bridge?: string; host?: string };
} {
  const toHost = new PassThrough();
  const toBridge = new PassThrough();
  const closed: { bridge?: string; host?: string } = {};
  const host = new MuxChannel({
    input: toHost,
    output: toBridge,
    role: 'host',
    ...(options.onOpen ? { onOpen: options.onOpen } : {}),
    ...(options.maxStreams ? { maxStreams: options.maxStreams } : {}),
    onClose: (reason) => (closed.host = reason),
  });
  const bridge = new MuxChannel({ input: toBridge, output: toHost, role: 'bridge', onClose: (reason) => (closed.bridge = reason) });
  return { bridge, host, toHost, toBridge, closed };
}

const sha = (data: Buffer): string => createHash('sha256').update(data).digest('hex');
const collect = (stream: Duplex): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.once('end', () => resolve(Buffer.concat(chunks)));
    stream.once('error', reject);
  });
const closedEvent = (stream: Duplex): Promise<void> => new Promise((resolve) => stream.once('close', () => resolve()));

describe('egress mux frames', () => {
  it('decodes frames split at every byte boundary, and several frames in one chunk', () => {
    const wire = Buffer.concat([
      encodeFrame(FrameType.Open, 7),
      encodeFrame(FrameType.Data, 7, Buffer.from('hello')),
      encodeFrame(FrameType.Window, 7, windowPayload(1234)),
      encodeFrame(FrameType.End, 7),
    ]);
    for (let cut = 0; cut <= wire.length; cut++) {
      const decoder = new FrameDecoder();
      const frames = [...decoder.push(wire.subarray(0, cut)), ...decoder.push(wire.subarray(cut))];
      assert.deepEqual(
        frames.map((f) => [f.type, f.stream, f.payload.toString('hex')]),
        [
          [FrameType.Open, 7, ''],
          [FrameType.Data, 7, Buffer.from('hello').toString('hex')],
          [FrameType.Window, 7, windowPayload(1234).toString('hex')],
          [FrameType.End, 7, ''],
        ],
        `cut at ${cut}`,
      );
      assert.equal(decoder.pending, 0);
    }
  });

  it('refuses an unknown type, an oversized length and malformed control frames (no resynchronising by guessing)', () => {
    const header = (size: number, type: number): Buffer => {
      const b = Buffer.alloc(9);
      b.writeUInt32BE(size, 0);
      b.writeUInt8(type, 4);
      b.writeUInt32BE(1, 5);
      return b;
    };
    assert.throws(() => new FrameDecoder().push(header(0, 9)), /unknown frame type 9/);
    assert.throws(() => new FrameDecoder().push(header(MAX_DATA_BYTES + 1, FrameType.Data)), /over/);
    assert.throws(() => new FrameDecoder().push(Buffer.concat([header(2, FrameType.Window), Buffer.alloc(2)])), /window frame/);
    assert.throws(() => new FrameDecoder().push(Buffer.concat([header(1, FrameType.Open), Buffer.alloc(1)])), /carries no payload/);
    assert.throws(() => encodeFrame(FrameType.Data, 1, Buffer.alloc(MAX_DATA_BYTES + 1)), /over/);
  });

  it('the hello is validated: JSON, protocol version 1, a port', () => {
    assert.deepEqual(parseHello(Buffer.from('{"version":1,"port":3128}')), { ok: true, hello: { version: 1, port: 3128 } });
    assert.equal(parseHello(Buffer.from('{"version":2,"port":3128}')).ok, false);
    assert.equal(parseHello(Buffer.from('{"version":1,"port":0}')).ok, false);
    assert.equal(parseHello(Buffer.from('listening')).ok, false);
  });
});

describe('egress mux channel (bridge <-> host over one pipe)', () => {
  it('carries streams both ways intact, several at once, with half-close', async () => {
    const { bridge } = pair({
      // The host echoes each stream back, then ends it when the bridge side ends.
      onOpen: (stream) => stream.pipe(stream),
    });
    const payloads = [randomBytes(3 * STREAM_WINDOW_BYTES + 17), randomBytes(10), Buffer.alloc(0), randomBytes(MAX_DATA_BYTES * 2)];
    const results = await Promise.all(
      payloads.map(async (payload) => {
        const stream = bridge.open();
        const echoed = collect(stream);
        stream.end(payload);
        return echoed;
      }),
    );
    results.forEach((echoed, i) => assert.equal(sha(echoed), sha(payloads[i] ?? Buffer.alloc(0)), `stream ${i}`));
  });

  it('backpressure: a reader that does not read holds back its own stream at one window, and nothing is lost once it reads', async () => {
    let hostStream: MuxStream | undefined;
    const { bridge, toHost } = pair({ onOpen: (s) => (hostStream = s) });
    let wireData = 0;
    toHost.on('data', (chunk: Buffer) => (wireData += chunk.length));
    const payload = randomBytes(4 * STREAM_WINDOW_BYTES);
    const stream = bridge.open();
    stream.write(payload);
    stream.end();
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(hostStream, 'the host got the stream');
    // Nothing reads on the host: at most one window (plus frame headers) crossed the pipe.
    assert.ok(wireData <= STREAM_WINDOW_BYTES + 64 * 9 + 64, `${wireData} bytes crossed before anyone read`);
    assert.ok(wireData >= STREAM_WINDOW_BYTES, `${wireData}: the window was used`);
    const received = await collect(hostStream);
    assert.equal(sha(received), sha(payload));
  });

  it('a peer that ignores the window gets its stream reset, not unbounded buffering', async () => {
    let hostStream: MuxStream | undefined;
    const { toHost } = pair({ onOpen: (s) => (hostStream = s) });
    toHost.write(encodeFrame(FrameType.Open, 5));
    const chunk = Buffer.alloc(MAX_DATA_BYTES);
    for (let sent = 0; sent <= STREAM_WINDOW_BYTES; sent += chunk.length) toHost.write(encodeFrame(FrameType.Data, 5, chunk));
    await new Promise((r) => setTimeout(r, 20));
    assert.ok(hostStream?.destroyed, 'the stream was reset');
  });

  it('fails closed: when the pipe ends, every stream is destroyed and no new one opens', async () => {
    let hostStream: MuxStream | undefined;
    const { bridge, host, toHost, toBridge, closed } = pair({ onOpen: (s) => (hostStream = s) });
    const stream = bridge.open();
    stream.on('error', () => undefined);
    stream.write('x');
    await new Promise((r) => setTimeout(r, 10));
    assert.ok(hostStream);
    const bridgeClosed = closedEvent(stream);
    const hostClosed = closedEvent(hostStream);
    toHost.end();
    toBridge.end();
    await Promise.all([bridgeClosed, hostClosed]);
    assert.equal(bridge.alive, false);
    assert.equal(host.alive, false);
    assert.match(closed.bridge ?? '', /ended|closed/);
    assert.throws(() => bridge.open(), /egress channel is closed/);
  });

  it('a malformed frame kills the channel (protocol error), every stream with it', async () => {
    let hostStream: MuxStream | undefined;
    const { bridge, host, toHost, closed } = pair({ onOpen: (s) => (hostStream = s) });
    bridge.open().on('error', () => undefined);
    await new Promise((r) => setTimeout(r, 10));
    toHost.write(Buffer.from('GET / HTTP/1.1\r\n\r\n'));
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(host.alive, false);
    assert.match(closed.host ?? '', /protocol error/);
    assert.ok(hostStream?.destroyed);
  });

  it('the host never accepts a stream the host side would open, and refuses streams past its limit', async () => {
    const opened: MuxStream[] = [];
    const { bridge } = pair({ onOpen: (s) => opened.push(s), maxStreams: 2 });
    const streams = [bridge.open(), bridge.open(), bridge.open()];
    const third = streams[2];
    assert.ok(third);
    const ended = collect(third);
    assert.equal((await ended).length, 0, 'the third stream is closed at once');
    assert.equal(opened.length, 2);
  });
});

describe('egress proxy fed by mux streams (no socket anywhere)', () => {
  let upstream: http.Server;
  let port: number;
  let records: EgressRecord[];
  let proxy: EgressProxy;
  let bridge: MuxChannel;

  before(async () => {
    upstream = http.createServer((req, res) => res.end(`upstream saw ${req.method} ${req.url}`));
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    port = (upstream.address() as AddressInfo).port;
    records = [];
    proxy = await EgressProxy.listen({
      rules: compileRules([{ host: '127.0.0.1', ports: [port] }]).rules,
      identify: (credential) => (credential === 'tok' ? { kind: 'agent' } : { kind: 'unattributed' }),
      onRecord: (record) => void records.push(record),
      resolve: async () => [],
    });
    assert.equal(proxy.socketPath, undefined);
    bridge = pair({ onOpen: (stream) => proxy.accept(stream) }).bridge;
  });

  after(async () => {
    await proxy.close();
    upstream.close();
  });

  const auth = { 'Proxy-Authorization': `Basic ${Buffer.from('warden:tok').toString('base64')}` };

  it('CONNECT to an allowed address tunnels; an unlisted one gets 403 with the reason; both are recorded', async () => {
    const tunnel = (authority: string): Promise<{ status: number; body: string }> =>
      new Promise((resolve, reject) => {
        const req = http.request({ createConnection: () => bridge.open(), method: 'CONNECT', path: authority, headers: auth });
        req.on('connect', (res, socket) => {
          if (res.statusCode !== 200) {
            socket.destroy();
            return resolve({ status: res.statusCode ?? 0, body: String(res.headers['x-warden-reason']) });
          }
          socket.end(`GET /t HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
          let body = '';
          socket.on('data', (c: Buffer) => (body += c.toString()));
          socket.on('end', () => resolve({ status: 200, body }));
        });
        req.on('error', reject);
        req.end();
      });
    const ok = await tunnel(`127.0.0.1:${port}`);
    assert.equal(ok.status, 200);
    assert.match(ok.body, /upstream saw GET \/t/);
    const refused = await tunnel('exfiltrate.example.test:443');
    assert.equal(refused.status, 403);
    assert.match(refused.body, /not in the policy's network allow-list/);
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(
      // A tunnel is recorded when it closes, a refusal at once: compare as a set.
      records.map((r) => [r.method, r.host, r.allowed, r.action.kind]).sort((a, b) => String(a[1]).localeCompare(String(b[1]))),
      [
        ['CONNECT', '127.0.0.1', true, 'agent'],
        ['CONNECT', 'exfiltrate.example.test', false, 'agent'],
      ],
    );
  });

  it('plain absolute-form HTTP goes through the same streams', async () => {
    const body = await new Promise<string>((resolve, reject) => {
      const req = http.request(
        { createConnection: () => bridge.open(), method: 'GET', path: `http://127.0.0.1:${port}/plain`, headers: auth },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve(text));
        },
      );
      req.on('error', reject);
      req.end();
    });
    assert.equal(body, 'upstream saw GET /plain');
  });
});

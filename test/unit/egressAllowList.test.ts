import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { isInternalAddress } from '../../src/core/egress/addresses';
import {
  compileRules,
  matchTarget,
  normalizeHost,
  parseAbsoluteUrl,
  parseAuthority,
  type AllowRule,
} from '../../src/core/egress/allowList';
import { EgressProxy, type EgressRecord } from '../../src/core/egress/proxy';

function decide(rules: AllowRule[], authority: string): string {
  const compiled = compileRules(rules);
  assert.deepEqual(compiled.problems, []);
  const parsed = parseAuthority(authority);
  if (!parsed.ok) return `malformed: ${parsed.reason}`;
  const match = matchTarget(compiled.rules, parsed.target);
  return match.allowed ? `allowed by ${match.rule.id}` : `denied: ${match.reason}`;
}

describe('egress allow-list matching', () => {
  it('matches names exactly, case-insensitively and without the trailing dot', () => {
    const rules = [{ host: 'API.OpenAI.com.' }];
    assert.equal(decide(rules, 'api.openai.com:443'), 'allowed by network.allow[0]');
    assert.equal(decide(rules, 'Api.OPENAI.Com.:443'), 'allowed by network.allow[0]');
    assert.equal(decide(rules, 'openai.com:443'), "denied: openai.com is not in the policy's network allow-list");
    assert.equal(
      decide(rules, 'api.openai.com.evil.test:443'),
      "denied: api.openai.com.evil.test is not in the policy's network allow-list",
    );
    assert.equal(decide(rules, 'xapi.openai.com:443'), "denied: xapi.openai.com is not in the policy's network allow-list");
  });

  it('a wildcard matches names below the domain at any depth, never the domain itself, a look-alike or an address', () => {
    const rules = [{ host: '*.example.com' }];
    assert.equal(decide(rules, 'a.example.com:443'), 'allowed by network.allow[0]');
    assert.equal(decide(rules, 'a.b.EXAMPLE.com.:443'), 'allowed by network.allow[0]');
    assert.match(decide(rules, 'example.com:443'), /^denied/);
    assert.match(decide(rules, 'evilexample.com:443'), /^denied/);
    assert.match(decide(rules, 'example.com.evil.test:443'), /^denied/);
    assert.match(decide([{ host: '*.0.0.1' }], '127.0.0.1:443'), /^denied/);
  });

  it('ports: the listed ones only; without ports 443 and 80; the refusal names the rule and its ports', () => {
    assert.equal(decide([{ host: 'h.test' }], 'h.test:80'), 'allowed by network.allow[0]');
    assert.equal(decide([{ host: 'h.test' }], 'h.test:443'), 'allowed by network.allow[0]');
    assert.equal(
      decide([{ host: 'h.test' }], 'h.test:22'),
      'denied: port 22 of h.test is not allowed (network.allow[0] allows ports 443, 80)',
    );
    assert.equal(
      decide([{ host: 'h.test', ports: [8443] }], 'h.test:443'),
      'denied: port 443 of h.test is not allowed (network.allow[0] allows ports 8443)',
    );
    // A later rule for the same host with the port allows it.
    assert.equal(
      decide(
        [
          { host: 'h.test', ports: [1] },
          { host: '*.test', ports: [8443] },
        ],
        'h.test:8443',
      ),
      'allowed by network.allow[1]',
    );
  });

  it('IP literals: canonical forms match, names never match an address rule', () => {
    assert.equal(decide([{ host: '127.0.0.1', ports: [8080] }], '127.0.0.1:8080'), 'allowed by network.allow[0]');
    assert.equal(
      decide([{ host: '127.0.0.1', ports: [8080] }], '127.1:8080'),
      'allowed by network.allow[0]',
      'WHATWG host parsing: 127.1 is 127.0.0.1',
    );
    assert.equal(decide([{ host: '127.0.0.1', ports: [8080] }], '0x7f.0.0.1:8080'), 'allowed by network.allow[0]');
    assert.match(decide([{ host: '127.0.0.1', ports: [8080] }], 'localhost:8080'), /^denied/);
    assert.equal(decide([{ host: '::1', ports: [8080] }], '[0:0:0:0:0:0:0:1]:8080'), 'allowed by network.allow[0]');
    assert.equal(decide([{ host: '[2001:DB8::1]', ports: [443] }], '[2001:db8:0::1]:443'), 'allowed by network.allow[0]');
    assert.match(decide([{ host: '::1', ports: [8080] }], '[::2]:8080'), /^denied/);
  });

  it('host:port parsing refuses what a CONNECT must not be', () => {
    assert.match(decide([], 'h.test'), /^malformed: "h.test" has no :port/);
    assert.match(decide([], 'h.test:'), /^malformed: "" is not a port/);
    assert.match(decide([], 'h.test:0'), /^malformed: "0" is not a port/);
    assert.match(decide([], 'h.test:65536'), /^malformed/);
    assert.match(decide([], 'h.test:+443'), /^malformed/);
    assert.match(decide([], '::1:443'), /must be written in brackets/);
    assert.match(decide([], '[::1'), /unclosed/);
    assert.match(decide([], '[::1]443'), /no :port/);
    assert.match(decide([], '[not-v6]:443'), /not an IPv6 address/);
    assert.match(decide([], 'a b:443'), /^malformed/);
    assert.match(decide([], 'a..b:443'), /^malformed/);
    assert.match(decide([], 'user@h.test:443'), /^malformed/);
    assert.match(decide([], '1.2.3.4@127.0.0.1:443'), /^malformed/);
    assert.match(decide([], '127.0.0.1/x:443'), /^malformed/);
    assert.match(decide([], 'evil.test#.h.test:443'), /^malformed/);
    assert.match(decide([], 'h%2etest:443'), /^malformed/);
    assert.deepEqual(parseAuthority('[::ffff:127.0.0.1]:443'), { ok: true, target: { host: '::ffff:7f00:1', port: 443, isIp: true } });
  });

  it('absolute-form URLs: http only, default port 80, no credentials', () => {
    assert.deepEqual(parseAbsoluteUrl('http://H.test/a?b=1'), {
      ok: true,
      target: { host: 'h.test', port: 80, isIp: false },
      path: '/a?b=1',
    });
    assert.deepEqual(parseAbsoluteUrl('http://[::1]:81/'), { ok: true, target: { host: '::1', port: 81, isIp: true }, path: '/' });
    assert.equal(parseAbsoluteUrl('/relative').ok, false);
    assert.equal(parseAbsoluteUrl('https://h.test/').ok, false);
    assert.equal(parseAbsoluteUrl('http://u:p@h.test/').ok, false);
  });

  it('malformed rules are reported by id and allow nothing', () => {
    const compiled = compileRules([{ host: 'http://x.test' }, { host: '*foo.test' }, { host: 'x.test:443' }, { host: 'ok.test' }]);
    assert.deepEqual(
      compiled.rules.map((r) => r.id),
      ['network.allow[3]'],
    );
    assert.equal(compiled.problems.length, 3);
    assert.match(compiled.problems[0]!, /^network\.allow\[0\]: "http:\/\/x\.test" is not a host name/);
    assert.equal(normalizeHost('').ok, false);
  });

  it('internal addresses: loopback, private, link-local, unspecified, mapped', () => {
    for (const a of [
      '127.0.0.1',
      '10.1.2.3',
      '172.16.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '0.0.0.0',
      '::1',
      '::',
      'fe80::1',
      'fd00::1',
      '::ffff:127.0.0.1',
      '100.64.0.1',
    ]) {
      assert.equal(isInternalAddress(a), true, a);
    }
    for (const a of ['93.184.216.34', '1.1.1.1', '2606:4700::1111', '172.32.0.1']) assert.equal(isInternalAddress(a), false, a);
  });
});

describe('egress proxy on a unix socket (loopback servers only)', () => {
  let folder: string;
  let server: http.Server;
  let port: number;
  let hits = 0;
  let lookups: string[] = [];
  let records: EgressRecord[] = [];
  let proxy: EgressProxy;

  before(async () => {
    server = http.createServer((_req, res) => {
      hits++;
      res.end('upstream');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    folder = await fs.mkdtemp(path.join(os.tmpdir(), 'warden-egress-unit-'));
    const compiled = compileRules([
      { host: '127.0.0.1', ports: [port] },
      { host: 'rebound.test', ports: [port] },
    ]);
    proxy = await EgressProxy.listen({
      rules: compiled.rules,
      socketPath: path.join(folder, 'egress.sock'),
      identify: (credential) => (credential === 'cmd-token' ? { kind: 'command', proposalId: 'p-1' } : { kind: 'unattributed' }),
      onRecord: (record) => void records.push(record),
      // The test resolver: rebound.test points at loopback (a rebinding attack).
      resolve: async (host) => {
        lookups.push(host);
        return host === 'rebound.test' ? ['127.0.0.1'] : [];
      },
      connectTimeoutMs: 1000,
    });
  });

  after(async () => {
    await proxy.close();
    server.close();
    await fs.rm(folder, { recursive: true, force: true });
  });

  beforeEach(() => {
    hits = 0;
    lookups = [];
    records = [];
  });

  const connect = (authority: string, credential?: string): Promise<{ status: number; reason: string }> =>
    new Promise((resolve, reject) => {
      const headers = credential ? { 'Proxy-Authorization': `Basic ${Buffer.from(`warden:${credential}`).toString('base64')}` } : undefined;
      const req = http.request({ socketPath: proxy.socketPath, method: 'CONNECT', path: authority, ...(headers ? { headers } : {}) });
      req.on('connect', (res, socket) => {
        socket.destroy();
        resolve({ status: res.statusCode ?? 0, reason: String(res.headers['x-warden-reason'] ?? '') });
      });
      req.on('error', reject);
      req.end();
    });

  const settle = async (count: number): Promise<void> => {
    for (let i = 0; i < 100 && records.length < count; i++) await new Promise((r) => setTimeout(r, 20));
  };

  it('never resolves a name the allow-list refuses', async () => {
    const result = await connect('not-listed.test:443');
    assert.equal(result.status, 403);
    assert.deepEqual(lookups, []);
    await settle(1);
    assert.equal(records[0]?.allowed, false);
    assert.equal(records[0]?.action.kind, 'unattributed');
  });

  it('refuses an allowed name that resolves to loopback (DNS rebinding), naming the address', async () => {
    const result = await connect(`rebound.test:${port}`, 'cmd-token');
    assert.equal(result.status, 403);
    assert.match(result.reason, /rebound\.test resolves to 127\.0\.0\.1, a loopback, private or link-local address/);
    assert.equal(hits, 0);
    await settle(1);
    assert.deepEqual(
      { rule: records[0]?.rule, allowed: records[0]?.allowed, action: records[0]?.action },
      { rule: 'network.allow[1]', allowed: false, action: { kind: 'command', proposalId: 'p-1' } },
    );
  });

  it('tunnels to an allowed address, counts bytes and attributes the credential', async () => {
    const body = await new Promise<string>((resolve, reject) => {
      const req = http.request({
        socketPath: proxy.socketPath,
        method: 'CONNECT',
        path: `127.0.0.1:${port}`,
        headers: { 'Proxy-Authorization': `Basic ${Buffer.from('warden:cmd-token').toString('base64')}` },
      });
      req.on('connect', (res, socket) => {
        assert.equal(res.statusCode, 200);
        socket.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
        let text = '';
        socket.on('data', (c: Buffer) => (text += c.toString()));
        socket.on('end', () => resolve(text));
      });
      req.on('error', reject);
      req.end();
    });
    assert.match(body, /upstream$/);
    await settle(1);
    assert.equal(records[0]?.allowed, true);
    assert.equal(records[0]?.address, '127.0.0.1');
    assert.ok((records[0]?.bytesSent ?? 0) > 0 && (records[0]?.bytesReceived ?? 0) > 0);
    assert.deepEqual(records[0]?.action, { kind: 'command', proposalId: 'p-1' });
  });

  it('forwards an absolute-form plain HTTP request to an allowed address, with the Host it checked and without the proxy credential', async () => {
    let seen: http.IncomingHttpHeaders = {};
    server.once('request', (req: http.IncomingMessage) => (seen = req.headers));
    const result = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      http
        .get(
          {
            socketPath: proxy.socketPath,
            path: `http://127.0.0.1:${port}/x?y=1`,
            headers: { Host: 'spoofed.test', 'Proxy-Authorization': `Basic ${Buffer.from('warden:cmd-token').toString('base64')}` },
          },
          (res) => {
            let body = '';
            res.on('data', (c: Buffer) => (body += c.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          },
        )
        .on('error', reject);
    });
    assert.deepEqual(result, { status: 200, body: 'upstream' });
    assert.equal(seen.host, `127.0.0.1:${port}`);
    assert.equal(seen['proxy-authorization'], undefined);
    await settle(1);
    assert.deepEqual(
      { method: records[0]?.method, allowed: records[0]?.allowed, status: records[0]?.status },
      { method: 'GET', allowed: true, status: 200 },
    );
  });

  it('answers an origin-form request with 400 and a reason', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      http
        .get({ socketPath: proxy.socketPath, path: '/' }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        })
        .on('error', reject);
    });
    assert.equal(status, 400);
  });
});

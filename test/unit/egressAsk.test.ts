import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { RecordedEvent } from '../../src/core/audit/events';
import { compileRules } from '../../src/core/egress/allowList';
import { EgressProxy, type EgressRecord, type UnlistedAnswer, type UnlistedRequest } from '../../src/core/egress/proxy';
import { loadPolicyText, mergePolicies, type EffectivePolicy } from '../../src/core/policy';
import type { NetworkProposal } from '../../src/core/proposals/model';
import { ProposalStore } from '../../src/core/proposals/store';
import { ProposalGate } from '../../src/core/session/gate';
import { NetworkAsks } from '../../src/core/session/networkAsks';
import { NodeWorkspaceFiles } from '../../src/core/workspace/files';

/** Issue #18 item 2: a request to an unlisted host is held while a human decides. */

describe('egress: the proxy holds a request to an unlisted host until it is decided', () => {
  let server: http.Server;
  let port: number;
  let hits = 0;
  let folder: string;
  let proxy: EgressProxy;
  let records: EgressRecord[] = [];
  let asked: UnlistedRequest[] = [];
  let answer: (request: UnlistedRequest) => Promise<UnlistedAnswer>;

  before(async () => {
    server = http.createServer((_req, res) => {
      hits++;
      res.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    folder = await fs.mkdtemp(path.join(os.tmpdir(), 'warden-egress-ask-'));
    proxy = await EgressProxy.listen({
      // 127.0.0.1 is named (for another port): an approved request to it may reach loopback.
      rules: compileRules([{ host: '127.0.0.1', ports: [1] }]).rules,
      socketPath: path.join(folder, 'egress.sock'),
      identify: () => ({ kind: 'agent' }),
      onRecord: (record) => void records.push(record),
      onUnlisted: (request) => {
        asked.push(request);
        return answer(request);
      },
      resolve: async (host) => (host === 'private.test' ? ['10.1.2.3'] : host === 'loop.test' ? ['127.0.0.1'] : []),
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
    records = [];
    asked = [];
  });

  const get = (url: string): Promise<{ status: number; body: string }> =>
    new Promise((resolve, reject) => {
      const req = http.request({ socketPath: proxy.socketPath, method: 'GET', path: url }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
  const settle = async (count: number): Promise<void> => {
    for (let i = 0; i < 100 && records.length < count; i++) await new Promise((r) => setTimeout(r, 20));
  };

  it('nothing reaches the host while the answer is pending; approved, it goes through and is recorded with the command and approval', async () => {
    let release!: (a: UnlistedAnswer) => void;
    answer = () => new Promise((resolve) => (release = resolve));
    const response = get(`http://127.0.0.1:${port}/x`);
    for (let i = 0; i < 100 && asked.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(asked.length, 1);
    assert.equal(asked[0]!.port, port);
    assert.match(asked[0]!.reason, /port \d+ of 127\.0\.0\.1 is not allowed/);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(hits, 0, 'held: no byte before the decision');
    release({ approved: true, rule: 'network.ask', reason: 'approved', command: 'npm install', approval: 'p-9' });
    assert.deepEqual(await response, { status: 200, body: 'ok' });
    assert.equal(hits, 1);
    await settle(1);
    assert.equal(records[0]!.allowed, true);
    assert.equal(records[0]!.command, 'npm install');
    assert.equal(records[0]!.approval, 'p-9');
  });

  it('rejected: 403 with the reason, no byte, recorded', async () => {
    answer = async () => ({ approved: false, rule: 'network.ask', reason: 'Ada rejected it', command: 'unknown', approval: 'p-1' });
    const response = await get(`http://127.0.0.1:${port}/x`);
    assert.equal(response.status, 403);
    assert.match(response.body, /Warden egress: Ada rejected it/);
    assert.equal(hits, 0);
    await settle(1);
    assert.deepEqual([records[0]!.allowed, records[0]!.command, records[0]!.status], [false, 'unknown', 403]);
  });

  it('an approved host is still held to the address checks: a name leading to an internal address is refused', async () => {
    answer = async () => ({ approved: true, rule: 'network.ask', reason: 'approved', command: 'curl', approval: 'p-2' });
    const privateName = await get('http://private.test/x');
    assert.equal(privateName.status, 403);
    assert.match(
      privateName.body,
      /leads to 10\.1\.2\.3, a loopback, private or link-local address; an approved host may only lead to public addresses/,
    );
    const privateIp = await get('http://192.168.1.1/x');
    assert.equal(privateIp.status, 403, 'an IP literal too');
    assert.equal(hits, 0);
  });

  it('a failing decision refuses (fail closed)', async () => {
    answer = async () => {
      throw new Error('gate gone');
    };
    const response = await get(`http://127.0.0.1:${port}/x`);
    assert.equal(response.status, 403);
    assert.match(response.body, /could not be asked about \(gate gone\)/);
  });
});

describe('egress: NetworkAsks asks through the gate and remembers approvals per host:port', () => {
  let dir: string;
  let store: ProposalStore;
  let events: RecordedEvent[];
  let gate: ProposalGate;
  const policyOf = (text: string): EffectivePolicy => {
    const loaded = loadPolicyText(text);
    assert.ok(loaded.ok);
    return mergePolicies({ team: { status: 'loaded', policy: loaded.value } });
  };
  let policy: EffectivePolicy;
  const request = (port: number): UnlistedRequest => ({
    requestId: 'r',
    method: 'CONNECT',
    host: 'registry.example.test',
    port,
    action: { kind: 'agent' },
    reason: "registry.example.test is not in the policy's network allow-list",
  });
  let asks: NetworkAsks;

  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'warden-netask-'));
    store = new ProposalStore();
    events = [];
    policy = policyOf('{}');
    gate = new ProposalGate({
      sessionId: 's-1',
      store,
      files: new NodeWorkspaceFiles(dir),
      record: async (event) => void events.push(event),
      agentActor: () => ({ kind: 'agent', id: 'a' }),
      policy: () => policy,
    });
    asks = new NetworkAsks({ sessionId: 's-1', gate: () => gate, policy: () => policy, proposals: () => store.all() });
  });
  afterEach(async () => {
    store.dispose();
    await fs.rm(dir, { recursive: true, force: true });
  });

  const decideNext = (verdict: 'approve' | 'reject'): void => {
    const sub = store.onDidChange((p) => {
      if (p.state !== 'pending') return;
      sub.dispose();
      setImmediate(() =>
        store.decide(p.id, { verdict, reviewer: { kind: 'human', name: 'Ada', source: 'test' }, decidedAt: new Date().toISOString() }),
      );
    });
  };

  it('an ask is a network proposal with the running command; approval is remembered for that host:port only', async () => {
    store.add({
      kind: 'command',
      id: 'p-cmd',
      sessionId: 's-1',
      createdAt: new Date().toISOString(),
      state: 'approved',
      title: 'Run npm install',
      origin: 'terminal/create',
      argv: ['npm', 'install'],
      commandLine: 'npm install',
      cwd: '/w',
      env: {},
    });
    decideNext('approve');
    const first = await asks.decide(request(443));
    assert.equal(first.approved, true);
    assert.equal(first.command, 'npm install', 'correlated with the running command');
    const proposal = store.all().find((p): p is NetworkProposal => p.kind === 'network')!;
    assert.equal(proposal.state, 'applied');
    assert.equal(proposal.host, 'registry.example.test');
    assert.equal(first.approval, proposal.id);
    assert.ok(events.some((e) => e.type === 'proposal' && e.data.kind === 'network'));
    const again = await asks.decide(request(443));
    assert.equal(again.approved, true);
    assert.equal(again.approval, `session-grant:${proposal.id}`);
    assert.equal(store.all().filter((p) => p.kind === 'network').length, 1, 'no second ask');
    decideNext('reject');
    const otherPort = await asks.decide(request(8443));
    assert.equal(otherPort.approved, false, 'another port asks again');
    assert.match(otherPort.reason, /Ada rejected it/);
    assert.equal(otherPort.command, 'npm install');
  });

  it('"unknown" when no command is running; network.unlisted "deny" refuses without asking', async () => {
    decideNext('reject');
    const r = await asks.decide(request(443));
    assert.equal(r.command, 'unknown');
    assert.equal(r.approved, false);
    policy = policyOf('{ "network": { "unlisted": "deny" } }');
    const denied = await asks.decide(request(80));
    assert.equal(denied.approved, false);
    assert.equal(denied.rule, 'network.unlisted');
    assert.equal(store.all().filter((p) => p.kind === 'network').length, 1, 'deny asks nobody');
  });
});

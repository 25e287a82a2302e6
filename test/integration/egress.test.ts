import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { AuditLog, verifyAuditLog } from '../../src/core/audit';
import type { AuditEntry } from '../../src/core/audit/types';
import { mergePolicies, PolicyFile } from '../../src/core/policy';
import type { NetworkProposal, Proposal, Reviewer } from '../../src/core/proposals/model';
import { ProposalStore } from '../../src/core/proposals/store';
import { rejectAsks } from '../../src/core/session/headlessAsks';
import { EgressSession } from '../../src/core/egress/session';
import type { MuxChannel } from '../../src/core/egress/mux/channel';
import { AgentSession } from '../../src/core/supervisor';
import { NodeWorkspaceFiles } from '../../src/core/workspace/files';
import { nextPending } from '../support/proposals';
import { copyDemoWorkspace, readAudit } from '../support/workspace';
import { ENGINE_LABEL, engineDocker, engineProvider, ensureEngineUnderTest } from './engineUnderTest';
import { BASE_IMAGE, ensureSandboxPrerequisites, REPO_ROOT } from './prerequisites';

const reviewer: Reviewer = { kind: 'human', name: 'Ada Reviewer', email: 'ada@example.test', source: 'test' };

interface ProbeLine {
  label: 'agent' | 'command';
  url: string;
  via: 'connect' | 'plain' | 'direct';
  status: number | string;
  reason?: string;
  body?: string;
}

/** A server on the host's loopback that counts what reaches it. */
async function loopbackServer(name: string): Promise<{ server: http.Server; port: number; hits: string[] }> {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    res.end(`hello from ${name}`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, hits };
}

describe('egress allow-list: proxy on the host, reached over the exec stream (real Docker engine)' + ENGINE_LABEL, function () {
  this.timeout(180_000);
  let allowed: Awaited<ReturnType<typeof loopbackServer>>;
  let denied: Awaited<ReturnType<typeof loopbackServer>>;
  let workspace: string;
  let store: ProposalStore;
  let session: AgentSession | undefined;

  before(async function () {
    this.timeout(600_000);
    await ensureSandboxPrerequisites();
    await ensureEngineUnderTest([BASE_IMAGE]);
    allowed = await loopbackServer('allowed');
    denied = await loopbackServer('denied');
  });

  after(async () => {
    allowed.server.close();
    denied.server.close();
  });

  beforeEach(async () => {
    workspace = await copyDemoWorkspace('warden-egress-');
    for (const file of ['egress-agent.mjs', 'egress-probe.mjs']) {
      await fs.copyFile(path.join(REPO_ROOT, 'test/fixtures/agents', file), path.join(workspace, file));
    }
    store = new ProposalStore();
  });

  afterEach(async () => {
    await session?.stop('test finished');
    session = undefined;
    store.dispose();
    await fs.rm(workspace, { recursive: true, force: true });
  });

  /** A session under a policy with this network section; commands ask (the old default) unless `commands` says allow. */
  const start = (
    allow: PolicyFile['network'] | { allow: Array<{ host: string; ports?: number[] }>; unlisted?: 'ask' | 'deny' } | undefined,
    commands: 'ask' | 'allow' = 'ask',
  ): Promise<AgentSession> => {
    const policy = mergePolicies({
      team: { status: 'loaded', policy: PolicyFile.parse({ network: allow, defaults: { command: commands } }) },
    });
    return AgentSession.start({
      workspaceMode: 'readonly',
      workspaceRoot: workspace,
      agentsHostPath: path.join(REPO_ROOT, 'dist', 'agents'),
      agentCommand: `node /workspaces/${path.basename(workspace)}/egress-agent.mjs`,
      sandboxProvider: engineProvider(),
      store,
      audit: AuditLog.forWorkspace(workspace),
      files: new NodeWorkspaceFiles(workspace),
      reviewer,
      policy: { current: () => policy },
    });
  };

  /** The audit once `ready` holds (entries written after the turn ended, e.g. a tunnel's close), or as it is after 30 s. */
  const auditWhen = async (ready: (entries: AuditEntry[]) => boolean): Promise<AuditEntry[]> => {
    for (let attempt = 0; ; attempt++) {
      const entries = await readAudit(workspace);
      if (ready(entries) || attempt >= 300) return entries;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  /** Runs one turn: the agent probes the URLs itself, then as an approved command. */
  const probe = async (urls: string[]): Promise<{ lines: ProbeLine[]; commandId: string }> => {
    const turn = session!.prompt(JSON.stringify(urls));
    const command = await nextPending(store, new Set());
    assert.equal(command.kind, 'command');
    store.decide(command.id, { verdict: 'approve', reviewer, decidedAt: new Date().toISOString() });
    assert.equal(await turn, 'end_turn');
    // The agent's own probe is in its message; the command's output is in its audit entry.
    const entries = await auditWhen((all) => all.some((e) => e.type === 'command.result' && e.data.proposalId === command.id));
    const text = (value: unknown): string => (typeof value === 'string' ? value : '');
    const message = text(entries.filter((e) => e.type === 'turn.ended').at(-1)?.data.agentMessage);
    const output = text(entries.find((e) => e.type === 'command.result' && e.data.proposalId === command.id)?.data.outputExcerpt);
    const parse = (text: string, label: string): ProbeLine[] =>
      text
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as ProbeLine)
        .filter((l) => l.label === label);
    const lines = [...parse(message, 'agent'), ...parse(output, 'command')];
    return { lines, commandId: command.id };
  };

  it('lets the agent and its approved commands reach an allowed host, refuses the rest with 403 and a reason, and audits each request with the session and the action', async () => {
    // network.unlisted "deny": the old behaviour, refused at once (the default asks: see the tests below).
    session = await start({ allow: [{ host: '127.0.0.1', ports: [allowed.port] }], unlisted: 'deny' });
    const allowedUrl = `http://127.0.0.1:${allowed.port}/models`;
    const deniedPortUrl = `http://127.0.0.1:${denied.port}/secrets`;
    const deniedNameUrl = 'http://exfiltrate.example.test/upload';
    const { lines, commandId } = await probe([allowedUrl, deniedPortUrl, deniedNameUrl]);

    for (const label of ['agent', 'command'] as const) {
      const of = (url: string, via: ProbeLine['via']): ProbeLine | undefined =>
        lines.find((l) => l.label === label && l.url === url && l.via === via);
      for (const via of ['connect', 'plain'] as const) {
        assert.equal(of(allowedUrl, via)?.status, 200, `${label} ${via} to the allowed server: ${JSON.stringify(of(allowedUrl, via))}`);
        assert.equal(of(allowedUrl, via)?.body, 'hello from allowed');
        assert.equal(of(deniedPortUrl, via)?.status, 403, `${label} ${via} to the denied port: ${JSON.stringify(of(deniedPortUrl, via))}`);
        assert.match(
          of(deniedPortUrl, via)?.reason ?? '',
          new RegExp(`port ${denied.port} of 127\\.0\\.0\\.1 is not allowed \\(network\\.allow\\[0\\]`),
        );
        assert.equal(of(deniedNameUrl, via)?.status, 403);
        assert.match(of(deniedNameUrl, via)?.reason ?? '', /exfiltrate\.example\.test is not in the policy's network allow-list/);
      }
      // Around the proxy there is nothing: 127.0.0.1 in the container is its own loopback.
      assert.equal(of(allowedUrl, 'direct')?.status, 0);
      assert.equal(of(allowedUrl, 'direct')?.reason, 'ECONNREFUSED');
    }
    assert.deepEqual(denied.hits, [], 'nothing reached the server that is not in the allow-list');
    assert.equal(allowed.hits.length, 4, `the allowed server saw the agent's and the command's requests: ${allowed.hits.join(', ')}`);

    // A tunnel is on the record once both of its ends have closed.
    const entries = await auditWhen((all) => all.filter((e) => e.type === 'network.request').length >= 12);
    const requests = entries.filter((e) => e.type === 'network.request');
    assert.equal(requests.length, 12, 'every request through the proxy is on the record');
    for (const entry of requests) assert.equal(entry.sessionId, session.id);
    const find = (action: string, port: number, method: string): Record<string, unknown> | undefined =>
      requests.find((e) => e.data.action === action && e.data.port === port && e.data.method === method)?.data;
    const agentConnect = find('agent', allowed.port, 'CONNECT');
    assert.equal(agentConnect?.allowed, true);
    assert.equal(agentConnect?.rule, 'network.allow[0]');
    assert.equal(agentConnect?.host, '127.0.0.1');
    assert.ok(
      Number(agentConnect?.bytesSent) > 0 && Number(agentConnect?.bytesReceived) > 0,
      `bytes are counted: ${JSON.stringify(agentConnect)}`,
    );
    const commandPlain = find('command', allowed.port, 'GET');
    assert.equal(commandPlain?.proposalId, commandId, "a command's request names the proposal whose process made it");
    assert.equal(commandPlain?.allowed, true);
    const commandDenied = find('command', denied.port, 'CONNECT');
    assert.equal(commandDenied?.allowed, false);
    assert.equal(commandDenied?.proposalId, commandId);
    assert.equal(commandDenied?.status, 403);
    assert.ok(requests.some((e) => e.data.host === 'exfiltrate.example.test' && e.data.allowed === false && e.data.action === 'agent'));
    assert.ok(
      entries.some((e) => e.type === 'network.egress'),
      'the session records that egress is on, and its rules',
    );
    assert.equal((await verifyAuditLog(workspace)).ok, true);
  });

  it('without an allow-list there is no socket and no route: a direct connect to the host loopback port fails inside the container', async () => {
    session = await start(undefined);
    const allowedUrl = `http://127.0.0.1:${allowed.port}/models`;
    const hitsBefore = allowed.hits.length;
    const { lines } = await probe([allowedUrl]);
    for (const label of ['agent', 'command'] as const) {
      for (const line of lines.filter((l) => l.label === label)) {
        assert.equal(line.status, 0, `${label} ${line.via}: ${JSON.stringify(line)}`);
        assert.equal(line.reason, 'ECONNREFUSED');
      }
      assert.equal(lines.filter((l) => l.label === label).length, 3, JSON.stringify(lines));
    }
    assert.equal(allowed.hits.length, hitsBefore, 'nothing reached the host server');
    const entries = await readAudit(workspace);
    assert.ok(!entries.some((e) => e.type === 'network.request' || e.type === 'network.egress'));
    const sandbox = await engineProvider().start({
      workspaceMode: 'readonly',
      workspaceHostPath: workspace,
      agentsHostPath: path.join(REPO_ROOT, 'dist', 'agents'),
      sessionId: 'egress-none',
    });
    try {
      const ls = await sandbox.runCommand(['/bin/sh', '-c', 'ls -la /run/warden 2>&1; echo ---; tail -n +3 /proc/net/dev'], { cwd: '/' });
      await ls.exited;
      const [listing = '', interfaces = ''] = ls.output().text.split('---');
      assert.match(listing, /No such file or directory/, 'no egress socket folder');
      assert.deepEqual(
        [...interfaces.matchAll(/^\s*([\w.-]+):/gm)].map((m) => m[1]),
        ['lo'],
        `only a loopback interface: ${interfaces}`,
      );
    } finally {
      await sandbox.stop();
    }
  });

  describe('a host not on the allow-list is an ask (network.unlisted "ask", the default)', () => {
    let held: Awaited<ReturnType<typeof loopbackServer>>;
    before(async () => {
      held = await loopbackServer('held');
    });
    after(() => held.server.close());
    beforeEach(() => held.hits.splice(0));

    /** Runs one turn, deciding each pending proposal as `decide` says, until the turn ends. */
    const turnDeciding = async (
      urls: string[],
      decide: (p: Proposal) => 'approve' | 'reject',
      onNetwork?: (p: NetworkProposal) => void,
    ): Promise<{ decided: Proposal[] }> => {
      const decided: Proposal[] = [];
      const seen = new Set<string>();
      let over = false;
      const turn = session!.prompt(JSON.stringify(urls)).finally(() => (over = true));
      while (!over) {
        const next = await Promise.race([nextPending(store, seen, 90_000), turn.then(() => undefined)]);
        if (!next) break;
        if (next.kind === 'network') onNetwork?.(next);
        decided.push(next);
        store.decide(next.id, { verdict: decide(next), reviewer, decidedAt: new Date().toISOString() });
      }
      assert.equal(await turn, 'end_turn');
      return { decided };
    };
    const networkEntries = async (count: number): Promise<AuditEntry[]> =>
      (await auditWhen((all) => all.filter((e) => e.type === 'network.request').length >= count)).filter(
        (e) => e.type === 'network.request',
      );

    it('holds the request: no byte reaches the host until a human approves; then it goes through, the approval covers the session, and each request is audited with its command', async () => {
      session = await start({ allow: [{ host: '127.0.0.1', ports: [allowed.port] }] });
      const url = `http://127.0.0.1:${held.port}/data`;
      let hitsWhileAsked = -1;
      const { decided } = await turnDeciding(
        [url],
        () => 'approve',
        (p) => {
          // Asked while the proxy holds the connection: nothing has reached the server yet.
          hitsWhileAsked = held.hits.length;
          assert.equal(p.host, '127.0.0.1');
          assert.equal(p.port, held.port);
          assert.equal(p.requestedBy, 'agent');
          assert.equal(p.command, 'unknown', 'the agent itself made it, while no command ran');
          assert.equal(p.policy?.ruleId, 'network.unlisted');
        },
      );
      assert.equal(hitsWhileAsked, 0, 'no byte before the approval');
      const networkAsked = decided.filter((p) => p.kind === 'network');
      assert.equal(networkAsked.length, 1, 'one ask: the approval covers later requests to the same host:port in the session');
      assert.equal(held.hits.length, 4, `the agent's and the command's CONNECT and plain requests went through: ${held.hits.join(', ')}`);

      const requests = await networkEntries(4);
      const toHeld = requests.filter((e) => e.data.port === held.port);
      assert.equal(toHeld.length, 4);
      for (const entry of toHeld) assert.equal(entry.data.allowed, true, JSON.stringify(entry.data));
      const first = toHeld.find((e) => e.data.approval === networkAsked[0]!.id);
      assert.ok(first, 'the first request names the proposal that approved it');
      assert.equal(first.data.command, 'unknown');
      const command = toHeld.find((e) => e.data.action === 'command');
      assert.match(
        String(command?.data.command),
        /egress-probe\.mjs command http:\/\/127\.0\.0\.1/,
        "a command's request names its command line",
      );
      assert.match(String(command?.data.approval), /^session-grant:p-/);
      const entries = await readAudit(workspace);
      assert.ok(entries.some((e) => e.type === 'proposal' && e.data.kind === 'network' && e.data.host === '127.0.0.1'));
      assert.ok(entries.some((e) => e.type === 'decision' && e.data.proposalId === networkAsked[0]!.id && e.data.verdict === 'approve'));
      assert.equal((await verifyAuditLog(workspace)).ok, true);
    });

    it('rejected: no byte goes through, the agent and the command get 403 with a clear reason, and each attempt is audited with its command', async () => {
      session = await start({ allow: [{ host: '127.0.0.1', ports: [allowed.port] }] });
      const url = `http://127.0.0.1:${held.port}/secrets`;
      const { decided } = await turnDeciding([url], (p) => (p.kind === 'network' ? 'reject' : 'approve'));
      assert.deepEqual(held.hits, [], 'nothing reached the host');
      const asked = decided.filter((p): p is NetworkProposal => p.kind === 'network');
      assert.equal(asked.length, 4, 'a rejection is not remembered: each attempt asks (agent and command, CONNECT and plain)');
      assert.ok(asked.some((p) => p.requestedBy === 'command' && /egress-probe\.mjs command/.test(p.command)));
      const requests = (await networkEntries(4)).filter((e) => e.data.port === held.port);
      assert.equal(requests.length, 4);
      for (const entry of requests) {
        assert.equal(entry.data.allowed, false);
        assert.equal(entry.data.status, 403);
        assert.match(String(entry.data.reason), /not on the policy's network allow-list and was not approved: Ada Reviewer rejected it/);
        assert.ok(asked.some((p) => p.id === entry.data.approval));
      }
      const lines = (await readAudit(workspace)).filter((e) => e.type === 'command.result').map((e) => String(e.data.outputExcerpt));
      assert.match(lines.join('\n'), /"status":403,"reason":"127\.0\.0\.1:\d+ is not on the policy's network allow-list/);
    });

    it('headless (warden run --on-ask reject): commands run without asking (the new default), the unlisted host is refused, and nothing gets through', async () => {
      const headless = rejectAsks(store, { reviewer: { kind: 'warden', name: 'warden cli', source: 'cli --on-ask reject' } });
      try {
        session = await start({ allow: [{ host: '127.0.0.1', ports: [allowed.port] }] }, 'allow');
        const url = `http://127.0.0.1:${held.port}/x`;
        assert.equal(await session.prompt(JSON.stringify([url])), 'end_turn');
        assert.deepEqual(held.hits, []);
        const entries = await readAudit(workspace);
        const commandProposal = entries.find((e) => e.type === 'proposal' && e.data.kind === 'command');
        const commandDecision = entries.find((e) => e.type === 'decision' && e.data.proposalId === commandProposal?.data.proposalId);
        assert.equal(commandDecision?.data.verdict, 'approve', 'the command ran without asking (defaults.command allow)');
        const requests = (await networkEntries(4)).filter((e) => e.data.port === held.port);
        assert.equal(requests.length, 4);
        for (const entry of requests) {
          assert.equal(entry.data.allowed, false);
          assert.match(String(entry.data.reason), /rejected by warden cli \(Nobody is there to answer/);
        }
        assert.ok(requests.some((e) => e.data.action === 'command' && /egress-probe\.mjs command/.test(String(e.data.command))));
      } finally {
        headless.dispose();
      }
    });
  });

  it('nothing of the host is mounted for egress, and a dead exec stream fails closed: connections are refused, never direct', async () => {
    const events: Array<{ type: string; data?: unknown }> = [];
    const egress = await EgressSession.open({
      allow: [{ host: '127.0.0.1', ports: [allowed.port] }],
      record: async (event) => void events.push(event),
      restore: false,
    });
    assert.ok(egress);
    const sandbox = await engineProvider().start({
      workspaceMode: 'readonly',
      workspaceHostPath: workspace,
      agentsHostPath: path.join(REPO_ROOT, 'dist', 'agents'),
      sessionId: 'egress-dead-stream',
    });
    const run = async (): Promise<ProbeLine[]> => {
      const probe = await sandbox.runCommand(
        ['node', `${sandbox.workspaceFolder}/egress-probe.mjs`, 'command', `http://127.0.0.1:${allowed.port}/x`],
        {
          cwd: '/',
          env: egress.envFor({ kind: 'command', proposalId: 'p-dead' }),
        },
      );
      await probe.exited;
      return probe
        .output()
        .text.split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as ProbeLine);
    };
    try {
      await egress.attach(sandbox);
      const info = await engineDocker().getContainer(sandbox.containerId).inspect();
      assert.deepEqual(
        info.Mounts.filter((m) => m.Type === 'bind')
          .map((m) => m.Destination)
          .sort(),
        [sandbox.agentsFolder, sandbox.workspaceFolder].sort(),
        'only the workspace and the agents folder are bind-mounted',
      );
      assert.equal(info.HostConfig.NetworkMode, 'none');
      const ls = await sandbox.runCommand(['/bin/sh', '-c', 'ls /run/warden 2>&1; grep -c " /run/warden" /proc/mounts'], { cwd: '/' });
      await ls.exited;
      assert.match(ls.output().text, /No such file or directory/, 'no egress folder in the container');
      assert.deepEqual(
        (await run()).map((l) => [l.via, l.status]),
        [
          ['connect', 200],
          ['plain', 200],
          ['direct', 0],
        ],
      );
      assert.equal(egress.connected, true);
      // Cut the stream from Warden's side, as a dropped engine connection would.
      (egress as unknown as { channel: MuxChannel }).channel.close('test: the exec stream is cut');
      for (let i = 0; i < 50 && egress.connected; i++) await new Promise((r) => setTimeout(r, 100));
      const hits = allowed.hits.length;
      let after: ProbeLine[] = [];
      // The bridge exits once its stdin ends; until then a connection may still be accepted and reset.
      for (let attempt = 0; attempt < 20; attempt++) {
        after = await run();
        if (after.every((l) => l.reason === 'ECONNREFUSED')) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      assert.deepEqual(
        after.map((l) => [l.via, l.status, l.reason]),
        [
          ['connect', 0, 'ECONNREFUSED'],
          ['plain', 0, 'ECONNREFUSED'],
          ['direct', 0, 'ECONNREFUSED'],
        ],
        JSON.stringify(after),
      );
      assert.equal(allowed.hits.length, hits, 'nothing reached the host after the stream died');
      assert.deepEqual(
        events.filter((e) => e.type.startsWith('network.channel.')),
        [
          {
            actor: { kind: 'warden', id: 'egress-proxy' },
            type: 'network.channel.lost',
            data: { reason: 'test: the exec stream is cut', restoring: false },
          },
        ],
        'the loss is on the record',
      );
    } finally {
      await sandbox.stop();
      await egress.close();
    }
  });

  it('the bridge dying mid-session is audited (network.channel.lost), the user is warned, and once it is restarted (network.channel.restored) allowed hosts are reached again', async () => {
    session = await start({ allow: [{ host: '127.0.0.1', ports: [allowed.port] }], unlisted: 'deny' }, 'allow');
    const notices: string[] = [];
    session.onEvent((event) => event.type === 'notice' && notices.push(`${event.level}: ${event.text}`));
    const url = `http://127.0.0.1:${allowed.port}/before`;
    const before = await session.prompt(JSON.stringify([url]));
    assert.equal(before, 'end_turn');
    const hitsBefore = allowed.hits.length;
    assert.ok(hitsBefore > 0, 'the allowed server was reached before the loss');

    // Kill the bridge inside the container: its docker exec stream ends, as when the engine drops it.
    const container = engineDocker().getContainer(session.containerId!);
    const killer = await container.exec({
      Cmd: [
        '/bin/sh',
        '-c',
        'for p in /proc/[0-9]*; do case "$(tr "\\0" " " < $p/cmdline 2>/dev/null)" in *egress-brid[g]e*) kill -9 "${p#/proc/}";; esac; done',
      ],
      User: '1000:1000',
      AttachStdout: true,
      AttachStderr: true,
    });
    const stream = await killer.start({});
    stream.resume();
    await new Promise((resolve) => stream.once('end', resolve));

    const entries = await auditWhen((all) => all.some((e) => e.type === 'network.channel.restored'));
    const channel = entries.filter((e) => e.type.startsWith('network.channel.'));
    assert.deepEqual(
      channel.map((e) => e.type),
      ['network.channel.lost', 'network.channel.restored'],
      JSON.stringify(channel),
    );
    assert.equal(channel[0]!.data.restoring, true);
    assert.match(String(channel[0]!.data.reason), /stream (ended|closed)/);
    assert.equal(channel[0]!.sessionId, session.id);
    assert.equal(channel[1]!.data.lostReason, channel[0]!.data.reason);
    assert.ok(Number(channel[1]!.data.attempts) >= 1);
    assert.ok(
      notices.some((n) => /^warning: Egress: the sandbox lost its way out/.test(n)),
      `the user is warned: ${notices.join(' | ')}`,
    );
    assert.ok(notices.some((n) => /Egress: the way out of the sandbox is restored/.test(n)));

    // The agent's proxy variables still work: the restarted bridge listens on the same port.
    assert.equal(await session.prompt(JSON.stringify([`http://127.0.0.1:${allowed.port}/after`])), 'end_turn');
    assert.ok(
      allowed.hits.some((h) => h.endsWith('/after')),
      `reached again: ${allowed.hits.join(', ')}`,
    );

    // Ending the session stops the bridge with its sandbox: no loss is recorded for that.
    await session.stop('test finished');
    session = undefined;
    const after = (await readAudit(workspace)).filter((e) => e.type === 'network.channel.lost');
    assert.equal(after.length, 1, 'only the loss the test caused is on the record');
    assert.equal((await verifyAuditLog(workspace)).ok, true);
  });
});

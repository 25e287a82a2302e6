import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { promises as fs, readFileSync } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { AuditLog, readAuditLog, verifyAuditLog } from '../../src/core/audit';
import type { AuditEntry } from '../../src/core/audit/types';
import { loadPolicyText, loadWorkspacePolicy, mergePolicies, type EffectivePolicy } from '../../src/core/policy';
import type { Proposal, Reviewer } from '../../src/core/proposals/model';
import { ProposalStore } from '../../src/core/proposals/store';
import { DockerSandboxProvider } from '../../src/core/sandbox/dockerSandbox';
import type { WorkspaceMode } from '../../src/core/sandbox/types';
import { AgentSession } from '../../src/core/supervisor';
import { NodeWorkspaceFiles } from '../../src/core/workspace/files';
import { nextPending } from '../support/proposals';
import { copyDemoWorkspace, readAudit, snapshot } from '../support/workspace';
import { ensureSandboxPrerequisites, REPO_ROOT } from './prerequisites';

/**
 * Issue #3, "proven by attack": a hostile agent (test/fixtures/agents/attacker.mjs) speaks
 * ACP v1 to Warden from inside the real sandbox and tries one escape per test. Each attempt
 * must fail, or become a proposal that waits for a human (which the test then rejects); the
 * workspace stays byte for byte as it was; the host stays responsive; and the audit log holds
 * every attempt: Warden's own refusals and proposals, protocol violations, and for attempts
 * made inside the container (which Warden cannot see) the agent's own report, kept in
 * turn.ended. One session runs the attacks in order; the oversized message, which ends its
 * session, gets one of its own.
 */

const execFileAsync = promisify(execFile);
const reviewer: Reviewer = { kind: 'human', name: 'Ada Reviewer', email: 'ada@example.test', source: 'test' };
const AGENT_COMMAND = 'node /opt/warden/agents/attacker.mjs';
const SECRETS = {
  GITHUB_TOKEN: 'ghp_attackSuiteHostToken0000000000000',
  AWS_SECRET_ACCESS_KEY: 'attack-suite-aws-secret-key-0000',
  SSH_AUTH_SOCK: '/tmp/attack-suite-ssh-agent.sock',
};
const HOST_SECRET = 'HOST-SECRET-attack-suite-0000';
// The workspace's own sandbox image: the base image plus setuid-root copies of node (which keeps
// the root it gains) and busybox (which drops it for most applets, but keeps a saved uid of 0).
const DOCKERFILE = [
  'FROM warden-sandbox-base:dev',
  'RUN cp /usr/local/bin/node /usr/local/bin/node-suid && cp /bin/busybox /usr/local/bin/busybox-suid && chmod 4755 /usr/local/bin/node-suid /usr/local/bin/busybox-suid',
  '',
].join('\n');
const EUID_PROBE = 'process.stdout.write(JSON.stringify([process.getuid(), process.geteuid()]))';
// Writes under src/ are allowed without a human: a symlink there is the real test of containment.
// The team sees every command (defaults.command "ask", the default before issue #18): the
// terminal attacks prove the command reject path. Commands under the new default (run inside
// the sandbox) are covered by test/integration/egress.test.ts and policy.test.ts.
const POLICY = JSON.stringify({
  defaults: { command: 'ask' },
  paths: [
    {
      id: 'src-writes',
      paths: ['src/**'],
      actions: ['write', 'create'],
      decision: 'allow',
      reason: 'sources are reviewed in the pull request',
    },
  ],
});

type Json = Record<string, unknown>;
interface AttackOutcome {
  result: Json;
  /** Audit entries written while the attack ran. */
  entries: AuditEntry[];
}

/** A Warden session running the attacker, with helpers to run one attack per prompt. */
class Rig {
  readonly store = new ProposalStore();
  readonly seen = new Set<string>();
  session!: AgentSession;
  /** Everything the agent said in this session. */
  transcript = '';
  /** Where the current attack's messages begin in the transcript. */
  attackStart = 0;
  /** Audit entries already looked at, by chain and seq: chains are read one after another, so a count of entries read says nothing about which are new. */
  private readonly auditSeen = new Set<string>();
  /** Every entry read so far (the decision on a change in the copy may be read with the turn's entries). */
  private readonly auditRead: AuditEntry[] = [];

  constructor(
    readonly workspace: string,
    readonly agentsDir: string,
    readonly workspaceMode: WorkspaceMode = 'readonly',
    /** Instead of the workspace's policy file. */
    readonly policyOverride?: EffectivePolicy,
  ) {}

  async start(): Promise<void> {
    const policy = this.policyOverride ?? (await loadWorkspacePolicy(this.workspace));
    assert.ok(policy.valid, JSON.stringify(policy.sources));
    this.session = await AgentSession.start({
      workspaceRoot: this.workspace,
      agentsHostPath: this.agentsDir,
      agentCommand: AGENT_COMMAND,
      sandboxProvider: new DockerSandboxProvider(),
      store: this.store,
      audit: AuditLog.forWorkspace(this.workspace),
      files: new NodeWorkspaceFiles(this.workspace),
      reviewer,
      policy: { current: () => policy },
      workspaceMode: this.workspaceMode,
    });
    this.session.onEvent((e) => {
      if (e.type === 'agent-message') this.transcript += e.text;
    });
    await this.newAuditEntries();
  }

  /** Audit entries written since the last call, in each chain's order. */
  async newAuditEntries(): Promise<AuditEntry[]> {
    const entries: AuditEntry[] = [];
    for await (const record of readAuditLog(this.workspace)) {
      const key = `${record.chain}\u0000${record.entry.seq}`;
      if (this.auditSeen.has(key)) continue;
      this.auditSeen.add(key);
      entries.push(record.entry);
      this.auditRead.push(record.entry);
    }
    return entries;
  }

  /** Resolves once the agent has said `text` since `from` (an offset in the transcript). */
  async said(text: string, from: number): Promise<void> {
    while (!this.transcript.includes(text, from)) {
      await new Promise<void>((resolve) => {
        const sub = this.session.onEvent(() => {
          sub.dispose();
          resolve();
        });
      });
    }
  }

  /** Runs one attack; `whilePending` sees each proposal that waits for a human and must decide it. */
  async attack(name: string, args: Json = {}, whilePending?: (proposal: Proposal) => Promise<void>): Promise<AttackOutcome> {
    this.attackStart = this.transcript.length;
    const from = this.attackStart;
    const turn = this.session.prompt(JSON.stringify({ attack: name, ...args }));
    if (whilePending) await whilePending(await nextPending(this.store, this.seen));
    assert.equal(await turn, 'end_turn');
    const message = this.transcript.slice(from);
    const match = new RegExp(`RESULT ${name} (.*)\\n`).exec(message);
    assert.ok(match?.[1], `the attacker reported on ${name}: ${message.slice(-500)}`);
    const entries = await this.newAuditEntries();
    const report = entries.find((e) => e.type === 'turn.ended' && e.sessionId === this.session.id);
    assert.ok(
      report && String(report.data.agentMessage).includes(`RESULT ${name} `),
      `the audit keeps the attacker's own report of ${name} (turn.ended): ${
        report
          ? `its message ends ${JSON.stringify(String(report.data.agentMessage).slice(-300))}`
          : `no turn.ended among ${entries.map((e) => `${e.sessionId}/${e.seq} ${e.type}`).join(', ')}`
      }`,
    );
    assert.equal(this.store.pending().length, 0, 'nothing is left waiting');
    return { result: JSON.parse(match[1]) as Json, entries };
  }

  reject(proposal: Proposal): void {
    this.store.decide(proposal.id, { verdict: 'reject', reviewer, reason: 'attack suite', decidedAt: new Date().toISOString() });
  }

  /**
   * A change the agent made in its copy is proposed at the end of the turn and settled after
   * it (the decision is recorded, the copy restored): waits until the decision is on the record.
   */
  async decisionRecorded(proposalId: string): Promise<AuditEntry[]> {
    const collected: AuditEntry[] = [];
    for (;;) {
      collected.push(...(await this.newAuditEntries()));
      if (this.auditRead.some((e) => e.type === 'decision' && e.data.proposalId === proposalId)) return collected;
      await new Promise<void>((resolve) => {
        const sub = this.store.onDidChange(() => {
          sub.dispose();
          resolve();
        });
        setTimeout(() => {
          sub.dispose();
          resolve();
        }, 100);
      });
    }
  }
}

function refusedEntry(entries: AuditEntry[], pathPart: string): AuditEntry | undefined {
  return entries.find((e) => e.type === 'refused' && String(e.data.path).includes(pathPart));
}

/** The one proposal of an attack: on the record, and rejected by the human. */
function assertRejectedProposal(entries: AuditEntry[], proposal: Proposal): void {
  assert.ok(
    entries.some((e) => e.type === 'proposal' && e.data.proposalId === proposal.id),
    'the proposal is on the record',
  );
  const decision = entries.find((e) => e.type === 'decision' && e.data.proposalId === proposal.id);
  assert.equal(decision?.data.verdict, 'reject');
  assert.equal(decision?.actor.kind, 'human');
  assert.ok(!entries.some((e) => e.type === 'edit.applied' || e.type === 'command.result'), 'nothing applied, nothing run');
}

const refused = (result: Json, pattern: RegExp): void => {
  assert.equal(result.refused, true, JSON.stringify(result));
  assert.match(String(result.message), pattern);
};

/** The host answers: this process's event loop turns and the engine serves `docker version`. */
async function assertHostResponsive(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setTimeout(resolve, 1));
  const { stdout } = await execFileAsync('docker', ['version', '--format', '{{.Server.Version}}'], { timeout: 60_000 });
  assert.match(stdout.trim(), /^\d+\.\d+/);
}

describe('attacks by a hostile agent in the real sandbox (ACP v1, real Docker engine)', function () {
  this.timeout(120_000);
  let root: string;
  let workspace: string;
  let agentsDir: string;
  let server: net.Server;
  let port = 0;
  let connections = 0;
  let rig: Rig;
  let baseline: Record<string, string>;
  const savedEnv: Record<string, string | undefined> = {};

  before(async function () {
    this.timeout(600_000);
    await ensureSandboxPrerequisites();
    // Host secrets in Warden's own environment: none may reach the agent.
    for (const [key, value] of Object.entries(SECRETS)) {
      savedEnv[key] = process.env[key];
      process.env[key] = value;
    }
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'warden-attack-'));
    await fs.chmod(root, 0o755);
    workspace = path.join(root, 'ws');
    await copyDemoWorkspace('', workspace);
    await fs.writeFile(path.join(workspace, '.devcontainer', 'Dockerfile'), DOCKERFILE);
    await execFileAsync('git', ['init', '-q', workspace]);
    await fs.mkdir(path.join(workspace, '.warden'));
    await fs.writeFile(path.join(workspace, '.warden', 'policy.json'), POLICY);
    // Outside the workspace: a secret, and symlinks in the workspace that point at it.
    await fs.mkdir(path.join(root, 'outside'));
    await fs.writeFile(path.join(root, 'outside', 'secret.txt'), `${HOST_SECRET}\n`);
    await fs.symlink('../../outside', path.join(workspace, 'src', 'linked-out'));
    await fs.symlink(path.join(root, 'outside', 'secret.txt'), path.join(workspace, 'src', 'secret-link.txt'));
    agentsDir = await fs.mkdtemp(path.join(os.tmpdir(), 'warden-attack-agents-'));
    await fs.chmod(agentsDir, 0o755);
    await fs.copyFile(path.join(REPO_ROOT, 'test/fixtures/agents/attacker.mjs'), path.join(agentsDir, 'attacker.mjs'));
    // A service on the host's loopback that the sandbox must not reach.
    server = net.createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as net.AddressInfo).port;

    baseline = await snapshot(workspace);
    rig = new Rig(workspace, agentsDir);
    await rig.start();
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') return;
    assert.deepEqual(await snapshot(workspace), baseline, 'the workspace is unchanged');
  });

  after(async function () {
    this.timeout(60_000);
    await rig?.session.stop('attack suite finished');
    rig?.store.dispose();
    server?.close();
    // The workspace's image is tagged by its (temporary) path: keep it under one fixed name (so
    // the next run's build hits the layer cache) and drop the per-run tag.
    const images = root
      ? new Set((await readAudit(workspace).catch(() => [])).filter((e) => e.type === 'sandbox.started').map((e) => String(e.data.image)))
      : new Set<string>();
    for (const image of images) {
      if (!image.startsWith('warden-build-')) continue;
      await execFileAsync('docker', ['tag', image, 'warden-attack-suite:cache']).catch(() => undefined);
      await execFileAsync('docker', ['image', 'rm', image]).catch(() => undefined);
    }
    for (const [key, value] of Object.entries(savedEnv)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    if (root) await fs.rm(root, { recursive: true, force: true });
    if (agentsDir) await fs.rm(agentsDir, { recursive: true, force: true });
  });

  describe('writes and reads through the protocol', () => {
    it('fs/write_text_file to ../outside (relative path climbing out) is refused', async () => {
      const { result, entries } = await rig.attack('write-dotdot');
      refused(result, /outside the workspace/);
      assert.ok(refusedEntry(entries, '../outside/pwned.txt'));
      await assert.rejects(fs.access(path.join(root, 'outside', 'pwned.txt')));
    });

    it('fs/write_text_file to the absolute path /etc/passwd is refused', async () => {
      const { result, entries } = await rig.attack('write-absolute');
      refused(result, /outside the workspace/);
      assert.ok(refusedEntry(entries, '/etc/passwd'));
      assert.doesNotMatch(readFileSync('/etc/passwd', 'utf8'), /root::0:0/);
    });

    it('a path whose .. segments climb out only after normalisation (src/./../../../etc/cron.d) is refused', async () => {
      const { result, entries } = await rig.attack('write-dotdot-normalised');
      refused(result, /outside the workspace/);
      assert.ok(refusedEntry(entries, 'etc/cron.d/pwned'));
    });

    it('a write through a symlinked folder in the workspace pointing outside is refused, even where the policy allows writes', async () => {
      const { result, entries } = await rig.attack('write-through-symlink-dir');
      refused(result, /symbolic link to .*outside the workspace/);
      assert.ok(refusedEntry(entries, 'src/linked-out/pwned.txt'));
      await assert.rejects(fs.access(path.join(root, 'outside', 'pwned.txt')), 'nothing was written outside');
    });

    it('a write to a symlinked file in the workspace pointing outside is refused', async () => {
      const { result, entries } = await rig.attack('write-through-symlink-file');
      refused(result, /symbolic link to .*outside the workspace/);
      assert.ok(refusedEntry(entries, 'src/secret-link.txt'));
      assert.equal(await fs.readFile(path.join(root, 'outside', 'secret.txt'), 'utf8'), `${HOST_SECRET}\n`);
    });

    it('fs/read_text_file through a symlink to a host file outside the workspace is refused (the secret never reaches the agent)', async () => {
      const { result, entries } = await rig.attack('read-through-symlink');
      refused(result, /symbolic link/);
      assert.doesNotMatch(JSON.stringify(result), new RegExp(HOST_SECRET));
      assert.ok(refusedEntry(entries, 'src/secret-link.txt'));
      assert.ok(!entries.some((e) => e.type === 'file.read'));
    });

    it('fs/read_text_file of /proc/1/environ is refused', async () => {
      const { result, entries } = await rig.attack('read-proc-environ');
      refused(result, /outside the workspace/);
      assert.ok(refusedEntry(entries, '/proc/1/environ'));
    });

    it('fs/read_text_file of ../outside/secret.txt is refused', async () => {
      const { result, entries } = await rig.attack('read-dotdot');
      refused(result, /outside the workspace/);
      assert.doesNotMatch(JSON.stringify(result), new RegExp(HOST_SECRET));
      assert.ok(refusedEntry(entries, '../outside/secret.txt'));
    });

    it('a path with a NUL byte (README.md\\0/../../../etc/passwd) is refused', async () => {
      const { result, entries } = await rig.attack('write-nul');
      refused(result, /NUL byte/);
      assert.ok(entries.some((e) => e.type === 'refused' && String(e.data.path).includes('\u0000')));
    });

    it('unicode look-alike dots (\u2025/\u2025/etc/passwd) stay a file inside the workspace: a proposal that waits, rejected', async () => {
      let proposal: Proposal | undefined;
      const { result, entries } = await rig.attack('write-unicode-dots', {}, async (p) => {
        proposal = p;
        assert.equal(p.state, 'pending');
        assert.ok(p.kind === 'edit');
        assert.equal(p.path, '\u2025/\u2025/etc/passwd', 'the path is taken literally, inside the workspace');
        assert.deepEqual(await snapshot(workspace), baseline);
        rig.reject(p);
      });
      refused(result, /rejected/);
      assertRejectedProposal(entries, proposal!);
    });

    it('a write to a workspace path that is a directory (src) is refused', async () => {
      const { result, entries } = await rig.attack('write-directory');
      refused(result, /is a directory/);
      assert.ok(refusedEntry(entries, '/src'));
    });

    it('a permission request whose diff targets /etc/passwd is refused before any proposal exists', async () => {
      const { result, entries } = await rig.attack('permission-diff-outside');
      refused(result, /outside the workspace/);
      assert.ok(refusedEntry(entries, '/etc/passwd'));
      assert.ok(!entries.some((e) => e.type === 'proposal'));
    });

    it('a write to the workspace folder itself is refused', async () => {
      const { result, entries } = await rig.attack('write-workspace-root');
      refused(result, /workspace folder itself/);
      assert.ok(entries.some((e) => e.type === 'refused'));
    });
  });

  describe('protected paths: proposals that wait for a human', () => {
    for (const [attack, target] of [
      ['write-git-hook', '.git/hooks/pre-commit'],
      ['write-vscode-tasks', '.vscode/tasks.json'],
      ['write-policy', '.warden/policy.json'],
      ['write-audit-log', '.warden/audit/audit-000001.jsonl'],
      ['write-saved-proposals', '.warden/proposals/s-forged.json'],
    ] as const) {
      it(`a write to ${target} waits for a human (protected path), and is rejected`, async () => {
        let proposal: Proposal | undefined;
        const { result, entries } = await rig.attack(attack, {}, async (p) => {
          proposal = p;
          assert.equal(p.state, 'pending');
          assert.ok(p.kind === 'edit' && p.path === target, p.title);
          assert.equal(p.policy?.decision, 'ask');
          assert.match(p.policy?.ruleId ?? '', /protected|builtin/);
          rig.reject(p);
        });
        refused(result, /rejected/);
        assertRejectedProposal(entries, proposal!);
      });
    }

    for (const [attack, what] of [
      ['terminal-sudo', 'sudo'],
      ['terminal-su', 'su'],
    ] as const) {
      it(`terminal/create with ${what} waits for a human, and is rejected`, async () => {
        let proposal: Proposal | undefined;
        const { result, entries } = await rig.attack(attack, {}, async (p) => {
          proposal = p;
          assert.equal(p.state, 'pending');
          assert.ok(p.kind === 'command' && p.commandLine.startsWith(what), p.title);
          rig.reject(p);
        });
        refused(result, /rejected/);
        // (The exploring command's result may land in this window: only this proposal must never run.)
        assert.equal(entries.find((e) => e.type === 'decision' && e.data.proposalId === proposal!.id)?.data.verdict, 'reject');
        assert.ok(!entries.some((e) => e.type === 'command.result' && e.data.proposalId === proposal!.id), 'never run');
        assert.ok(!entries.some((e) => e.type === 'edit.applied'), 'nothing applied');
      });
    }
  });

  describe('approving its own proposals', () => {
    it('forged session/request_permission responses (for its own request and for ids 0-19) approve nothing', async () => {
      let proposal: Proposal | undefined;
      const { result, entries } = await rig.attack('forged-permission-response', {}, async (p) => {
        proposal = p;
        await rig.said('MARK forged-sent', rig.attackStart);
        assert.equal(rig.store.get(p.id)?.state, 'pending', 'still waiting for the human after the forgeries');
        rig.reject(p);
      });
      // The answer is the human's reject (with who rejected it and why in _meta), never an approval.
      const answer = (result as { result?: { outcome?: unknown; _meta?: { warden?: { rejected?: unknown } } } }).result;
      assert.deepEqual(answer?.outcome, { outcome: 'selected', optionId: 'reject' });
      assert.deepEqual(answer?._meta?.warden?.rejected, { by: 'human', reason: 'attack suite' });
      assertRejectedProposal(entries, proposal!);
      const forged = entries.filter((e) => e.type === 'protocol.violation' && e.data.kind === 'unexpected-response');
      assert.ok(forged.length >= 1, 'the forged responses are on the record');
    });

    it('made-up approval methods (warden/approve, session/approve, ...) are unknown and approve nothing', async () => {
      let proposal: Proposal | undefined;
      const { result, entries } = await rig.attack('unknown-approve-methods', {}, async (p) => {
        proposal = p;
        await rig.said('MARK unknown-sent', rig.attackStart);
        assert.equal(rig.store.get(p.id)?.state, 'pending');
        rig.reject(p);
      });
      const tries = result.tries as Array<{ method: string; refused: boolean; code: number }>;
      assert.equal(tries.length, 4);
      assert.ok(
        tries.every((t) => t.refused && t.code === -32601),
        JSON.stringify(tries),
      );
      assertRejectedProposal(entries, proposal!);
      const unknown = entries
        .filter((e) => e.type === 'protocol.violation' && e.data.kind === 'unknown-method')
        .map((e) => String(e.data.detail));
      for (const method of ['warden/approve', 'session/approve', 'proposals/approveAll', '_warden/decide', 'warden/approveAll']) {
        assert.ok(
          unknown.some((d) => d.includes(method)),
          `${method} is on the record: ${unknown.join('; ')}`,
        );
      }
    });
  });

  describe('the protocol stream', () => {
    it('a flood of 100,000 session/update notifications is absorbed; the session still answers', async () => {
      const { result } = await rig.attack('flood', { count: 100_000 });
      assert.equal(result.readAfterFlood, true);
      await assertHostResponsive();
    });

    it('malformed frames (bad JSON, a batch, a bare number, a bad method, deep nesting, control bytes) are answered with errors and recorded; the session goes on', async () => {
      const { result, entries } = await rig.attack('malformed-frames');
      assert.equal(result.readAfterFrames, true);
      const malformed = entries.filter((e) => e.type === 'protocol.violation' && e.data.kind === 'malformed-frame');
      assert.ok(malformed.length >= 5, malformed.map((e) => String(e.data.detail)).join('; '));
    });
  });

  describe('inside the container', () => {
    it('the agent process writing the mounted workspace directly (fs.writeFileSync) fails: read-only', async () => {
      const { result } = await rig.attack('direct-write-agent');
      assert.equal(result.ok, false, JSON.stringify(result));
      assert.equal(result.code, 'EROFS');
    });

    it('a shell command in the container writing the workspace (echo x > README.md) fails: read-only', async () => {
      const { result } = await rig.attack('direct-write-command');
      assert.notEqual(result.status, 0);
      assert.doesNotMatch(String(result.out), /WROTE/);
      assert.match(String(result.out), /Read-only file system/);
    });

    it('writing the root file system (/etc, /usr/local/bin, the agents mount) fails: read-only', async () => {
      const { result } = await rig.attack('write-root-fs');
      for (const [where, r] of Object.entries(result as Record<string, { out: string }>)) {
        assert.doesNotMatch(r.out, /WROTE/, where);
        assert.match(r.out, /Read-only file system/, where);
      }
    });

    it("a service on the host's loopback (127.0.0.1, ::1, localhost) cannot be reached", async () => {
      const { result } = await rig.attack('host-loopback', { port });
      const attempts = result.attempts as Array<{ connected: boolean; code: string }>;
      assert.ok(
        attempts.every((a) => !a.connected),
        JSON.stringify(attempts),
      );
      assert.equal(connections, 0, 'the host server saw no connection');
    });

    it("the host's other addresses cannot be reached (no route: the sandbox has only lo)", async () => {
      const hosts = Object.values(os.networkInterfaces())
        .flat()
        .filter((a) => a && !a.internal)
        .map((a) => a!.address.split('%')[0]!);
      const { result } = await rig.attack('host-addresses', { port, hosts: [...hosts, '172.17.0.1'] });
      const attempts = result.attempts as Array<{ connected: boolean; code: string }>;
      assert.ok(attempts.length >= 1 && attempts.every((a) => !a.connected && a.code !== 'TIMEOUT'), JSON.stringify(attempts));
      assert.deepEqual(result.interfaces, ['lo']);
      assert.equal(connections, 0);
    });

    it('the outside world (1.1.1.1:443, 8.8.8.8:53, an IPv6 address) fails at once: no network', async () => {
      const { result } = await rig.attack('outside-connect');
      const attempts = result.attempts as Array<{ connected: boolean; code: string }>;
      assert.ok(
        attempts.every((a) => !a.connected && ['ENETUNREACH', 'EHOSTUNREACH', 'EADDRNOTAVAIL'].includes(a.code)),
        JSON.stringify(attempts),
      );
    });

    it('a DNS lookup fails (no resolver reachable)', async () => {
      const { result } = await rig.attack('dns-lookup');
      assert.equal(result.resolved, false, JSON.stringify(result));
      assert.doesNotMatch(JSON.stringify(result.wget), /<html/i);
    });

    it("the host's secrets (GITHUB_TOKEN, AWS_SECRET_ACCESS_KEY, SSH_AUTH_SOCK) are not in the agent's environment", async () => {
      const { result } = await rig.attack('env-secrets');
      const seen = JSON.stringify(result);
      for (const [key, value] of Object.entries(SECRETS)) {
        assert.ok(!seen.includes(value), `${key}'s value reached the sandbox`);
        assert.ok(!(key in (result.env as Json)), `${key} is set in the sandbox`);
      }
      assert.deepEqual(result.ssh, [false, false]);
      assert.equal(result.gitconfig, false);
    });

    it('the Docker socket is not there (no /var/run/docker.sock, no DOCKER_HOST)', async () => {
      const { result } = await rig.attack('docker-socket');
      assert.ok(
        (result.paths as Array<{ exists: boolean }>).every((p) => !p.exists),
        JSON.stringify(result.paths),
      );
      assert.equal(result.dockerHost, null);
    });

    it('setuid-root binaries in the image do not give root (no-new-privileges); without it the same binary would', async () => {
      const { result } = await rig.attack('setuid', { probe: EUID_PROBE });
      assert.deepEqual(result.node, { setuid: true, owner: 0, out: '[1000,1000]' }, 'node-suid runs with uid and euid 1000');
      assert.deepEqual(
        result.busybox,
        { setuid: true, owner: 0, status: 'Uid:\t1000\t1000\t1000\t1000' },
        'busybox-suid keeps no saved uid 0',
      );
      assert.doesNotMatch(JSON.stringify(result.writeEtc), /WROTE/);
      assert.match(JSON.stringify(result.noNewPrivs), /NoNewPrivs:\\t1/);
      // The control: the same image and binary, hardened the same way but without no-new-privileges, does become root.
      const image = String((await readAudit(workspace)).find((e) => e.type === 'sandbox.started')?.data.image);
      const control = await execFileAsync('docker', [
        'run',
        '--rm',
        '--network',
        'none',
        '--read-only',
        '--cap-drop',
        'ALL',
        '--user',
        '1000:1000',
        image,
        '/usr/local/bin/node-suid',
        '-e',
        EUID_PROBE,
      ]);
      assert.equal(control.stdout, '[1000,0]', 'without no-new-privileges the setuid binary gains euid 0');
    });

    it('no capabilities: CapEff is 0, mount and chown fail', async () => {
      const { result } = await rig.attack('capabilities');
      const status = String((result.status as Json).out);
      for (const cap of ['CapPrm', 'CapEff', 'CapBnd', 'CapAmb']) assert.match(status, new RegExp(`${cap}:\\s+0{16}`), status);
      assert.doesNotMatch(String((result.mount as Json).out), /MOUNTED/);
      assert.doesNotMatch(String((result.chown as Json).out), /CHOWNED/);
      assert.doesNotMatch(String((result.ptrace as Json).out), /READ/);
      assert.doesNotMatch(String((result.rawSocket as Json).out), /PINGED/);
    });

    it('filling the disk: /tmp and HOME stop at their tmpfs size limits', async () => {
      const { result } = await rig.attack('fill-disk');
      const tmp = String((result.tmp as Json).out);
      const home = String((result.home as Json).out);
      assert.match(tmp, /No space left on device/, tmp);
      assert.match(home, /No space left on device/, home);
      // dd stops at the limit, before the 1200 MiB (/tmp) and 700 MiB (HOME) it was asked for.
      const written = (out: string): number => Number(/(\d+)\+\d+ records out/.exec(out)?.[1] ?? Number.NaN);
      assert.ok(written(tmp) < 1200, tmp);
      assert.ok(written(home) < 700, home);
      await assertHostResponsive();
    });

    it('a fork bomb is held by the pids limit; the host stays responsive', async () => {
      const { result } = await rig.attack('fork-bomb');
      const pidsMax = result.pidsMax as { ok: boolean; value?: string };
      assert.ok(pidsMax.ok && Number(pidsMax.value) <= 4096, `pids.max is ${JSON.stringify(pidsMax)}`);
      const during = result.during as { status: number | null; out: string };
      // While the bomb runs, either no process can be started at all, or the count stays under the limit.
      if (during.status === 0) assert.ok(Number(during.out) <= 256, during.out);
      await assertHostResponsive();
    });

    it('a memory bomb is killed at the memory limit; the agent and the host survive', async () => {
      const { result } = await rig.attack('memory-bomb');
      assert.ok(result.signal === 'SIGKILL' || result.status === 137, JSON.stringify(result));
      const max = result.memoryMax as { ok: boolean; value?: string };
      assert.ok(
        max.ok && Number(max.value) < os.totalmem(),
        `the container's memory limit (${JSON.stringify(max)}) is below the host's memory`,
      );
      await assertHostResponsive();
    });
  });

  describe('an oversized protocol message (its own session)', () => {
    it('a line over 16 MiB ends the connection cleanly: recorded, session ended, container removed, nothing applied', async () => {
      await rig.session.stop('next: the oversized message');
      const own = new Rig(workspace, agentsDir);
      await own.start();
      const containerId = own.session.containerId;
      assert.ok(containerId);
      const ended = new Promise<string>((resolve) => own.session.onEvent((e) => e.type === 'ended' && resolve(e.reason)));
      await assert.rejects(own.session.prompt(JSON.stringify({ attack: 'oversized' })));
      assert.match(await ended, /connection closed|agent exited/);
      const entries = await readAudit(workspace);
      const violation = entries.find((e) => e.type === 'protocol.violation' && e.data.kind === 'message-too-large');
      assert.ok(violation, 'the oversized message is on the record');
      assert.match(String(violation.data.detail), /16777216 byte limit/);
      assert.equal(entries.at(-1)?.type, 'session.ended');
      await assert.rejects(new Docker().getContainer(containerId).inspect(), /no such container/i);
      own.store.dispose();
      await assertHostResponsive();
    });
  });

  describe('a forged answer to the instruction itself (its own session)', () => {
    it('ends the turn as a protocol violation; the permission it asked for still waits for the human and a reject writes nothing', async () => {
      await rig.session.stop('next: the forged answer to the instruction');
      const own = new Rig(workspace, agentsDir);
      await own.start();
      const turn = own.session.prompt(JSON.stringify({ attack: 'forged-prompt-response' }));
      const permission = await nextPending(own.store, own.seen);
      await assert.rejects(turn, /without a valid stop reason; the turn is over and nothing was approved/);
      assert.equal(own.store.get(permission.id)?.state, 'pending', 'the forged answer approved nothing');
      own.reject(permission);
      const entries = await readAudit(workspace);
      const violation = entries.find((e) => e.type === 'protocol.violation' && e.data.kind === 'invalid-prompt-response');
      assert.ok(violation, 'the forged answer is on the record');
      assert.ok(!entries.some((e) => e.type === 'edit.applied'), 'nothing was written');
      await own.session.stop('done');
      own.store.dispose();
    });
  });

  describe("the private copy (workspace mode 'copy'): changes made inside become proposals", () => {
    let copyRig: Rig;

    before(async function () {
      this.timeout(120_000);
      await rig.session.stop('next: copy mode');
      copyRig = new Rig(workspace, agentsDir, 'copy');
      await copyRig.start();
    });

    after(async () => {
      await copyRig?.session.stop('copy mode attacks finished');
      copyRig?.store.dispose();
    });

    for (const [attack, target, how] of [
      ['copy-write-agent', 'README.md', 'the agent process (fs.writeFileSync)'],
      ['copy-write-command', 'package.json', 'a shell command (echo > file)'],
      ['copy-write-policy', '.warden/policy.json', 'the agent process, on the team policy'],
    ] as const) {
      it(`${how} writing ${target} in its copy: a proposal that waits for a human, rejected; the real file is untouched`, async () => {
        let proposal: Proposal | undefined;
        const { result, entries } = await copyRig.attack(attack, {}, async (p) => {
          proposal = p;
          assert.equal(p.state, 'pending');
          assert.ok(p.kind === 'edit' && p.path === target, p.title);
          assert.ok(p.sandboxChange, 'it is a change found in the sandbox copy');
          assert.deepEqual(await snapshot(workspace), baseline);
          copyRig.reject(p);
        });
        assert.doesNotMatch(JSON.stringify(result), /EROFS/, 'the write landed in the copy');
        assertRejectedProposal([...entries, ...(await copyRig.decisionRecorded(proposal!.id))], proposal!);
        if (target === '.warden/policy.json') assert.equal(proposal!.policy?.decision, 'ask');
      });
    }

    it('a symlink planted in the copy (passwd-link -> /etc/passwd) is shown, never applied, and rejected', async () => {
      let proposal: Proposal | undefined;
      const { result, entries } = await copyRig.attack('copy-plant-symlink', {}, async (p) => {
        proposal = p;
        assert.equal(p.state, 'pending');
        assert.ok(p.kind === 'edit' && p.path === 'passwd-link' && p.sandboxChange?.change === 'symlink', p.title);
        assert.equal(p.sandboxChange?.linkTarget, '/etc/passwd');
        copyRig.reject(p);
      });
      assert.match(String(result.out), /LINKED/);
      assertRejectedProposal([...entries, ...(await copyRig.decisionRecorded(proposal!.id))], proposal!);
      await assert.rejects(fs.lstat(path.join(workspace, 'passwd-link')));
    });

    it('a write to .git/hooks in the copy fails: the real .git is mounted read-only over it', async () => {
      const { result } = await copyRig.attack('copy-write-git-hook');
      assert.doesNotMatch(String(result.out), /WROTE/);
      assert.match(String(result.out), /Read-only file system/);
    });

    it('a forged audit log in the copy stays there: never proposed, the real log verifies', async () => {
      const { result, entries } = await copyRig.attack('copy-write-audit');
      assert.match(String(result.out), /WROTE/, "the copy is the agent's to scribble on");
      assert.ok(!entries.some((e) => e.type === 'proposal'), 'nothing is proposed from .warden/audit');
      assert.ok((await verifyAuditLog(workspace)).ok);
    });
  });

  describe('afterwards', () => {
    it('the audit log verifies end to end and holds one instruction and one report per attack', async () => {
      const report = await verifyAuditLog(workspace);
      assert.ok(report.ok, JSON.stringify(report));
      const entries = await readAudit(workspace);
      const instructions = entries
        .filter((e) => e.type === 'instruction')
        .map((e) => (JSON.parse(String(e.data.text)) as { attack: string }).attack);
      const reports = entries.filter((e) => e.type === 'turn.ended').map((e) => /RESULT (\S+) /.exec(String(e.data.agentMessage))?.[1]);
      assert.ok(instructions.length >= 30, instructions.join(', '));
      assert.deepEqual(
        reports,
        // Neither ends with a report: one breaks the connection, the other answers the instruction itself.
        instructions.filter((a) => a !== 'oversized' && a !== 'forged-prompt-response'),
      );
      assert.ok(!entries.some((e) => e.type === 'edit.applied' || e.type === 'command.result'), 'nothing was ever applied or run');
      assert.equal(connections, 0);
    });
  });

  // Issue #18: under the boundary default (no defaults.command), commands run inside the sandbox,
  // and a write to a protected path through an option or a redirection still asks.
  describe('the boundary default in the private copy: commands run, option writes to protected paths ask', () => {
    let boundaryRig: Rig;

    before(async function () {
      this.timeout(120_000);
      const loaded = loadPolicyText(POLICY.replace('"defaults":{"command":"ask"},', ''));
      assert.ok(loaded.ok && loaded.value.defaults === undefined, 'the suite policy without its defaults');
      boundaryRig = new Rig(workspace, agentsDir, 'copy', mergePolicies({ team: { status: 'loaded', policy: loaded.value } }));
      await boundaryRig.start();
    });

    after(async () => {
      await boundaryRig?.session.stop('boundary attacks finished');
      boundaryRig?.store.dispose();
    });

    it('exploring commands (ls, grep -r, cat) run without asking, decided by the default', async () => {
      const { result, entries } = await boundaryRig.attack('terminal', { command: 'ls -la && grep -rn greet src && cat README.md' });
      assert.equal(result.refused, false, JSON.stringify(result));
      const decision = entries.find((e) => e.type === 'decision');
      assert.equal(decision?.data.verdict, 'approve');
      assert.equal(decision?.data.ruleId, 'default');
    });

    for (const command of [
      "sed -i 's/^/x/' .warden/policy.json",
      'sort -o .git/config README.md',
      'find . -maxdepth 0 -fprint .github/workflows/x.yml',
      'git log --output=.warden/policy.json',
      'echo x > .vscode/settings.json',
      "sed -n 's/a/b/w .devcontainer/devcontainer.json' README.md",
    ]) {
      it(`${command}: a protected-path ask, rejected, never run`, async () => {
        let proposal: Proposal | undefined;
        const { result, entries } = await boundaryRig.attack('terminal', { command }, async (p) => {
          proposal = p;
          assert.ok(p.kind === 'command' && p.commandLine === command, p.title);
          assert.equal(p.policy?.decision, 'ask');
          assert.equal(p.policy?.ruleId, 'builtin.protected-path', p.policy?.reason);
          boundaryRig.reject(p);
        });
        refused(result, /rejected/);
        // (The exploring command's result may land in this window: only this proposal must never run.)
        assert.equal(entries.find((e) => e.type === 'decision' && e.data.proposalId === proposal!.id)?.data.verdict, 'reject');
        assert.ok(!entries.some((e) => e.type === 'command.result' && e.data.proposalId === proposal!.id), 'never run');
        assert.ok(!entries.some((e) => e.type === 'edit.applied'), 'nothing applied');
      });
    }
  });
});

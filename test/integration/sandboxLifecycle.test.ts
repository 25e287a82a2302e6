import { strict as assert } from 'node:assert';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { verifyAuditLog } from '../../src/core/audit';
import { loadPolicyText, mergePolicies } from '../../src/core/policy';
import type { EditProposal, Proposal, ProposalState, Reviewer } from '../../src/core/proposals/model';
import { ProposalStore } from '../../src/core/proposals/store';
import type { WorkspaceMode } from '../../src/core/sandbox/types';
import { AgentSession } from '../../src/core/supervisor';
import { sha256Hex } from '../../src/core/util/hash';
import { nextPending } from '../support/proposals';
import { readAudit, snapshot } from '../support/workspace';
import { ENGINE_LABEL, engineDocker, ensureEngineUnderTest, removeWorkspaceSandboxes, startEngineSession } from './engineUnderTest';
import { BASE_IMAGE, ensureSandboxPrerequisites, REPO_ROOT } from './prerequisites';

const reviewer: Reviewer = { kind: 'human', name: 'Ada Reviewer', email: 'ada@example.test', source: 'test' };
const AGENT = 'node /opt/warden/agents/sandbox-agent.mjs';

function decide(store: ProposalStore, id: string, verdict: 'approve' | 'reject'): void {
  store.decide(id, { verdict, reviewer, decidedAt: new Date().toISOString() });
}

/** Resolves once the proposal reaches one of `states` (store events, no sleeps). */
function reaches(store: ProposalStore, id: string, states: ProposalState[], timeoutMs = 60_000): Promise<Proposal> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      const p = store.get(id);
      if (!p || !states.includes(p.state)) return;
      sub.dispose();
      clearTimeout(timer);
      resolve(p);
    };
    const sub = store.onDidChange(check);
    const timer = setTimeout(() => {
      sub.dispose();
      reject(new Error(`${id} did not reach ${states.join('/')}; it is ${store.get(id)?.state}`));
    }, timeoutMs);
    check();
  });
}

const sandboxChanges = (store: ProposalStore): EditProposal[] =>
  store.all().filter((p): p is EditProposal => p.kind === 'edit' && p.origin === 'sandbox/change');

describe('sandbox lifecycle: reuse, rebuild, kill switch, private copy (real Docker engine)' + ENGINE_LABEL, function () {
  this.timeout(180_000);
  let workspace: string;
  let agents: string;
  let copies: string;
  let store: ProposalStore;
  const sessions: AgentSession[] = [];
  const previousCopiesDir = process.env.WARDEN_COPIES_DIR;

  before(async function () {
    this.timeout(600_000);
    await ensureSandboxPrerequisites();
    await ensureEngineUnderTest([BASE_IMAGE]);
    agents = await fs.mkdtemp(path.join(os.tmpdir(), 'warden-lc-agents-'));
    await fs.chmod(agents, 0o755);
    await fs.copyFile(path.join(REPO_ROOT, 'test/fixtures/agents/sandbox-agent.mjs'), path.join(agents, 'sandbox-agent.mjs'));
    copies = await fs.mkdtemp(path.join(os.tmpdir(), 'warden-lc-copies-'));
    process.env.WARDEN_COPIES_DIR = copies;
  });

  after(async () => {
    if (previousCopiesDir === undefined) delete process.env.WARDEN_COPIES_DIR;
    else process.env.WARDEN_COPIES_DIR = previousCopiesDir;
    await fs.rm(agents, { recursive: true, force: true });
    await fs.rm(copies, { recursive: true, force: true });
  });

  beforeEach(async () => {
    workspace = await fs.mkdtemp(path.join(os.tmpdir(), 'warden-lc-'));
    await fs.chmod(workspace, 0o755);
    await fs.mkdir(path.join(workspace, '.devcontainer'));
    await fs.writeFile(path.join(workspace, '.devcontainer', 'devcontainer.json'), JSON.stringify({ image: BASE_IMAGE }));
    await fs.writeFile(path.join(workspace, 'README.md'), '# lifecycle\n');
    await fs.writeFile(path.join(workspace, 'a.txt'), 'real a\n');
    store = new ProposalStore();
  });

  afterEach(async () => {
    for (const s of sessions.splice(0)) await s.kill('test finished').catch(() => undefined);
    // Kept sandboxes of this workspace go too.
    await removeWorkspaceSandboxes(workspace);
    store.dispose();
    await fs.rm(workspace, { recursive: true, force: true });
  });

  async function start(options: { mode?: WorkspaceMode; reuse?: boolean; policy?: string } = {}): Promise<AgentSession> {
    const session = await startEngineSession({
      workspace,
      agentsHostPath: agents,
      agentCommand: AGENT,
      store,
      reviewer,
      workspaceMode: options.mode ?? 'readonly',
      reuseSandbox: options.reuse ?? false,
      ...(options.policy !== undefined ? { policy: { current: () => allowing(options.policy!) } } : {}),
    });
    sessions.push(session);
    return session;
  }

  it('reuses the kept sandbox while the configuration is unchanged (only postStart runs again), and rebuilds it when devcontainer.json changes', async () => {
    await fs.writeFile(
      path.join(workspace, '.devcontainer', 'devcontainer.json'),
      JSON.stringify({ image: BASE_IMAGE, postCreateCommand: 'true', postStartCommand: 'true' }),
    );
    const first = await start({ reuse: true });
    const firstId = first.containerId!;
    await first.stop('done');
    const kept = await engineDocker().getContainer(firstId).inspect();
    assert.equal(kept.State.Running, false, 'Stop Session keeps the container, stopped');

    const second = await start({ reuse: true });
    assert.equal(second.containerId, firstId, 'the same container is restarted');
    await second.stop('done');

    await fs.writeFile(
      path.join(workspace, '.devcontainer', 'devcontainer.json'),
      JSON.stringify({ image: BASE_IMAGE, containerEnv: { CHANGED: '1' } }),
    );
    const third = await start({ reuse: true });
    assert.notEqual(third.containerId, firstId, 'a changed configuration gets a new container');
    await assert.rejects(engineDocker().getContainer(firstId).inspect(), /no such container/i, 'the old one is removed');
    await third.stop('done');

    const entries = await readAudit(workspace);
    const hooksBySession = (id: string): unknown[] =>
      entries.filter((e) => e.sessionId === id && e.type === 'lifecycle.command').map((e) => e.data.hook);
    assert.deepEqual(hooksBySession(first.id), ['postCreateCommand', 'postStartCommand']);
    assert.deepEqual(hooksBySession(second.id), ['postStartCommand'], 'a reused container runs only postStart');
    const reused = entries.find((e) => e.type === 'sandbox.reused');
    const rebuilt = entries.find((e) => e.type === 'sandbox.rebuilt');
    assert.equal(reused?.data.containerId, firstId);
    assert.match(String(reused?.data.configHash), /^[0-9a-f]{32}$/);
    assert.equal(rebuilt?.data.containerId, third.containerId);
    assert.deepEqual(rebuilt?.data.previousContainerIds, [firstId]);
    assert.notEqual(rebuilt?.data.configHash, reused?.data.configHash);
    assert.ok((await verifyAuditLog(workspace)).ok);
  });

  it('the kill switch orphans what is pending and removes the container of a hanging agent', async () => {
    const session = await start({ reuse: true });
    const containerId = session.containerId!;
    const before = await snapshot(workspace);
    const turn = session
      .prompt(JSON.stringify([{ permissionEdit: { path: 'a.txt', newText: 'agent a\n' } }, { hang: true }]))
      .catch((e: unknown) => e);
    const pending = await nextPending(store, new Set());
    await session.kill('test pulls the kill switch');
    assert.equal(store.get(pending.id)?.state, 'orphaned');
    assert.throws(() => decide(store, pending.id, 'approve'), /orphaned/);
    await assert.rejects(engineDocker().getContainer(containerId).inspect(), /no such container/i, 'killed sandboxes are never kept');
    assert.equal(session.state, 'ended');
    await turn;
    assert.deepEqual(await snapshot(workspace), before);
    const entries = await readAudit(workspace);
    const killed = entries.find((e) => e.type === 'session.killed');
    assert.equal(killed?.data.containerId, containerId);
    assert.equal(killed?.data.removed, true);
    assert.ok((await verifyAuditLog(workspace)).ok);
  });

  describe('copy mode', () => {
    it('a file an approved command writes becomes a proposal; the real workspace changes only when it is approved', async () => {
      const session = await start({ mode: 'copy' });
      const before = await snapshot(workspace);
      const seen = new Set<string>();
      const turn = session.prompt(JSON.stringify([{ run: "sh -c 'echo x > new.txt'" }]));
      const command = await nextPending(store, seen);
      assert.equal(command.kind, 'command');
      decide(store, command.id, 'approve');
      assert.equal(await turn, 'end_turn');
      const [change] = sandboxChanges(store);
      assert.ok(
        change,
        `a sandbox change was proposed: ${store
          .all()
          .map((p) => p.title)
          .join(', ')}`,
      );
      assert.equal(change.path, 'new.txt');
      assert.equal(change.state, 'pending');
      assert.equal(change.sandboxChange?.change, 'create');
      assert.match(change.diff, /\+x/);
      assert.deepEqual(await snapshot(workspace), before, 'the real workspace is unchanged while it waits');
      decide(store, change.id, 'approve');
      await reaches(store, change.id, ['applied']);
      assert.equal(await fs.readFile(path.join(workspace, 'new.txt'), 'utf8'), 'x\n');
    });

    it('a rejected change is restored in the copy (the agent sees reality) and the workspace stays unchanged', async () => {
      const session = await start({ mode: 'copy' });
      const before = await snapshot(workspace);
      assert.equal(await session.prompt(JSON.stringify([{ self: 'echo tampered > a.txt' }])), 'end_turn');
      const [change] = sandboxChanges(store);
      assert.ok(change && change.path === 'a.txt' && change.sandboxChange?.change === 'modify');
      assert.match(change.diff, /-real a\n\+tampered/);
      decide(store, change.id, 'reject');
      await waitFor(async () => (await readAudit(workspace)).some((e) => e.type === 'sandbox.change.restored'));
      // The agent looks again, from inside: it sees the real file.
      assert.equal(await session.prompt(JSON.stringify([{ self: 'cat a.txt > /tmp/seen && cp /tmp/seen seen.txt' }])), 'end_turn');
      const seen = sandboxChanges(store).find((p) => p.path === 'seen.txt');
      assert.equal(seen?.newText, 'real a\n');
      decide(store, seen.id, 'reject');
      assert.deepEqual(await snapshot(workspace), before);
    });

    it('a delete inside the sandbox asks, even when a policy would allow writes; approved, it deletes', async () => {
      const session = await start({ mode: 'copy', policy: '{ "defaults": { "write": "allow", "command": "allow" } }' });
      assert.equal(await session.prompt(JSON.stringify([{ self: 'rm README.md; echo made > made.txt' }])), 'end_turn');
      const change = sandboxChanges(store).find((p) => p.path === 'README.md');
      assert.ok(change && change.sandboxChange?.change === 'delete' && change.state === 'pending', JSON.stringify(change));
      const made = sandboxChanges(store).find((p) => p.path === 'made.txt');
      assert.equal(
        made && (await reaches(store, made.id, ['applied'])).decision?.reviewer.kind,
        'policy',
        'a create the policy allows is applied by the policy',
      );
      assert.ok(existsSync(path.join(workspace, 'README.md')));
      decide(store, change.id, 'approve');
      await reaches(store, change.id, ['applied']);
      assert.ok(!existsSync(path.join(workspace, 'README.md')));
    });

    it('an edit approved through a permission request and written by the agent itself lands without a second prompt', async () => {
      const session = await start({ mode: 'copy' });
      const turn = session.prompt(JSON.stringify([{ permissionEdit: { path: 'src/b.txt', newText: 'agent b\n' } }]));
      const permission = await nextPending(store, new Set());
      decide(store, permission.id, 'approve');
      assert.equal(await turn, 'end_turn');
      const [change] = sandboxChanges(store);
      assert.ok(change, 'the write was detected');
      const applied = await reaches(store, change.id, ['applied', 'failed', 'stale']);
      assert.equal(applied.state, 'applied');
      assert.equal(applied.decision?.reviewer.source, 'earlier approval');
      assert.equal(store.pending().length, 0, 'nothing asked twice');
      assert.equal(sha256Hex(await fs.readFile(path.join(workspace, 'src/b.txt'))), sha256Hex('agent b\n'));
    });

    it('fs/write_text_file writes are mirrored into the copy; a symlink is shown with its target and never applied', async () => {
      const session = await start({ mode: 'copy' });
      const turn = session.prompt(
        JSON.stringify([
          { write: { path: 'w.txt', content: 'via protocol\n' } },
          { self: 'cat w.txt > w-seen.txt; ln -s /etc/passwd link' },
        ]),
      );
      const write = await nextPending(store, new Set());
      decide(store, write.id, 'approve');
      assert.equal(await turn, 'end_turn');
      const changes = sandboxChanges(store);
      assert.equal(
        changes.find((p) => p.path === 'w.txt'),
        undefined,
        'the mirrored write is not proposed again',
      );
      assert.equal(changes.find((p) => p.path === 'w-seen.txt')?.newText, 'via protocol\n', 'the agent saw the approved write in its copy');
      const link = changes.find((p) => p.path === 'link');
      assert.equal(link?.sandboxChange?.change, 'symlink');
      assert.equal(link.sandboxChange.linkTarget, '/etc/passwd');
      decide(store, link.id, 'approve');
      const settled = await reaches(store, link.id, ['failed']);
      assert.match(settled.stateDetail ?? '', /never creates symbolic links/);
      assert.ok(!existsSync(path.join(workspace, 'link')));
    });

    it('the real workspace is never writable from inside', async () => {
      const session = await start({ mode: 'copy' });
      const before = await snapshot(workspace);
      await session.prompt(
        JSON.stringify([
          {
            self: 'echo 1 > direct.txt; echo 2 >> a.txt; mkdir -p d node_modules/dep && echo 3 > d/e.txt && echo 4 > node_modules/dep/i.js',
          },
        ]),
      );
      assert.deepEqual(await snapshot(workspace), before);
      assert.deepEqual(
        sandboxChanges(store)
          .map((p) => p.path)
          .sort(),
        ['a.txt', 'd/e.txt', 'direct.txt'],
        'node_modules stays in the copy, unproposed',
      );
      await session.stop('done');
      assert.ok(sandboxChanges(store).every((p) => p.state === 'orphaned'));
      assert.deepEqual(await snapshot(workspace), before);
    });

    it('a change that makes the copy equal to the workspace (already applied there) is not proposed', async () => {
      const session = await start({ mode: 'copy' });
      // What Warden applied through the protocol (e.g. an approved Codex patch) and the agent then wrote itself.
      await fs.writeFile(path.join(workspace, 'a.txt'), 'applied by warden\n');
      await session.prompt(JSON.stringify([{ self: "printf 'applied by warden\\n' > a.txt; echo other > b.txt" }]));
      assert.deepEqual(
        sandboxChanges(store).map((p) => p.path),
        ['b.txt'],
      );
    });

    it('a kept copy-mode sandbox is re-synced from the real workspace when reused', async () => {
      const first = await start({ mode: 'copy', reuse: true });
      await first.prompt(JSON.stringify([{ self: 'echo left-behind > stray.txt' }]));
      await first.stop('done');
      await fs.writeFile(path.join(workspace, 'a.txt'), 'changed by the user\n');
      const second = await start({ mode: 'copy', reuse: true });
      assert.equal(second.containerId, first.containerId);
      await second.prompt(JSON.stringify([{ self: 'ls > listing.txt; cat a.txt >> listing.txt' }]));
      const listing = sandboxChanges(store).find((p) => p.path === 'listing.txt' && p.sessionId === second.id);
      assert.ok(listing);
      assert.ok(!listing.newText.includes('stray.txt'), 'what the previous agent left is gone');
      assert.ok(listing.newText.includes('changed by the user'), 'the copy shows the real workspace now');
    });
  });
});

function allowing(text: string): ReturnType<typeof mergePolicies> {
  const loaded = loadPolicyText(text);
  assert.ok(loaded.ok);
  return mergePolicies({ team: { status: 'loaded', policy: loaded.value } });
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

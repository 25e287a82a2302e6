import { strict as assert } from 'node:assert';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { AuditLog, verifyAuditLog } from '../../src/core/audit';
import type { Reviewer } from '../../src/core/proposals/model';
import { ProposalStore } from '../../src/core/proposals/store';
import { AgentSession } from '../../src/core/supervisor';
import { NodeWorkspaceFiles } from '../../src/core/workspace/files';
import { sha256Hex } from '../../src/core/util/hash';
import { nextPending } from '../support/proposals';
import { ENGINE_LABEL, engineDocker, engineProvider, ensureEngineUnderTest } from './engineUnderTest';
import { BASE_IMAGE, ensureSandboxPrerequisites, REPO_ROOT } from './prerequisites';
import { copyDemoWorkspace, readAudit, snapshot } from '../support/workspace';

const reviewer: Reviewer = { kind: 'human', name: 'Ada Reviewer', email: 'ada@example.test', source: 'test' };

const decide = (store: ProposalStore, id: string, verdict: 'approve' | 'reject'): void => {
  store.decide(id, { verdict, reviewer, decidedAt: new Date().toISOString() });
};

describe('a supervised session with the demo agent (real Docker engine)' + ENGINE_LABEL, function () {
  this.timeout(180_000);
  let workspace: string;
  let store: ProposalStore;
  let session: AgentSession | undefined;

  before(async function () {
    this.timeout(600_000);
    await ensureSandboxPrerequisites();
    await ensureEngineUnderTest([BASE_IMAGE]);
  });

  beforeEach(async () => {
    workspace = await copyDemoWorkspace('warden-it-');
    store = new ProposalStore();
    session = await AgentSession.start({
      workspaceMode: 'readonly',
      workspaceRoot: workspace,
      agentsHostPath: path.join(REPO_ROOT, 'dist', 'agents'),
      sandboxProvider: engineProvider(),
      store,
      audit: AuditLog.forWorkspace(workspace),
      files: new NodeWorkspaceFiles(workspace),
      reviewer,
    });
  });

  afterEach(async () => {
    await session?.stop('test finished');
    store.dispose();
    await fs.rm(workspace, { recursive: true, force: true });
  });

  it('proposes edit, create and command; nothing changes until approved; approved bytes land exactly; the log verifies', async () => {
    const before = await snapshot(workspace);
    const seen = new Set<string>();
    const turn = session!.prompt('add a farewell function with tests');

    const permission = await nextPending(store, seen);
    assert.equal(permission.kind, 'permission');
    assert.ok(permission.kind === 'permission' && permission.edit);
    assert.equal(permission.edit.path, 'src/greet.js');
    assert.match(permission.edit.diff, /\+function farewell\(name\)/);
    assert.deepEqual(await snapshot(workspace), before, 'the workspace is unchanged while the edit waits for review');
    decide(store, permission.id, 'approve');

    const create = await nextPending(store, seen);
    assert.ok(create.kind === 'edit');
    assert.equal(create.path, 'test/greet.test.js');
    assert.equal(create.oldText, null);
    assert.ok(!existsSync(path.join(workspace, 'test/greet.test.js')), 'the new file is not written before approval');
    const greet = await fs.readFile(path.join(workspace, 'src/greet.js'), 'utf8');
    assert.equal(sha256Hex(greet), permission.edit.newHash, 'the approved edit landed byte for byte');
    decide(store, create.id, 'approve');

    const command = await nextPending(store, seen);
    assert.ok(command.kind === 'command');
    assert.deepEqual(command.argv, ['node', '--test', 'test/']);
    assert.match(command.cwd, /^\/workspaces\//);
    assert.equal(sha256Hex(await fs.readFile(path.join(workspace, 'test/greet.test.js'))), create.newHash);
    decide(store, command.id, 'approve');

    assert.equal(await turn, 'end_turn');
    const ran = store.get(command.id);
    assert.ok(ran?.kind === 'command' && ran.result, 'the command result is recorded');
    assert.equal(ran.result.exitCode, 0, `node --test failed inside the sandbox:\n${ran.result.outputExcerpt}`);
    assert.match(ran.result.outputExcerpt, /pass 2/);

    const report = await verifyAuditLog(workspace);
    assert.ok(report.ok, JSON.stringify(report));
    const entries = await readAudit(workspace);
    const types = entries.map((e) => e.type);
    for (const expected of [
      'session.starting',
      'sandbox.started',
      'agent.started',
      'instruction',
      'file.read',
      'proposal',
      'decision',
      'edit.applied',
      'command.result',
      'turn.ended',
    ]) {
      assert.ok(types.includes(expected), `audit has a ${expected} entry (has: ${[...new Set(types)].join(', ')})`);
    }
    const humanDecisions = entries.filter((e) => e.type === 'decision' && e.actor.kind === 'human');
    assert.equal(humanDecisions.length, 3);
    assert.ok(
      humanDecisions.every((e) => e.actor.email === 'ada@example.test'),
      'decisions carry the reviewer identity',
    );
    const instruction = entries.find((e) => e.type === 'instruction');
    assert.equal(instruction?.data.text, 'add a farewell function with tests');
  });

  it('rejecting everything leaves the workspace untouched and tells the agent', async () => {
    const before = await snapshot(workspace);
    const seen = new Set<string>();
    const turn = session!.prompt('add a farewell function');
    for (let i = 0; i < 3; i++) {
      const proposal = await nextPending(store, seen);
      decide(store, proposal.id, 'reject');
    }
    assert.equal(await turn, 'end_turn');
    assert.deepEqual(await snapshot(workspace), before);
    assert.ok(
      store.all().every((p) => p.state === 'rejected'),
      store
        .all()
        .map((p) => `${p.title}=${p.state}`)
        .join(', '),
    );
    const entries = await readAudit(workspace);
    assert.equal(entries.filter((e) => e.type === 'decision' && e.data.verdict === 'reject').length, 3);
    assert.ok((await verifyAuditLog(workspace)).ok);
  });

  it('stopping the session orphans what is pending, applies nothing and removes the container', async () => {
    const before = await snapshot(workspace);
    const seen = new Set<string>();
    const containerId = session!.containerId;
    assert.ok(containerId);
    void session!.prompt('add a farewell function').catch(() => undefined);
    const pending = await nextPending(store, seen);
    await session!.stop('kill switch in test');
    assert.equal(store.get(pending.id)?.state, 'orphaned');
    assert.throws(() => decide(store, pending.id, 'approve'), /orphaned/);
    assert.deepEqual(await snapshot(workspace), before);
    await assert.rejects(engineDocker().getContainer(containerId).inspect(), /no such container/i);
    const entries = await readAudit(workspace);
    assert.equal(entries.at(-1)?.type, 'session.ended');
    assert.equal(entries.at(-2)?.type, 'sandbox.stopped');
    assert.equal(entries.at(-2)?.data.containerId, containerId);
  });

  it('an edit made stale by the user is never applied blind', async () => {
    const seen = new Set<string>();
    const turn = session!.prompt('add a farewell function');
    const permission = await nextPending(store, seen);
    // The user edits, while the proposal waits, the very line the agent's change rewrites (an edit
    // elsewhere in the file would be re-diffed onto the current text and applied).
    const greetPath = path.join(workspace, 'src/greet.js');
    await fs.writeFile(
      greetPath,
      (await fs.readFile(greetPath, 'utf8')).replace(
        'module.exports = { greet };',
        'module.exports = { greet, hello: greet }; // typed by the user',
      ),
    );
    decide(store, permission.id, 'approve');
    const create = await nextPending(store, seen);
    decide(store, create.id, 'reject');
    const command = await nextPending(store, seen);
    decide(store, command.id, 'reject');
    await turn;
    const greet = await fs.readFile(path.join(workspace, 'src/greet.js'), 'utf8');
    assert.ok(
      greet.includes('// typed by the user') && !greet.includes('farewell'),
      'the user edit survives, the stale proposal did not land',
    );
    const stale = store.all().find((p) => p.kind === 'edit' && p.path === 'src/greet.js');
    assert.equal(stale?.state, 'stale');
  });
});

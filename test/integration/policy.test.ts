import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { AuditLog, verifyAuditLog } from '../../src/core/audit';
import { loadWorkspacePolicy } from '../../src/core/policy';
import type { Reviewer } from '../../src/core/proposals/model';
import { ProposalStore } from '../../src/core/proposals/store';
import { DockerSandboxProvider } from '../../src/core/sandbox/dockerSandbox';
import { AgentSession } from '../../src/core/supervisor';
import { NodeWorkspaceFiles } from '../../src/core/workspace/files';
import { nextPending } from '../support/proposals';
import { ensureSandboxPrerequisites, REPO_ROOT } from './prerequisites';
import { copyDemoWorkspace, readAudit, snapshot } from '../support/workspace';

const reviewer: Reviewer = { kind: 'human', name: 'Ada Reviewer', email: 'ada@example.test', source: 'test' };

async function workspaceWithPolicy(policyText: string): Promise<string> {
  const dir = await copyDemoWorkspace('warden-policy-it-');
  await fs.mkdir(path.join(dir, '.warden'), { recursive: true });
  await fs.writeFile(path.join(dir, '.warden', 'policy.json'), policyText);
  return dir;
}

const ALLOWING = `{
  // The team trusts the agent with sources, tests and the test runner.
  "paths": [{ "id": "code-writes", "paths": ["src/**", "test/**"], "actions": ["write", "create"], "decision": "allow", "reason": "sources and tests are reviewed in the PR" }],
  "commands": [{ "id": "node-test", "match": "node --test *", "decision": "allow", "reason": "tests run in the sandbox" }],
  "examples": [{ "command": "git push origin main", "expect": "ask" }]
}`;

const DENYING = `{
  "paths": [{ "id": "frozen-code", "paths": ["src/**", "test/**"], "actions": ["write", "create"], "decision": "deny", "reason": "the code is frozen for the release" }],
  "commands": [{ "id": "no-node", "match": "node *", "decision": "deny", "reason": "no scripts during the freeze" }]
}`;

describe('team policy in a real session (real Docker engine, demo agent)', function () {
  this.timeout(180_000);
  let workspace: string | undefined;
  let store: ProposalStore;
  let session: AgentSession | undefined;

  before(async function () {
    this.timeout(600_000);
    await ensureSandboxPrerequisites();
  });

  async function start(policyText: string): Promise<{ session: AgentSession; messages: string[] }> {
    workspace = await workspaceWithPolicy(policyText);
    store = new ProposalStore();
    const policy = await loadWorkspacePolicy(workspace);
    session = await AgentSession.start({
      workspaceMode: 'readonly',
      workspaceRoot: workspace,
      agentsHostPath: path.join(REPO_ROOT, 'dist', 'agents'),
      sandboxProvider: new DockerSandboxProvider(),
      store,
      audit: AuditLog.forWorkspace(workspace),
      files: new NodeWorkspaceFiles(workspace),
      reviewer,
      policy: { current: () => policy },
    });
    const messages: string[] = [];
    session.onEvent((e) => {
      if (e.type === 'agent-message') messages.push(e.text);
    });
    return { session, messages };
  }

  afterEach(async () => {
    await session?.stop('test finished');
    session = undefined;
    store.dispose();
    if (workspace) await fs.rm(workspace, { recursive: true, force: true });
    workspace = undefined;
  });

  it('a policy allowing writes under src/** and test/** and `node --test` completes the demo session with no human', async () => {
    const { session } = await start(ALLOWING);
    const pendingSeen: string[] = [];
    store.onDidChange((p) => {
      if (p.state === 'pending') pendingSeen.push(p.id);
    });
    assert.equal(await session.prompt('add a farewell function with tests'), 'end_turn');
    assert.deepEqual(pendingSeen, [], 'no proposal was ever pending: the policy decided each one at birth');

    const proposals = store.all();
    const decidedByPolicy = proposals.filter((p) => p.decision?.reviewer.kind === 'policy');
    assert.equal(decidedByPolicy.length, 3, proposals.map((p) => `${p.title}: ${p.decision?.reviewer.kind}`).join(', '));
    assert.deepEqual(
      decidedByPolicy.map((p) => p.decision?.reviewer.name),
      ['code-writes', 'code-writes', 'node-test'],
    );
    const command = proposals.find((p) => p.kind === 'command');
    assert.ok(command?.kind === 'command' && command.result?.exitCode === 0, 'the tests ran in the sandbox and passed');
    assert.match(await fs.readFile(path.join(workspace!, 'src/greet.js'), 'utf8'), /function farewell/);

    const entries = await readAudit(workspace!);
    assert.ok(entries.some((e) => e.type === 'policy.loaded'));
    const decisions = entries.filter((e) => e.type === 'decision' && e.actor.kind === 'policy');
    assert.equal(decisions.length, 3);
    for (const d of decisions) {
      assert.ok(typeof d.data.ruleId === 'string' && d.data.ruleId.length > 0, 'the audit entry names the rule');
      assert.match(String(d.data.reason), /Rule "(code-writes|node-test)"/);
    }
    assert.equal(entries.filter((e) => e.type === 'decision' && e.actor.kind === 'human').length, 0);
    assert.ok((await verifyAuditLog(workspace!)).ok);
  });

  it('a deny rule refuses: the agent is told why and nothing changes', async () => {
    const { session, messages } = await start(DENYING);
    const before = await snapshot(workspace!);
    assert.equal(await session.prompt('add a farewell function with tests'), 'end_turn');
    assert.deepEqual(await snapshot(workspace!), before, 'the workspace is unchanged');
    const proposals = store.all();
    assert.equal(proposals.length, 3);
    assert.ok(
      proposals.every((p) => p.state === 'rejected' && p.decision?.reviewer.kind === 'policy'),
      proposals.map((p) => `${p.title}=${p.state}`).join(', '),
    );
    const text = messages.join('');
    assert.match(text, /rule frozen-code/, `the agent was told which rule refused the write: ${text}`);
    assert.match(text, /rule no-node/, 'the agent was told which rule refused the command');
    const entries = await readAudit(workspace!);
    const denies = entries.filter((e) => e.type === 'decision' && e.data.verdict === 'reject');
    assert.deepEqual(
      denies.map((e) => e.data.ruleId),
      ['frozen-code', 'frozen-code', 'no-node'],
    );
  });

  it('a broken policy file means everything asks, and the session says so', async () => {
    const { session } = await start(ALLOWING.replace('"decision": "allow", "reason": "sources', '"decision": "allow" "reason": "sources'));
    const seen = new Set<string>();
    const turn = session.prompt('add a farewell function with tests');
    for (let i = 0; i < 3; i++) {
      const proposal = await nextPending(store, seen);
      assert.equal(proposal.policy?.decision, 'ask');
      assert.equal(proposal.policy?.ruleId, 'builtin.policy-invalid');
      assert.match(proposal.policy?.reason ?? '', /safest policy/);
      store.decide(proposal.id, { verdict: 'approve', reviewer, decidedAt: new Date().toISOString() });
    }
    assert.equal(await turn, 'end_turn');
    const entries = await readAudit(workspace!);
    const invalid = entries.find((e) => e.type === 'policy.invalid');
    assert.ok(invalid, 'the audit records that the policy is invalid');
    assert.equal(entries.filter((e) => e.type === 'decision' && e.actor.kind === 'human').length, 3);
  });

  it('the boundary default (no rules): the demo agent\'s command runs without asking, its edits still ask; under "defaults.command": "ask" the command asks too', async () => {
    for (const [text, commandAsks] of [
      ['{}', false],
      ['{ "defaults": { "command": "ask" } }', true],
    ] as const) {
      const { session } = await start(text);
      const seen = new Set<string>();
      let over = false;
      const turn = session.prompt('add a farewell function with tests').finally(() => (over = true));
      const asked: string[] = [];
      while (!over) {
        const next = await Promise.race([nextPending(store, seen), turn.then(() => undefined)]);
        if (!next) break;
        asked.push(next.kind);
        store.decide(next.id, { verdict: 'approve', reviewer, decidedAt: new Date().toISOString() });
      }
      assert.equal(await turn, 'end_turn');
      assert.equal(asked.includes('command'), commandAsks, `${text}: ${asked.join(', ')}`);
      assert.ok(asked.includes('edit'), `the edits still ask: ${asked.join(', ')}`);
      const command = store.all().find((p) => p.kind === 'command');
      assert.ok(command?.kind === 'command' && command.result?.exitCode === 0, 'the tests ran in the sandbox and passed');
      if (!commandAsks) {
        assert.equal(command.decision?.reviewer.kind, 'policy');
        assert.equal(command.policy?.ruleId, 'default');
      }
      if (commandAsks) break; // the last one: afterEach cleans up
      await session.stop('next policy');
      store.dispose();
      await fs.rm(workspace!, { recursive: true, force: true });
      workspace = undefined;
    }
  });
});

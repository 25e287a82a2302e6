import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { AuditLog, verifyAuditLog } from '../../src/core/audit';
import { readSessionEntries } from '../../src/core/git/auditTrail';
import { rollbackSession } from '../../src/core/git/checkpoints';
import { commitApprovedChanges, DEFAULT_AGENT_IDENTITY } from '../../src/core/git/commit';
import { SessionScope } from '../../src/core/git/scope';
import { SessionGit } from '../../src/core/git/sessionGit';
import type { Reviewer } from '../../src/core/proposals/model';
import { ProposalStore } from '../../src/core/proposals/store';
import { DockerSandboxProvider } from '../../src/core/sandbox/dockerSandbox';
import { AgentSession } from '../../src/core/supervisor';
import { NodeWorkspaceFiles } from '../../src/core/workspace/files';
import { nextPending } from '../support/proposals';
import { copyDemoWorkspace } from '../support/workspace';
import { ensureSandboxPrerequisites, REPO_ROOT } from './prerequisites';

const exec = promisify(execFile);
const reviewer: Reviewer = { kind: 'human', name: 'Ada Reviewer', email: 'ada@example.test', source: 'test' };
const git = async (cwd: string, ...args: string[]): Promise<string> => (await exec('git', args, { cwd })).stdout;

async function gitWorkspace(): Promise<string> {
  const dir = await copyDemoWorkspace('warden-gitsession-');
  await git(dir, 'init', '--quiet', '--initial-branch=main');
  await git(dir, 'config', 'user.name', reviewer.name);
  await git(dir, 'config', 'user.email', reviewer.email!);
  await git(dir, 'config', 'commit.gpgsign', 'false');
  await fs.writeFile(path.join(dir, '.gitignore'), '.warden/audit/\n');
  await git(dir, 'add', '-A');
  await git(dir, 'commit', '--quiet', '-m', 'initial');
  return dir;
}

describe('a session in a git repository (real Docker engine, real git)', function () {
  this.timeout(180_000);
  let workspace: string;
  let store: ProposalStore;
  let session: AgentSession | undefined;

  before(async function () {
    this.timeout(600_000);
    await ensureSandboxPrerequisites();
  });

  const start = async (scope?: SessionScope): Promise<AgentSession> =>
    AgentSession.start({
      workspaceMode: 'readonly',
      workspaceRoot: workspace,
      agentsHostPath: path.join(REPO_ROOT, 'dist', 'agents'),
      sandboxProvider: new DockerSandboxProvider(),
      store,
      audit: AuditLog.forWorkspace(workspace),
      files: new NodeWorkspaceFiles(workspace),
      reviewer,
      git: new SessionGit({ workspaceRoot: workspace, ...(scope ? { scope } : {}) }),
    });

  beforeEach(async () => {
    workspace = await gitWorkspace();
    store = new ProposalStore();
  });

  afterEach(async () => {
    await session?.stop('test finished');
    store.dispose();
    await fs.rm(workspace, { recursive: true, force: true });
  });

  it('works on warden/<session>, checkpoints before each applied edit on private refs, commits as the agent, rolls back', async () => {
    const mainHead = (await git(workspace, 'rev-parse', 'main')).trim();
    session = await start();
    assert.equal((await git(workspace, 'branch', '--show-current')).trim(), `warden/${session.id}`);
    const seen = new Set<string>();
    const turn = session.prompt('add a farewell function with tests');
    for (let i = 0; i < 3; i++)
      store.decide((await nextPending(store, seen)).id, { verdict: 'approve', reviewer, decidedAt: new Date().toISOString() });
    assert.equal(await turn, 'end_turn');

    const entries = await readSessionEntries(workspace, session.id);
    const branch = entries.find((e) => e.entry.type === 'git.branch')?.entry.data;
    assert.equal(branch?.status, 'created');
    assert.equal(branch?.base, mainHead);
    assert.ok(
      !types0(entries).includes('checkpoint.failed'),
      JSON.stringify(entries.filter((e) => e.entry.type === 'checkpoint.failed').map((e) => e.entry.data)),
    );
    const created = entries.filter((e) => e.entry.type === 'checkpoint.created').map((e) => e.entry.data);
    assert.deepEqual(
      created.map((d) => [d.n, d.paths]),
      [
        [1, ['src/greet.js']],
        [2, ['test/greet.test.js']],
      ],
    );
    // Each checkpoint is recorded before the edit it precedes is applied.
    const types = entries.map((e) => e.entry.type);
    assert.ok(types.indexOf('checkpoint.created') < types.indexOf('edit.applied'));
    const refs = (await git(workspace, 'for-each-ref', '--format=%(refname)', 'refs/warden')).trim().split('\n');
    assert.deepEqual(refs, [`refs/warden/checkpoints/${session.id}/1`, `refs/warden/checkpoints/${session.id}/2`]);
    assert.equal((await git(workspace, 'rev-parse', 'HEAD')).trim(), mainHead, 'checkpoints are not on the branch');
    const inCheckpoint = await git(workspace, 'ls-tree', '-r', '--name-only', refs[1]!);
    assert.ok(!inCheckpoint.includes('.warden/audit'), 'the audit log is never part of a checkpoint');
    assert.match(inCheckpoint, /^src\/greet\.js$/m);
    assert.equal((await git(workspace, 'rev-parse', 'main')).trim(), mainHead);

    const result = await commitApprovedChanges({
      workspaceRoot: workspace,
      sessionId: session.id,
      agent: DEFAULT_AGENT_IDENTITY,
      committer: { name: reviewer.name, email: reviewer.email! },
    });
    assert.deepEqual(result.paths, ['src/greet.js', 'test/greet.test.js']);
    const log = await git(workspace, 'log', '-1', '--format=%an|%ae|%cn|%ce|%B', `warden/${session.id}`);
    assert.match(log, /^Warden Agent\|agent@warden\.invalid\|Ada Reviewer\|ada@example\.test\|Agent: add a farewell function with tests\n/);
    assert.match(log, /^Approved-by: Ada Reviewer <ada@example\.test>$/m);
    const applied = (await readSessionEntries(workspace, session.id)).filter((e) => e.entry.type === 'edit.applied').map((e) => e.hash);
    assert.equal(applied.length, 2);
    for (const hash of applied) assert.match(log, new RegExp(`^Warden-Audit: ${hash}$`, 'm'));

    const files = new NodeWorkspaceFiles(workspace);
    const original = await git(workspace, 'show', 'main:src/greet.js');
    const rollback = await rollbackSession({
      workspaceRoot: workspace,
      sessionId: session.id,
      n: 1,
      files,
      actor: { kind: 'human', id: reviewer.email!, name: reviewer.name, email: reviewer.email! },
      audit: AuditLog.forWorkspace(workspace),
    });
    assert.deepEqual([rollback.restored, rollback.deleted], [['src/greet.js'], ['test/greet.test.js']]);
    assert.equal(await fs.readFile(path.join(workspace, 'src/greet.js'), 'utf8'), original);
    const rolled = (await readSessionEntries(workspace, session.id)).find((e) => e.entry.type === 'checkpoint.rolledBack');
    assert.equal(rolled?.entry.actor.email, reviewer.email);

    // Committing after the rollback records it on the branch: the file restored, the created one deleted.
    const undo = await commitApprovedChanges({
      workspaceRoot: workspace,
      sessionId: session.id,
      agent: DEFAULT_AGENT_IDENTITY,
      committer: { name: reviewer.name, email: reviewer.email! },
    });
    assert.deepEqual(undo.paths, ['src/greet.js', 'test/greet.test.js']);
    assert.deepEqual(undo.auditHashes, [rolled!.hash]);
    assert.equal(
      (await git(workspace, 'show', '--name-status', '--format=', `warden/${session.id}`)).trim(),
      'M\tsrc/greet.js\nD\ttest/greet.test.js',
    );
    assert.equal(await git(workspace, 'show', `warden/${session.id}:src/greet.js`), original);
    assert.equal((await git(workspace, 'status', '--porcelain')).trim(), '', 'the working tree matches the session branch');
    assert.ok((await verifyAuditLog(workspace)).ok);
  });

  it('refuses writes outside the session scope, naming the rule, and audits the refusal', async () => {
    session = await start(new SessionScope([{ source: 'settings', rules: { include: ['src/**'] } }]));
    const seen = new Set<string>();
    const turn = session.prompt('add a farewell function with tests');
    const permission = await nextPending(store, seen);
    assert.equal(permission.kind, 'permission');
    store.decide(permission.id, { verdict: 'approve', reviewer, decidedAt: new Date().toISOString() });
    // The test file is out of scope: no proposal is made for it; the next one is the command.
    const command = await nextPending(store, seen);
    assert.equal(command.kind, 'command');
    store.decide(command.id, { verdict: 'reject', reviewer, decidedAt: new Date().toISOString() });
    await turn;
    assert.ok(!store.all().some((p) => p.kind === 'edit' && p.path === 'test/greet.test.js'));
    await assert.rejects(fs.stat(path.join(workspace, 'test/greet.test.js')));
    const refused = (await readSessionEntries(workspace, session.id)).find((e) => e.entry.type === 'refused');
    assert.equal(refused?.entry.data.ruleId, 'settings:scope.include');
    assert.equal(refused?.entry.data.path, 'test/greet.test.js');
    assert.match(String(refused?.entry.data.reason), /matches none of the patterns this session may touch \(src\/\*\*\)/);
  });
});
function types0(entries: Array<{ entry: { type: string } }>): string[] {
  return entries.map((e) => e.entry.type);
}

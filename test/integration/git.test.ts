import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { AuditLog, verifyAuditLog } from '../../src/core/audit';
import type { AuditActor } from '../../src/core/audit/types';
import { readSessionEntries } from '../../src/core/git/auditTrail';
import { ProtectedBranchError } from '../../src/core/git/branchGuard';
import { Checkpoints } from '../../src/core/git/checkpoints';
import { commitApprovedChanges, CommitRefusedError, DEFAULT_AGENT_IDENTITY } from '../../src/core/git/commit';
import { startSessionBranch } from '../../src/core/git/sessionBranch';
import { SessionGit } from '../../src/core/git/sessionGit';
import { NodeWorkspaceFiles } from '../../src/core/workspace/files';
import { sha256Hex } from '../../src/core/util/hash';

const exec = promisify(execFile);
const human = { name: 'Ada Reviewer', email: 'ada@example.test' };
const humanActor: AuditActor = { kind: 'human', id: human.email, name: human.name, email: human.email };
const warden: AuditActor = { kind: 'warden', id: 'warden' };
const tempDirs: string[] = [];

async function git(cwd: string, ...args: string[]): Promise<string> {
  return (await exec('git', args, { cwd })).stdout;
}

/** A repository on main with one commit, and the human's identity in its config. */
async function makeRepo(files: Record<string, string> = { 'src/app.js': 'console.log("v1");\n', 'README.md': '# app\n' }): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'warden-git-it-'));
  tempDirs.push(dir);
  await git(dir, 'init', '--quiet', '--initial-branch=main');
  await git(dir, 'config', 'user.name', human.name);
  await git(dir, 'config', 'user.email', human.email);
  await git(dir, 'config', 'commit.gpgsign', 'false');
  for (const [name, text] of Object.entries(files)) {
    await fs.mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await fs.writeFile(path.join(dir, name), text);
  }
  await fs.writeFile(path.join(dir, '.gitignore'), '.warden/audit/\n');
  await git(dir, 'add', '-A');
  await git(dir, 'commit', '--quiet', '-m', 'initial');
  return dir;
}

/** What a session records when an approved edit is applied: proposal, human decision, edit.applied. */
async function applyApproved(
  audit: AuditLog,
  files: NodeWorkspaceFiles,
  sessionId: string,
  file: string,
  text: string,
  id: string,
): Promise<void> {
  await audit.append({
    sessionId,
    actor: { kind: 'agent', id: 'demo' },
    type: 'proposal',
    data: { proposalId: id, kind: 'edit', title: `Edit ${file}`, origin: 'fs/write_text_file', path: file },
  });
  await audit.append({
    sessionId,
    actor: humanActor,
    type: 'decision',
    data: { proposalId: id, verdict: 'approve', reviewer: { kind: 'human', ...human, source: 'git config' }, reason: null },
  });
  const { diskHash } = await files.write(file, text);
  await audit.append({
    sessionId,
    actor: warden,
    type: 'edit.applied',
    data: { proposalId: id, path: file, reviewedHash: sha256Hex(text), diskHash },
  });
}

async function recordBranch(audit: AuditLog, dir: string, sessionId: string): Promise<void> {
  const branch = await startSessionBranch(dir, sessionId);
  await audit.append({ sessionId, actor: warden, type: 'git.branch', data: { ...branch } });
}

describe('git: session branches, agent commits, checkpoints (real git, temporary repositories)', function () {
  this.timeout(60_000);

  after(async () => {
    await Promise.all(tempDirs.map((dir) => fs.rm(dir, { recursive: true, force: true })));
  });

  describe('session branches', () => {
    it('creates warden/<session> from HEAD and checks it out; main does not move', async () => {
      const dir = await makeRepo();
      const head = (await git(dir, 'rev-parse', 'HEAD')).trim();
      const result = await startSessionBranch(dir, 's-1');
      assert.deepEqual(result, { status: 'created', branch: 'warden/s-1', base: head, previousBranch: 'main', carried: [] });
      assert.equal((await git(dir, 'branch', '--show-current')).trim(), 'warden/s-1');
      assert.equal((await git(dir, 'rev-parse', 'main')).trim(), head);
    });

    it('keeps uncommitted work (staged, unstaged, untracked) and reports it as carried', async () => {
      const dir = await makeRepo();
      await fs.writeFile(path.join(dir, 'src/app.js'), 'console.log("mine, unsaved");\n');
      await fs.writeFile(path.join(dir, 'README.md'), '# staged\n');
      await git(dir, 'add', 'README.md');
      await fs.writeFile(path.join(dir, 'notes.txt'), 'untracked\n');
      const result = await startSessionBranch(dir, 's-dirty');
      assert.equal(result.status, 'created');
      assert.ok(result.status === 'created');
      assert.deepEqual(result.carried, ['README.md', 'notes.txt', 'src/app.js']);
      assert.equal(await fs.readFile(path.join(dir, 'src/app.js'), 'utf8'), 'console.log("mine, unsaved");\n');
      assert.equal(await fs.readFile(path.join(dir, 'notes.txt'), 'utf8'), 'untracked\n');
      assert.match(await git(dir, 'diff', '--cached', '--name-only'), /README\.md/, 'the staged change is still staged');
    });

    it('runs without a branch, and says why, outside a repository, before the first commit and during a merge', async () => {
      const plain = await fs.mkdtemp(path.join(os.tmpdir(), 'warden-git-it-plain-'));
      tempDirs.push(plain);
      assert.deepEqual(await startSessionBranch(plain, 's-2'), { status: 'none', reason: 'the workspace is not in a git repository' });
      const empty = await fs.mkdtemp(path.join(os.tmpdir(), 'warden-git-it-empty-'));
      tempDirs.push(empty);
      await git(empty, 'init', '--quiet');
      const unborn = await startSessionBranch(empty, 's-3');
      assert.ok(unborn.status === 'none' && /no commit yet/.test(unborn.reason));
      const merging = await makeRepo();
      await fs.writeFile(path.join(merging, '.git', 'MERGE_HEAD'), `${(await git(merging, 'rev-parse', 'HEAD')).trim()}\n`);
      const busy = await startSessionBranch(merging, 's-4');
      assert.ok(busy.status === 'none' && /a merge is in progress/.test(busy.reason));
      assert.equal((await git(merging, 'branch', '--show-current')).trim(), 'main');
    });

    it('refuses to create a session branch that the protected globs cover', async () => {
      const dir = await makeRepo();
      await assert.rejects(startSessionBranch(dir, 's-5', ['warden/*']), ProtectedBranchError);
      assert.equal((await git(dir, 'branch', '--show-current')).trim(), 'main');
    });

    it('a policy that protects warden/* leaves the session without a branch, saying why', async () => {
      const dir = await makeRepo();
      const sessionGit = new SessionGit({ workspaceRoot: dir });
      sessionGit.followPolicy(() => ({ protectedBranches: ['main', 'warden/*'] }));
      const { branch } = await sessionGit.begin('s-6');
      assert.ok(branch.status === 'none');
      assert.match(branch.reason, /protected branch "warden\/s-6" \(matches "warden\/\*"/);
    });
  });

  describe('Commit Approved Changes', () => {
    it('commits the applied files on the session branch: author the agent, committer the human, Approved-by and Warden-Audit trailers', async () => {
      const dir = await makeRepo();
      const audit = AuditLog.forWorkspace(dir);
      const files = new NodeWorkspaceFiles(dir);
      await recordBranch(audit, dir, 's-c1');
      await audit.append({ sessionId: 's-c1', actor: humanActor, type: 'instruction', data: { text: 'update the greeting\nand more' } });
      await applyApproved(audit, files, 's-c1', 'src/app.js', 'console.log("v2");\n', 'p-1');
      await applyApproved(audit, files, 's-c1', 'src/new.js', 'export const x = 1;\n', 'p-2');
      await fs.writeFile(path.join(dir, 'unrelated.txt'), 'the user typed this\n');

      const result = await commitApprovedChanges({
        workspaceRoot: dir,
        sessionId: 's-c1',
        agent: DEFAULT_AGENT_IDENTITY,
        committer: human,
      });
      assert.equal(result.branch, 'warden/s-c1');
      assert.deepEqual(result.paths, ['src/app.js', 'src/new.js']);
      const [meta, ...body] = (await git(dir, 'log', '-1', '--format=%an|%ae|%cn|%ce%n%B', 'warden/s-c1')).split('\n');
      assert.equal(meta, 'Warden Agent|agent@warden.invalid|Ada Reviewer|ada@example.test');
      const message = body.join('\n');
      assert.match(message, /^Agent: update the greeting\n/);
      assert.match(message, /^Approved-by: Ada Reviewer <ada@example\.test>$/m);
      const entries = await readSessionEntries(dir, 's-c1');
      const applied = entries.filter((e) => e.entry.type === 'edit.applied').map((e) => e.hash);
      assert.equal(applied.length, 2);
      for (const hash of applied) assert.match(message, new RegExp(`^Warden-Audit: ${hash}$`, 'm'));
      // The trailers are real git trailers.
      const trailers = await git(dir, 'log', '-1', '--format=%(trailers:key=Warden-Audit,valueonly)', 'warden/s-c1');
      assert.deepEqual(trailers.trim().split('\n'), applied);
      // It names the session's chain and its head, so a deleted or cut log is caught (issue 19).
      const chainTrailer = await git(dir, 'log', '-1', '--format=%(trailers:key=Warden-Audit-Chain,valueonly)', 'warden/s-c1');
      // The head when the commit was made: the entry just before the git.committed entry.
      const committed = (await readSessionEntries(dir, 's-c1')).find((e) => e.entry.type === 'git.committed');
      assert.equal(chainTrailer.trim(), `s-c1 ${(committed?.entry.seq ?? 0) - 1} ${committed?.entry.prev}`);
      // The hash is the chain's: the entry after each edit.applied has it as prev.
      const all = await readSessionEntries(dir, 's-c1');
      for (const hash of applied) {
        const next = all[all.findIndex((e) => e.hash === hash) + 1];
        if (next) assert.equal(next.entry.prev, hash);
      }
      assert.deepEqual((await git(dir, 'show', '--name-only', '--format=', 'warden/s-c1')).trim().split('\n'), [
        'src/app.js',
        'src/new.js',
      ]);
      assert.equal(
        (await git(dir, 'status', '--porcelain')).trim(),
        '?? unrelated.txt',
        'the index agrees with the commit; the user file is untouched',
      );
      assert.equal((await git(dir, 'log', '-1', '--format=%s', 'main')).trim(), 'initial', 'main did not move');
      await assert.rejects(
        commitApprovedChanges({ workspaceRoot: dir, sessionId: 's-c1', agent: DEFAULT_AGENT_IDENTITY, committer: human }),
        /no applied changes that are not committed yet/,
      );
    });

    it('resolves an edit granted through a permission request to the human who approved the permission', async () => {
      const dir = await makeRepo();
      const audit = AuditLog.forWorkspace(dir);
      const files = new NodeWorkspaceFiles(dir);
      await recordBranch(audit, dir, 's-g');
      await audit.append({
        sessionId: 's-g',
        actor: { kind: 'human', id: 'bob@example.test', name: 'Bob', email: 'bob@example.test' },
        type: 'decision',
        data: {
          proposalId: 'p-perm',
          verdict: 'approve',
          reviewer: { kind: 'human', name: 'Bob', email: 'bob@example.test', source: 'git config' },
          reason: null,
        },
      });
      await audit.append({
        sessionId: 's-g',
        actor: warden,
        type: 'decision',
        data: {
          proposalId: 'p-edit',
          verdict: 'approve',
          reviewer: { kind: 'warden', name: 'warden', source: 'earlier approval' },
          reason: 'approved as permission request p-perm',
          grantedBy: 'p-perm',
        },
      });
      const { diskHash } = await files.write('src/app.js', 'v3\n');
      await audit.append({
        sessionId: 's-g',
        actor: warden,
        type: 'edit.applied',
        data: { proposalId: 'p-edit', path: 'src/app.js', reviewedHash: diskHash, diskHash },
      });
      const result = await commitApprovedChanges({
        workspaceRoot: dir,
        sessionId: 's-g',
        agent: { name: 'Bot', email: 'bot@example.test' },
        committer: human,
      });
      assert.deepEqual(result.approvers, ['Bob <bob@example.test>']);
      assert.equal((await git(dir, 'log', '-1', '--format=%an <%ae>')).trim(), 'Bot <bot@example.test>');
    });

    it('an edit the team policy allowed names the policy rule as its approver', async () => {
      const dir = await makeRepo();
      const audit = AuditLog.forWorkspace(dir);
      const files = new NodeWorkspaceFiles(dir);
      await recordBranch(audit, dir, 's-pol');
      await audit.append({
        sessionId: 's-pol',
        actor: { kind: 'policy', id: 'team.allow-src' },
        type: 'decision',
        data: {
          proposalId: 'p-auto',
          verdict: 'approve',
          reviewer: { kind: 'policy', name: 'team.allow-src', source: 'policy' },
          reason: 'src/** is allowed',
        },
      });
      const { diskHash } = await files.write('src/app.js', 'v4\n');
      await audit.append({
        sessionId: 's-pol',
        actor: warden,
        type: 'edit.applied',
        data: { proposalId: 'p-auto', path: 'src/app.js', reviewedHash: diskHash, diskHash },
      });
      const result = await commitApprovedChanges({
        workspaceRoot: dir,
        sessionId: 's-pol',
        agent: DEFAULT_AGENT_IDENTITY,
        committer: human,
      });
      assert.deepEqual(result.approvers, ['policy team.allow-src']);
      assert.match(await git(dir, 'log', '-1', '--format=%B'), /^Approved-by: policy team\.allow-src$/m);
    });

    it("refuses files changed after they were applied, and files that held the user's uncommitted work", async () => {
      const dir = await makeRepo();
      await fs.writeFile(path.join(dir, 'README.md'), '# my unsaved notes\n');
      const audit = AuditLog.forWorkspace(dir);
      const files = new NodeWorkspaceFiles(dir);
      await recordBranch(audit, dir, 's-r');
      await applyApproved(audit, files, 's-r', 'src/app.js', 'v2\n', 'p-1');
      await fs.appendFile(path.join(dir, 'src/app.js'), 'typed later\n');
      await assert.rejects(
        commitApprovedChanges({ workspaceRoot: dir, sessionId: 's-r', agent: DEFAULT_AGENT_IDENTITY, committer: human }),
        (error: unknown) => {
          assert.ok(error instanceof CommitRefusedError);
          assert.match(error.message, /src\/app\.js changed after Warden applied the approved proposal/);
          return true;
        },
      );
      await fs.writeFile(path.join(dir, 'src/app.js'), 'v2\n');
      await applyApproved(audit, files, 's-r', 'README.md', '# my unsaved notes\nplus the agent\n', 'p-2');
      await assert.rejects(
        commitApprovedChanges({ workspaceRoot: dir, sessionId: 's-r', agent: DEFAULT_AGENT_IDENTITY, committer: human }),
        /README\.md had your uncommitted changes when the session started/,
      );
      assert.equal(
        (await git(dir, 'rev-parse', 'warden/s-r')).trim(),
        (await git(dir, 'rev-parse', 'main')).trim(),
        'nothing was committed',
      );
    });

    it('never commits to a protected branch, even when the session branch would be one', async () => {
      const dir = await makeRepo();
      const audit = AuditLog.forWorkspace(dir);
      const files = new NodeWorkspaceFiles(dir);
      await recordBranch(audit, dir, 's-p');
      await applyApproved(audit, files, 's-p', 'src/app.js', 'v2\n', 'p-1');
      const before = (await git(dir, 'rev-parse', 'warden/s-p')).trim();
      await assert.rejects(
        commitApprovedChanges({
          workspaceRoot: dir,
          sessionId: 's-p',
          agent: DEFAULT_AGENT_IDENTITY,
          committer: human,
          protectedBranches: ['main', 'warden/*'],
        }),
        (error: unknown) => error instanceof ProtectedBranchError && error.operation === 'commit' && error.glob === 'warden/*',
      );
      assert.equal((await git(dir, 'rev-parse', 'warden/s-p')).trim(), before);
    });

    it('refuses to commit on a broken audit log', async () => {
      const dir = await makeRepo();
      const audit = AuditLog.forWorkspace(dir);
      const files = new NodeWorkspaceFiles(dir);
      await recordBranch(audit, dir, 's-b');
      await applyApproved(audit, files, 's-b', 'src/app.js', 'v2\n', 'p-1');
      // Another session's chain, broken too: it does not hide this session's break, nor cause it.
      await audit.append({ sessionId: 's-other', actor: warden, type: 'instruction', data: { text: 'x' } });
      const segment = path.join(dir, '.warden/audit/sessions/s-b/audit-000001.jsonl');
      const text = await fs.readFile(segment, 'utf8');
      await fs.writeFile(segment, text.replace('"verdict":"approve"', '"verdict":"apprové"'));
      assert.equal((await verifyAuditLog(dir)).ok, false);
      await assert.rejects(
        commitApprovedChanges({ workspaceRoot: dir, sessionId: 's-b', agent: DEFAULT_AGENT_IDENTITY, committer: human }),
        /audit log does not verify/,
      );
    });
  });

  describe('checkpoints', () => {
    it('are commits on refs/warden/checkpoints/<session>/<n>, built in a temporary index: branch, index and log untouched', async () => {
      const dir = await makeRepo();
      await fs.writeFile(path.join(dir, 'README.md'), '# staged by the user\n');
      await git(dir, 'add', 'README.md');
      await fs.writeFile(path.join(dir, 'scratch.txt'), 'untracked\n');
      const headBefore = (await git(dir, 'rev-parse', 'HEAD')).trim();
      const statusBefore = await git(dir, 'status', '--porcelain');
      const indexBefore = await git(dir, 'ls-files', '--stage');
      const checkpoints = (await Checkpoints.open(dir))!;
      const one = await checkpoints.create('s-k', { paths: ['src/app.js'], label: 'Before applying p-1' });
      const two = await checkpoints.create('s-k', { paths: ['src/b.js'], label: 'Before applying p-2' });
      assert.equal(one.ref, 'refs/warden/checkpoints/s-k/1');
      assert.equal(two.ref, 'refs/warden/checkpoints/s-k/2');
      assert.equal((await git(dir, 'rev-parse', 'HEAD')).trim(), headBefore);
      assert.equal(await git(dir, 'status', '--porcelain'), statusBefore);
      assert.equal(await git(dir, 'ls-files', '--stage'), indexBefore);
      assert.equal((await git(dir, 'branch', '--list')).trim(), '* main', 'no branch was created');
      assert.equal((await git(dir, 'log', '--oneline', '--branches')).trim().split('\n').length, 1);
      assert.equal(await git(dir, 'show', `${one.commit}:README.md`), '# staged by the user\n');
      assert.equal(await git(dir, 'show', `${one.commit}:scratch.txt`), 'untracked\n');
      const refs = await git(dir, 'for-each-ref', '--format=%(refname)', 'refs/warden');
      assert.deepEqual(refs.trim().split('\n'), ['refs/warden/checkpoints/s-k/1', 'refs/warden/checkpoints/s-k/2']);
      const listed = await checkpoints.list('s-k');
      assert.deepEqual(
        listed.map((c) => [c.n, c.paths, c.label]),
        [
          [1, ['src/app.js'], 'Before applying p-1'],
          [2, ['src/b.js'], 'Before applying p-2'],
        ],
      );
    });

    it("roll back restores the files the later batches changed, deletes files they created, and leaves the user's other files alone", async () => {
      const dir = await makeRepo();
      const files = new NodeWorkspaceFiles(dir);
      const checkpoints = (await Checkpoints.open(dir))!;
      await checkpoints.create('s-rb', { paths: ['src/app.js'], label: 'batch 1' });
      await files.write('src/app.js', 'agent v2\n');
      await checkpoints.create('s-rb', { paths: ['src/created.js'], label: 'batch 2' });
      await files.write('src/created.js', 'new file\n');
      await checkpoints.create('s-rb', { paths: ['src/app.js'], label: 'batch 3' });
      await files.write('src/app.js', 'agent v3\n');
      await fs.writeFile(path.join(dir, 'README.md'), '# the user kept typing\n');

      const toTwo = await checkpoints.rollback('s-rb', 2, files);
      assert.deepEqual([toTwo.restored, toTwo.deleted], [['src/app.js'], ['src/created.js']]);
      assert.equal(await fs.readFile(path.join(dir, 'src/app.js'), 'utf8'), 'agent v2\n');
      assert.equal(await files.read('src/created.js'), null);
      assert.equal(await fs.readFile(path.join(dir, 'README.md'), 'utf8'), '# the user kept typing\n');
      assert.equal(toTwo.safety.n, 4, 'a safety checkpoint was taken first');

      const toOne = await checkpoints.rollback('s-rb', 1, files);
      assert.deepEqual(toOne.restored, ['src/app.js']);
      assert.equal(await fs.readFile(path.join(dir, 'src/app.js'), 'utf8'), 'console.log("v1");\n');
      // The safety checkpoint undoes the rollback.
      await checkpoints.rollback('s-rb', toTwo.safety.n, files);
      assert.equal(await fs.readFile(path.join(dir, 'src/app.js'), 'utf8'), 'agent v3\n');
      assert.equal(await fs.readFile(path.join(dir, 'src/created.js'), 'utf8'), 'new file\n');
      await assert.rejects(checkpoints.rollback('s-rb', 99, files), /has no checkpoint 99/);
    });

    it('prune keeps the last N of each session and drops sessions older than D days', async () => {
      const dir = await makeRepo();
      const checkpoints = (await Checkpoints.open(dir))!;
      for (let i = 0; i < 5; i++) await checkpoints.create('s-new', { paths: [], label: `n${i}` });
      for (let i = 0; i < 2; i++) await checkpoints.create('s-old', { paths: [], label: `o${i}` });
      await checkpoints.create('s-running', { paths: [], label: 'r' });
      // s-old's newest checkpoint is 30 days old: rewrite its refs to back-dated commits.
      for (const c of await checkpoints.list('s-old')) {
        const tree = (await git(dir, 'rev-parse', `${c.commit}^{tree}`)).trim();
        const date = '2000-01-01T00:00:00Z';
        const { stdout } = await exec('git', ['commit-tree', tree, '-m', `old\n\nWarden-Session: s-old`], {
          cwd: dir,
          env: { ...process.env, GIT_COMMITTER_DATE: date, GIT_AUTHOR_DATE: date },
        });
        await git(dir, 'update-ref', c.ref, stdout.trim());
      }
      const deleted = await checkpoints.prune({ keepLast: 2, maxAgeDays: 14, keepSessions: ['s-running'], now: new Date() });
      assert.deepEqual(deleted.sort(), [
        'refs/warden/checkpoints/s-new/1',
        'refs/warden/checkpoints/s-new/2',
        'refs/warden/checkpoints/s-new/3',
        'refs/warden/checkpoints/s-old/1',
        'refs/warden/checkpoints/s-old/2',
      ]);
      const left = (await git(dir, 'for-each-ref', '--format=%(refname)', 'refs/warden')).trim().split('\n');
      assert.deepEqual(left, ['refs/warden/checkpoints/s-new/4', 'refs/warden/checkpoints/s-new/5', 'refs/warden/checkpoints/s-running/1']);
    });
  });
});

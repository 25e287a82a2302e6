import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BranchSwitchError, branchState, returnToBranch, settleUncommitted } from '../../src/core/git/branchChoice';
import { startSessionBranch } from '../../src/core/git/sessionBranch';

describe('session branches: uncommitted work moves only as the human chose', function () {
  // Real git: a dozen processes per test, slow on a loaded machine.
  this.timeout(30_000);
  let root: string;
  const git = (...args: string[]): string => execFileSync('git', args, { cwd: root, encoding: 'utf8' });

  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'warden-branch-choice-'));
    git('init', '--quiet', '--initial-branch=main');
    git('config', 'user.name', 'Ada');
    git('config', 'user.email', 'ada@example.test');
    git('config', 'commit.gpgsign', 'false');
    await fs.writeFile(path.join(root, 'a.txt'), 'one\n');
    git('add', '-A');
    git('commit', '--quiet', '-m', 'initial');
  });
  afterEach(() => fs.rm(root, { recursive: true, force: true }));

  it('reports the branch and the uncommitted paths (the audit log aside); none outside git', async () => {
    await fs.writeFile(path.join(root, 'a.txt'), 'two\n');
    await fs.writeFile(path.join(root, 'new.txt'), 'new\n');
    await fs.mkdir(path.join(root, '.warden', 'audit'), { recursive: true });
    await fs.writeFile(path.join(root, '.warden', 'audit', 'x.jsonl'), '{}\n');
    assert.deepEqual(await branchState(root), { current: 'main', uncommitted: ['a.txt', 'new.txt'] });
    assert.equal(await branchState(os.tmpdir()), undefined);
  });

  it('stash: the session branch starts clean and the work waits in the stash; the audit log stays', async () => {
    await fs.writeFile(path.join(root, 'a.txt'), 'two\n');
    await fs.mkdir(path.join(root, '.warden', 'audit'), { recursive: true });
    await fs.writeFile(path.join(root, '.warden', 'audit', 'x.jsonl'), '{}\n');
    await settleUncommitted(root, 'stash', 'Warden: wip');
    assert.match(git('stash', 'list'), /Warden: wip/);
    assert.equal(await fs.readFile(path.join(root, 'a.txt'), 'utf8'), 'one\n');
    assert.ok(await fs.stat(path.join(root, '.warden', 'audit', 'x.jsonl')), 'the audit log is not stashed');
    const branch = await startSessionBranch(root, 's-1');
    assert.deepEqual(branch.status === 'created' && [branch.previousBranch, branch.carried], ['main', []]);
  });

  it('stash and commit work when .warden/ is git-ignored (as the README advises): naming the ignored audit folder made git refuse', async () => {
    await fs.writeFile(path.join(root, '.gitignore'), '.warden/\n');
    git('add', '-A');
    git('commit', '--quiet', '-m', 'ignore warden');
    await fs.mkdir(path.join(root, '.warden', 'audit'), { recursive: true });
    await fs.writeFile(path.join(root, '.warden', 'audit', 'x.jsonl'), '{}\n');
    await fs.writeFile(path.join(root, 'notes.txt'), 'unfinished\n');
    await settleUncommitted(root, 'stash', 'Warden: wip');
    assert.match(git('stash', 'list'), /Warden: wip/);
    assert.deepEqual((await branchState(root))?.uncommitted, []);
    await fs.writeFile(path.join(root, 'a.txt'), 'two\n');
    await settleUncommitted(root, 'commit', 'Warden: more');
    assert.equal(git('log', '-1', '--format=%s').trim(), 'Warden: more');
    assert.ok(await fs.stat(path.join(root, '.warden', 'audit', 'x.jsonl')), 'the audit log stays');
  });

  it("commit: the work is committed in the human's name before the branch", async () => {
    await fs.writeFile(path.join(root, 'a.txt'), 'two\n');
    await settleUncommitted(root, 'commit', 'Warden: wip');
    assert.equal(git('log', '-1', '--format=%s|%an').trim(), 'Warden: wip|Ada');
    assert.deepEqual((await branchState(root))?.uncommitted, []);
  });

  it('returning refuses to carry uncommitted work back unless told what to do with it', async () => {
    await startSessionBranch(root, 's-2');
    await fs.writeFile(path.join(root, 'a.txt'), 'session\n');
    await assert.rejects(returnToBranch(root, 'main'), BranchSwitchError);
    assert.equal(git('branch', '--show-current').trim(), 'warden/s-2', 'nothing moved');
    await returnToBranch(root, 'main', 'commit');
    assert.equal(git('branch', '--show-current').trim(), 'main');
    assert.equal(await fs.readFile(path.join(root, 'a.txt'), 'utf8'), 'one\n');
    assert.equal(git('show', 'warden/s-2:a.txt'), 'session\n', 'the session branch keeps the work');
  });
});

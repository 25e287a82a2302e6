import { strict as assert } from 'node:assert';
import {
  assertWritableBranch,
  classifyGitCommand,
  isProtectedBranch,
  ProtectedBranchError,
  resolveProtectedBranches,
} from '../../src/core/git/branchGuard';
import { SessionGit } from '../../src/core/git/sessionGit';
import { matchesBranchGlob, matchesPathGlob } from '../../src/core/git/glob';

describe('branch guard: protected branches', () => {
  it('protects main, master and release/* by default, and release/* reaches nested names (fails closed)', () => {
    for (const b of ['main', 'master', 'release/1.0', 'release/1.0/hotfix', 'refs/heads/main']) assert.ok(isProtectedBranch(b), b);
    for (const b of ['warden/s-1', 'feature/main', 'mainline', 'releases', 'release']) assert.ok(!isProtectedBranch(b), b);
  });

  it('takes the protected globs as a parameter (the policy supplies them)', () => {
    assert.ok(isProtectedBranch('prod', ['prod', 'hotfix/*']));
    assert.ok(!isProtectedBranch('main', ['prod']));
    assert.ok(matchesBranchGlob('team/x/y', 'team/*'));
  });

  it("the policy's git.protectedBranches replaces the default when it lists any; absent or empty keeps the default", () => {
    assert.deepEqual(resolveProtectedBranches(undefined), ['main', 'master', 'release/*']);
    assert.deepEqual(resolveProtectedBranches([]), ['main', 'master', 'release/*']);
    assert.deepEqual(resolveProtectedBranches(['trunk', 'prod/*']), ['trunk', 'prod/*']);
    const git = new SessionGit({ workspaceRoot: '/nonexistent' });
    assert.deepEqual(git.protectedBranches, ['main', 'master', 'release/*']);
    let policy: { protectedBranches?: string[] } | undefined = { protectedBranches: ['trunk'] };
    git.followPolicy(() => policy);
    assert.deepEqual(git.protectedBranches, ['trunk']);
    policy = undefined; // an invalid policy has no git section
    assert.deepEqual(git.protectedBranches, ['main', 'master', 'release/*']);
  });

  it("Warden's own writes to a protected branch throw a ProtectedBranchError naming the glob", () => {
    assert.throws(
      () => assertWritableBranch('release/2', 'commit'),
      (error: unknown) => {
        assert.ok(error instanceof ProtectedBranchError);
        assert.equal(error.glob, 'release/*');
        assert.match(error.message, /does not commit to the protected branch "release\/2"/);
        return true;
      },
    );
    assertWritableBranch('warden/s-1', 'commit');
  });
});

describe('classifyGitCommand', () => {
  const on = (currentBranch: string | undefined) => ({ currentBranch });

  it('denies pushing to a protected branch, by refspec or by the current branch', () => {
    const explicit = classifyGitCommand('git push origin main', on('warden/s-1'));
    assert.equal(explicit?.verdict, 'deny');
    assert.equal(explicit?.rule, 'git.push.protected');
    assert.match(explicit.reason, /"main", a protected branch \(matches "main"\)/);
    assert.equal(classifyGitCommand('git push origin HEAD:refs/heads/release/3', on('warden/s-1'))?.verdict, 'deny');
    assert.equal(classifyGitCommand('git push', on('master'))?.verdict, 'deny');
    assert.equal(classifyGitCommand('git push origin HEAD', on('main'))?.verdict, 'deny');
  });

  it('denies force pushes and deletions of protected branches, asks for force pushes elsewhere', () => {
    assert.equal(classifyGitCommand('git push --force origin main')?.rule, 'git.push.force.protected');
    assert.equal(classifyGitCommand('git push origin +main')?.verdict, 'deny');
    assert.equal(classifyGitCommand('git push origin :main')?.verdict, 'deny');
    assert.equal(classifyGitCommand('git push -fu origin main')?.verdict, 'deny');
    const feature = classifyGitCommand('git push --force-with-lease origin feature/x');
    assert.equal(feature?.verdict, 'ask');
    assert.equal(feature?.rule, 'git.push.force');
    assert.equal(classifyGitCommand('git push --force', on(undefined))?.verdict, 'deny', 'a force push to an unknown branch is denied');
  });

  it('denies --all and --mirror, asks an ordinary push of a session branch', () => {
    assert.equal(classifyGitCommand('git push --all origin')?.rule, 'git.push.all');
    assert.equal(classifyGitCommand('git push --mirror backup')?.verdict, 'deny');
    const push = classifyGitCommand('git push origin warden/s-1', on('warden/s-1'));
    assert.deepEqual([push?.verdict, push?.rule], ['ask', 'git.push']);
  });

  it('denies commit, merge, rebase, reset and pull on a protected current branch; allows them on the session branch', () => {
    for (const line of [
      'git commit -m x',
      'git commit --amend',
      'git merge feature',
      'git rebase main',
      'git reset --hard HEAD~1',
      'git cherry-pick abc',
    ]) {
      const verdict = classifyGitCommand(line, on('main'));
      assert.equal(verdict?.verdict, 'deny', line);
    }
    assert.equal(classifyGitCommand('git commit -m x', on('main'))?.rule, 'git.commit.protected');
    assert.equal(classifyGitCommand('git merge feature', on('release/9'))?.rule, 'git.merge.protected');
    assert.equal(classifyGitCommand('git pull', on('main'))?.verdict, 'deny');
    assert.equal(classifyGitCommand('git commit -m x', on('warden/s-1')), null);
    assert.equal(classifyGitCommand('git merge --abort', on('main')), null);
    assert.equal(classifyGitCommand('git commit -m x', on(undefined))?.verdict, 'ask', 'unknown branch means ask');
  });

  it('sees git through shells, env prefixes, global options and command lists', () => {
    assert.equal(classifyGitCommand('npm test && git push origin main')?.verdict, 'deny');
    assert.equal(classifyGitCommand(['sh', '-c', 'cd repo; git -C . -c user.name=x push origin master'])?.verdict, 'deny');
    assert.equal(classifyGitCommand('GIT_TRACE=1 /usr/bin/git push origin "release/1"')?.verdict, 'deny');
    assert.equal(classifyGitCommand(['git', 'push', 'origin', 'main'])?.verdict, 'deny');
    assert.equal(classifyGitCommand('echo "git push origin main"'), null, 'a quoted word is not a command');
  });

  it('denies resetting or deleting protected branches by name, asks credential and remote changes', () => {
    assert.equal(classifyGitCommand('git branch -D main')?.rule, 'git.branch.protected');
    assert.equal(classifyGitCommand('git branch -f master HEAD')?.verdict, 'deny');
    assert.equal(classifyGitCommand('git checkout -B main')?.verdict, 'deny');
    assert.equal(classifyGitCommand('git update-ref refs/heads/main HEAD')?.verdict, 'deny');
    assert.equal(classifyGitCommand('git config credential.helper store')?.verdict, 'ask');
    assert.equal(classifyGitCommand('git remote add evil https://example.invalid/x.git')?.verdict, 'ask');
  });

  it('has nothing to say about read-only git and other programs', () => {
    for (const line of [
      'git status',
      'git log --oneline',
      'git diff HEAD',
      'git branch',
      'git switch main',
      'ls -la',
      'node --test test/',
    ]) {
      assert.equal(classifyGitCommand(line, on('main')), null, line);
    }
  });
});

describe('path globs', () => {
  it('matches like .gitignore: * in one segment, ** across, bare names at any depth, trailing / for folders', () => {
    assert.ok(matchesPathGlob('src/a.ts', 'src/*.ts'));
    assert.ok(!matchesPathGlob('src/x/a.ts', 'src/*.ts'));
    assert.ok(matchesPathGlob('src/x/a.ts', 'src/**/*.ts'));
    assert.ok(matchesPathGlob('src/a.ts', 'src/**/*.ts'));
    assert.ok(matchesPathGlob('deep/down/.env', '.env'));
    assert.ok(matchesPathGlob('docs/a/b.md', 'docs/'));
    assert.ok(matchesPathGlob('a.json', '*.{json,yaml}'));
    assert.ok(!matchesPathGlob('a.jsonc', '*.{json,yaml}'));
  });
});

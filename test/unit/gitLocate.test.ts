import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { resolveReviewer } from '../../src/core/git/identity';
import { GitRepo } from '../../src/core/git/repo';

/**
 * Real git, behind a wrapper first on PATH that logs each run: Warden asks git where a
 * workspace's repository is once, and again only when a `.git` entry it rests on changed
 * (issue 21: every git run forks the extension host).
 */
describe('git: where the repository is, and who the reviewer is', function () {
  this.timeout(30_000);
  let root: string;
  let runs: string;
  let savedPath: string | undefined;
  const gitRuns = (): string[] => readFileSync(runs, 'utf8').split('\n').filter(Boolean);
  /** The reviewer's question (where the repository is, GitRepo's, is remembered apart). */
  const configRuns = (): string[] => gitRuns().filter((run) => run.startsWith('config --list'));
  const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8' });

  beforeEach(() => {
    root = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'warden-git-locate-')));
    runs = path.join(root, 'runs.log');
    writeFileSync(runs, '');
    const shims = path.join(root, 'shims');
    mkdirSync(shims);
    const realGit = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim();
    writeFileSync(path.join(shims, 'git'), `#!/bin/sh\necho "$*" >> '${runs}'\nexec '${realGit}' "$@"\n`);
    chmodSync(path.join(shims, 'git'), 0o755);
    savedPath = process.env.PATH;
    process.env.PATH = `${shims}${path.delimiter}${savedPath ?? ''}`;
  });
  afterEach(() => {
    process.env.PATH = savedPath;
    rmSync(root, { recursive: true, force: true });
  });

  it('asks git once for a folder in a repository, and again when a repository is made inside it', async () => {
    git(root, 'init', '-q', 'repo');
    const workspace = path.join(root, 'repo', 'ws');
    mkdirSync(workspace);
    const first = await GitRepo.open(workspace);
    assert.equal(first?.toplevel, path.join(root, 'repo'));
    assert.equal(first?.prefix, 'ws/');
    assert.equal(await GitRepo.open(workspace), first, 'the same answer, remembered');
    assert.equal(gitRuns().filter((run) => run.startsWith('rev-parse --show-toplevel')).length, 1);

    git(workspace, 'init', '-q');
    const nested = await GitRepo.open(workspace);
    assert.equal(nested?.toplevel, workspace, 'a repository made in the folder is seen at once');
    assert.equal(nested?.prefix, '');
    assert.equal(gitRuns().filter((run) => run.startsWith('rev-parse --show-toplevel')).length, 2);

    rmSync(path.join(workspace, '.git'), { recursive: true });
    assert.equal((await GitRepo.open(workspace))?.toplevel, path.join(root, 'repo'), 'and its removal too');
  });

  it('remembers that a folder is in no repository until one is made around it', async () => {
    const workspace = path.join(root, 'plain', 'ws');
    mkdirSync(workspace, { recursive: true });
    // The machine's temp folder is in no repository: were it, this test would not say anything.
    assert.equal(await GitRepo.locate(workspace), undefined, 'the temp folder is not inside a git repository');
    writeFileSync(runs, '');
    assert.equal(await GitRepo.open(workspace), undefined);
    assert.equal(await GitRepo.open(workspace), undefined);
    assert.equal(gitRuns().length, 1, 'git ran once for both');

    git(path.join(root, 'plain'), 'init', '-q');
    assert.equal((await GitRepo.open(workspace))?.toplevel, path.join(root, 'plain'));
  });

  describe('reviewer', () => {
    let savedHome: string | undefined;
    let savedNoSystem: string | undefined;
    beforeEach(() => {
      savedHome = process.env.HOME;
      savedNoSystem = process.env.GIT_CONFIG_NOSYSTEM;
      process.env.HOME = path.join(root, 'home');
      process.env.GIT_CONFIG_NOSYSTEM = '1';
      mkdirSync(process.env.HOME);
    });
    afterEach(() => {
      process.env.HOME = savedHome;
      if (savedNoSystem === undefined) delete process.env.GIT_CONFIG_NOSYSTEM;
      else process.env.GIT_CONFIG_NOSYSTEM = savedNoSystem;
    });

    it("reads user.name and user.email in one git config run, the repository's own winning, includes followed", async () => {
      writeFileSync(path.join(root, 'home', '.gitconfig'), '[user]\n\tname = Global Name\n\temail = global@example.com\n');
      git(root, 'init', '-q', 'repo');
      const repo = path.join(root, 'repo');
      writeFileSync(path.join(root, 'extra.gitconfig'), '[user]\n\temail = included@example.com\n');
      git(repo, 'config', 'user.name', 'Ana María  Núñez');
      git(repo, 'config', 'include.path', path.join(root, 'extra.gitconfig'));
      writeFileSync(runs, '');
      assert.deepEqual(await resolveReviewer(repo), {
        kind: 'human',
        name: 'Ana María  Núñez',
        email: 'included@example.com',
        source: 'git config',
      });
      assert.equal(configRuns().length, 1);
    });

    it('asks git once, and again when a config file it read, an included one or a usual one changes', async () => {
      const global = path.join(root, 'home', '.gitconfig');
      writeFileSync(global, '[user]\n\tname = Global Name\n');
      git(root, 'init', '-q', 'repo');
      const repo = path.join(root, 'repo');
      const included = path.join(root, 'extra.gitconfig');
      writeFileSync(included, '[user]\n\temail = a@example.com\n');
      git(repo, 'config', 'include.path', included);
      writeFileSync(runs, '');
      const named = (name: string, email?: string) => ({ kind: 'human', name, ...(email ? { email } : {}), source: 'git config' });
      assert.deepEqual(await resolveReviewer(repo), named('Global Name', 'a@example.com'));
      assert.deepEqual(await resolveReviewer(repo), named('Global Name', 'a@example.com'));
      assert.equal(configRuns().length, 1, 'the second session found the answer remembered');

      writeFileSync(included, '[user]\n\temail = changed@example.com\n');
      assert.deepEqual(await resolveReviewer(repo), named('Global Name', 'changed@example.com'), 'an included file');
      git(repo, 'config', 'user.name', 'Local Name');
      assert.deepEqual(await resolveReviewer(repo), named('Local Name', 'changed@example.com'), "the repository's config");
      writeFileSync(global, '[user]\n\tname = Other Global\n\temail = g@example.com\n');
      git(repo, 'config', '--unset', 'user.name');
      assert.deepEqual(await resolveReviewer(repo), named('Other Global', 'changed@example.com'), 'the global config');
      mkdirSync(path.join(root, 'home', '.config', 'git'), { recursive: true });
      writeFileSync(path.join(root, 'home', '.config', 'git', 'config'), '[user]\n\tname = XDG Name\n');
      rmSync(global);
      assert.deepEqual(await resolveReviewer(repo), named('XDG Name', 'changed@example.com'), 'a usual config file made, one removed');
      git(repo, 'commit', '-q', '--allow-empty', '-m', 'work goes on');
      const asked = configRuns().length;
      assert.deepEqual(await resolveReviewer(repo), named('XDG Name', 'changed@example.com'));
      assert.equal(configRuns().length, asked, 'a commit changes no config: still remembered');
    });

    it('a repository made around the workspace is seen; a config that includes by branch is asked each time', async () => {
      const workspace = path.join(root, 'plain', 'ws');
      mkdirSync(workspace, { recursive: true });
      assert.deepEqual(await resolveReviewer(workspace), { kind: 'human', name: os.userInfo().username, source: 'os user' });
      git(path.join(root, 'plain'), 'init', '-q');
      git(path.join(root, 'plain'), 'config', 'user.name', 'Repo Name');
      assert.equal((await resolveReviewer(workspace)).name, 'Repo Name');

      const branchConfig = path.join(root, 'branch.gitconfig');
      writeFileSync(branchConfig, '[user]\n\tname = Branch Name\n');
      git(path.join(root, 'plain'), 'config', 'includeIf.onbranch:feature/**.path', branchConfig);
      assert.equal((await resolveReviewer(workspace)).name, 'Repo Name');
      git(path.join(root, 'plain'), 'checkout', '-q', '-b', 'feature/x');
      assert.equal((await resolveReviewer(workspace)).name, 'Branch Name', 'HEAD moved: not a file Warden stamps, so never remembered');
    });

    it('falls back to the OS user when git has no name', async () => {
      git(root, 'init', '-q', 'repo');
      git(path.join(root, 'repo'), 'config', 'user.email', 'only@example.com');
      assert.deepEqual(await resolveReviewer(path.join(root, 'repo')), { kind: 'human', name: os.userInfo().username, source: 'os user' });
      assert.deepEqual(await resolveReviewer(path.join(root, 'home')), { kind: 'human', name: os.userInfo().username, source: 'os user' });
    });
  });
});

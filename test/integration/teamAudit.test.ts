import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { existsSync, promises as fs, readdirSync, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { simpleGit, type SimpleGit } from 'simple-git';
import { EXIT } from '../../src/cli/exitCodes';
import type { RunSummary } from '../../src/cli/run';
import type { ChainVerifyReport, PrReport } from '../../src/core/audit';
import { copyDemoWorkspace } from '../support/workspace';
import { ensureSandboxPrerequisites, REPO_ROOT } from './prerequisites';

/**
 * Issue 19 as a team would try it: two clones of one repository, a session in each (`warden run
 * --agent demo` under an allowing policy), commit everything, push, pull. With one chain per
 * session the pull is a union of files: no conflict, and every chain verifies. Anchors in the
 * commits catch a session log that is deleted or cut afterwards.
 */

const run = promisify(execFile);
const CLI = path.join(REPO_ROOT, 'dist', 'cli.js');

const ALLOWING = `{
  "paths": [{ "id": "code-writes", "paths": ["src/**", "test/**"], "actions": ["write", "create"], "decision": "allow", "reason": "sources and tests are reviewed in the PR" }],
  "commands": [{ "id": "node-test", "match": "node --test *", "decision": "allow", "reason": "tests run in the sandbox" }]
}`;

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

async function warden(args: string[], cwd = os.tmpdir()): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], {
      cwd,
      env: { PATH: process.env.PATH ?? '', HOME: os.tmpdir(), GIT_CONFIG_NOSYSTEM: '1' },
      maxBuffer: 32 * 1024 * 1024,
      timeout: 150_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number | string; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw error;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs);
  }
  return newest;
}

interface VerifyJson {
  ok: boolean;
  chains: ChainVerifyReport[];
  anchors: Array<{ ok: boolean; reason?: string; anchor: { chain: string | null; commit: string } }>;
}

describe('the audit trail of a team merges in git (issue 19; real git, spawned dist/cli.js, real Docker)', function () {
  this.timeout(300_000);
  let root: string;
  let policyFile: string;
  let origin: string;
  let seed: string;

  const clone = async (name: string, who: string): Promise<{ dir: string; git: SimpleGit }> => {
    const dir = path.join(root, name);
    await simpleGit(root).clone(origin, dir);
    const git = simpleGit(dir);
    await git.addConfig('user.name', who);
    await git.addConfig('user.email', `${who.toLowerCase()}@example.com`);
    await git.addConfig('commit.gpgsign', 'false');
    return { dir, git };
  };

  /**
   * A developer's day: a session, then everything committed (the log through an anchor commit).
   * Every session gets the same instruction, so the demo agent writes the same code and only the
   * audit log could conflict: that is what is under test.
   */
  const session = async (dir: string, git: SimpleGit, who: string): Promise<RunSummary> => {
    const prompt = 'add a farewell function with tests';
    const out = await warden([
      'run',
      '-w',
      dir,
      '--agent',
      'demo',
      '--prompt',
      prompt,
      '--policy',
      policyFile,
      '--on-ask',
      'fail',
      '--timeout',
      '120',
      '--json',
    ]);
    assert.equal(out.code, EXIT.ok, out.stderr);
    const summary = JSON.parse(out.stdout) as RunSummary;
    assert.equal(summary.outcome, 'completed');
    const anchored = await warden(['audit', 'anchor', '-w', dir]);
    assert.equal(anchored.code, EXIT.ok, anchored.stderr);
    await git.add(['-A']);
    await git.commit(`work of ${who}`);
    return summary;
  };

  const verify = async (dir: string): Promise<{ code: number; json: VerifyJson; stderr: string }> => {
    const out = await warden(['audit', 'verify', '-w', dir, '--json']);
    return { code: out.code, json: JSON.parse(out.stdout) as VerifyJson, stderr: out.stderr };
  };

  const sessionChains = (report: VerifyJson): ChainVerifyReport[] => report.chains.filter((c) => c.chain !== 'legacy');

  before(async function () {
    this.timeout(600_000);
    await ensureSandboxPrerequisites();
    if (!existsSync(CLI) || statSync(CLI).mtimeMs < newestMtime(path.join(REPO_ROOT, 'src'))) {
      await run(process.execPath, [path.join(REPO_ROOT, 'esbuild.js')], { cwd: REPO_ROOT });
    }
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'warden-team-audit-'));
    policyFile = path.join(root, 'team-policy.json');
    await fs.writeFile(policyFile, ALLOWING);
    origin = path.join(root, 'origin.git');
    await simpleGit(root).init(true, [origin, '--initial-branch=main']);
    const start = path.join(root, 'start');
    await copyDemoWorkspace('', start);
    const g = simpleGit(start);
    await g.init(['--initial-branch=main']);
    await g.addConfig('user.name', 'Lead');
    await g.addConfig('user.email', 'lead@example.com');
    await g.addConfig('commit.gpgsign', 'false');
    await g.add(['-A']);
    await g.commit('initial');
    await g.addRemote('origin', origin);
    await g.push('origin', 'main');
    seed = (await g.revparse(['HEAD'])).trim();
  });

  after(async () => {
    if (root) await fs.rm(root, { recursive: true, force: true });
  });

  it('two developers each run a session, push and pull: no conflict, every chain verifies, the report names both', async () => {
    const alice = await clone('alice', 'Alice');
    const bob = await clone('bob', 'Bob');
    await session(alice.dir, alice.git, 'alice');
    await session(bob.dir, bob.git, 'bob');
    await alice.git.push('origin', 'main');

    // Bob's pull merges Alice's work into his: the log is a union of files, nothing to merge.
    const pulled = await bob.git.pull('origin', 'main', ['--no-rebase', '--no-edit']);
    assert.deepEqual(
      pulled.files.filter((f) => f.includes('.warden/audit/audit-')),
      [],
      'no single-chain segment is shared',
    );
    const status = await bob.git.status();
    assert.deepEqual(status.conflicted, [], 'the merge has no conflict');
    const merged = await verify(bob.dir);
    assert.equal(merged.code, EXIT.ok, merged.stderr);
    assert.equal(merged.json.ok, true);
    assert.equal(sessionChains(merged.json).length, 2, 'one chain per session, both present after the pull');
    assert.ok(
      merged.json.anchors.length >= 2 && merged.json.anchors.every((a) => a.ok),
      'each developer anchor commit names its chain and it is found',
    );
    await bob.git.push('origin', 'main');

    const report = await warden(['audit', 'report', '-w', bob.dir, '--range', `${seed}..HEAD`, '--json']);
    assert.equal(report.code, EXIT.ok, report.stderr);
    const pr = JSON.parse(report.stdout) as PrReport;
    assert.equal(pr.ok, true);
    assert.equal(pr.sessions.length, 2);
    assert.deepEqual(pr.sessions.map((s) => s.developer).sort(), ['Alice <alice@example.com>', 'Bob <bob@example.com>']);
    for (const s of pr.sessions) {
      assert.ok(s.approvals >= 3, 'two edits and one command (at least), approved by policy');
      assert.equal(s.automatic, s.approvals, 'all by the policy: nobody was asked');
      assert.equal(s.rejections, 0);
      assert.deepEqual(Object.keys(s.rules).sort(), ['code-writes', 'node-test']);
    }
    // Blame: the lines the range adds come from the policy-approved edits of the sessions.
    const blamed = pr.blame.files.filter((f) => f.attributed > 0);
    assert.ok(blamed.length > 0, JSON.stringify(pr.blame.files.map((f) => [f.path, f.attributed, f.lines.length])));
    for (const f of blamed) {
      for (const id of f.approvals) {
        const approval = pr.blame.approvals.find((a) => a.id === id);
        assert.equal(approval?.ruleId, 'code-writes', f.path);
        assert.equal(approval?.automatic, true);
      }
    }
    const markdown = await warden(['audit', 'report', '-w', bob.dir, '--range', `${seed}..HEAD`]);
    assert.equal(markdown.code, EXIT.ok, markdown.stderr);
    assert.match(markdown.stdout, /^## Warden audit report/m);
    assert.match(markdown.stdout, /\*\*Verified\*\*: 2 audit chain\(s\) intact/);
    assert.match(markdown.stdout, /Alice \\<alice@example\.com\\>/);
    assert.match(markdown.stdout, /^### Blame$/m);
    const blameText = await warden(['audit', 'blame', `${seed}..HEAD`, '-w', bob.dir]);
    assert.equal(blameText.code, EXIT.ok, blameText.stderr);
    assert.match(blameText.stdout, /session s-\S+ automatic \(policy rule code-writes\)/);
  });

  it('a rebase and a cherry-pick of another session also carry its chain without conflict', async () => {
    const carol = await clone('carol', 'Carol');
    await session(carol.dir, carol.git, 'carol');
    // Meanwhile Alice pushes another session.
    const alice = simpleGit(path.join(root, 'alice'));
    await alice.pull('origin', 'main', ['--no-rebase', '--no-edit']);
    await session(path.join(root, 'alice'), alice, 'alice again');
    await alice.push('origin', 'main');

    await carol.git.pull('origin', 'main', ['--rebase']);
    assert.deepEqual((await carol.git.status()).conflicted, []);
    const rebased = await verify(carol.dir);
    assert.equal(rebased.json.ok, true, rebased.stderr);
    assert.equal(sessionChains(rebased.json).length, 4);

    // A branch from the start takes only Carol's anchor commit.
    await carol.git.checkout(['-b', 'pick', seed]);
    const carolAnchor = (await carol.git.raw(['log', 'main', '--author=Carol', '--grep=^Warden audit anchor', '--format=%H'])).trim();
    assert.ok(carolAnchor);
    await carol.git.raw(['cherry-pick', carolAnchor]);
    const picked = await verify(carol.dir);
    assert.equal(picked.json.ok, true, picked.stderr);
    assert.equal(sessionChains(picked.json).length, 1, "only Carol's chain is on this branch");
    await carol.git.checkout('main');
  });

  it('a tampered line is reported for that chain only; a deleted and a truncated session log are caught by the anchors', async () => {
    const bob = simpleGit(path.join(root, 'bob'));
    await bob.pull('origin', 'main', ['--no-rebase', '--no-edit']);
    const dir = path.join(root, 'bob');
    const before = await verify(dir);
    assert.equal(before.json.ok, true, before.stderr);
    const chains = sessionChains(before.json).map((c) => c.chain);
    assert.ok(chains.length >= 3);
    const [tampered, deleted, truncated] = chains as [string, string, string];
    const segment = (chain: string): string => path.join(dir, '.warden', 'audit', 'sessions', chain, 'audit-000001.jsonl');

    const lines = (await fs.readFile(segment(tampered), 'utf8')).split('\n');
    lines[2] = (lines[2] ?? '').replace('"type":"', '"type":"x');
    await fs.writeFile(segment(tampered), lines.join('\n'));
    await fs.rm(path.join(dir, '.warden', 'audit', 'sessions', deleted), { recursive: true });
    const kept = (await fs.readFile(segment(truncated), 'utf8')).split('\n').filter(Boolean).slice(0, 4);
    await fs.writeFile(segment(truncated), kept.map((l) => `${l}\n`).join(''));

    const after = await verify(dir);
    assert.equal(after.code, EXIT.audit);
    assert.equal(after.json.ok, false);
    const byChain = new Map(after.json.chains.map((c) => [c.chain, c]));
    assert.equal(byChain.get(tampered)?.ok, false);
    assert.equal(byChain.get(tampered)?.firstBreak?.line, 4, 'the break is named where the chain breaks');
    assert.equal(byChain.get(truncated)?.ok, true, 'a cut tail is still a valid chain: only the anchor tells');
    for (const other of chains.filter((c) => c !== tampered && c !== deleted)) assert.equal(byChain.get(other)?.ok, true, other);
    assert.equal(byChain.has(deleted), false);
    const failures = after.json.anchors.filter((a) => !a.ok).map((a) => a.reason ?? '');
    assert.ok(
      failures.some((r) => new RegExp(`session chain ${deleted} is referenced by commit [0-9a-f]{12} .*but its log is gone`).test(r)),
      failures.join('\n'),
    );
    assert.ok(
      failures.some((r) => new RegExp(`session chain ${truncated} is referenced by commit [0-9a-f]{12} but its log is shorter`).test(r)),
      failures.join('\n'),
    );
    assert.match(after.stderr, new RegExp(`audit chain ${tampered} does not verify`));
    const report = await warden(['audit', 'report', '-w', dir, '--range', `${seed}..HEAD`]);
    assert.equal(report.code, EXIT.audit);
    assert.match(report.stdout, /\*\*Does not verify\*\*/);
  });
});

import { strict as assert } from 'node:assert';
import { execFile, spawn } from 'node:child_process';
import { existsSync, promises as fs, readdirSync, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import type { RunSummary } from '../../src/cli/run';
import { EXIT } from '../../src/cli/exitCodes';
import { ensureSandboxPrerequisites, REPO_ROOT } from './prerequisites';
import { copyDemoWorkspace, readAudit, snapshot } from '../support/workspace';

const run = promisify(execFile);
const CLI = path.join(REPO_ROOT, 'dist', 'cli.js');

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Spawns the built bin, as a pipeline would. */
async function warden(args: string[]): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], {
      cwd: os.tmpdir(),
      env: { PATH: process.env.PATH ?? '', HOME: os.tmpdir() },
      maxBuffer: 32 * 1024 * 1024,
      timeout: 120_000,
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

const ALLOWING = `{
  "paths": [{ "id": "code-writes", "paths": ["src/**", "test/**"], "actions": ["write", "create"], "decision": "allow", "reason": "sources and tests are reviewed in the PR" }],
  "commands": [{ "id": "node-test", "match": "node --test *", "decision": "allow", "reason": "tests run in the sandbox" }]
}`;

const ASKING = `{
  "defaults": { "write": "ask", "command": "ask" },
  "paths": [{ "id": "review-code", "paths": ["src/**", "test/**"], "actions": ["write", "create"], "decision": "ask", "reason": "a human reviews every change" }],
  "commands": [{ "id": "review-node", "match": "node *", "decision": "ask", "reason": "a human reviews every script" }]
}`;

describe('warden CLI (spawned dist/cli.js, real Docker engine)', function () {
  this.timeout(120_000);
  let root: string;
  let workspace: string;

  before(async function () {
    this.timeout(600_000);
    await ensureSandboxPrerequisites();
    // The bin under test must be built from the current sources.
    if (
      !existsSync(CLI) ||
      statSync(CLI).mtimeMs < Math.max(newestMtime(path.join(REPO_ROOT, 'src')), newestMtime(path.join(REPO_ROOT, 'test/fixtures/agents')))
    ) {
      await run(process.execPath, [path.join(REPO_ROOT, 'esbuild.js')], { cwd: REPO_ROOT });
    }
  });

  beforeEach(async () => {
    // The workspace sits in a private folder, so the hostile agent's ../x has a place to be looked for.
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'warden-cli-it-'));
    workspace = path.join(root, 'ws');
    await copyDemoWorkspace('', workspace);
  });

  afterEach(async () => {
    await fs.rm(root, { recursive: true, force: true });
  });

  it("under an allowing policy (--policy outside the workspace) the demo agent's edits are applied and the run succeeds", async () => {
    const policyFile = path.join(root, 'ci-policy.json');
    await fs.writeFile(policyFile, ALLOWING);
    const out = await warden([
      'run',
      '--workspace',
      workspace,
      '--agent',
      'demo',
      '--prompt',
      'add a farewell function with tests',
      '--policy',
      policyFile,
      '--on-ask',
      'fail',
      '--timeout',
      '90',
      '--json',
    ]);
    assert.equal(out.code, EXIT.ok, out.stderr);
    assert.equal(out.stderr, '');
    const summary = JSON.parse(out.stdout) as RunSummary;
    assert.equal(summary.outcome, 'completed');
    assert.equal(summary.stopReason, 'end_turn');
    assert.deepEqual(summary.filesChanged, ['src/greet.js', 'test/greet.test.js']);
    assert.deepEqual(summary.proposals.byKind.edit, { approved: 2, rejected: 0, undecided: 0 });
    assert.deepEqual(summary.proposals.byKind.command, { approved: 1, rejected: 0, undecided: 0 });
    assert.equal(summary.proposals.decidedBy['policy rule code-writes'], 2);
    assert.equal(summary.proposals.decidedBy['policy rule node-test'], 1);
    assert.deepEqual(summary.asks, []);
    assert.equal(summary.audit.ok, true);
    assert.match(await fs.readFile(path.join(workspace, 'src/greet.js'), 'utf8'), /function farewell/);

    const verify = await warden(['audit', 'verify', '--workspace', workspace]);
    assert.equal(verify.code, EXIT.ok, verify.stderr);
    assert.match(verify.stdout, /Audit log verified/);
    const loaded = (await readAudit(workspace)).find((e) => e.type === 'policy.loaded');
    assert.equal(
      (loaded?.data.sources as Array<{ origin: string }> | undefined)?.[0]?.origin,
      policyFile,
      'the audit names the policy file the run used',
    );
  });

  it('under an asking policy every proposal is rejected by the on-ask rule (reviewer: cli --on-ask reject) and the workspace is unchanged', async () => {
    await fs.mkdir(path.join(workspace, '.warden'));
    await fs.writeFile(path.join(workspace, '.warden', 'policy.json'), ASKING);
    const before = await snapshot(workspace);
    const out = await warden(['run', '-w', workspace, '-p', 'add a farewell function with tests']);
    assert.equal(out.code, EXIT.ok, out.stderr);
    assert.match(out.stdout, /^warden run: completed \(exit 0\)/);
    assert.match(out.stdout, /decided by: cli --on-ask reject \(3\)/);
    assert.match(out.stdout, /files changed: none/);
    assert.deepEqual(await snapshot(workspace), before);

    const decisions = (await readAudit(workspace)).filter((e) => e.type === 'decision');
    assert.equal(decisions.length, 3);
    for (const d of decisions) {
      assert.equal(d.data.verdict, 'reject');
      assert.deepEqual(d.data.reviewer, { kind: 'warden', name: 'warden cli', source: 'cli --on-ask reject' });
      assert.equal(d.actor.kind, 'warden');
      assert.ok(['review-code', 'review-node'].includes(String(d.data.ruleId)), String(d.data.ruleId));
    }

    // audit verify: 0 on this log, the audit code once a line is changed.
    assert.equal((await warden(['audit', 'verify', '-w', workspace])).code, EXIT.ok);
    // The session's own chain (one per session since issue 19).
    const chain = decisions[0]?.sessionId ?? '';
    const segment = path.join(workspace, '.warden', 'audit', 'sessions', chain, 'audit-000001.jsonl');
    await fs.writeFile(segment, (await fs.readFile(segment, 'utf8')).replace('"verdict":"reject"', '"verdict":"approve"'));
    const tampered = await warden(['audit', 'verify', '-w', workspace]);
    assert.equal(tampered.code, EXIT.audit);
    assert.match(
      tampered.stderr,
      new RegExp(`^warden: audit chain ${chain} does not verify: \\.warden/audit/sessions/${chain}/audit-000001\\.jsonl:\\d+: [^\\n]+\\n$`),
    );
  });

  it('the workspace mode: copy by default, warden.sandbox.workspaceMode of .vscode/settings.json, --workspace-mode over both', async () => {
    const modes = async (): Promise<unknown[]> =>
      (await readAudit(workspace)).filter((e) => e.type === 'sandbox.started').map((e) => e.data.workspaceMode);
    assert.equal((await warden(['run', '-w', workspace, '-p', 'add a farewell function', '--json'])).code, EXIT.ok);
    await fs.mkdir(path.join(workspace, '.vscode'), { recursive: true });
    await fs.writeFile(
      path.join(workspace, '.vscode', 'settings.json'),
      '{\n  // JSONC, as VS Code writes it\n  "warden.sandbox.workspaceMode": "readonly",\n}\n',
    );
    assert.equal((await warden(['run', '-w', workspace, '-p', 'add a farewell function', '--json'])).code, EXIT.ok);
    assert.equal(
      (await warden(['run', '-w', workspace, '-p', 'add a farewell function', '--workspace-mode', 'copy', '--json'])).code,
      EXIT.ok,
    );
    assert.deepEqual(await modes(), ['copy', 'readonly', 'copy']);
  });

  it('--on-ask fail ends the run at the first ask with the policy code, nothing applied', async () => {
    const before = await snapshot(workspace);
    const out = await warden(['run', '-w', workspace, '-p', 'add a farewell function with tests', '--on-ask', 'fail', '--json']);
    assert.equal(out.code, EXIT.policy, out.stderr);
    assert.match(out.stderr, /^warden: the policy asks a human about "[^"]+" \(default\); with --on-ask fail the run stops\n$/);
    const summary = JSON.parse(out.stdout) as RunSummary;
    assert.equal(summary.outcome, 'ask-failed');
    assert.equal(summary.asks.length, 1);
    assert.deepEqual(summary.filesChanged, []);
    assert.deepEqual(await snapshot(workspace), before);
    assert.equal((await warden(['audit', 'verify', '-w', workspace])).code, EXIT.ok);
  });

  it('a hostile agent (escapes, protected paths, network, a flood, malformed frames, exit mid-request) ends with the agent code, nothing applied, the audit verifying', async () => {
    await fs.copyFile(path.join(REPO_ROOT, 'test/fixtures/agents/hostile-agent.mjs'), path.join(workspace, 'hostile-agent.mjs'));
    const before = await snapshot(workspace);
    const out = await warden([
      'run',
      '-w',
      workspace,
      '--agent',
      'node /workspaces/ws/hostile-agent.mjs',
      '-p',
      'do your worst',
      '--timeout',
      '60',
      '--json',
    ]);
    assert.equal(out.code, EXIT.agent, `${out.stderr}\n${out.stdout}`);
    assert.match(out.stderr, /^warden: [^\n]+\n$/, 'one line on stderr');
    const summary = JSON.parse(out.stdout) as RunSummary;
    assert.equal(summary.outcome, 'agent-failed');
    assert.deepEqual(summary.filesChanged, []);
    assert.ok(summary.proposals.total >= 4, JSON.stringify(summary.proposals));
    // Copy mode (the default): its direct write to the workspace went to its private copy and is on the record
    // as a proposal found when it exited (orphaned); its `curl` command ran inside the sandbox without asking
    // (the boundary default; no network, so nothing left); everything else was rejected. No edit applied.
    const { rejected = 0, orphaned = 0, applied = 0 } = summary.proposals.byState;
    assert.ok(applied <= 1, JSON.stringify(summary.proposals.byState));
    assert.equal(rejected + orphaned + applied, summary.proposals.total, JSON.stringify(summary.proposals.byState));
    assert.equal(summary.audit.ok, true);

    assert.deepEqual(await snapshot(workspace), before, 'nothing in the workspace changed');
    assert.deepEqual((await fs.readdir(root)).sort(), ['ws'], 'nothing was written next to the workspace (../x)');
    assert.doesNotMatch(await fs.readFile('/etc/passwd', 'utf8'), /root::0:0/);

    const entries = await readAudit(workspace);
    const refused = entries.filter((e) => e.type === 'refused').map((e) => JSON.stringify(e.data));
    assert.ok(
      refused.some((r) => r.includes('/etc/passwd')),
      refused.join('\n'),
    );
    assert.ok(
      refused.some((r) => r.includes('../x')),
      refused.join('\n'),
    );
    const proposals = entries.filter((e) => e.type === 'proposal').map((e) => String(e.data.path ?? e.data.commandLine));
    for (const target of ['.git/config', '.warden/audit/audit-000001.jsonl', '.warden/policy.json'])
      assert.ok(proposals.includes(target), proposals.join(', '));
    assert.ok(
      proposals.some((p) => p.startsWith('curl ')),
      proposals.join(', '),
    );
    assert.ok(
      entries.some((e) => e.type === 'proposal' && e.data.origin === 'sandbox/change' && e.data.path === 'src/greet.js'),
      'the direct write surfaced as a proposal',
    );
    assert.ok(!entries.some((e) => e.type === 'edit.applied'), 'no edit applied');
    const curlProposal = entries.find((e) => e.type === 'proposal' && String(e.data.commandLine).startsWith('curl '));
    const curlDecision = entries.find((e) => e.type === 'decision' && e.data.proposalId === curlProposal?.data.proposalId);
    assert.equal(curlDecision?.data.ruleId, 'default', 'the command was decided by the default for commands');
    for (const result of entries.filter((e) => e.type === 'command.result')) {
      assert.equal(result.data.proposalId, curlProposal?.data.proposalId, 'only the curl command ran');
      assert.notEqual(result.data.exitCode, 0, `no network in the sandbox: ${String(result.data.outputExcerpt)}`);
    }
    assert.ok(entries.some((e) => e.type === 'session.ended'));

    const verify = await warden(['audit', 'verify', '-w', workspace]);
    assert.equal(verify.code, EXIT.ok, verify.stderr);
  });

  it('a sandbox that cannot start (invalid devcontainer.json) ends with the sandbox code, naming file, line and column', async () => {
    await fs.writeFile(path.join(workspace, '.devcontainer', 'devcontainer.json'), '{ "image": 42 ');
    const out = await warden(['run', '-w', workspace, '-p', 'x', '--json']);
    assert.equal(out.code, EXIT.sandbox, out.stderr);
    assert.match(out.stderr, /^warden: could not start the session: .*devcontainer\.json:\d+:\d+: [^\n]+\n$/);
    const summary = JSON.parse(out.stdout) as RunSummary;
    assert.equal(summary.outcome, 'sandbox-failed');
    assert.equal(summary.proposals.total, 0);
    assert.equal((await warden(['audit', 'verify', '-w', workspace])).code, EXIT.ok);
  });

  it('SIGTERM (a cancelled CI job) stops the session and removes its container; exit 130', async () => {
    const child = spawn(process.execPath, [CLI, 'run', '-w', workspace, '--agent', 'sleep 600', '-p', 'x'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // Wait until the sandbox is up (on the record), then cancel the job.
    let containerId: string | undefined;
    for (let i = 0; i < 200 && !containerId; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const entries = existsSync(path.join(workspace, '.warden', 'audit')) ? await readAudit(workspace).catch(() => []) : [];
      containerId = entries.find((e) => e.type === 'sandbox.started')?.data.containerId as string | undefined;
    }
    assert.ok(containerId, 'the sandbox started');
    child.kill('SIGTERM');
    assert.equal(await exited, EXIT.interrupted, stderr);
    assert.equal(stderr, 'warden: interrupted by SIGTERM: the session was stopped\n');
    const { stdout } = await run('docker', ['ps', '-a', '-q', '--no-trunc', '--filter', `id=${containerId}`]);
    assert.equal(stdout.trim(), '', 'the container is gone');
    assert.equal((await readAudit(workspace)).filter((e) => e.type === 'session.ended').length, 1);
  });

  it('--timeout stops a session whose agent never answers (the kill switch) with the timeout code', async () => {
    const out = await warden(['run', '-w', workspace, '--agent', 'sleep 600', '-p', 'x', '--timeout', '3']);
    assert.equal(out.code, EXIT.timeout, out.stderr);
    assert.equal(out.stderr, 'warden: timed out after 3 s: the session was stopped\n');
    const ended = (await readAudit(workspace)).filter((e) => e.type === 'session.ended');
    assert.equal(ended.length, 1);
  });

  it("the git command guard and the policy's protected branches hold in warden run: a commit or push to a protected branch is refused, naming the rule", async () => {
    await fs.copyFile(path.join(REPO_ROOT, 'test/fixtures/agents/sandbox-agent.mjs'), path.join(workspace, 'sandbox-agent.mjs'));
    await fs.mkdir(path.join(workspace, '.warden'), { recursive: true });
    await fs.writeFile(path.join(workspace, '.warden', 'policy.json'), JSON.stringify({ git: { protectedBranches: ['main', 'trunk'] } }));
    const git = (...args: string[]) =>
      run('git', ['-c', 'user.name=Ada', '-c', 'user.email=ada@example.test', ...args], { cwd: workspace });
    await git('init', '--quiet', '--initial-branch=main');
    await git('add', '.');
    await git('commit', '--quiet', '-m', 'initial');
    const steps = JSON.stringify([{ run: 'git commit -am wip' }, { run: 'git push origin trunk' }]);
    const out = await warden(['run', '-w', workspace, '--agent', 'node /workspaces/ws/sandbox-agent.mjs', '-p', steps, '--json']);
    assert.equal(out.code, EXIT.ok, out.stderr);
    const summary = JSON.parse(out.stdout) as RunSummary;
    assert.equal(summary.proposals.total, 0, 'refused before any proposal');

    const entries = await readAudit(workspace);
    assert.deepEqual(
      entries.filter((e) => e.type === 'refused').map((e) => e.data.ruleId ?? e.data.rule),
      ['git.commit.protected', 'git.push.protected'],
    );
    const branch = entries.find((e) => e.type === 'git.branch');
    assert.equal(branch?.data.status, 'none', 'warden run does not switch branches');
    assert.deepEqual(branch?.data.protectedBranches, ['main', 'trunk']);
    assert.equal((await git('rev-parse', '--abbrev-ref', 'HEAD')).stdout.trim(), 'main');
    assert.equal((await git('branch', '--list', 'warden/*')).stdout.trim(), '');
  });
});

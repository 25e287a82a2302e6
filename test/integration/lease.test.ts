import { strict as assert } from 'node:assert';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { LEASE_LOST_EXIT_CODE } from '../../src/core/sandbox/devcontainer';
import { sessionFile } from '../../src/core/proposals/persistence';
import type { AuditEntry } from '../../src/core/audit/types';
import { removeWorkspaceSandboxes } from './engineUnderTest';
import { ensureSandboxPrerequisites, REPO_ROOT } from './prerequisites';
import { copyDemoWorkspace, readAudit, snapshot } from '../support/workspace';

const run = promisify(execFile);
const docker = new Docker();
const CLI = path.join(REPO_ROOT, 'dist', 'cli.js');
const HOST = path.join(REPO_ROOT, 'test', 'fixtures', 'hostSession.ts');
/** The README's promise: a sandbox whose supervisor was SIGKILLed is stopped within this time (measured: 0.1-0.2 s). */
const LEASE_STOP_MS = 3_000;

/** A process that prints `marker` on stdout: resolves with the line. */
function waitForLine(child: ChildProcess, marker: RegExp, timeoutMs: number, stderr: () => string): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(
      () => reject(new Error(`no line matching ${marker} within ${timeoutMs} ms; stdout: ${out}; stderr: ${stderr()}`)),
      timeoutMs,
    );
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const line = out.split('\n').find((l) => marker.test(l));
      if (line) {
        clearTimeout(timer);
        resolve(line);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited (${code}) before ${marker}; stdout: ${out}; stderr: ${stderr()}`));
    });
  });
}

/** Polls until `check` holds. */
async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Running or not: a removed container (another run's cleanup may remove it) is not running. */
async function containerState(id: string): Promise<{ running: boolean; exitCode?: number } | 'gone'> {
  try {
    const info = await docker.getContainer(id).inspect();
    return { running: info.State.Running, exitCode: info.State.ExitCode };
  } catch {
    return 'gone';
  }
}

/** Kills with SIGKILL and measures how long until the sandbox no longer runs. */
async function killAndMeasure(
  child: ChildProcess,
  containerId: string,
): Promise<{ ms: number; state: Awaited<ReturnType<typeof containerState>> }> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const t0 = Date.now();
  child.kill('SIGKILL');
  await exited;
  const state = await until(
    'the sandbox stops after its supervisor was killed',
    async () => {
      const s = await containerState(containerId);
      return s === 'gone' || !s.running ? s : undefined;
    },
    30_000,
  );
  return { ms: Date.now() - t0, state };
}

function deadSessionEnd(entries: AuditEntry[], sessionId: string): AuditEntry | undefined {
  return entries.find((e) => e.sessionId === sessionId && e.type === 'session.ended');
}

describe('the sandbox lease: a killed supervisor (kill -9) leaves no running sandbox (real Docker engine)', function () {
  this.timeout(180_000);
  let root: string;
  let workspace: string;
  let copies: string;
  const children: ChildProcess[] = [];

  before(async function () {
    this.timeout(600_000);
    await ensureSandboxPrerequisites();
    if (!existsSync(CLI)) await run(process.execPath, [path.join(REPO_ROOT, 'esbuild.js')], { cwd: REPO_ROOT });
  });

  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'warden-lease-it-'));
    await fs.chmod(root, 0o755);
    workspace = path.join(root, 'ws');
    copies = path.join(root, 'copies');
    await copyDemoWorkspace('', workspace);
    await fs.copyFile(path.join(REPO_ROOT, 'test/fixtures/agents/sandbox-agent.mjs'), path.join(workspace, 'sandbox-agent.mjs'));
  });

  afterEach(async () => {
    for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    // Only this test's containers (labelled with its workspace) are removed.
    await removeWorkspaceSandboxes(workspace);
    await fs.rm(root, { recursive: true, force: true });
  });

  const env = (): NodeJS.ProcessEnv => ({ PATH: process.env.PATH ?? '', HOME: root, WARDEN_COPIES_DIR: copies });

  it('warden run: the sandbox stops within the documented time, the workspace is unchanged, the log verifies, and the next run records the dead session and removes its sandbox', async () => {
    const before = await snapshot(workspace);
    const steps = JSON.stringify([{ write: { path: 'src/greet.js', content: 'overwritten\n' } }, { hang: true }]);
    let stderr = '';
    const child = spawn(
      process.execPath,
      [CLI, 'run', '-w', workspace, '--agent', 'node /workspaces/ws/sandbox-agent.mjs', '-p', steps, '--on-ask', 'reject'],
      { cwd: root, env: env(), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    children.push(child);
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    // Mid-session: the agent's write was proposed and decided (rejected by --on-ask), and the agent hangs.
    const entries = await until(
      'the proposal is decided',
      async () => {
        const all = existsSync(path.join(workspace, '.warden', 'audit')) ? await readAudit(workspace).catch(() => []) : [];
        return all.some((e) => e.type === 'decision') ? all : undefined;
      },
      90_000,
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}; stderr: ${stderr}`);
    });
    const deadSession = entries.find((e) => e.type === 'session.starting')!.sessionId;
    const containerId = String(entries.find((e) => e.type === 'sandbox.started')?.data.containerId);
    assert.deepEqual(await containerState(containerId), { running: true, exitCode: 0 });

    const { ms, state } = await killAndMeasure(child, containerId);
    console.log(`      warden run killed: its sandbox stopped ${ms} ms later`);
    assert.ok(ms < LEASE_STOP_MS, `stopped after ${ms} ms`);
    if (state !== 'gone') assert.equal(state.exitCode, LEASE_LOST_EXIT_CODE, 'PID 1 exited because its lease was lost');
    assert.deepEqual(await snapshot(workspace), before, 'the workspace is unchanged');
    const verify = await run(process.execPath, [CLI, 'audit', 'verify', '--workspace', workspace], { cwd: root, env: env() });
    assert.match(verify.stdout, /Audit log verified/);

    // The next run in the workspace closes the dead session's record and removes its sandbox.
    const next = await run(
      process.execPath,
      [CLI, 'run', '-w', workspace, '--agent', 'node /workspaces/ws/sandbox-agent.mjs', '-p', '[]', '--json'],
      { cwd: root, env: env() },
    );
    assert.equal((JSON.parse(next.stdout) as { outcome: string }).outcome, 'completed');
    const after = await readAudit(workspace);
    const ended = deadSessionEnd(after, deadSession);
    assert.ok(ended, 'the dead session has its end recorded');
    assert.equal(ended.actor.kind, 'warden');
    assert.match(String(ended.data.reason), /supervisor .* died/);
    const died = ended.data.supervisorDied as {
      foundBy: string;
      owner: { pid: number };
      lastEntry: { time: string };
      container: { id: string; status: string; leaseLost?: boolean; finishedAt?: string };
    };
    assert.equal(died.owner.pid, child.pid);
    assert.equal(died.container.id, containerId);
    assert.ok(died.lastEntry.time, 'when: its last entry');
    if (died.container.status !== 'gone') {
      assert.equal(died.container.leaseLost, true);
      assert.ok(died.container.finishedAt, 'when: the container stopped');
    }
    assert.deepEqual(ended.data.orphanedProposals, [], 'the only proposal was decided');
    assert.equal(after.filter((e) => e.sessionId === deadSession && e.type === 'session.ended').length, 1);
    assert.equal(await containerState(containerId), 'gone', 'the dead sandbox was removed at the next start');
    assert.deepEqual(await snapshot(workspace), before);
    const verifyAgain = await run(process.execPath, [CLI, 'audit', 'verify', '--workspace', workspace], { cwd: root, env: env() });
    assert.match(verifyAgain.stdout, /Audit log verified/);
  });

  it('a process hosting the session core (as the extension host does): the kept-for-reuse sandbox stops, is not reused, and the next session orphans the pending proposal', async () => {
    const before = await snapshot(workspace);
    const agents = path.join(REPO_ROOT, 'dist', 'agents');
    const steps = JSON.stringify([{ write: { path: 'src/greet.js', content: 'overwritten\n' } }]);
    let stderr = '';
    const child = spawn(process.execPath, ['--import', 'tsx', HOST, workspace, agents, 'node /workspaces/ws/sandbox-agent.mjs', steps], {
      cwd: REPO_ROOT,
      env: env(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const line = await waitForLine(child, /^pending /, 120_000, () => stderr);
    const [, proposalId, deadSession, containerId] = line.trim().split(' ') as [string, string, string, string];
    assert.equal(
      (JSON.parse(await fs.readFile(sessionFile(workspace, deadSession), 'utf8')) as { proposals: Array<{ state: string }> }).proposals[0]
        ?.state,
      'pending',
    );

    const { ms } = await killAndMeasure(child, containerId);
    console.log(`      session host killed: its sandbox stopped ${ms} ms later`);
    assert.ok(ms < LEASE_STOP_MS, `stopped after ${ms} ms`);
    assert.deepEqual(
      await snapshot(workspace).then((s) => ({
        ...s,
        [`.warden/proposals/${deadSession}.json`]: undefined,
        '.warden/.gitignore': undefined,
      })),
      { ...before, [`.warden/proposals/${deadSession}.json`]: undefined, '.warden/.gitignore': undefined },
      'nothing applied',
    );

    // The next session (same kind of host) records the dead one; the pending proposal is orphaned.
    const next = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        HOST,
        workspace,
        agents,
        'node /workspaces/ws/sandbox-agent.mjs',
        JSON.stringify([{ write: { path: 'a.txt', content: 'x\n' } }]),
      ],
      { cwd: REPO_ROOT, env: env(), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    children.push(next);
    let nextErr = '';
    next.stderr?.on('data', (chunk: Buffer) => (nextErr += chunk.toString('utf8')));
    const nextLine = await waitForLine(next, /^pending /, 120_000, () => nextErr);
    const nextContainer = nextLine.trim().split(' ')[3];
    assert.notEqual(nextContainer, containerId, 'a sandbox whose supervisor died is not reused');
    assert.equal(await containerState(containerId), 'gone', 'it was removed at the next start');

    const entries = await readAudit(workspace);
    const ended = deadSessionEnd(entries, deadSession);
    assert.ok(ended, 'the dead session has its end recorded');
    assert.deepEqual(ended.data.orphanedProposals, [proposalId]);
    assert.ok(!entries.some((e) => e.type === 'edit.applied'), 'nothing applied');
    const saved = JSON.parse(await fs.readFile(sessionFile(workspace, deadSession), 'utf8')) as {
      proposals: Array<{ id: string; state: string; stateDetail: string }>;
    };
    assert.deepEqual(
      saved.proposals.map((p) => [p.id, p.state]),
      [[proposalId, 'orphaned']],
    );
    assert.match(saved.proposals[0]!.stateDetail, /supervisor died/);
    const verify = await run(process.execPath, [CLI, 'audit', 'verify', '--workspace', workspace], { cwd: root, env: env() });
    assert.match(verify.stdout, /Audit log verified/);
  });
});

/**
 * Runs inside a real VS Code extension host (as `extensionTestsPath`) for `bench/agentStream.ts`:
 * the extension host's event-loop delay (`perf_hooks.monitorEventLoopDelay`, in this very
 * process, which is Warden's) while a sandboxed session receives a stream of `session/update`
 * messages and proposals from the scripted agent test/fixtures/agents/stream-agent.mjs, with
 * the Review and Session panels open; beside the delay of the same host idle, panels open, just
 * before and just after (A/B/A), and, in every phase, an idle sibling process's delay over the
 * same seconds and the late ticks split by this process's CPU time (loopProbe.ts).
 * Writes its figures as JSON to `$WARDEN_BENCH_RESULTS`.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { Session } from 'node:inspector/promises';
import type { Profiler } from 'node:inspector';
import * as vscode from 'vscode';
import type { WardenApi } from '../../src/extension';
import { attribute, type Attribution } from './attribute';
import { SiblingProbe, startPhase, type PhaseDelay } from './loopProbe';
import { startDiagnostics, writeLateTicks } from './streamDiagnostics';

const RESULTS_ENV = 'WARDEN_BENCH_RESULTS';
const UPDATES = Number(process.env.WARDEN_BENCH_STREAM_UPDATES ?? 10_000);
const PROPOSALS = Number(process.env.WARDEN_BENCH_STREAM_PROPOSALS ?? 200);
const IDLE_MS = 5000;
const STREAM_TIMEOUT_MS = 300_000;
/** After the last proposal is pending: the panels' throttled posts and persistence catch up. */
const SETTLE_MS = 3000;
/** The CPU profiler's sampling interval, when attributing long tasks. */
const SAMPLE_US = 1000;
/** How long the entry waits for Warden's idle preload of the Docker client before measuring. */
const PRELOAD_WAIT_MS = 15_000;

export interface StreamBenchResults {
  /** The same host idle with both panels open, before the session starts (A). */
  idle: PhaseDelay;
  /** The session's start and its stream (B): from Start Session until all proposals are pending, and the settling after. */
  stream: PhaseDelay & { updates: number; proposals: number; streamMs: number };
  /** Its first part: from Start Session until the prompt is sent (sandbox, agent process, ACP handshake). */
  sessionStart: PhaseDelay & { startMs: number };
  /** Its second part: the updates and proposals arriving, from the prompt on, and the settling. */
  updates: PhaseDelay;
  /** Idle again after the stream, the 200 proposals pending, panels open, before the session stops (A). */
  idleAfter: PhaseDelay;
  /** Whether the Docker client's bundle (`dist/lib/dockerode.js`) was already loaded when the session started (Warden preloads it while the window is idle). */
  dockerClientLoadedBefore: boolean;
  /** With WARDEN_BENCH_ATTRIBUTE=1 (or a profile file): what the stream's late ticks waited for. */
  attribution?: Attribution;
}

export async function run(): Promise<void> {
  const file = process.env[RESULTS_ENV];
  try {
    const results = await measure();
    if (file) writeFileSync(file, JSON.stringify(results));
  } catch (error) {
    if (file) writeFileSync(file, JSON.stringify({ error: error instanceof Error ? (error.stack ?? error.message) : String(error) }));
    throw error;
  }
}

async function measure(): Promise<StreamBenchResults> {
  const warden = vscode.extensions.getExtension<WardenApi>('warden-dev.warden');
  if (!warden) throw new Error('warden-dev.warden is not loaded');
  const api = await warden.activate();
  await vscode.commands.executeCommand('warden.showReview');
  await vscode.commands.executeCommand('warden.showSession');
  await sleep(2000); // both webviews load and say ready
  // Warden preloads the Docker client once the window is idle (src/core/util/whenIdle.ts): the
  // idle phase starts after that, so the load is in neither phase (bounded; recorded below).
  for (const deadline = Date.now() + PRELOAD_WAIT_MS; !dockerClientLoaded() && Date.now() < deadline;) await sleep(100);
  const sibling = new SiblingProbe();
  const isolated = process.env.WARDEN_BENCH_RT === '1' ? [process.pid, sibling.pid!] : [];
  for (const pid of isolated) realtime(pid, true);
  try {
    const idlePhase = startPhase(sibling);
    await sleep(IDLE_MS);
    const idle = (await idlePhase.stop()).delay;

    const dockerClientLoadedBefore = dockerClientLoaded();
    const profiler = await startProfile();
    const heapSampler = await startHeapSampling();
    // The whole (the figure of rounds 3-6), and inside it the session's start (sandbox, agent,
    // ACP handshake: `warden.startSession` returns once the prompt is sent) and the stream that
    // follows (the updates and proposals arriving, until all 200 are pending, and the settling).
    const wholePhase = startPhase(sibling);
    const startingPhase = startPhase(sibling);
    const diagnosed = startDiagnostics();
    const started = Date.now();
    const sessionId = await vscode.commands.executeCommand<string>('warden.startSession', {
      instruction: JSON.stringify({ updates: UPDATES, proposals: PROPOSALS }),
    });
    if (!sessionId) throw new Error('warden.startSession returned no session');
    const startMs = Date.now() - started;
    await heapSampler?.();
    const streamPhase = startPhase(sibling);
    const starting = (await startingPhase.stop()).delay;
    // The agent sends its last proposal after its last update: once all are pending, the stream is in.
    const deadline = Date.now() + STREAM_TIMEOUT_MS;
    while (api.proposals.pending().filter((p) => p.sessionId === sessionId).length < PROPOSALS) {
      if (Date.now() > deadline)
        throw new Error(`only ${api.proposals.pending().length} of ${PROPOSALS} proposals within ${STREAM_TIMEOUT_MS / 1000} s`);
      await sleep(100);
    }
    const streamMs = Date.now() - started;
    diagnosed?.();
    await sleep(SETTLE_MS);
    const streamed = await streamPhase.stop();
    const whole = await wholePhase.stop();
    const profile = await profiler?.();
    if (profile) writeLateTicks(whole.late);

    const afterPhase = startPhase(sibling);
    await sleep(IDLE_MS);
    const idleAfter = (await afterPhase.stop()).delay;
    await vscode.commands.executeCommand('warden.stopSession');
    return {
      idle,
      stream: { ...whole.delay, updates: UPDATES, proposals: PROPOSALS, streamMs },
      sessionStart: { ...starting, startMs },
      updates: streamed.delay,
      idleAfter,
      dockerClientLoadedBefore,
      ...(profile ? { attribution: attribute(profile, whole.late, warden.extensionPath, SAMPLE_US / 1000) } : {}),
    };
  } finally {
    for (const pid of isolated) realtime(pid, false);
    sibling.close();
  }
}

/**
 * With WARDEN_BENCH_RT=1 (an isolation figure, never the normal one): every thread of this
 * extension host and of the idle sibling in the real-time class SCHED_RR at priority 1, so no
 * ordinary process on the machine can preempt them; what is left of the delay is their own work,
 * the hypervisor and each other. Bounded: only these two processes, for this measurement (set
 * back in \`finally\`; the host ends with the bench), processes they start revert to the normal
 * class (reset-on-fork), and the kernel's real-time throttling leaves others at least 5 % of
 * every CPU second.
 */
function realtime(pid: number, on: boolean): void {
  const args = on ? ['-R', '-a', '-r', '-p', '1', String(pid)] : ['-a', '-o', '-p', '0', String(pid)];
  const done = spawnSync('chrt', args, { encoding: 'utf8' });
  if (done.status !== 0 && on) throw new Error(`chrt ${args.join(' ')} failed: ${(done.error?.message ?? done.stderr).trim()}`);
}

/**
 * With WARDEN_BENCH_ATTRIBUTE=1 or WARDEN_BENCH_PROFILE=FILE, a CPU profile of the stream (the
 * extension host's), for the long-task attribution; with FILE, it is also written there (.cpuprofile).
 */
async function startProfile(): Promise<(() => Promise<Profiler.Profile>) | undefined> {
  const file = process.env.WARDEN_BENCH_PROFILE;
  if (!file && process.env.WARDEN_BENCH_ATTRIBUTE !== '1') return undefined;
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: SAMPLE_US });
  await session.post('Profiler.start');
  return async () => {
    const { profile } = await session.post('Profiler.stop');
    if (file) writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
    return profile;
  };
}

/**
 * With WARDEN_BENCH_HEAP=FILE, a sampling heap profile of the session's start written to FILE
 * (.heapprofile): the objects allocated from Start Session until the prompt is sent and still
 * alive then, which the first collections of the stream must copy.
 */
async function startHeapSampling(): Promise<(() => Promise<void>) | undefined> {
  const file = process.env.WARDEN_BENCH_HEAP;
  if (!file) return undefined;
  const session = new Session();
  session.connect();
  await session.post('HeapProfiler.enable');
  await session.post('HeapProfiler.startSampling', { samplingInterval: 4096 });
  return async () => {
    const { profile } = await session.post('HeapProfiler.stopSampling');
    writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
  };
}

function dockerClientLoaded(): boolean {
  return Object.keys(require.cache).some((file) => file.endsWith(path.join('dist', 'lib', 'dockerode.js')));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

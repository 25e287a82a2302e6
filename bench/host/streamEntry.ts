/**
 * Runs inside a real VS Code extension host (as `extensionTestsPath`) for `bench/agentStream.ts`:
 * the extension host's event-loop delay (`perf_hooks.monitorEventLoopDelay`, in this very
 * process, which is Warden's) while a sandboxed session receives a stream of `session/update`
 * messages and proposals from the scripted agent test/fixtures/agents/stream-agent.mjs, with
 * the Review and Session panels open; beside the delay of the same host idle, panels open, just
 * before. Writes its figures as JSON to `$WARDEN_BENCH_RESULTS`.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import * as vscode from 'vscode';
import type { WardenApi } from '../../src/extension';

const RESULTS_ENV = 'WARDEN_BENCH_RESULTS';
const UPDATES = Number(process.env.WARDEN_BENCH_STREAM_UPDATES ?? 10_000);
const PROPOSALS = Number(process.env.WARDEN_BENCH_STREAM_PROPOSALS ?? 200);
const IDLE_MS = 5000;
const STREAM_TIMEOUT_MS = 300_000;
/** After the last proposal is pending: the panels' throttled posts and persistence catch up. */
const SETTLE_MS = 3000;

export interface Delay {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface StreamBenchResults {
  idle: Delay;
  stream: Delay & { updates: number; proposals: number; streamMs: number };
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

  const idle = histogram();
  await sleep(IDLE_MS);
  const idleDelay = stop(idle);

  const profile = await startProfile();
  const late = lateTicks();
  const streaming = histogram();
  const started = Date.now();
  const sessionId = await vscode.commands.executeCommand<string>('warden.startSession', {
    instruction: JSON.stringify({ updates: UPDATES, proposals: PROPOSALS }),
  });
  if (!sessionId) throw new Error('warden.startSession returned no session');
  // The agent sends its last proposal after its last update: once all are pending, the stream is in.
  const deadline = Date.now() + STREAM_TIMEOUT_MS;
  while (api.proposals.pending().filter((p) => p.sessionId === sessionId).length < PROPOSALS) {
    if (Date.now() > deadline)
      throw new Error(`only ${api.proposals.pending().length} of ${PROPOSALS} proposals within ${STREAM_TIMEOUT_MS / 1000} s`);
    await sleep(100);
  }
  const streamMs = Date.now() - started;
  await sleep(SETTLE_MS);
  const streamDelay = stop(streaming);
  await profile?.();
  late?.();
  await vscode.commands.executeCommand('warden.stopSession');
  return { idle: idleDelay, stream: { ...streamDelay, updates: UPDATES, proposals: PROPOSALS, streamMs } };
}

/** The sampling timer's period; Node's histogram holds whole intervals, so this much is not delay. */
const RESOLUTION_MS = 10;

/** With WARDEN_BENCH_PROFILE=FILE, a CPU profile of the stream goes to FILE (.cpuprofile), to find what delays the loop. */
async function startProfile(): Promise<(() => Promise<void>) | undefined> {
  const file = process.env.WARDEN_BENCH_PROFILE;
  if (!file) return undefined;
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return async () => {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
  };
}

/**
 * With a profile, also every tick of a 10 ms timer that came more than 20 ms late, with its
 * monotonic time in µs (the profile's clock), to `FILE.late.json`: which work the late ticks
 * waited for is then read off the profile's samples just before each.
 */
function lateTicks(): (() => void) | undefined {
  const file = process.env.WARDEN_BENCH_PROFILE;
  if (!file) return undefined;
  const ticks: Array<{ atUs: number; lateMs: number }> = [];
  let last = process.hrtime.bigint();
  const timer = setInterval(() => {
    const now = process.hrtime.bigint();
    const lateMs = Number(now - last) / 1e6 - RESOLUTION_MS;
    if (lateMs > 20) ticks.push({ atUs: Number(now / 1000n), lateMs });
    last = now;
  }, RESOLUTION_MS);
  return () => {
    clearInterval(timer);
    writeFileSync(`${file}.late.json`, JSON.stringify(ticks));
  };
}

function histogram(): IntervalHistogram {
  const h = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  h.enable();
  return h;
}

function stop(h: IntervalHistogram): Delay {
  h.disable();
  const ms = (ns: number): number => Math.max(0, ns / 1e6 - RESOLUTION_MS);
  return { p50Ms: ms(h.percentile(50)), p99Ms: ms(h.percentile(99)), maxMs: ms(h.max) };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

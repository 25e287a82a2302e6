/**
 * The extension host stays responsive while an agent streams (issue 21): the event-loop delay
 * inside the real VS Code extension host while a sandboxed session (real Docker) receives
 * 10,000 `session/update` messages and 200 proposals from the scripted agent
 * test/fixtures/agents/stream-agent.mjs, with the Review and Session panels open; beside the
 * delay of the same host idle with both panels open, measured just before in the same window.
 * The stream is measured whole (from Start Session, as in rounds 3-6) and in its two parts: the
 * session's start (sandbox, agent process, ACP handshake, until the prompt is sent) and the
 * updates and proposals arriving from the prompt on, the "while a session receives".
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import * as path from 'node:path';
import * as z from 'zod';
import { inExtensionHost } from './hostRunner';
import type { BenchFigure } from './lib';

const root = path.resolve(__dirname, '..');
const AGENT_FILE = '.stream-agent.mjs';

const delay = z.object({ p50Ms: z.number(), p99Ms: z.number(), maxMs: z.number() });
const phase = delay.extend({
  sibling: delay,
  lateTicks: z.number(),
  lateMs: z.number(),
  busyLateMs: z.number(),
  offCpuLateMs: z.number(),
  busyP99Ms: z.number(),
});
const results = z.object({
  idle: phase,
  stream: phase.extend({ updates: z.number(), proposals: z.number(), streamMs: z.number() }),
  sessionStart: phase.extend({ startMs: z.number() }),
  updates: phase,
  idleAfter: phase,
  dockerClientLoadedBefore: z.boolean(),
  attribution: z
    .object({ rows: z.array(z.object({ what: z.string(), ms: z.number() })), offCpuMs: z.number(), windowsMs: z.number() })
    .optional(),
});

function describe(name: string, p: z.infer<typeof phase>): string {
  return (
    `[agentStream] ${name}: p99 ${p.p99Ms.toFixed(1)} ms (p50 ${p.p50Ms.toFixed(1)}, max ${p.maxMs.toFixed(1)}); idle sibling process, same seconds: p99 ${p.sibling.p99Ms.toFixed(1)} ms, max ${p.sibling.maxMs.toFixed(1)} ms; ` +
    `${p.lateTicks} ticks > 20 ms late, ${p.lateMs.toFixed(0)} ms late in all: ${p.busyLateMs.toFixed(0)} ms with the host on the CPU, ${p.offCpuLateMs.toFixed(0)} ms off it; p99 of the on-CPU part ${p.busyP99Ms.toFixed(1)} ms\n`
  );
}

export async function run(): Promise<BenchFigure[]> {
  // The production bundles are what users run.
  const built = spawnSync('node', ['esbuild.js', '--production'], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`node esbuild.js --production failed: ${built.stderr.slice(-500)}`);
  const host = results.parse(
    await inExtensionHost({
      entry: path.join(__dirname, 'host', 'streamEntry.ts'),
      timeoutMs: 600_000,
      // The agent runs from the workspace copy, mounted at /workspaces/demo in the sandbox; each
      // edit waits for review as it comes, so all 200 are pending together.
      prepare: (workspace) =>
        copyFileSync(path.join(root, 'test', 'fixtures', 'agents', 'stream-agent.mjs'), path.join(workspace, AGENT_FILE)),
      settings: { 'warden.agent.command': `node /workspaces/demo/${AGENT_FILE}`, 'warden.review.mode': 'action' },
      env: {
        ...(process.env.WARDEN_BENCH_PROFILE ? { WARDEN_BENCH_PROFILE: path.resolve(process.env.WARDEN_BENCH_PROFILE) } : {}),
        ...(process.env.WARDEN_BENCH_HEAP ? { WARDEN_BENCH_HEAP: path.resolve(process.env.WARDEN_BENCH_HEAP) } : {}),
        ...(process.env.WARDEN_BENCH_ATTRIBUTE ? { WARDEN_BENCH_ATTRIBUTE: process.env.WARDEN_BENCH_ATTRIBUTE } : {}),
        ...(process.env.WARDEN_BENCH_RT ? { WARDEN_BENCH_RT: process.env.WARDEN_BENCH_RT } : {}),
        ...(process.env.WARDEN_BENCH_STREAM_UPDATES ? { WARDEN_BENCH_STREAM_UPDATES: process.env.WARDEN_BENCH_STREAM_UPDATES } : {}),
        ...(process.env.WARDEN_BENCH_STREAM_PROPOSALS ? { WARDEN_BENCH_STREAM_PROPOSALS: process.env.WARDEN_BENCH_STREAM_PROPOSALS } : {}),
        ...(process.env.WARDEN_BENCH_DIAGNOSE ? { WARDEN_BENCH_DIAGNOSE: path.resolve(process.env.WARDEN_BENCH_DIAGNOSE) } : {}),
      },
    }),
  );
  const { stream, sessionStart, updates, idle, idleAfter, attribution, dockerClientLoadedBefore } = host;
  // WARDEN_BENCH_RT=1: the host and the idle sibling under SCHED_RR 1 (an isolation run; the figures say so).
  const what = `${stream.updates} updates + ${stream.proposals} proposals, panels open${process.env.WARDEN_BENCH_RT === '1' ? ', host and sibling under SCHED_RR 1 (isolation)' : ''}`;
  process.stderr.write(
    `[agentStream] stream in ${stream.streamMs} ms, load average ${loadavg()[0]!.toFixed(1)} at the end; the Docker client was ${dockerClientLoadedBefore ? 'already loaded (preloaded while idle)' : 'not yet loaded'} when the session started\n`,
  );
  process.stderr.write(
    describe('idle before (A)', idle) +
      describe('stream (B)', stream) +
      describe(`  its session start (${sessionStart.startMs} ms)`, sessionStart) +
      describe('  its updates and proposals', updates) +
      describe('idle after (A)', idleAfter),
  );
  if (attribution) {
    process.stderr.write(
      `[agentStream] the stream's late ticks waited ${attribution.windowsMs.toFixed(0)} ms in all: ${attribution.offCpuMs.toFixed(0)} ms with no profile sample (off the CPU), then:\n`,
    );
    for (const row of attribution.rows) process.stderr.write(`    ${row.ms.toFixed(1).padStart(8)} ms  ${row.what}\n`);
  }
  return [
    {
      figure: `event-loop delay p99, ${what}`,
      unit: 'ms',
      warden: stream.p99Ms,
      reference: idle.p99Ms,
      referenceLabel: 'same host idle before, panels open',
      target: 'p99 <= 30 ms',
    },
    {
      // The window: while the session receives the updates and the proposals arrive.
      figure: `event-loop delay p99, ${what}, from the prompt on (start excluded)`,
      unit: 'ms',
      warden: updates.p99Ms,
      reference: updates.sibling.p99Ms,
      referenceLabel: 'idle sibling Node process, same seconds',
      target: 'p99 <= 30 ms',
    },
    {
      figure: `event-loop delay p99, session start (${sessionStart.startMs} ms: sandbox, agent, ACP handshake)`,
      unit: 'ms',
      warden: sessionStart.p99Ms,
      reference: sessionStart.sibling.p99Ms,
      referenceLabel: 'idle sibling Node process, same seconds',
      target: 'report',
    },
    {
      figure: `event-loop delay p99, ${what}, against the idle host after`,
      unit: 'ms',
      warden: stream.p99Ms,
      reference: idleAfter.p99Ms,
      referenceLabel: 'same host idle after, 200 pending',
      target: 'p99 <= 30 ms',
    },
    {
      figure: `event-loop delay p99, ${what}, against an idle process in the same seconds`,
      unit: 'ms',
      warden: stream.p99Ms,
      reference: stream.sibling.p99Ms,
      referenceLabel: 'idle sibling Node process, same seconds',
      target: 'report',
    },
    {
      // Per 10 ms tick, the part of its lateness covered by the host's CPU time (its own work).
      figure: `event-loop delay p99, on-CPU part, ${what}`,
      unit: 'ms',
      warden: stream.busyP99Ms,
      reference: idle.busyP99Ms,
      referenceLabel: 'same, idle before',
      target: 'report',
    },
    { figure: `stream wall time, ${what}`, unit: 'ms', warden: stream.streamMs, reference: null, referenceLabel: '', target: 'report' },
  ];
}

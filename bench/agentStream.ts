/**
 * The extension host stays responsive while an agent streams (issue 21): the event-loop delay
 * inside the real VS Code extension host while a sandboxed session (real Docker) receives
 * 10,000 `session/update` messages and 200 proposals from the scripted agent
 * test/fixtures/agents/stream-agent.mjs, with the Review and Session panels open; beside the
 * delay of the same host idle with both panels open, measured just before in the same window.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import * as path from 'node:path';
import * as z from 'zod';
import { inExtensionHost } from './hostRunner';
import type { BenchFigure } from './lib';

const root = path.resolve(__dirname, '..');
const AGENT_FILE = '.stream-agent.mjs';

const delay = z.object({ p50Ms: z.number(), p99Ms: z.number(), maxMs: z.number() });
const results = z.object({
  idle: delay,
  stream: delay.extend({ updates: z.number(), proposals: z.number(), streamMs: z.number() }),
});

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
        ...(process.env.WARDEN_BENCH_STREAM_UPDATES ? { WARDEN_BENCH_STREAM_UPDATES: process.env.WARDEN_BENCH_STREAM_UPDATES } : {}),
        ...(process.env.WARDEN_BENCH_STREAM_PROPOSALS ? { WARDEN_BENCH_STREAM_PROPOSALS: process.env.WARDEN_BENCH_STREAM_PROPOSALS } : {}),
      },
    }),
  );
  const { stream, idle } = host;
  const what = `${stream.updates} updates + ${stream.proposals} proposals, panels open`;
  process.stderr.write(
    `[agentStream] stream in ${stream.streamMs} ms; delay p50 ${stream.p50Ms.toFixed(1)} ms, max ${stream.maxMs.toFixed(1)} ms (idle max ${idle.maxMs.toFixed(1)} ms)\n`,
  );
  return [
    {
      figure: `event-loop delay p99, ${what}`,
      unit: 'ms',
      warden: stream.p99Ms,
      reference: idle.p99Ms,
      referenceLabel: 'same host idle, panels open',
      target: 'p99 <= 30 ms',
    },
    { figure: `stream wall time, ${what}`, unit: 'ms', warden: stream.streamMs, reference: null, referenceLabel: '', target: 'report' },
  ];
}

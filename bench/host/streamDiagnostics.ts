/**
 * With WARDEN_BENCH_DIAGNOSE=FILE (`bench/agentStream.ts`): what the extension host did during
 * the stream that a CPU profile shows poorly, written to FILE as text: each child process it
 * started and how long `spawn` held its event loop (a fork of a large process: 10-20 ms each on
 * the development VM), each garbage collection with its kind and pause, and the modules loaded.
 * With WARDEN_BENCH_PROFILE=FILE, the stream's late ticks also go to FILE.late.json, to read
 * beside the profile.
 */
import type * as ChildProcesses from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import type { LateTick } from './loopProbe';

/** V8's GC kinds as `perf_hooks` numbers them. */
const GC_KINDS: Record<number, string> = {
  1: 'minor (scavenge)',
  2: 'major (mark-compact)',
  4: 'incremental marking',
  8: 'weak callbacks',
};

export function startDiagnostics(): (() => void) | undefined {
  const file = process.env.WARDEN_BENCH_DIAGNOSE;
  if (!file) return undefined;
  const lines: string[] = [
    `heap at the start: ${mb(getHeapStatistics().used_heap_size)} used of ${mb(getHeapStatistics().total_heap_size)}`,
  ];
  const at = performance.now();
  const since = (): string => `${((performance.now() - at) / 1000).toFixed(2)} s`;
  const gc = new PerformanceObserver((list) => {
    for (const entry of list.getEntries() as Array<PerformanceEntry & { detail?: { kind?: number } }>) {
      const kind = GC_KINDS[entry.detail?.kind ?? 0] ?? `kind ${entry.detail?.kind}`;
      lines.push(`${since()}: gc ${kind}, ${entry.duration.toFixed(1)} ms, heap ${mb(getHeapStatistics().used_heap_size)} after`);
    }
  });
  gc.observe({ entryTypes: ['gc'] });
  // Every spawn in this process: Warden's bundles and VS Code's share the module object (a
  // namespace import would be a copy whose properties cannot be replaced).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const childProcess = require('node:child_process') as typeof ChildProcesses;
  const spawn = childProcess.spawn;
  const patched = function (this: unknown, ...args: Parameters<typeof spawn>) {
    const started = performance.now();
    const child = (spawn as (...a: unknown[]) => ChildProcesses.ChildProcess).apply(this, args);
    const argv = Array.isArray(args[1]) ? (args[1] as readonly string[]).join(' ') : '';
    lines.push(`${since()}: spawn held the loop ${(performance.now() - started).toFixed(1)} ms: ${String(args[0])} ${argv.slice(0, 120)}`);
    return child;
  };
  (childProcess as { spawn: unknown }).spawn = patched;
  const modules = new Set(Object.keys(require.cache));
  return () => {
    gc.disconnect();
    (childProcess as { spawn: unknown }).spawn = spawn;
    for (const loaded of Object.keys(require.cache)) if (!modules.has(loaded)) lines.push(`loaded during the stream: ${loaded}`);
    writeFileSync(file, `${lines.join('\n')}\n`);
  };
}

export function writeLateTicks(late: readonly LateTick[]): void {
  const file = process.env.WARDEN_BENCH_PROFILE;
  if (file) writeFileSync(`${file}.late.json`, JSON.stringify(late));
}

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(0)} MB`;
}

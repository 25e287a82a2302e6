/**
 * What each long task was (issue 21): for every late tick of the streaming phase, the CPU
 * profile's samples in the window the tick waited through, grouped by whose code was on the
 * stack (Warden's bundles or VS Code's) and the function at its top; the part of the window
 * with no samples at all is time the process was off the CPU.
 */
import type { Profiler } from 'node:inspector';
import * as path from 'node:path';
import { RESOLUTION_MS, type LateTick } from './loopProbe';

export interface Attribution {
  /** Summed over the late ticks' windows, ms, largest first (at most 15 rows). */
  rows: Array<{ what: string; ms: number }>;
  /** Window time with no sample at all (the process off the CPU), ms. */
  offCpuMs: number;
  windowsMs: number;
}

export function attribute(profile: Profiler.Profile, late: readonly LateTick[], wardenPath: string, intervalMs: number): Attribution {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const owner = new Map<number, string>();
  const ownerOf = (id: number): string => {
    const known = owner.get(id);
    if (known) return known;
    const leaf = byId.get(id)!.callFrame;
    let warden = false;
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      if (byId.get(at)!.callFrame.url.includes(wardenPath)) warden = true;
    }
    const special = leaf.functionName.startsWith('(');
    const where = leaf.url ? path.basename(leaf.url) : 'native';
    const what = special ? leaf.functionName : `${warden ? 'Warden' : 'VS Code'}: ${leaf.functionName || '(anonymous)'} (${where})`;
    owner.set(id, what);
    return what;
  };
  // Sample times, µs on the same monotonic clock as the ticks.
  const times: number[] = [];
  let t = profile.startTime;
  for (const delta of profile.timeDeltas ?? []) times.push((t += delta));
  const samples = profile.samples ?? [];
  const totals = new Map<string, number>();
  let sampledMs = 0;
  let windowsMs = 0;
  for (const tick of late) {
    const from = tick.atUs - (tick.lateMs + RESOLUTION_MS) * 1000;
    windowsMs += tick.lateMs + RESOLUTION_MS;
    for (let i = lowerBound(times, from); i < times.length && times[i]! <= tick.atUs; i++) {
      // A sample stands for at most one sampling interval: a longer gap before it is time the
      // process (and so its sampler) was off the CPU, not time spent in the sampled function.
      const ms = Math.min(intervalMs, (times[i]! - Math.max(from, times[i - 1] ?? from)) / 1000);
      const what = ownerOf(samples[i]!);
      totals.set(what, (totals.get(what) ?? 0) + ms);
      sampledMs += ms;
    }
  }
  const rows = [...totals]
    .map(([what, ms]) => ({ what, ms }))
    .sort((a, b) => b.ms - a.ms)
    .slice(0, 15);
  return { rows, offCpuMs: Math.max(0, windowsMs - sampledMs), windowsMs };
}

function lowerBound(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Event-loop delay and its causes, for bench/host/streamEntry.ts (issue 21): on a shared machine
 * a late tick is either the process's own work (it was on the CPU) or the machine's (it was off
 * the CPU: other processes, the hypervisor). Each phase of the benchmark is measured three ways
 * at once: Node's histogram in this process; a 10 ms timer whose late ticks are split by the
 * process CPU time used while the tick waited; and the same histogram in a sibling Node process
 * that does nothing, started beside it, which says what the machine did to any process in the
 * same seconds.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { createInterface } from 'node:readline';

/** The sampling timer's period; Node's histogram holds whole intervals, so this much is not delay. */
export const RESOLUTION_MS = 10;
/** A tick this late (beyond its period) counts as a long task. */
export const LATE_MS = 20;

export interface Delay {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface PhaseDelay extends Delay {
  /** The same delay in an idle sibling Node process over the same seconds: the machine's share. */
  sibling: Delay;
  /** Ticks more than LATE_MS late, and how their lateness splits. */
  lateTicks: number;
  lateMs: number;
  /** Lateness covered by CPU time of this process (its own work, Warden's or VS Code's; on a VM that does not report steal time, stolen time counts here too). */
  busyLateMs: number;
  /** Lateness with this process off the CPU (the machine). */
  offCpuLateMs: number;
  /** p99 over all ticks of the part of each tick's lateness covered by this process's CPU time. */
  busyP99Ms: number;
}

export interface LateTick {
  /** Monotonic time of the tick, µs (the CPU profile's clock). */
  atUs: number;
  lateMs: number;
  cpuMs: number;
}

export function delayOf(h: IntervalHistogram): Delay {
  const ms = (ns: number): number => Math.max(0, ns / 1e6 - RESOLUTION_MS);
  return { p50Ms: ms(h.percentile(50)), p99Ms: ms(h.percentile(99)), maxMs: ms(h.max) };
}

// One histogram per phase name: phases may overlap (the session's start and its stream inside the whole).
const SIBLING = `
const { monitorEventLoopDelay } = require('node:perf_hooks');
const hs = new Map();
require('node:readline').createInterface({ input: process.stdin }).on('line', (line) => {
  const [command, name] = line.split(' ');
  if (command === 'start') { const h = monitorEventLoopDelay({ resolution: ${RESOLUTION_MS} }); h.enable(); hs.set(name, h); }
  if (command === 'stop') { const h = hs.get(name); h.disable(); hs.delete(name); process.stdout.write(JSON.stringify({ p50: h.percentile(50), p99: h.percentile(99), max: h.max }) + '\\n'); }
});`;

/** The idle sibling process: `measure()` brackets one phase. */
export class SiblingProbe {
  private readonly child: ChildProcess;
  private readonly answers: string[] = [];
  private waiting: ((line: string) => void) | undefined;

  constructor() {
    this.child = spawn(process.execPath, ['-e', SIBLING], { stdio: ['pipe', 'pipe', 'ignore'], env: {} });
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      if (this.waiting) this.waiting(line);
      else this.answers.push(line);
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  start(name: string): void {
    this.child.stdin!.write(`start ${name}\n`);
  }

  /** Stops are answered in order: one at a time. */
  async stop(name: string): Promise<Delay> {
    const line = new Promise<string>((resolve) => {
      const queued = this.answers.shift();
      if (queued !== undefined) resolve(queued);
      else this.waiting = resolve;
    });
    this.child.stdin!.write(`stop ${name}\n`);
    const raw = JSON.parse(await line) as { p50: number; p99: number; max: number };
    this.waiting = undefined;
    const ms = (ns: number): number => Math.max(0, ns / 1e6 - RESOLUTION_MS);
    return { p50Ms: ms(raw.p50), p99Ms: ms(raw.p99), maxMs: ms(raw.max) };
  }

  close(): void {
    this.child.kill();
  }
}

/** One phase: the histogram, the split timer and the sibling, started together. */
let phases = 0;

export function startPhase(sibling: SiblingProbe): { stop(): Promise<{ delay: PhaseDelay; late: LateTick[] }> } {
  const name = `phase-${++phases}`;
  const h = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  h.enable();
  sibling.start(name);
  const late: LateTick[] = [];
  const busy: number[] = [];
  let last = process.hrtime.bigint();
  let lastCpu = cpuMs();
  const timer = setInterval(() => {
    const now = process.hrtime.bigint();
    const cpu = cpuMs();
    const lateMs = Math.max(0, Number(now - last) / 1e6 - RESOLUTION_MS);
    const used = cpu - lastCpu;
    busy.push(Math.min(lateMs, used));
    if (lateMs > LATE_MS) late.push({ atUs: Number(now / 1000n), lateMs, cpuMs: used });
    last = now;
    lastCpu = cpu;
  }, RESOLUTION_MS);
  return {
    async stop() {
      clearInterval(timer);
      h.disable();
      const siblingDelay = await sibling.stop(name);
      const lateMs = late.reduce((sum, t) => sum + t.lateMs, 0);
      const busyLateMs = late.reduce((sum, t) => sum + Math.min(t.lateMs, t.cpuMs), 0);
      const sorted = [...busy].sort((a, b) => a - b);
      return {
        delay: {
          ...delayOf(h),
          sibling: siblingDelay,
          lateTicks: late.length,
          lateMs,
          busyLateMs,
          offCpuLateMs: lateMs - busyLateMs,
          busyP99Ms: sorted[Math.floor(sorted.length * 0.99)] ?? 0,
        },
        late,
      };
    },
  };
}

function cpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

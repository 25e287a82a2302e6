/**
 * Policy decision time with 500 rules (450 command rules, 50 path rules): median and p99 of
 * a shell line with a wrapper, a chain, a pipe and redirections, next to the same decision
 * with no rules at all (the cost of parsing and the built-in classes alone), the two timed
 * interleaved decision by decision after the heap is warm. Every line timed
 * is new (its last word carries the run's number), so the analysis cache never answers: these
 * are first-time decisions. A repeated line (the cache answering) is a figure of its own.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import * as v8 from 'node:v8';
import { evaluateCommand, loadPolicyText, mergePolicies, type EffectivePolicy } from '../src/core/policy';
import { parseSimpleLine } from '../src/core/policy/simpleLine';
import type { BenchFigure } from './lib';

function policyWith(rules: number): EffectivePolicy {
  const commands = Array.from({ length: Math.floor(rules * 0.9) }, (_, i) => ({
    id: `c${i}`,
    match: `tool${i} sub *`,
    decision: i % 3 === 0 ? 'deny' : 'allow',
  }));
  const paths = Array.from({ length: rules - commands.length }, (_, i) => ({
    id: `p${i}`,
    paths: `dir${i}/**`,
    actions: ['write'],
    decision: 'allow',
  }));
  const loaded = loadPolicyText(JSON.stringify({ commands, paths }));
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
  return mergePolicies({ team: { status: 'loaded', policy: loaded.value } });
}

let serial = 0;

/** One timed decision: its window on the `performance.now()` clock, and whether the process was preempted during it. */
interface Sample {
  /** Wall time of the decision. */
  ms: number;
  /**
   * CPU time the process used across the decision (getrusage user + system, µs precision).
   * Counts V8's helper threads too, and on a VM that reports no steal time, time the
   * hypervisor took while the process ran (bench/README.md, round 4): meaningful at the
   * median, not in the tail.
   */
  cpuMs: number;
  start: number;
  end: number;
  /** Involuntary context switches of the process across the decision (another process took the CPU). */
  preempted: boolean;
  /**
   * Minor page faults across the decision: the heap's allocation reached pages the kernel had not
   * mapped (yet, or again after the GC gave them back). Each is a trap to the kernel (and, on this
   * VM, to the hypervisor) of tens of µs (round 5).
   */
  faults: number;
  line: string;
}

interface Timings {
  median: number;
  p99: number;
  /** The same quantiles of CPU time per decision. */
  cpuMedian: number;
  cpuP99: number;
  /** p99 of wall time over the decisions that were not preempted (no involuntary context switch during them). */
  unpreemptedP99: number;
  /** p99 of wall time over the decisions that were neither preempted nor took a page fault: the decision's own code. */
  quietP99: number;
  samples: Sample[];
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length * q)]!;
}

/**
 * A fixed piece of work that allocates nothing and calls nothing: the machine's reference for
 * the tail. Timed interleaved one-for-one with the decisions and calibrated to their median, its
 * p99 is what this machine (scheduler, hypervisor, other processes) does to any task of that
 * length at that moment; the decision's p99 above it is the decision's own.
 */
const spinBuffer = new Float64Array(256);
function spin(iterations: number): number {
  let acc = 0;
  for (let i = 0; i < iterations; i++) {
    const j = i & 255;
    acc += spinBuffer[j]! * 1.0000001 + j;
    spinBuffer[j] = acc % 7;
  }
  return acc;
}

function spinMs(iterations: number): number {
  const start = performance.now();
  spin(iterations);
  return performance.now() - start;
}

/** Iterations of `spin` whose median time is `targetMs`. */
function calibrateSpin(targetMs: number): number {
  let iterations = 1000;
  for (let round = 0; round < 8; round++) {
    const times = Array.from({ length: 201 }, () => spinMs(iterations));
    iterations = Math.max(1, Math.round((iterations * targetMs) / quantile(times, 0.5)));
  }
  return iterations;
}

/**
 * Times decisions of each policy, interleaved decision by decision (their order alternating), so
 * the 500-rule decisions and their no-rules reference meet the same machine and the same heap
 * (round 6: timed one after the other, a page-fault storm while the young generation grew could
 * fall on either phase and decide its median).
 */
function timings(policies: EffectivePolicy[], runs: number, repeat = false, spinIterations?: number, spins: number[] = []): Timings[] {
  const samples: Sample[][] = policies.map(() => []);
  for (let i = 0; i < runs; i++) {
    if (spinIterations !== undefined) spins.push(spinMs(spinIterations));
    const k = repeat ? 7 : i;
    for (let j = 0; j < policies.length; j++) {
      const p = (i + j) % policies.length;
      const line = `env A=1 timeout 5 tool${k % 450} sub x${repeat ? 0 : serial++} && node --test > dir${k % 50}/out.txt 2>&1 | tee dir1/log.txt`;
      // Read just outside the timed window (one getrusage each side): switches and CPU time.
      const before = process.resourceUsage();
      const start = performance.now();
      evaluateCommand(policies[p]!, { commandLine: line });
      const end = performance.now();
      const after = process.resourceUsage();
      const preempted = after.involuntaryContextSwitches > before.involuntaryContextSwitches;
      const cpuMs = (after.userCPUTime + after.systemCPUTime - before.userCPUTime - before.systemCPUTime) / 1000;
      const faults = after.minorPageFault - before.minorPageFault;
      samples[p]!.push({ ms: end - start, cpuMs, start, end, preempted, faults, line });
    }
  }
  return samples.map(summarize);
}

function summarize(samples: Sample[]): Timings {
  const wall = samples.map((s) => s.ms);
  const cpu = samples.map((s) => s.cpuMs);
  return {
    median: quantile(wall, 0.5),
    p99: quantile(wall, 0.99),
    cpuMedian: quantile(cpu, 0.5),
    cpuP99: quantile(cpu, 0.99),
    unpreemptedP99: quantile(
      samples.filter((s) => !s.preempted).map((s) => s.ms),
      0.99,
    ),
    quietP99: quantile(
      samples.filter((s) => !s.preempted && s.faults === 0).map((s) => s.ms),
      0.99,
    ),
    samples,
  };
}

/**
 * Warm-up until the young generation stops growing (round 6): while V8 grows it, every
 * decision touches pages the kernel maps for the first time (tens of µs each on this VM), and a
 * session's long-running extension host is past that. Batches of 250 decisions of each policy,
 * until the new space's size is the same for three batches in a row (at most 40 batches).
 */
function warmHeap(policies: EffectivePolicy[]): void {
  const newSpace = (): number => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;
  let size = newSpace();
  let steady = 0;
  let batch = 0;
  for (; batch < 40 && steady < 3; batch++) {
    timings(policies, 250);
    const now = newSpace();
    steady = now === size ? steady + 1 : 0;
    size = now;
  }
  process.stderr.write(
    `[policy] heap warm-up: ${batch} batches of 250 decisions per policy, young generation ${(size / 2 ** 20).toFixed(0)} MiB${steady < 3 ? ' (still growing)' : ''}\n`,
  );
}

/**
 * What the slowest 1 % of decisions coincided with (issue 21: is the p99 garbage collection,
 * the mvdan-sh fallback, the machine, or the decision?): a garbage collection overlapping the
 * decision (perf_hooks `gc` entries), a line the fast reader did not answer, the process
 * preempted during it (involuntary context switches), or none of these.
 */
function tail(
  run: Timings,
  gcs: readonly PerformanceEntry[],
): { slow: number; gc: number; fallback: number; preempted: number; faulted: number; none: number } {
  const slow = run.samples.filter((s) => s.ms >= run.p99);
  const gcDuring = (s: Sample): boolean => gcs.some((g) => g.startTime < s.end && g.startTime + g.duration > s.start);
  // A line the fast reader does not answer goes to mvdan-sh.
  const fallback = (s: Sample): boolean => parseSimpleLine(s.line) === undefined;
  return {
    slow: slow.length,
    gc: slow.filter(gcDuring).length,
    fallback: slow.filter(fallback).length,
    preempted: slow.filter((s) => s.preempted).length,
    faulted: slow.filter((s) => s.faults > 0).length,
    none: slow.filter((s) => !gcDuring(s) && !fallback(s) && !s.preempted && s.faults === 0).length,
  };
}

interface Measured {
  warden: Timings;
  reference: Timings;
  repeated: Timings;
  spins: number[];
  spinIterations: number;
  gcs: PerformanceEntry[];
}

function measure(): Measured {
  const full = policyWith(500);
  const empty = policyWith(0);
  // Warm up (JIT, and each rule's compiled pattern: every one of the 450 command rules and 50 path rules is met once), and the heap.
  timings([full], 500);
  timings([empty], 200);
  warmHeap([full, empty]);
  const gcs: PerformanceEntry[] = [];
  const observer = new PerformanceObserver((list) => gcs.push(...list.getEntries()));
  observer.observe({ entryTypes: ['gc'] });
  const spinIterations = calibrateSpin(timings([full], 500)[0]!.median);
  const spins: number[] = [];
  const [warden, reference] = timings([full, empty], 2000, false, spinIterations, spins) as [Timings, Timings];
  const [repeated] = timings([full], 2000, true) as [Timings];
  gcs.push(...observer.takeRecords()); // entries wait for a later turn of the loop: taken now
  observer.disconnect();
  return { warden, reference, repeated, spins, spinIterations, gcs };
}

/** What the isolated pass reports back (the same measurement, in a child process under SCHED_RR). */
interface Isolated {
  median: number;
  p99: number;
  unpreemptedP99: number;
  quietP99: number;
  preempted: number;
  faulted: number;
  referenceMedian: number;
  referenceP99: number;
  spinMedian: number;
  spinP99: number;
}

const CHILD_ENV = 'WARDEN_BENCH_POLICY_CHILD';

function summary({ warden, reference, spins }: Measured): Isolated {
  return {
    median: warden.median,
    p99: warden.p99,
    unpreemptedP99: warden.unpreemptedP99,
    quietP99: warden.quietP99,
    preempted: warden.samples.filter((s) => s.preempted).length,
    faulted: warden.samples.filter((s) => s.faults > 0).length,
    referenceMedian: reference.median,
    referenceP99: reference.p99,
    spinMedian: quantile(spins, 0.5),
    spinP99: quantile(spins, 0.99),
  };
}

/**
 * The same measurement (500 rules, no rules, the fixed loop) in a child process under the
 * real-time class SCHED_RR at priority 1 (`chrt -r 1`): no ordinary process on the machine can
 * preempt it, so what is left of the tail is the decision, its page faults and the hypervisor.
 * An isolation figure beside the normal one, never instead of it. Bounded: one process for a
 * few seconds, a 120 s timeout, and the kernel's real-time throttling leaves other processes at
 * least 5 % of every CPU second (`kernel.sched_rt_runtime_us`). Undefined (and why, on stderr)
 * where `chrt` or the permission is missing.
 */
function isolated(): Isolated | undefined {
  const child = spawnSync('chrt', ['-r', '1', process.execPath, '--import', 'tsx', __filename], {
    env: { ...process.env, [CHILD_ENV]: '1' },
    encoding: 'utf8',
    timeout: 120_000,
    cwd: path.resolve(__dirname, '..'),
  });
  if (child.status !== 0) {
    process.stderr.write(`[policy] the SCHED_RR pass did not run (${(child.error?.message ?? child.stderr).trim().slice(-300)})\n`);
    return undefined;
  }
  return JSON.parse(child.stdout.trim().split('\n').pop()!) as Isolated;
}

if (process.env[CHILD_ENV] === '1' && require.main === module) process.stdout.write(`${JSON.stringify(summary(measure()))}\n`);

export async function run(): Promise<BenchFigure[]> {
  const { warden, reference, repeated, spins, spinIterations, gcs } = measure();
  const rt = isolated();
  for (const [name, run] of [
    ['500 rules', warden],
    ['no rules', reference],
  ] as const) {
    const t = tail(run, gcs);
    const over = run.samples.filter((s) => s.ms > 0.5).length;
    const preempted = run.samples.filter((s) => s.preempted).length;
    process.stderr.write(
      `[policy] ${name}: ${over} of ${run.samples.length} decisions over 0.5 ms; of the ${t.slow} at or above p99 (${run.p99.toFixed(3)} ms): ` +
        `${t.gc} during a garbage collection, ${t.fallback} through mvdan-sh, ${t.preempted} preempted (involuntary context switch), ${t.faulted} with a page fault, ${t.none} none of these; ` +
        `${preempted} of all ${run.samples.length} preempted\n`,
    );
    process.stderr.write(
      `[policy] ${name}: CPU time per decision median ${run.cpuMedian.toFixed(3)} ms, p99 ${run.cpuP99.toFixed(3)} ms, max ${Math.max(...run.samples.map((s) => s.cpuMs)).toFixed(3)} ms; ` +
        `wall p99 of the ${run.samples.filter((s) => !s.preempted).length} decisions not preempted ${run.unpreemptedP99.toFixed(3)} ms, ` +
        `of the ${run.samples.filter((s) => !s.preempted && s.faults === 0).length} neither preempted nor page-faulting ${run.quietP99.toFixed(3)} ms; ` +
        `${run.samples.filter((s) => s.faults > 0).length} of ${run.samples.length} took a page fault\n`,
    );
  }
  process.stderr.write(
    `[policy] a fixed ${spinIterations}-iteration loop (no allocation, no calls) interleaved with the 500-rule decisions: median ${quantile(spins, 0.5).toFixed(3)} ms, p99 ${quantile(spins, 0.99).toFixed(3)} ms, ${spins.filter((ms) => ms > 0.5).length} of ${spins.length} over 0.5 ms\n`,
  );
  process.stderr.write(
    `[policy] ${gcs.length} garbage collections during the 6,000 timed decisions, ${gcs.reduce((a, g) => a + g.duration, 0).toFixed(1)} ms in all\n`,
  );
  if (rt)
    process.stderr.write(
      `[policy] under SCHED_RR 1 (isolation, same run): 500 rules median ${rt.median.toFixed(3)} ms, p99 ${rt.p99.toFixed(3)} ms (not preempted ${rt.unpreemptedP99.toFixed(3)}, ` +
        `neither preempted nor page-faulting ${rt.quietP99.toFixed(3)}), ${rt.preempted} of 2000 preempted, ${rt.faulted} with a page fault; ` +
        `no rules median ${rt.referenceMedian.toFixed(3)} ms, p99 ${rt.referenceP99.toFixed(3)} ms; fixed loop median ${rt.spinMedian.toFixed(3)} ms, p99 ${rt.spinP99.toFixed(3)} ms\n`,
    );
  const rtFigures: BenchFigure[] = rt
    ? [
        {
          // Isolation, not the target's figure: the same decisions with no ordinary process able to preempt them.
          figure: 'policy decision, 500 rules (median), under SCHED_RR 1 (isolation)',
          unit: 'ms',
          warden: rt.median,
          reference: rt.referenceMedian,
          referenceLabel: 'same line, no rules, SCHED_RR 1',
          target: 'report',
        },
        {
          figure: 'policy decision, 500 rules (p99), under SCHED_RR 1 (isolation)',
          unit: 'ms',
          warden: rt.p99,
          reference: rt.spinP99,
          referenceLabel: 'fixed loop, interleaved, SCHED_RR 1',
          target: 'report',
        },
      ]
    : [];
  return [
    {
      figure: 'policy decision, 500 rules (median)',
      unit: 'ms',
      warden: warden.median,
      reference: reference.median,
      referenceLabel: 'same line, no rules',
      target: 'median <= 0.05 ms',
    },
    {
      figure: 'policy decision, 500 rules (p99)',
      unit: 'ms',
      warden: warden.p99,
      reference: reference.p99,
      referenceLabel: 'same line, no rules',
      target: 'p99 <= 0.5 ms',
    },
    {
      // The same p99 beside the machine's: a fixed loop of the decision's median length, timed interleaved with them.
      figure: 'policy decision, 500 rules (p99), against a fixed loop of its median length',
      unit: 'ms',
      warden: warden.p99,
      reference: quantile(spins, 0.99),
      referenceLabel: 'fixed loop, interleaved',
      target: 'report',
    },
    {
      // What the decision costs the process, without the time it waited off the CPU (issue 21:
      // on a shared machine the wall-time p99 is the scheduler's; this is the code's).
      figure: 'policy decision, 500 rules (p99 of CPU time per decision)',
      unit: 'ms',
      warden: warden.cpuP99,
      reference: reference.cpuP99,
      referenceLabel: 'same line, no rules, CPU time',
      // Not the target's figure: on a VM that reports no steal time, stolen time counts as CPU time (bench/README.md).
      target: 'report',
    },
    {
      figure: 'policy decision, 500 rules (p99 of wall time, decisions not preempted)',
      unit: 'ms',
      warden: warden.unpreemptedP99,
      reference: reference.unpreemptedP99,
      referenceLabel: 'same line, no rules, not preempted',
      target: 'report',
    },
    {
      figure: 'policy decision, 500 rules, repeated line (median)',
      unit: 'ms',
      warden: repeated.median,
      reference: reference.median,
      referenceLabel: 'new line, no rules',
      target: 'report',
    },
    {
      // The decision's own code: decisions with neither a preemption nor a page fault (round 5).
      figure: 'policy decision, 500 rules (p99 of wall time, neither preempted nor page-faulting)',
      unit: 'ms',
      warden: warden.quietP99,
      reference: reference.quietP99,
      referenceLabel: 'same line, no rules, the same filter',
      target: 'report',
    },
    ...rtFigures,
  ];
}

/**
 * Policy decision time with 500 rules (450 command rules, 50 path rules): median and p99 of
 * a shell line with a wrapper, a chain, a pipe and redirections, next to the same decision
 * with no rules at all (the cost of parsing and the built-in classes alone). Every line timed
 * is new (its last word carries the run's number), so the analysis cache never answers: these
 * are first-time decisions. A repeated line (the cache answering) is a figure of its own.
 */
import { evaluateCommand, loadPolicyText, mergePolicies, type EffectivePolicy } from '../src/core/policy';
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
function timings(policy: EffectivePolicy, runs: number, repeat = false): { median: number; p99: number } {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const k = repeat ? 7 : i;
    const line = `env A=1 timeout 5 tool${k % 450} sub x${repeat ? 0 : serial++} && node --test > dir${k % 50}/out.txt 2>&1 | tee dir1/log.txt`;
    const start = process.hrtime.bigint();
    evaluateCommand(policy, { commandLine: line });
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)]!, p99: times[Math.floor(times.length * 0.99)]! };
}

export async function run(): Promise<BenchFigure[]> {
  const full = policyWith(500);
  const empty = policyWith(0);
  // Warm up (JIT, and each rule's compiled pattern: every one of the 450 command rules and 50 path rules is met once).
  timings(full, 500);
  timings(empty, 200);
  const warden = timings(full, 2000);
  const reference = timings(empty, 2000);
  const repeated = timings(full, 2000, true);
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
      figure: 'policy decision, 500 rules, repeated line (median)',
      unit: 'ms',
      warden: repeated.median,
      reference: reference.median,
      referenceLabel: 'new line, no rules',
      target: 'report',
    },
  ];
}

/**
 * Activation in the same extension host (issue 21): Warden's `activate()` against a built-in
 * extension's (`vscode.emmet` when it is not active yet, else the next built-in that activates
 * on demand; see host/activationEntry.ts),
 * both activated in one real VS Code server window, over several windows
 * (`WARDEN_BENCH_ACTIVATION_RUNS`, default 6) whose order alternates (Warden first, then the
 * reference first), so neither always pays for what the host loads first. The figure is the
 * median of the per-window ratios; each window's times and the load average go to stderr.
 */
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import * as path from 'node:path';
import * as z from 'zod';
import { inExtensionHost } from './hostRunner';
import { percentile, type BenchFigure } from './lib';

const root = path.resolve(__dirname, '..');
const result = z.object({
  wardenMs: z.number(),
  reference: z.object({ id: z.string(), ms: z.number() }),
  order: z.enum(['warden-first', 'reference-first']),
  wardenWasActive: z.boolean(),
});

export async function run(): Promise<BenchFigure[]> {
  const built = spawnSync('node', ['esbuild.js', '--production'], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`node esbuild.js --production failed: ${built.stderr.slice(-500)}`);
  const runs = Number(process.env.WARDEN_BENCH_ACTIVATION_RUNS ?? 6);
  const windows: Array<z.infer<typeof result>> = [];
  for (let i = 0; i < runs; i++) {
    const order = i % 2 === 0 ? 'warden-first' : 'reference-first';
    const load = loadavg()[0]!.toFixed(1);
    const window = result.parse(
      await inExtensionHost({
        entry: path.join(__dirname, 'host', 'activationEntry.ts'),
        timeoutMs: 180_000,
        env: { WARDEN_BENCH_ORDER: order },
      }),
    );
    const line = `Warden ${window.wardenMs.toFixed(1)} ms, ${window.reference.id} ${window.reference.ms.toFixed(1)} ms, ratio ${(window.wardenMs / window.reference.ms).toFixed(2)}`;
    if (window.wardenWasActive) {
      process.stderr.write(`[activation] window ${i + 1}: Warden was already active, not counted (${line})\n`);
      continue;
    }
    windows.push(window);
    process.stderr.write(`[activation] window ${i + 1} (${order}, load ${load}): ${line}\n`);
  }
  if (windows.length === 0) throw new Error('no window measured both activations');
  const median = (values: number[]): number => percentile(values, 0.5);
  const ratio = median(windows.map((w) => w.wardenMs / w.reference.ms));
  const referenceMs = median(windows.map((w) => w.reference.ms));
  const ids = [...new Set(windows.map((w) => w.reference.id))].join(' or ');
  return [
    {
      figure: `activation, ${windows.length} windows (ratio: median of the per-window ratios)`,
      unit: 'ms',
      // The reference's median times the median ratio, so the table's ratio column is the median ratio.
      warden: referenceMs * ratio,
      reference: referenceMs,
      referenceLabel: `built-in ${ids}, same host`,
      target: 'ratio <= 2.5',
    },
  ];
}

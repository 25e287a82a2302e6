/**
 * Activation in the same extension host (issue 21): Warden's `activate()` against the built-in
 * `vscode.emmet`'s, both activated on demand in one real VS Code server window, over several
 * windows (`WARDEN_BENCH_ACTIVATION_RUNS`, default 6) whose order alternates (Warden first,
 * then emmet first), so neither always pays for what the host loads first. The figure is the
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
  referenceMs: z.number(),
  order: z.enum(['warden-first', 'reference-first']),
  alreadyActive: z.array(z.string()),
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
    if (window.alreadyActive.length > 0) {
      process.stderr.write(`[activation] window ${i + 1}: ${window.alreadyActive.join(', ')} already active, not counted\n`);
      continue;
    }
    windows.push(window);
    process.stderr.write(
      `[activation] window ${i + 1} (${order}, load ${load}): Warden ${window.wardenMs.toFixed(1)} ms, vscode.emmet ${window.referenceMs.toFixed(1)} ms, ratio ${(window.wardenMs / window.referenceMs).toFixed(2)}\n`,
    );
  }
  if (windows.length === 0) throw new Error('no window measured both activations');
  const ratio = percentile(
    windows.map((w) => w.wardenMs / w.referenceMs),
    0.5,
  );
  const referenceMs = percentile(
    windows.map((w) => w.referenceMs),
    0.5,
  );
  return [
    {
      figure: `activation, median of ${windows.length} windows (ratio: median of the per-window ratios)`,
      unit: 'ms',
      // Shown as the reference's median times the median ratio, so the table's ratio column is the median ratio.
      warden: referenceMs * ratio,
      reference: referenceMs,
      referenceLabel: 'built-in vscode.emmet, same host',
      target: 'ratio <= 2.5',
    },
  ];
}

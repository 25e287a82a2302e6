/**
 * Activation in the same extension host (issue 21): Warden's `activate()` against the built-in
 * `vscode.emmet`'s, installed as a copy that activates only on its command (see `installEmmetOnDemand`;
 * if it is active anyway, the next built-in that activates on demand; see host/activationEntry.ts),
 * both activated in one real VS Code server window, over several windows
 * (`WARDEN_BENCH_ACTIVATION_RUNS`, default 6) whose order alternates (Warden first, then the
 * reference first), so neither always pays for what the host loads first. The figure is the
 * median of the per-window ratios; each window's times and the load average go to stderr.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import * as path from 'node:path';
import * as z from 'zod';
import { vscodeServerPaths } from '../scripts/vscode/paths';
import { inExtensionHost } from './hostRunner';
import { percentile, type BenchFigure } from './lib';

const root = path.resolve(__dirname, '..');

/**
 * Installs the built-in `vscode.emmet` of this very VS Code into the window's fresh extensions
 * folder with two changes to its manifest: its activation events are only its command
 * (`onCommand:emmet.expandAbbreviation`), without `onLanguage`, which the workbench fires for any
 * document before the entry runs; and a patch version one higher, so this copy replaces the
 * built-in (VS Code runs the higher version of an extension installed twice). The same code is
 * then not active when the entry runs and is activated on demand. Nothing of it is kept.
 */
function installEmmetOnDemand(dir: string): void {
  const builtIn = path.join(path.dirname(vscodeServerPaths().serverMain), '..', 'extensions', 'emmet');
  const manifest = z
    .object({ version: z.string().regex(/^\d+\.\d+\.\d+$/), activationEvents: z.array(z.string()) })
    .passthrough()
    .parse(JSON.parse(readFileSync(path.join(builtIn, 'package.json'), 'utf8')));
  const onDemand = manifest.activationEvents.filter((event) => event.startsWith('onCommand:'));
  if (onDemand.length === 0) throw new Error(`${builtIn}/package.json has no onCommand activation event to keep`);
  const [major, minor, patch] = manifest.version.split('.').map(Number);
  const version = `${major}.${minor}.${patch! + 1}`;
  const copy = path.join(dir, `vscode.emmet-${version}`);
  cpSync(builtIn, copy, { recursive: true });
  writeFileSync(path.join(copy, 'package.json'), JSON.stringify({ ...manifest, version, activationEvents: onDemand }));
}

const result = z.object({
  wardenMs: z.number(),
  reference: z.object({ id: z.string(), ms: z.number(), path: z.string() }),
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
        installExtensions: installEmmetOnDemand,
      }),
    );
    const line = `Warden ${window.wardenMs.toFixed(1)} ms, ${window.reference.id} ${window.reference.ms.toFixed(1)} ms, ratio ${(window.wardenMs / window.reference.ms).toFixed(2)} (reference from ${window.reference.path})`;
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

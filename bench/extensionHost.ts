/**
 * Figures taken in a real VS Code: Warden's activation time beside a built-in extension's
 * activated in the same extension host, the extension host's heap growth over a 1,000-proposal
 * session (Review panel open) beside the heap the same proposals take in a plain array, and
 * the size of each production bundle the extension host loads and of the VSIX.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import * as z from 'zod';
import { inExtensionHost } from './hostRunner';
import type { BenchFigure } from './lib';

const root = path.resolve(__dirname, '..');
const TIMEOUT_MS = 240_000;
const hostResults = z.object({
  activation: z.object({
    wardenMs: z.number(),
    reference: z.object({ id: z.string(), ms: z.number() }).nullable(),
    wardenWasActive: z.boolean(),
  }),
  memory: z.object({ proposals: z.number(), growthBytes: z.number(), plainArrayBytes: z.number(), rssGrowthBytes: z.number() }),
});

export async function run(): Promise<BenchFigure[]> {
  // The production build is what users run: measure that, and package it.
  mkdirSync(path.join(root, '.build'), { recursive: true });
  const packaged = spawnSync('npm', ['run', '--silent', 'package'], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (packaged.status !== 0) throw new Error(`npm run package failed: ${packaged.stderr.slice(-500)}`);
  const host = hostResults.parse(await inExtensionHost({ entry: path.join(__dirname, 'host', 'entry.ts'), timeoutMs: TIMEOUT_MS }));
  const kib = (file: string): number => statSync(path.join(root, file)).size / 1024;
  const figures: BenchFigure[] = [
    {
      figure: 'activation (production bundle)',
      unit: 'ms',
      warden: host.activation.wardenMs,
      reference: host.activation.reference?.ms ?? null,
      referenceLabel: host.activation.reference ? `built-in ${host.activation.reference.id}` : 'no inactive built-in found',
      target: 'ratio <= 2.5',
    },
    {
      figure: `extension host heap growth, ${host.memory.proposals} proposals`,
      unit: 'MiB',
      warden: host.memory.growthBytes / 1024 ** 2,
      reference: host.memory.plainArrayBytes / 1024 ** 2,
      referenceLabel: 'same proposals in a plain array',
      target: 'ratio <= 3',
    },
    {
      figure: `extension host RSS growth, ${host.memory.proposals} proposals`,
      unit: 'MiB',
      warden: host.memory.rssGrowthBytes / 1024 ** 2,
      reference: null,
      referenceLabel: '',
      target: 'report',
    },
    // Each bundle the extension host may load: activation loads the first two (issue 21).
    ...extensionBundles().map((file) => ({
      figure: `bundle ${file}`,
      unit: 'KiB',
      warden: kib(file),
      reference: null,
      referenceLabel: '',
      target: 'KiB <= 4096',
    })),
    { figure: 'VSIX', unit: 'KiB', warden: kib('.build/warden.vsix'), reference: null, referenceLabel: '', target: 'KiB <= 4096' },
  ];
  if (host.activation.wardenWasActive) figures[0]!.figure += ' (was already active: not measured)';
  return figures;
}

/** The extension's bundles (not the CLI, the agents or the webviews), activation's first. */
function extensionBundles(): string[] {
  const first = ['dist/extension.js', 'dist/proposalStore.js', 'dist/features.js'];
  const lib = readdirSync(path.join(root, 'dist', 'lib')).map((f) => `dist/lib/${f}`);
  return [...first, ...lib];
}

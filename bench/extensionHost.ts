/**
 * Figures taken in a real VS Code: Warden's activation time beside a built-in extension's
 * activated in the same extension host, the extension host's heap growth over a 1,000-proposal
 * session (Review panel open) beside the heap the same proposals take in a plain array, and
 * the size of the production bundle and of the VSIX.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { build } from 'esbuild';
import * as z from 'zod';
import { launchChromium, startVSCodeServer, type Chromium, type VSCodeServer } from '../scripts/vscode/server';
import type { BenchFigure } from './lib';

const root = path.resolve(__dirname, '..');
const RESULTS_ENV = 'WARDEN_BENCH_RESULTS';
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
  const entry = path.join(root, 'out', 'bench', 'host-entry.js');
  await build({
    entryPoints: [path.join(__dirname, 'host', 'entry.ts')],
    outfile: entry,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode'],
    mainFields: ['module', 'main'],
    logLevel: 'warning',
  });
  const host = await inExtensionHost(entry);
  const kib = (file: string): number => statSync(path.join(root, file)).size / 1024;
  const figures: BenchFigure[] = [
    {
      figure: 'activation (production bundle)',
      unit: 'ms',
      warden: host.activation.wardenMs,
      reference: host.activation.reference?.ms ?? null,
      referenceLabel: host.activation.reference ? `built-in ${host.activation.reference.id}` : 'no inactive built-in found',
      target: 'ms <= 500',
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
    {
      figure: 'bundle dist/extension.js',
      unit: 'KiB',
      warden: kib('dist/extension.js'),
      reference: null,
      referenceLabel: '',
      target: 'KiB <= 4096',
    },
    { figure: 'VSIX', unit: 'KiB', warden: kib('.build/warden.vsix'), reference: null, referenceLabel: '', target: 'KiB <= 4096' },
  ];
  if (host.activation.wardenWasActive) figures[0]!.figure += ' (was already active: not measured)';
  return figures;
}

async function inExtensionHost(entry: string): Promise<z.infer<typeof hostResults>> {
  const temp = mkdtempSync(path.join(os.tmpdir(), 'warden-bench-host-'));
  const workspace = path.join(temp, 'demo');
  cpSync(path.join(root, 'test', 'fixtures', 'workspaces', 'demo'), workspace, { recursive: true });
  const resultsFile = path.join(temp, 'results.json');
  let server: VSCodeServer | undefined;
  let browser: Chromium | undefined;
  try {
    server = await startVSCodeServer({ env: { [RESULTS_ENV]: resultsFile } });
    browser = await launchChromium();
    await browser.page.goto(server.url(workspace, { extensionDevelopmentPath: root, extensionTestsPath: entry }));
    const deadline = Date.now() + TIMEOUT_MS;
    while (!existsSync(resultsFile)) {
      if (Date.now() > deadline) throw new Error(`no results within ${TIMEOUT_MS / 1000} s; server log:\n${server.logTail(20)}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const raw: unknown = JSON.parse(readFileSync(resultsFile, 'utf8'));
    const failed = z.object({ error: z.string() }).safeParse(raw);
    if (failed.success) throw new Error(`in the extension host: ${failed.data.error}`);
    return hostResults.parse(raw);
  } finally {
    await browser?.close();
    await server?.stop();
    rmSync(temp, { recursive: true, force: true, maxRetries: 3 });
  }
}

/**
 * The e2e tier: Playwright (Debian's Chromium) drives the real VS Code UI of the offline
 * VS Code server. Runs mocha (bdd) on test/e2e/**\/*.e2e.ts with tsx and prints exactly
 * `e2e: N passed, M failed` (a skipped test counts as failed). Exits 1 on any failure.
 *
 *   npx tsx scripts/run-e2e-tests.ts [--no-build] [--timeout-ms N] [--grep PATTERN] [spec files...]
 *
 * --timeout-ms is mocha's per-test (and per-hook) timeout, default 180000.
 *
 * Builds the extension first (`node esbuild.js`) so the window loads the current code.
 * `--exit`: a test that leaks a handle cannot hang the tier (leftover servers and browsers
 * are then killed by the process-exit cleanup in scripts/vscode/server.ts).
 * Screenshots of failed tests land in test-results/.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { parseArgs } from 'node:util';

const root = path.resolve(__dirname, '..');
const mocha = path.join(root, 'node_modules', '.bin', 'mocha');
const log = (message: string): void => console.error(`[e2e] ${message}`);

function summary(passed: number, failed: number): never {
  console.log(`e2e: ${passed} passed, ${failed} failed`);
  process.exit(failed === 0 && passed > 0 ? 0 : 1);
}

async function main(): Promise<void> {
  const started = Date.now();
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      'no-build': { type: 'boolean', default: false },
      'timeout-ms': { type: 'string', default: '180000' },
      grep: { type: 'string' },
    },
  });
  const noBuild = values['no-build'];
  const timeoutMs = Number(values['timeout-ms']);
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new Error('--timeout-ms must be a positive number of milliseconds');
  const specs = positionals.length > 0 ? positionals : ['test/e2e/**/*.e2e.ts'];

  if (!noBuild) {
    log('building (node esbuild.js)');
    const build = spawnSync(process.execPath, ['esbuild.js'], { cwd: root, stdio: 'inherit' });
    if (build.status !== 0) {
      console.log('  build failed: node esbuild.js');
      summary(0, 1);
    }
  }

  const mochaArgs = [
    '--import=tsx',
    '--reporter',
    'spec',
    '--no-color',
    '--exit',
    '--timeout',
    String(timeoutMs),
    ...(values.grep ? ['--grep', values.grep] : []),
    ...specs,
  ];
  const child = spawn(mocha, mochaArgs, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
    process.stdout.write(chunk);
  });
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)));

  const count = (word: string): number => Number(new RegExp(`^\\s*(\\d+) ${word}`, 'm').exec(output)?.[1] ?? 0);
  const passed = count('passing');
  const failed = count('failing') + count('pending');
  log(`finished in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  // mocha exiting non-zero without reporting a failure (no files, a crash) still fails the tier.
  summary(passed, failed + (code !== 0 && failed === 0 ? 1 : 0));
}

main().catch((error: unknown) => {
  console.log(`harness: ${error instanceof Error ? error.message : String(error)}`);
  console.log('e2e: 0 passed, 1 failed');
  process.exit(1);
});

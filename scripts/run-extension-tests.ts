/**
 * The extension-host tier: runs test/extension (mocha, bdd) inside a real VS Code extension
 * host, offline: the VS Code server from scripts/bootstrap/vscode-server.sh, opened in
 * Debian's Chromium as an extension development window whose tests path is our bundle.
 *
 *   npx tsx scripts/run-extension-tests.ts [--workspace DIR] [--timeout-ms N] [--no-build]
 *                                          [--extension-path DIR] [--tests-path FILE]
 *
 * --workspace      folder copied to a temp dir and opened (default test/fixtures/workspaces/demo)
 * --timeout-ms     bound on the whole run once the window opens (default 600000, or
 *                  $WARDEN_EXTENSION_TESTS_TIMEOUT_MS)
 * --no-build       skip `node esbuild.js --tests`
 * --extension-path extensionDevelopmentPath (default: this repository)
 * --tests-path     extensionTestsPath (default: out/test/extension/index.js)
 *
 * $WARDEN_TEST_GREP runs only the tests whose full title matches (to rerun one suite alone).
 *
 * Prints every test with its outcome, then exactly `extension: N passed, M failed`; exits 1
 * on any failure, skipped test, or timeout. Everything (server, browser, temp dirs) is torn
 * down on every path, including Ctrl-C.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { removeSandboxesOf } from './vscode/sandboxCleanup';
import { SourceMap } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import {
  GREP_ENV,
  RESULTS_ENV,
  TIMEOUT_ENV,
  WORKSPACE_ENV,
  progressLineSchema,
  testReportSchema,
  type TestReport,
  type TestResult,
} from '../test/extension/results';
import { cleanupOnProcessEnd, launchChromium, startVSCodeServer, type Chromium, type VSCodeServer } from './vscode/server';

const root = path.resolve(__dirname, '..');
const log = (message: string): void => console.error(`[extension] ${message}`);
const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)}s`;

function summary(passed: number, failed: number): never {
  console.log(`extension: ${passed} passed, ${failed} failed`);
  process.exit(failed === 0 && passed > 0 ? 0 : 1);
}

/** suites.ts must import every *.test.ts next to it, or a suite would silently never run. */
function unlistedSuites(): string[] {
  const dir = path.join(root, 'test', 'extension');
  const suites = readFileSync(path.join(dir, 'suites.ts'), 'utf8');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.test.ts'))
    .filter((f) => !new RegExp(`^import\\s+['"]\\./${f.replace(/\.ts$/, '').replace(/\./g, '\\.')}(\\.js)?['"];?\\s*$`, 'm').test(suites));
}

function readReport(file: string): TestReport {
  const parsed = testReportSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) throw new Error(`${file} does not match the results schema: ${parsed.error.message}`);
  return parsed.data;
}

/** What the progress file says, for a run that never finished: tests that ended, and the one still running. */
function readProgress(file: string): { text: string; passed: number; failed: number } {
  if (!existsSync(file)) return { text: '  no test started (did the extension host call run()? see the server log)', passed: 0, failed: 0 };
  const ended = new Set<string>();
  const out: string[] = [];
  let running: string | undefined;
  let passed = 0;
  let failed = 0;
  for (const raw of readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      continue; // a line cut short by the timeout
    }
    const line = progressLineSchema.safeParse(json);
    if (!line.success) continue;
    if (line.data.event === 'begin') {
      running = line.data.title;
      continue;
    }
    const { result } = line.data;
    ended.add(result.title);
    if (result.state === 'passed') passed++;
    else failed++;
    out.push(
      `  ${result.state === 'passed' ? '✓ pass' : '✗ FAIL'}  ${result.title}${result.error ? `: ${result.error.message.split('\n')[0]}` : ''}`,
    );
  }
  if (running && !ended.has(running)) out.push(`  … still running: ${running}`);
  return { text: out.join('\n'), passed, failed };
}

const sourceMapEntrySchema = z.object({ originalSource: z.string(), originalLine: z.number(), originalColumn: z.number() });

/**
 * The extension host strips NODE_OPTIONS, so `--enable-source-maps` cannot reach it: stack
 * frames point into the bundle. Map them back to the TypeScript sources with the bundle's map.
 */
function sourceMapper(bundle: string): (stack: string) => string {
  let map: SourceMap;
  try {
    map = new SourceMap(JSON.parse(readFileSync(`${bundle}.map`, 'utf8')) as ConstructorParameters<typeof SourceMap>[0]);
  } catch {
    return (stack) => stack;
  }
  const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  // mocha shortens paths under the extension host's working directory (the repo) to relative ones.
  const frame = new RegExp(`(?:${escape(bundle)}|${escape(path.relative(root, bundle))}):(\\d+):(\\d+)`, 'g');
  return (stack) =>
    stack.replace(frame, (whole, line: string, column: string) => {
      const entry = sourceMapEntrySchema.safeParse(map.findEntry(Number(line) - 1, Number(column) - 1));
      if (!entry.success) return whole;
      const source = path.relative(root, path.resolve(path.dirname(bundle), entry.data.originalSource));
      return `${source}:${entry.data.originalLine + 1}:${entry.data.originalColumn + 1}`;
    });
}

/** Drops frames inside Node and VS Code itself (they bury the test's own frames) and caps the rest. */
function trimStack(stack: string, maxFrames = 10): string {
  const lines = stack.split('\n');
  const isFrame = (l: string): boolean => /^\s+at /.test(l);
  const head = lines.filter((l) => !isFrame(l));
  const frames = lines.filter(isFrame).filter((l) => !/node:internal|\/code-server\/lib\/vscode\/|\/node_modules\/mocha\//.test(l));
  const shown = frames.slice(0, maxFrames);
  if (frames.length > shown.length) shown.push(`    ... ${frames.length - shown.length} more frames`);
  return [...head, ...shown].join('\n');
}

function printResult(test: TestResult, mapStack: (stack: string) => string): void {
  const mark = test.state === 'passed' ? '✓ pass' : test.state === 'pending' ? '- SKIPPED (not allowed)' : '✗ FAIL';
  console.log(`  ${mark}  ${test.title}  (${test.durationMs} ms)`);
  if (test.error) {
    const stack = test.error.stack ? trimStack(mapStack(test.error.stack)) : '';
    const detail = stack.includes(test.error.message) ? stack : `${test.error.message}\n${stack}`;
    console.log(
      detail
        .trim()
        .split('\n')
        .map((l) => `        ${l}`)
        .join('\n'),
    );
  }
}

/** Resolves true once `file` exists, false at the deadline; throws early when nothing can write it anymore. */
async function waitFor(file: string, deadline: number, server: VSCodeServer): Promise<boolean> {
  let hostExitedAt: number | undefined;
  while (Date.now() < deadline) {
    if (existsSync(file)) return true;
    if (!isAlive(server.pid)) throw new Error('the VS Code server exited before the tests finished');
    // The server logs "<pid> Extension Host Process exited with code: 1, signal: null."
    const exit = /Extension Host Process exited with code: (\S+), signal: (\S+?)\.?$/m.exec(server.logTail(400));
    if (exit) {
      hostExitedAt ??= Date.now();
      if (Date.now() - hostExitedAt > 5_000) {
        throw new Error(`the extension host exited (code ${exit[1]}, signal ${exit[2]}) without writing ${path.basename(file)}`);
      }
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return existsSync(file);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function main(): Promise<void> {
  const started = Date.now();
  const { values } = parseArgs({
    options: {
      workspace: { type: 'string' },
      'timeout-ms': { type: 'string' },
      'no-build': { type: 'boolean', default: false },
      'extension-path': { type: 'string' },
      'tests-path': { type: 'string' },
    },
  });
  const timeoutMs = Number(values['timeout-ms'] ?? process.env.WARDEN_EXTENSION_TESTS_TIMEOUT_MS ?? 600_000);
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new Error(`--timeout-ms must be a positive number of milliseconds`);
  const extensionPath = path.resolve(values['extension-path'] ?? root);
  const testsPath = path.resolve(values['tests-path'] ?? path.join(root, 'out', 'test', 'extension', 'index.js'));
  const workspaceSource = path.resolve(values.workspace ?? path.join(root, 'test', 'fixtures', 'workspaces', 'demo'));

  const unlisted = unlistedSuites();
  if (unlisted.length > 0) {
    console.log(`  ✗ FAIL  test/extension/suites.ts imports every suite: missing ${unlisted.join(', ')}`);
    summary(0, 1);
  }
  if (!existsSync(workspaceSource)) throw new Error(`workspace ${workspaceSource} does not exist`);

  if (!values['no-build']) {
    log('building (node esbuild.js --tests)');
    const build = spawnSync(process.execPath, ['esbuild.js', '--tests'], { cwd: root, stdio: 'inherit' });
    if (build.status !== 0) {
      console.log('  ✗ FAIL  build: node esbuild.js --tests');
      summary(0, 1);
    }
  }
  if (!existsSync(testsPath)) throw new Error(`${testsPath} is missing: build with \`node esbuild.js --tests\``);

  const temp = mkdtempSync(path.join(os.tmpdir(), 'warden-ext-tests-'));
  const workspace = path.join(temp, path.basename(workspaceSource));
  cpSync(workspaceSource, workspace, { recursive: true });
  const resultsFile = path.join(temp, 'results', 'results.json');

  let server: VSCodeServer | undefined;
  let browser: Chromium | undefined;
  const forgetTemp = cleanupOnProcessEnd(() => rmSync(temp, { recursive: true, force: true, maxRetries: 5 }));
  let tearingDown: Promise<void> | undefined;
  const teardown = (): Promise<void> =>
    (tearingDown ??= (async () => {
      await browser?.close();
      await server?.stop();
      await removeSandboxesOf(workspace);
      rmSync(temp, { recursive: true, force: true, maxRetries: 3 });
      forgetTemp();
    })());
  let interrupted = false;
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    // `on`, not `once`: scripts/vscode/server.ts exits by itself on a signal nobody else listens to.
    process.on(sig, () => {
      interrupted = true;
      log(`${sig}: tearing down`);
      void teardown().finally(() => process.exit(130));
    });
  }

  let report: TestReport | undefined;
  let opened = 0;
  const consoleErrors: string[] = [];
  try {
    server = await startVSCodeServer({
      env: {
        [RESULTS_ENV]: resultsFile,
        [WORKSPACE_ENV]: workspace,
        ...(process.env[TIMEOUT_ENV] ? { [TIMEOUT_ENV]: process.env[TIMEOUT_ENV] } : {}),
        ...(process.env[GREP_ENV] ? { [GREP_ENV]: process.env[GREP_ENV] } : {}),
      },
    });
    log(`VS Code server on 127.0.0.1:${server.port} (pid ${server.pid}) after ${seconds(Date.now() - started)}`);
    browser = await launchChromium();
    browser.page.on('console', (m) => {
      // Skip the bare server's known 404s for code-server's own PWA manifest and service worker.
      if (m.type() === 'error' && !/manifest\.json|\/_static\//.test(`${m.location().url} ${m.text()}`)) {
        consoleErrors.push(m.text().split('\n')[0] ?? '');
      }
    });
    opened = Date.now();
    await browser.page.goto(server.url(workspace, { extensionDevelopmentPath: extensionPath, extensionTestsPath: testsPath }));
    log(`workbench opened; waiting up to ${seconds(timeoutMs)} for ${resultsFile}`);
    if (!(await waitFor(resultsFile, opened + timeoutMs, server))) {
      throw new Error(`the extension tests did not finish within ${seconds(timeoutMs)}`);
    }
    report = readReport(resultsFile);
  } catch (error) {
    if (interrupted) {
      await teardown();
      process.exit(130);
    }
    // A run that never produced its results file: show how far it got and why.
    const progress = opened > 0 ? readProgress(`${resultsFile}.progress`) : { text: '', passed: 0, failed: 0 };
    if (progress.text) console.log(progress.text);
    console.log(`  ✗ FAIL  harness: ${error instanceof Error ? error.message : String(error)}`);
    if (browser) console.log(`--- window title: ${await browser.page.title().catch(() => '?')}`);
    if (consoleErrors.length > 0) console.log(`--- last browser console errors:\n${consoleErrors.slice(-10).join('\n')}`);
    if (server) console.log(`--- VS Code server log (tail):\n${server.logTail(40)}`);
    await teardown();
    summary(progress.passed, progress.failed + 1);
  } finally {
    await teardown();
  }

  const mapStack = sourceMapper(testsPath);
  for (const test of report.tests) printResult(test, mapStack);
  const passed = report.tests.filter((t) => t.state === 'passed').length;
  const failed = report.tests.length - passed;
  if (report.tests.length === 0) console.log('  ✗ FAIL  no extension tests ran');
  const firstTest = report.firstTestAt !== undefined ? `first test ${seconds(report.firstTestAt - opened)} after opening the window, ` : '';
  log(
    `VS Code ${report.vscodeVersion}: ${firstTest}tests took ${seconds(report.finishedAt - report.startedAt)}, total ${seconds(Date.now() - started)}`,
  );
  summary(passed, failed + (report.tests.length === 0 ? 1 : 0));
}

main().catch((error: unknown) => {
  console.log(`  ✗ FAIL  harness: ${error instanceof Error ? error.message : String(error)}`);
  console.log('extension: 0 passed, 1 failed');
  process.exit(1);
});

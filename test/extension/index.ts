/**
 * The extension-host test entry (`extensionTestsPath`): VS Code calls `run()` inside the
 * extension host once the development extension is loaded.
 *
 * - Interface: mocha **bdd** (`describe`/`it`/`before`...), installed as globals before the
 *   suites load.
 * - The suites are bundled (esbuild), so there is no file discovery: `./suites` imports every
 *   `test/extension/*.test.ts` statically, and it is imported *lazily* from `run()` so that
 *   the globals exist first and a suite that throws while loading becomes a recorded failure.
 * - Results go to the JSON file named by `$WARDEN_TEST_RESULTS` (schema in ./results), always
 *   written, also when loading fails. Per-test progress is appended to `<file>.progress`.
 *   Without that variable (e.g. under @vscode/test-electron on a desktop) mocha's spec
 *   reporter prints to the console and `run()`'s rejection reports the outcome.
 * - `run()` rejects when anything failed, which is how desktop runners see failures.
 */
import { appendFileSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import Mocha from 'mocha';
import * as vscode from 'vscode';
import { GREP_ENV, RESULTS_ENV, TIMEOUT_ENV, type ProgressLine, type TestError, type TestReport, type TestResult } from './results';

function toError(value: unknown): TestError {
  if (value instanceof Error) return { message: value.message || value.name, ...(value.stack ? { stack: value.stack } : {}) };
  return { message: String(value) };
}

class ResultsWriter {
  private readonly progressFile: string | undefined;

  constructor(private readonly file: string | undefined) {
    this.progressFile = file ? `${file}.progress` : undefined;
    if (file) mkdirSync(path.dirname(file), { recursive: true });
  }

  progress(line: ProgressLine): void {
    if (!this.progressFile) return;
    try {
      appendFileSync(this.progressFile, `${JSON.stringify(line)}\n`);
    } catch {
      // Progress is a diagnostic aid; the final report is what counts.
    }
  }

  /** Written to a temporary name and renamed, so the harness never reads half a file. */
  write(report: TestReport): void {
    if (!this.file) return;
    const temporary = `${this.file}.tmp`;
    writeFileSync(temporary, `${JSON.stringify(report, null, 2)}\n`);
    renameSync(temporary, this.file);
  }
}

export async function run(): Promise<void> {
  const writer = new ResultsWriter(process.env[RESULTS_ENV]);
  const startedAt = Date.now();
  const tests: TestResult[] = [];
  let firstTestAt: number | undefined;
  const record = (result: TestResult): void => {
    tests.push(result);
    writer.progress({ event: 'end', result, at: Date.now() });
  };
  const report = (): TestReport => ({
    vscodeVersion: vscode.version,
    startedAt,
    ...(firstTestAt !== undefined ? { firstTestAt } : {}),
    finishedAt: Date.now(),
    tests,
  });

  try {
    const timeout = Number(process.env[TIMEOUT_ENV] ?? '') || 60_000;
    // Under the offline harness the extension host's console only reaches the browser's devtools
    // console, unformatted: report through the results file alone. Elsewhere print the usual spec.
    const mocha = new Mocha({
      ui: 'bdd',
      reporter: process.env[RESULTS_ENV] ? Mocha.reporters.Base : 'spec',
      color: false,
      timeout,
      ...(process.env[GREP_ENV] ? { grep: process.env[GREP_ENV] } : {}),
    });
    // What `mocha` does before requiring each spec file: define describe/it/... on the global object.
    mocha.suite.emit(Mocha.Suite.constants.EVENT_FILE_PRE_REQUIRE, globalThis, 'test/extension/suites.ts', mocha);
    let loaded = false;
    try {
      await import('./suites.js');
      loaded = true;
    } catch (error) {
      record({ title: 'loading the extension test suites', state: 'failed', durationMs: Date.now() - startedAt, error: toError(error) });
    }
    if (loaded) await runMocha(mocha, record, () => (firstTestAt ??= Date.now()), writer);
  } catch (error) {
    record({ title: 'running the extension test suites', state: 'failed', durationMs: Date.now() - startedAt, error: toError(error) });
  } finally {
    writer.write(report());
  }

  const failed = tests.filter((t) => t.state !== 'passed').length;
  if (failed > 0) throw new Error(`${failed} extension test(s) failed or were skipped.`);
  if (tests.length === 0) throw new Error('No extension tests ran.');
}

function runMocha(mocha: Mocha, record: (result: TestResult) => void, onBegin: () => void, writer: ResultsWriter): Promise<void> {
  const { EVENT_TEST_BEGIN, EVENT_TEST_PASS, EVENT_TEST_FAIL, EVENT_TEST_PENDING } = Mocha.Runner.constants;
  return new Promise<void>((resolve) => {
    const runner = mocha.run(() => resolve());
    runner.on(EVENT_TEST_BEGIN, (test: Mocha.Test) => {
      onBegin();
      writer.progress({ event: 'begin', title: test.fullTitle(), at: Date.now() });
    });
    runner.on(EVENT_TEST_PASS, (test: Mocha.Test) => {
      record({ title: test.fullTitle(), state: 'passed', durationMs: test.duration ?? 0 });
    });
    // Also emitted for failing hooks (the runnable is then the hook, titled `"before all" hook ...`).
    runner.on(EVENT_TEST_FAIL, (runnable: Mocha.Runnable, error: unknown) => {
      record({ title: runnable.fullTitle(), state: 'failed', durationMs: runnable.duration ?? 0, error: toError(error) });
    });
    runner.on(EVENT_TEST_PENDING, (test: Mocha.Test) => {
      record({ title: test.fullTitle(), state: 'pending', durationMs: 0 });
    });
  });
}

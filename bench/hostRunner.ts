/**
 * Runs a benchmark entry inside a real VS Code extension host: bundles the entry (a module
 * whose `run()` the host calls as `extensionTestsPath`), opens a copy of the demo workspace in
 * the offline VS Code server with Warden as the development extension, and returns the JSON the
 * entry wrote to `$WARDEN_BENCH_RESULTS` (or throws what it reported).
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { build } from 'esbuild';
import * as z from 'zod';
import { launchChromium, startVSCodeServer, type Chromium, type VSCodeServer } from '../scripts/vscode/server';

const root = path.resolve(__dirname, '..');
const RESULTS_ENV = 'WARDEN_BENCH_RESULTS';

export interface HostRun {
  /** The entry's source, e.g. bench/host/entry.ts. */
  entry: string;
  timeoutMs: number;
  /** Settings for the window (merged over the test defaults). */
  settings?: Record<string, unknown>;
  /** Extra environment for the extension host. */
  env?: Record<string, string>;
  /** Changes the workspace copy before the window opens. */
  prepare?: (workspace: string) => void;
  /** Installs more extensions into `dir`, the window's (temporary, fresh) extensions folder, before the server starts. */
  installExtensions?: (dir: string) => void;
}

export async function inExtensionHost(options: HostRun): Promise<unknown> {
  const bundle = path.join(root, 'out', 'bench', `${path.basename(options.entry, '.ts')}.js`);
  await build({
    entryPoints: [options.entry],
    outfile: bundle,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode'],
    mainFields: ['module', 'main'],
    logLevel: 'warning',
  });
  const temp = mkdtempSync(path.join(os.tmpdir(), 'warden-bench-host-'));
  const workspace = path.join(temp, 'demo');
  cpSync(path.join(root, 'test', 'fixtures', 'workspaces', 'demo'), workspace, { recursive: true });
  options.prepare?.(workspace);
  const extensionsDir = path.join(temp, 'extensions');
  mkdirSync(extensionsDir);
  options.installExtensions?.(extensionsDir);
  const resultsFile = path.join(temp, 'results.json');
  let server: VSCodeServer | undefined;
  let browser: Chromium | undefined;
  try {
    server = await startVSCodeServer({
      env: { ...options.env, [RESULTS_ENV]: resultsFile },
      extensionsDir,
      ...(options.settings ? { settings: options.settings } : {}),
    });
    browser = await launchChromium();
    await browser.page.goto(server.url(workspace, { extensionDevelopmentPath: root, extensionTestsPath: bundle }));
    const deadline = Date.now() + options.timeoutMs;
    while (!existsSync(resultsFile)) {
      if (Date.now() > deadline) throw new Error(`no results within ${options.timeoutMs / 1000} s; server log:\n${server.logTail(20)}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const raw: unknown = JSON.parse(readFileSync(resultsFile, 'utf8'));
    const failed = z.object({ error: z.string() }).safeParse(raw);
    if (failed.success) throw new Error(`in the extension host: ${failed.data.error}`);
    return raw;
  } finally {
    await browser?.close();
    await server?.stop();
    rmSync(temp, { recursive: true, force: true, maxRetries: 3 });
  }
}

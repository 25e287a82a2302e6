/**
 * Starts the offline VS Code server (installed by scripts/bootstrap/vscode-server.sh) and
 * Debian's Chromium, for the extension-host and e2e test tiers. Loopback only.
 *
 * Settings: this VS Code is code-server's build, whose browser workbench keeps *user*
 * settings on the server (`userRoamingDataHome` = vscode-remote:<user-data-dir>/User), so
 * `<user-data-dir>/User/settings.json` is read by the workbench and by the extension host
 * (unlike upstream VS Code web, which keeps them in the browser's IndexedDB). The same
 * settings are also written to `<user-data-dir>/Machine/settings.json` (the remote
 * machine layer), which covers every non-application-scoped setting even on a server whose
 * user settings live in the browser. Application-scoped switches that must hold from the
 * first frame are passed as server flags instead: `--disable-workspace-trust` (the web
 * workbench computes trust enablement from it, before settings load) and
 * `--disable-telemetry`. Verified with `getConfiguration().inspect()` in the extension host:
 * window/resource/machine-overridable settings show as globalLocalValue (User) and
 * globalRemoteValue (Machine); application-scoped ones (`security.workspace.trust.enabled`,
 * `telemetry.telemetryLevel`) only as globalLocalValue, i.e. only from User/settings.json.
 *
 * Directories passed in options (extensionsDir, userDataDir) belong to the caller and are
 * kept; the ones created here are removed by stop().
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { vscodeServerPaths } from './paths';

export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Settings every test window gets; callers' settings are merged over them. */
export const BASE_SETTINGS: Readonly<Record<string, unknown>> = {
  'security.workspace.trust.enabled': false,
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'chat.disableAIFeatures': true,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'terminal.integrated.suggest.enabled': false,
  'git.enabled': false,
  'window.restoreWindows': 'none',
};

/** What the development window loads, as local absolute paths (the server is on this machine). */
export interface DevelopmentPayload {
  /** Folder holding the extension's package.json. */
  extensionDevelopmentPath?: string;
  /** The CommonJS module whose `run()` the extension host calls. */
  extensionTestsPath?: string;
}

export interface VSCodeServerOptions {
  /** Fixed loopback port (the demo); default a free one. */
  port?: number;
  extensionsDir?: string;
  userDataDir?: string;
  /** Merged over BASE_SETTINGS into User/settings.json and Machine/settings.json. */
  settings?: Record<string, unknown>;
  /** Extra environment for the server; its extension host inherits it. */
  env?: Record<string, string>;
  /** Leave workspace trust on (Restricted Mode) to test trust behaviour on purpose. Default false. */
  workspaceTrust?: boolean;
  /** How long to wait for the port to answer. Default 60 s. */
  startTimeoutMs?: number;
}

export interface VSCodeServer {
  readonly port: number;
  readonly pid: number;
  readonly origin: string;
  /** Where the server's stdout and stderr go (removed by stop()). */
  readonly logFile: string;
  /** Workbench URL opening `folder` (absolute local path), optionally as an extension development window. */
  url(folder: string, payload?: DevelopmentPayload): string;
  /** The last `lines` lines of the server's output. */
  logTail(lines?: number): string;
  /** Kills the server's process group (and any descendant that left it) and removes the temp dirs. Idempotent. */
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('could not pick a free port'))));
    });
  });
}

function httpStatus(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
  });
}

const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Every live process whose ancestry leads to `root` (Linux /proc). */
export function descendantPids(root: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid ...; comm may contain spaces and parentheses.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parents.set(Number(entry), Number(fields[1]));
    } catch {
      // The process exited while we looked.
    }
  }
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const parent = queue.shift();
    for (const [pid, ppid] of parents) {
      if (ppid === parent && !found.includes(pid)) {
        found.push(pid);
        queue.push(pid);
      }
    }
  }
  return found;
}

/** Live processes whose command line contains `argument` exactly (Linux /proc). */
function pidsWithArgument(argument: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').includes(argument)) found.push(Number(entry));
    } catch {
      // Gone already.
    }
  }
  return found;
}

/** Blocks (for the synchronous exit path) until the processes are gone or zombies, at most `ms`. */
function waitUntilGoneSync(pids: number[], ms: number): void {
  const alive = (pid: number): boolean => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
    } catch {
      return false;
    }
  };
  const deadline = Date.now() + ms;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  while (pids.some(alive) && Date.now() < deadline) Atomics.wait(pause, 0, 0, 25);
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone.
  }
}

/**
 * Last-resort cleanup when the process ends without stop()/close() having run (Ctrl-C in
 * mocha, an uncaught error): synchronous kills and removals on 'exit' and on SIGINT/SIGTERM/
 * SIGHUP. When this is the only listener for the signal it also exits (128 + signal number),
 * as Node would have; otherwise the other listener (a runner's own teardown) decides, so
 * such a listener must be added with process.on, not process.once (which removes itself first).
 */
const emergencyCleanups = new Set<() => void>();
let exitHandlersInstalled = false;

export function cleanupOnProcessEnd(cleanup: () => void): () => void {
  if (!exitHandlersInstalled) {
    exitHandlersInstalled = true;
    const runAll = (): void => {
      for (const fn of emergencyCleanups) {
        try {
          fn();
        } catch {
          // Best effort: a throw here would become an uncaught exception (mocha turns those into test failures).
        }
      }
      emergencyCleanups.clear();
    };
    process.on('exit', runAll);
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      const handler = (): void => {
        runAll();
        if (process.listenerCount(sig) === 1) process.exit(128 + (os.constants.signals[sig] ?? 0));
      };
      process.on(sig, handler);
    }
  }
  emergencyCleanups.add(cleanup);
  return () => emergencyCleanups.delete(cleanup);
}

function writeSettings(file: string, settings: Record<string, unknown>): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(settings, null, 2)}\n`);
}

function tail(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .slice(-lines - 1)
      .join('\n');
  } catch {
    return '(no server log)';
  }
}

export async function startVSCodeServer(options: VSCodeServerOptions = {}): Promise<VSCodeServer> {
  const { node, serverMain } = vscodeServerPaths();
  // <cache>/code-server-<version>/node_modules/code-server/lib/vscode/out/server-main.js
  const installDir = path.resolve(path.dirname(serverMain), '..', '..', '..', '..', '..');
  if (!existsSync(path.join(installDir, '.installed'))) {
    throw new Error(
      `${installDir} has no .installed marker: the VS Code server install is unfinished or failed. Run \`bash scripts/bootstrap/vscode-server.sh\` (or wait for the one running).`,
    );
  }
  const root = mkdtempSync(path.join(os.tmpdir(), 'warden-vscode-'));
  const extensionsDir = options.extensionsDir ?? path.join(root, 'extensions');
  const userDataDir = options.userDataDir ?? path.join(root, 'user-data');
  const serverDataDir = path.join(root, 'server-data');
  for (const dir of [extensionsDir, userDataDir, serverDataDir]) mkdirSync(dir, { recursive: true });
  const settings = {
    ...BASE_SETTINGS,
    ...(options.workspaceTrust ? { 'security.workspace.trust.enabled': true } : {}),
    ...(options.settings ?? {}),
  };
  writeSettings(path.join(userDataDir, 'User', 'settings.json'), settings);
  writeSettings(path.join(userDataDir, 'Machine', 'settings.json'), settings);

  const logFile = path.join(root, 'server.log');
  const port = options.port ?? (await freePort());
  const args = [
    serverMain,
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--without-connection-token',
    '--accept-server-license-terms',
    '--enable-smoke-test-driver',
    '--disable-telemetry',
    '--disable-experiments',
    '--extensions-dir',
    extensionsDir,
    '--user-data-dir',
    userDataDir,
    '--server-data-dir',
    serverDataDir,
  ];
  if (!options.workspaceTrust) args.push('--disable-workspace-trust');

  const out = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(node, args, {
      detached: true, // its own process group, killed as a whole by stop()
      stdio: ['ignore', out, out],
      // EXTENSIONS_GALLERY (read by code-server's build) empty: no marketplace queries from the server or the workbench.
      env: { ...process.env, EXTENSIONS_GALLERY: '{}', ...options.env },
    });
  } finally {
    closeSync(out);
  }
  const pid = child.pid;
  if (pid === undefined) {
    rmSync(root, { recursive: true, force: true });
    throw new Error(`could not start ${node} ${serverMain}`);
  }
  let exited = false;
  const exitedPromise = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );

  const forget = cleanupOnProcessEnd(() => {
    const strays = descendantPids(pid);
    signal(-pid, 'SIGKILL');
    for (const p of strays) signal(p, 'SIGKILL');
    waitUntilGoneSync([pid, ...strays], 3000);
    rmSync(root, { recursive: true, force: true, maxRetries: 5 });
  });
  let stopping: Promise<void> | undefined;
  // Memoized: a second caller waits for the first teardown instead of racing past it.
  const stop = (): Promise<void> => (stopping ??= stopNow());
  const stopNow = async (): Promise<void> => {
    forget();
    // Processes that left the group (node-pty gives shells their own session) are found by ancestry.
    const strays = descendantPids(pid);
    signal(-pid, 'SIGTERM');
    for (const p of strays) signal(p, 'SIGTERM');
    await Promise.race([exitedPromise, delay(3000)]);
    signal(-pid, 'SIGKILL');
    for (const p of [...strays, ...descendantPids(pid)]) signal(p, 'SIGKILL');
    await Promise.race([exitedPromise, delay(2000)]);
    rmSync(root, { recursive: true, force: true, maxRetries: 3 });
  };

  const origin = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  while ((await httpStatus(port)) === undefined) {
    if (exited || Date.now() > deadline) {
      const why = exited ? `exited with code ${child.exitCode ?? child.signalCode ?? '?'}` : 'did not answer in time';
      const log = tail(logFile, 40);
      await stop();
      throw new Error(`The VS Code server ${why} (port ${port}). Server log:\n${log}`);
    }
    await delay(200);
  }

  return {
    port,
    pid,
    origin,
    logFile,
    url(folder: string, payload?: DevelopmentPayload): string {
      const params = new URLSearchParams({ folder });
      const entries: Array<[string, string]> = [];
      const remote = (p: string): string => `vscode-remote://127.0.0.1:${port}${path.resolve(p)}`;
      if (payload?.extensionDevelopmentPath) entries.push(['extensionDevelopmentPath', remote(payload.extensionDevelopmentPath)]);
      if (payload?.extensionTestsPath) entries.push(['extensionTestsPath', remote(payload.extensionTestsPath)]);
      if (entries.length > 0) params.set('payload', JSON.stringify(entries));
      return `${origin}/?${params.toString()}`;
    },
    logTail: (lines = 60) => tail(logFile, lines),
    stop,
  };
}

export interface Chromium {
  readonly context: BrowserContext;
  /** The first tab, ready to navigate. */
  readonly page: Page;
  /** Closes the browser and removes its profile. Idempotent. */
  close(): Promise<void>;
}

export interface ChromiumOptions {
  /** Default true; set WARDEN_HEADED=1 to watch. */
  headless?: boolean;
  viewport?: { width: number; height: number };
}

export async function launchChromium(options: ChromiumOptions = {}): Promise<Chromium> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `${CHROMIUM_PATH} is missing: run \`bash scripts/bootstrap/chromium.sh\` (or \`npm test\`, which does it) to install Debian's Chromium.`,
    );
  }
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(path.join(os.tmpdir(), 'warden-chromium-'));
  let context: BrowserContext;
  const forget = cleanupOnProcessEnd(() => {
    // Playwright kills the browser on 'exit' only; on a signal, stop it before removing its
    // profile, with its whole process group: the helpers (zygotes, renderers, GPU) keep
    // writing to the profile for a moment otherwise.
    const browsers = pidsWithArgument(`--user-data-dir=${profile}`);
    const all = [...browsers, ...browsers.flatMap((pid) => descendantPids(pid))];
    for (const pid of browsers) signal(-pid, 'SIGKILL');
    for (const pid of all) signal(pid, 'SIGKILL');
    waitUntilGoneSync(all, 3000);
    rmSync(profile, { recursive: true, force: true, maxRetries: 5 });
  });
  try {
    context = await chromium.launchPersistentContext(profile, {
      // Playwright's own signal handlers would exit the process before the caller's teardown
      // stops the VS Code server; it still kills the browser when the process exits.
      handleSIGINT: false,
      handleSIGTERM: false,
      handleSIGHUP: false,
      executablePath: CHROMIUM_PATH,
      headless: options.headless ?? process.env.WARDEN_HEADED !== '1',
      viewport: options.viewport ?? { width: 1400, height: 900 },
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        // Loopback only: every other host name fails to resolve (the server is addressed as 127.0.0.1).
        '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1',
      ],
    });
  } catch (error) {
    forget();
    rmSync(profile, { recursive: true, force: true });
    throw error;
  }
  const page = context.pages()[0] ?? (await context.newPage());
  let closing: Promise<void> | undefined;
  const closeNow = async (): Promise<void> => {
    forget();
    await context.close().catch(() => undefined);
    rmSync(profile, { recursive: true, force: true, maxRetries: 3 });
  };
  return { context, page, close: () => (closing ??= closeNow()) };
}

/**
 * Helpers for Playwright e2e tests against the real VS Code UI, offline: the VS Code server
 * from scripts/bootstrap/vscode-server.sh in Debian's Chromium (see scripts/vscode/server.ts).
 * Run by scripts/run-e2e-tests.ts (mocha, bdd, `--import=tsx`).
 *
 *   describe('...', function () {
 *     const vsc = useWorkbench(this, { fixture: 'demo' });
 *     it('...', async () => {
 *       await runCommand(vsc().page, 'Warden: Show Review Panel');
 *       const frame = await findFrame(vsc().page, 'button#accept');
 *     });
 *   });
 *
 * The window is an extension development window of this repository (payload
 * `extensionDevelopmentPath` only, no tests path), on a temp copy of the folder, with
 * workspace trust off unless asked for. Webviews are nested iframes (the outer `index.html`
 * host frame, then the content frame): reach their DOM with findFrame(), never page.locator().
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { removeSandboxesOf } from '../../scripts/vscode/sandboxCleanup';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Frame, Page } from 'playwright-core';
import {
  cleanupOnProcessEnd,
  launchChromium,
  startVSCodeServer,
  type Chromium,
  type VSCodeServer,
  type VSCodeServerOptions,
} from '../../scripts/vscode/server';

export const repoRoot = path.resolve(__dirname, '..', '..');
export const resultsDir = path.join(repoRoot, 'test-results');

export interface WorkbenchOptions {
  /** Name of a folder under test/fixtures/workspaces to copy and open. Default: an empty folder. */
  fixture?: string;
  /** Any folder to copy and open (wins over `fixture`). */
  folder?: string;
  /** extensionDevelopmentPath; default this repository; `false` opens plain VS Code. */
  extensionDevelopmentPath?: string | false;
  settings?: VSCodeServerOptions['settings'];
  env?: VSCodeServerOptions['env'];
  /** Keep workspace trust on (the window starts in Restricted Mode). Default false. */
  workspaceTrust?: boolean;
  /** How long to wait for the workbench. Default 60 s. */
  timeoutMs?: number;
}

export interface Workbench {
  readonly page: Page;
  readonly server: VSCodeServer;
  readonly browser: Chromium;
  /** The opened (temporary) workspace folder. */
  readonly folder: string;
  /** Closes the browser, stops the server, removes the temp folder. Idempotent. */
  close(): Promise<void>;
}

export async function openWorkbench(options: WorkbenchOptions = {}): Promise<Workbench> {
  const temp = mkdtempSync(path.join(os.tmpdir(), 'warden-e2e-'));
  const forget = cleanupOnProcessEnd(() => rmSync(temp, { recursive: true, force: true, maxRetries: 5 }));
  const source = options.folder ?? (options.fixture ? path.join(repoRoot, 'test', 'fixtures', 'workspaces', options.fixture) : undefined);
  const folder = path.join(temp, source ? path.basename(source) : 'workspace');
  if (source && !existsSync(source)) {
    forget();
    rmSync(temp, { recursive: true, force: true });
    throw new Error(`workspace ${source} does not exist`);
  }
  if (source) cpSync(source, folder, { recursive: true });
  else mkdirSync(folder);
  const extensionDevelopmentPath = options.extensionDevelopmentPath === false ? undefined : (options.extensionDevelopmentPath ?? repoRoot);

  let server: VSCodeServer | undefined;
  let browser: Chromium | undefined;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      await browser?.close();
      await server?.stop();
      await removeSandboxesOf(folder);
      rmSync(temp, { recursive: true, force: true, maxRetries: 3 });
      forget();
    })());
  try {
    server = await startVSCodeServer({
      ...(options.settings ? { settings: options.settings } : {}),
      ...(options.env ? { env: options.env } : {}),
      ...(options.workspaceTrust ? { workspaceTrust: true } : {}),
    });
    browser = await launchChromium();
    const page = browser.page;
    page.setDefaultTimeout(30_000);
    await page.goto(server.url(folder, extensionDevelopmentPath ? { extensionDevelopmentPath } : undefined));
    await waitForWorkbench(page, options.timeoutMs ?? 60_000);
    const opened = { page, server, browser, folder };
    return { ...opened, close };
  } catch (error) {
    if (browser) {
      const file = await screenshot(browser.page, 'open-workbench-failure').catch(() => undefined);
      if (file) console.log(`      screenshot: ${path.relative(repoRoot, file)}`);
    }
    await close();
    throw error;
  }
}

/** Waits for the workbench to be laid out and its status bar drawn (the extension host is connecting by then). */
export async function waitForWorkbench(page: Page, timeoutMs = 60_000): Promise<void> {
  await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: timeoutMs });
  await page.locator('.monaco-workbench .part.statusbar').waitFor({ state: 'visible', timeout: timeoutMs });
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const quickInput = (page: Page) => page.locator('.quick-input-widget');

/**
 * Stops the running session, if there is one: "Warden: Stop Session" is in the palette only
 * while a session runs (its `when` clause), so its absence means there is nothing to stop.
 */
export async function stopSessionIfRunning(page: Page): Promise<void> {
  try {
    await runCommand(page, 'Warden: Stop Session', 3_000);
  } catch (error) {
    if (!(error instanceof Error && error.message.startsWith('No command titled'))) throw error;
    await page.keyboard.press('Escape');
  }
}

/**
 * Runs a command through the command palette by its title as the palette shows it
 * (`Category: Title`, e.g. `View: Toggle Terminal`): F1, type, pick the row with exactly that label.
 */
export async function runCommand(page: Page, title: string, commandTimeoutMs = 30_000): Promise<void> {
  const widget = quickInput(page);
  const input = widget.locator('.quick-input-box input');
  // The list is fuzzy-filtered: pick the row whose label is exactly the title, not the first row.
  const row = widget
    .locator('.monaco-list-row')
    .filter({ has: page.locator('.label-name', { hasText: new RegExp(`^\\s*${escapeRegExp(title)}\\s*$`) }) })
    .first();
  // Something that grabs focus while the palette opens (a new terminal, an editor) closes it, and an
  // extension's commands appear only once the extension host has registered it: retry until the deadline.
  const deadline = Date.now() + commandTimeoutMs;
  for (let attempt = 1; ; attempt++) {
    if (!(await widget.isVisible())) await page.keyboard.press('F1');
    try {
      await input.fill(`>${title}`, { timeout: 5_000 });
      await row.waitFor({ state: 'visible', timeout: 5_000 });
      await row.click({ timeout: 5_000 });
      break;
    } catch (error) {
      if (Date.now() < deadline) {
        if (await widget.isVisible()) await page.keyboard.press('Escape');
        await new Promise((r) => setTimeout(r, 500));
        continue;
      }
      if (await widget.isVisible()) {
        const shown = await widget.locator('.monaco-list-row .label-name').allTextContents();
        throw new Error(
          `No command titled "${title}" in the command palette after ${attempt} tries (is its \`when\` clause true?); it shows: ${shown.slice(0, 8).join(' | ') || '(nothing)'}`,
          { cause: error },
        );
      }
      throw error;
    }
  }
  // Done when the palette closed or the command replaced it with its own prompt (Quick Open, a showInputBox...).
  const closeDeadline = Date.now() + 10_000;
  while ((await widget.isVisible()) && (await input.inputValue().catch(() => '')) === `>${title}`) {
    if (Date.now() > closeDeadline) throw new Error(`The command palette still shows "${title}" after choosing it`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Types into the open quick input (a command's prompt, Quick Open...) and submits with Enter. */
export async function submitQuickInput(page: Page, text: string, options: { waitForItem?: string | RegExp } = {}): Promise<void> {
  const widget = quickInput(page);
  const input = widget.locator('.quick-input-box input');
  await input.waitFor({ state: 'visible' });
  await input.fill(text);
  if (options.waitForItem !== undefined) {
    await widget.locator('.monaco-list-row', { hasText: options.waitForItem }).first().waitFor({ state: 'visible' });
  }
  await input.press('Enter');
}

/**
 * The frame (any depth) that contains `selector`: webviews are nested iframes, so this walks
 * page.frames() until one matches. Re-polled until `timeoutMs`.
 */
export async function findFrame(page: Page, selector: string, timeoutMs = 30_000): Promise<Frame> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const frame of page.frames()) {
      if (frame.isDetached()) continue;
      const found = await frame.$(selector).catch(() => null);
      if (found) {
        await found.dispose();
        return frame;
      }
    }
    if (Date.now() > deadline) {
      const urls = page.frames().map((f) => f.url().split('?')[0]);
      throw new Error(`No frame contains ${selector} after ${timeoutMs} ms; frames: ${urls.join(', ')}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Saves a full-page screenshot under test-results/ and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(resultsDir, { recursive: true });
  const file = path.join(resultsDir, `${name.replace(/[^\w.-]+/g, '_').slice(0, 120)}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Saves the window as it is seen (the viewport) as the README's `docs/screenshots/<name>.png`. */
export async function docsScreenshot(page: Page, name: string): Promise<void> {
  const dir = path.join(repoRoot, 'docs', 'screenshots');
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `${name}.png`) });
}

/**
 * Mocha wiring: opens a workbench before the suite, screenshots every failed test into
 * test-results/, and tears everything down after. Returns an accessor for the workbench.
 */
/**
 * The settings of suites that prove per-action review (each edit and command decided as it
 * comes): since commands run without asking by default, Warden's default review is the turn,
 * so these suites ask for per-action review and add a user rule that asks before every command
 * (as a user who wants to see each command would).
 */
export const PER_ACTION = {
  'warden.review.mode': 'action',
  'warden.policy.userRules': { commands: [{ id: 'review-every-command', match: ['*', '* *'], decision: 'ask' }] },
};

export function useWorkbench(suite: Mocha.Suite, options: WorkbenchOptions = {}): () => Workbench {
  let workbench: Workbench | undefined;
  suite.timeout(Math.max(suite.timeout(), 120_000));
  suite.beforeAll('open the VS Code workbench', async () => {
    const started = Date.now();
    workbench = await openWorkbench(options);
    console.error(`      [e2e] workbench ready in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  });
  suite.afterEach('screenshot a failed test', async function () {
    const test = this.currentTest;
    if (test?.state === 'failed' && workbench) {
      const file = await screenshot(workbench.page, test.fullTitle()).catch((e: unknown) => `(screenshot failed: ${String(e)})`);
      console.log(`      screenshot: ${path.relative(repoRoot, file)}`);
    }
  });
  suite.afterAll('close the VS Code workbench', async () => {
    await workbench?.close();
    workbench = undefined;
  });
  return () => {
    if (!workbench) throw new Error('the workbench is not open (did the "before all" hook fail?)');
    return workbench;
  };
}

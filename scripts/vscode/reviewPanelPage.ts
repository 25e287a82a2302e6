/**
 * The Review panel's webview on its own in Chromium: the built bundle (dist/media/review.js and
 * review.css) in the very HTML the extension serves (strict CSP, the script by nonce), with
 * only `acquireVsCodeApi` provided, recording what the panel posts. The benchmark uses it, and
 * the e2e test of long queues, where a real agent cannot make hundreds of pending proposals.
 */
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Page } from 'playwright-core';
import { createNonce, reviewPanelHtml } from '../../src/vscode/reviewHtml';

const root = path.resolve(__dirname, '..', '..');

/** Writes the panel's HTML into `dir`, pointing at the built bundle; returns its file URL. */
export function writeReviewPanelPage(dir: string): string {
  const media = path.join(root, 'dist', 'media');
  const url = (file: string): string => pathToFileURL(path.join(media, file)).href;
  const html = reviewPanelHtml({
    cspSource: 'file:',
    nonce: createNonce(),
    scriptUri: url('review.js'),
    styleUri: url('review.css'),
    extraStyleUris: [url('codicons/codicon.css'), url('common.css')],
  });
  const file = path.join(dir, 'review.html');
  writeFileSync(file, html);
  return pathToFileURL(file).href;
}

/** Once per page: what a webview gets from VS Code; messages the panel posts land in `window.__posted`. CDP init scripts are not subject to the page's CSP. */
export async function stubVsCodeApi(page: Page): Promise<void> {
  await page.addInitScript(
    `window.__posted = []; window.acquireVsCodeApi = () => ({ postMessage(m) { window.__posted.push(m); }, getState() { return undefined; }, setState() {} });`,
  );
}

/**
 * Loads the panel and adds helpers to the page: `__post(json)` posts a message as VS Code
 * delivers one (parsed from JSON) and resolves with its data once the panel has drawn it (the
 * panel applies messages at the next animation frame; frame callbacks run in the order they were
 * asked for, so after the panel's); `__send(json)` resolves as soon as every listener ran (the
 * benchmark, which waits for the painted frame itself); `__painted()` resolves once the next
 * frame has been drawn.
 */
export async function openReviewPanel(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.waitForFunction('document.getElementById("app") !== null');
  await page.evaluate(`(() => {
    window.__send = (json) => new Promise((resolve) => {
      window.addEventListener('message', (event) => resolve(event.data), { once: true });
      window.postMessage(JSON.parse(json), '*');
    });
    window.__post = (json) => window.__send(json).then((data) => new Promise((resolve) => requestAnimationFrame(() => resolve(data))));
    window.__painted = () => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
  })()`);
}

import { strict as assert } from 'node:assert';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Frame } from 'playwright-core';
import { OLD_GREET, commitSampleSession, writeSampleAuditLog, XSS } from '../fixtures/auditSession';
import { docsScreenshot, findFrame, repoRoot, runCommand, screenshot, useWorkbench } from './harness';
import { auditSegmentFiles } from './workspaceState';

/** Polls until `probe` returns a value or the deadline passes. */
async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function shownSeqs(frame: Frame): Promise<number[]> {
  return frame
    .locator('#entries > li')
    .evaluateAll((items) => items.map((item: { getAttribute(name: string): string | null }) => Number(item.getAttribute('data-seq'))));
}

async function waitForSeqs(frame: Frame, expected: number[]): Promise<void> {
  await eventually(`entries ${expected.join(',')}`, async () => {
    const seqs = await shownSeqs(frame);
    return JSON.stringify(seqs) === JSON.stringify(expected) ? true : undefined;
  });
}

describe('e2e: the Audit panel in the real VS Code UI', function () {
  // A copy of the demo workspace with a recorded audit log (two sessions, hostile text in it).
  const source = path.join(mkdtempSync(path.join(os.tmpdir(), 'warden-e2e-audit-src-')), 'demo');
  // Exports are saved here, beside the workspace (the save dialog's default is the user's Downloads or home).
  const exportsFolder = path.join(path.dirname(source), 'exports');
  before("write the audit log into the workspace, and commit session-one's work in git", async () => {
    cpSync(path.join(repoRoot, 'test', 'fixtures', 'workspaces', 'demo'), source, { recursive: true });
    await writeSampleAuditLog(source);
    await commitSampleSession(source);
    // The working tree goes back to the version the proposal was made against (Open Diff below
    // rebuilds both sides from it); blame reads the commits.
    writeFileSync(path.join(source, 'src', 'greet.js'), OLD_GREET);
    mkdirSync(exportsFolder);
  });
  after(() => rmSync(path.dirname(source), { recursive: true, force: true }));

  // A loopback OTLP/HTTP collector; the window's settings point the export at it.
  const received: Array<{ resourceLogs: Array<{ scopeLogs: Array<{ logRecords: unknown[] }> }> }> = [];
  const collector = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      received.push(JSON.parse(body) as (typeof received)[number]);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  const settings: Record<string, unknown> = {};
  before('start a loopback OTLP collector', async () => {
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    settings['warden.audit.otlp.endpoint'] = `http://127.0.0.1:${(collector.address() as AddressInfo).port}/v1/logs`;
  });
  after(() => new Promise((resolve) => collector.close(resolve)));
  const vsc = useWorkbench(this, { folder: source, settings });
  this.timeout(240_000);

  let frame: Frame;

  it('opens from the palette with the verify status on top and every entry, newest first', async () => {
    const { page } = vsc();
    await runCommand(page, 'Warden: Show Audit Log');
    frame = await findFrame(page, '#verify-status[data-ok]', 60_000);
    assert.equal(await frame.locator('#verify-status').getAttribute('data-ok'), 'true');
    assert.match(await frame.locator('#verify-status').innerText(), /Chain intact[\s\S]*17 entries in 1 segment\b[\s\S]*intact/);
    await waitForSeqs(
      frame,
      Array.from({ length: 17 }, (_, i) => 17 - i),
    );
    assert.equal(await frame.locator('#sessions > li').count(), 2, 'a timeline of two sessions');
    await screenshot(page, 'audit-panel');
    await docsScreenshot(page, 'audit-panel');
  });

  it('shows hostile text as text: the XSS payload executes nothing and adds no element', async () => {
    const instruction = frame.locator('#entries > li[data-seq="4"] .summary');
    assert.equal(await instruction.innerText(), `Instruction: add a farewell function ${XSS}`);
    assert.equal(await frame.locator('#entries img').count(), 0);
    assert.equal(await frame.evaluate(() => (globalThis as unknown as { __wardenXss?: number }).__wardenXss), undefined);
  });

  it('filters by decision, by session from the timeline, and clears', async () => {
    await frame.locator('#filter-decision').selectOption('rejected');
    await waitForSeqs(frame, [10]);
    assert.match(await frame.locator('#result-count').innerText(), /1 of 17 entries match/);
    await frame.locator('#clear-filters').click();
    await waitForSeqs(
      frame,
      Array.from({ length: 17 }, (_, i) => 17 - i),
    );

    // Newest session first: the first timeline item is session-two.
    await frame.locator('#sessions > li .session-button').first().click();
    await waitForSeqs(frame, [17, 16, 15, 14, 13, 12]);
    await frame.locator('#filter-kind').selectOption('command');
    await waitForSeqs(frame, [16, 15, 14]);
    await frame.locator('#clear-filters').click();
  });

  it('searches the full text of every entry', async () => {
    await frame.locator('#search').fill('too dangerous');
    await waitForSeqs(frame, [10]);
    await frame.locator('#search').fill('farewell bye');
    await waitForSeqs(frame, [6]); // only in the recorded diff of the proposal
    await frame.locator('#search').fill('');
    await waitForSeqs(
      frame,
      Array.from({ length: 17 }, (_, i) => 17 - i),
    );
  });

  it('opens a recorded diff in the diff editor', async () => {
    const { page } = vsc();
    await frame.locator('#entries > li[data-seq="6"] button', { hasText: 'Open Diff' }).click();
    // The workspace still has the version the proposal was made against: both sides are whole files.
    const tab = page.locator('.tabs-container .tab', { hasText: /greet\.js \(audit #6: before ↔ proposed\)/ });
    await tab.first().waitFor({ state: 'visible', timeout: 30_000 });
    const diffEditor = page.locator('.monaco-diff-editor').first();
    await diffEditor.locator('.modified .view-line', { hasText: 'function farewell(name)' }).first().waitFor({ state: 'visible' });
    await diffEditor.locator('.original .view-line', { hasText: 'module.exports = { greet };' }).first().waitFor({ state: 'visible' });
    await screenshot(page, 'audit-diff');
  });

  it('opens a partly recorded diff as plain text, so its "not recorded" placeholders give no language errors (issue 22 item 7)', async () => {
    const { page, folder } = vsc();
    // The workspace file is neither side any more: only the recorded hunks can be rebuilt.
    writeFileSync(path.join(folder, 'src', 'greet.js'), `${OLD_GREET}// changed since the session\n`);
    try {
      // The diff editor hid the panel: show it again (its filters are kept).
      await runCommand(page, 'Warden: Show Audit Log');
      frame = await findFrame(page, '#verify-status[data-ok]', 30_000);
      await frame.locator('#entries > li[data-seq="6"] button', { hasText: 'Open Diff' }).click();
      const tab = page.locator('.tabs-container .tab', { hasText: /greet\.js \(audit #6, recorded hunks: before ↔ proposed\)/ });
      await tab.first().waitFor({ state: 'visible', timeout: 30_000 });
      const diffEditor = page.locator('.monaco-diff-editor').first();
      await diffEditor.locator('.original .view-line', { hasText: 'not recorded in the audit log' }).first().waitFor({ state: 'visible' });
      // Plain text: no language server (TypeScript for a .js file) reads the placeholders as code.
      await page.locator('[id="status.editor.mode"]', { hasText: 'Plain Text' }).waitFor({ state: 'visible', timeout: 30_000 });
    } finally {
      writeFileSync(path.join(folder, 'src', 'greet.js'), OLD_GREET);
    }
  });

  it('exports the filtered entries as JSON and CSV through the save dialog', async () => {
    const { page, folder } = vsc();
    const stamp = new Date().toISOString().slice(0, 10);
    // The diff editor hid the panel again (its webview is rebuilt when shown, filters kept by setState).
    await runCommand(page, 'Warden: Show Audit Log');
    frame = await findFrame(page, '#verify-status[data-ok]', 30_000);
    await frame.locator('#filter-decision').selectOption('rejected');
    await waitForSeqs(frame, [10]);
    for (const format of ['json', 'csv'] as const) {
      await frame.locator(`#export-${format}`).click();
      // The browser workbench's save dialog is a quick input, prefilled with the default path.
      const input = page.locator('.quick-input-widget .quick-input-box input');
      await input.waitFor({ state: 'visible' });
      const offered = await eventually('the default file name in the save dialog', async () => {
        const value = await input.inputValue();
        return value.endsWith(`warden-audit-${stamp}.${format}`) ? value : undefined;
      });
      // The default is outside the repository (Downloads or home), so an export is never committed by accident.
      assert.ok(!offered.startsWith(folder), `the export is offered outside the repository, not at ${offered}`);
      const file = path.join(exportsFolder, `warden-audit-${stamp}.${format}`);
      await input.fill(file);
      // The dialog lists the typed folder while it validates; an Enter pressed before that is lost. Press OK until it closes.
      const ok = page.locator('.quick-input-widget .monaco-button', { hasText: /^OK$/ });
      await eventually('the save dialog to take the path', async () => {
        if (!(await input.isVisible())) return true;
        await ok.click({ timeout: 2_000 }).catch(() => undefined);
        await new Promise((r) => setTimeout(r, 500));
        return (await input.isVisible()) ? undefined : true;
      });
      // The file can exist before its bytes are all there (a read raced the write once): wait for a whole file.
      const complete = (text: string): boolean => {
        if (format === 'csv') return text.endsWith('\r\n');
        try {
          JSON.parse(text);
          return true;
        } catch {
          return false;
        }
      };
      const text = await eventually(`${file} to be written`, async () => {
        const read = readFileSync(file, 'utf8');
        return complete(read) ? read : undefined;
      });
      if (format === 'json') {
        const exported = JSON.parse(text) as { verify: { ok: boolean }; entries: Array<{ seq: number }> };
        assert.equal(exported.verify.ok, true);
        assert.deepEqual(
          exported.entries.map((e) => e.seq),
          [10],
        );
      } else {
        const lines = text.trimEnd().split('\r\n');
        assert.equal(lines.length, 2, 'a header and the one rejected decision');
        assert.match(lines[1] ?? '', /^10,.*"too dangerous, ""obviously"", no"/);
      }
    }
    await frame.locator('#clear-filters').click();
    await waitForSeqs(
      frame,
      Array.from({ length: 17 }, (_, i) => 17 - i),
    );
  });

  it('sends the filtered entries to the configured OpenTelemetry endpoint after confirming', async () => {
    const { page } = vsc();
    await frame.locator('#filter-type').selectOption('decision');
    await waitForSeqs(frame, [15, 10, 7]);
    await frame.locator('#export-otlp').click();
    const dialog = page.locator('.monaco-dialog-box');
    await dialog.waitFor({ state: 'visible' });
    assert.match(
      await dialog.innerText(),
      /Send the entries matching the filters of the audit log to http:\/\/127\.0\.0\.1:\d+\/v1\/logs\?/,
    );
    await dialog
      .locator('a.monaco-button, button', { hasText: /^Send$/ })
      .first()
      .click();
    const records = await eventually('the collector to receive log records', async () =>
      received.length > 0 ? received.flatMap((r) => r.resourceLogs[0]?.scopeLogs[0]?.logRecords ?? []) : undefined,
    );
    assert.equal(records.length, 3);
    await frame.locator('#notices', { hasText: /Sent 3 audit entries/ }).waitFor({ state: 'visible' });
    await frame.locator('#clear-filters').click();
  });

  it('blames the branch: each changed line range with the session and approval behind it, linked to its entries', async () => {
    const { page } = vsc();
    // The session lists the commit it produced.
    assert.match(await frame.locator('#sessions > li[data-session-id="session-one"] .commits').innerText(), /^commits [0-9a-f]{10}$/);
    // Nothing typed: the current branch against its upstream or main, here HEAD (main itself).
    await frame.locator('#blame-run').click();
    await frame.locator('#blame-result[data-target="HEAD"]').waitFor({ state: 'visible', timeout: 60_000 });
    const ranges = frame.locator('.blame-file[data-path="src/greet.js"] .blame-range');
    assert.equal(await ranges.count(), 2);
    assert.match(await ranges.nth(0).innerText(), /lines 6–11[\s\S]*session session-one[\s\S]*approved by Alice Lead <alice@example\.com>/);
    assert.match(await ranges.nth(1).innerText(), /line 12[\s\S]*No session explains these lines/);
    await screenshot(page, 'audit-blame');
    // The README's: the blame result in view (the panel scrolls to it).
    await frame.locator('#blame').scrollIntoViewIfNeeded();
    await docsScreenshot(page, 'audit-blame');
    await ranges.nth(0).locator('.session-link').click();
    await waitForSeqs(
      frame,
      Array.from({ length: 11 }, (_, i) => 11 - i),
    );
    await frame.locator('#clear-filters').click();
  });

  it('shows a broken chain prominently when the log is tampered with', async () => {
    const { page, folder } = vsc();
    // The entry with the reviewer's reason, in whichever session chain holds it.
    const file = auditSegmentFiles(folder).find((name) => readFileSync(name, 'utf8').includes('too dangerous'));
    assert.ok(file, 'a chain holds the rejection');
    const lines = readFileSync(file, 'utf8').split('\n');
    const at = lines.findIndex((line) => line.includes('too dangerous'));
    lines[at] = (lines[at] ?? '').replace('too dangerous', 'fine by me');
    writeFileSync(file, lines.join('\n'));
    await runCommand(page, 'Warden: Show Audit Log');
    frame = await findFrame(page, '#verify-status[data-ok="false"]', 30_000);
    assert.match(
      await frame.locator('#verify-status').innerText(),
      new RegExp(`Chain broken[\\s\\S]*chain \\S+: [^\\n]*${path.basename(file)}:\\d+: entry was modified`),
    );
    await screenshot(page, 'audit-panel-broken');
  });
});

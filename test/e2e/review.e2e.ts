import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Frame } from 'playwright-core';
import { auditEntries } from './workspaceState';
import { findFrame, runCommand, stopSessionIfRunning, screenshot, submitQuickInput, useWorkbench, PER_ACTION } from './harness';

/** Polls a condition on disk until it holds or the deadline passes (the UI acts asynchronously). */
async function eventually<T>(what: string, probe: () => T | undefined, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function acceptFirstPending(frame: Frame, expectedTitle: RegExp): Promise<void> {
  const accept = frame.locator('button[data-action="approve"]').first();
  await accept.waitFor({ state: 'visible', timeout: 60_000 });
  const label = (await accept.getAttribute('aria-label')) ?? '';
  assert.match(label, expectedTitle, `the first pending proposal is the expected one (${label})`);
  await accept.click();
}

describe('e2e: review an agent session in the real VS Code UI', function () {
  const vsc = useWorkbench(this, { fixture: 'demo', settings: PER_ACTION });
  this.timeout(300_000);

  it('start a session from the palette, Accept in the Review panel, and see the file and the audit entry', async () => {
    const { page, folder } = vsc();
    const greetPath = path.join(folder, 'src', 'greet.js');
    const original = readFileSync(greetPath, 'utf8');

    await runCommand(page, 'Warden: Start Agent Session');
    await submitQuickInput(page, 'add a farewell function with tests');

    let review = await findFrame(page, 'button[data-action="approve"]', 90_000);
    assert.equal(readFileSync(greetPath, 'utf8'), original, 'nothing is written before Accept');
    await screenshot(page, 'review-panel-first-proposal');

    await acceptFirstPending(review, /farewell|greet\.js/i);
    await eventually('src/greet.js to contain farewell()', () =>
      readFileSync(greetPath, 'utf8').includes('function farewell') ? true : undefined,
    );
    await eventually('an edit.applied audit entry for src/greet.js', () =>
      auditEntries(folder).find((e) => e.type === 'edit.applied' && e.data.path === 'src/greet.js'),
    );
    const decision = auditEntries(folder).find((e) => e.type === 'decision' && e.actor.kind === 'human');
    assert.ok(decision, 'the click is recorded as a human decision');

    // Open Diff, then Accept in the diff editor's title bar (issue 22, item 9).
    const openDiff = review.locator('article.card[data-state="pending"] button[data-action="openDiff"]').first();
    await openDiff.waitFor({ state: 'visible', timeout: 60_000 });
    assert.match((await openDiff.getAttribute('aria-label')) ?? '', /test\/greet\.test\.js/);
    await openDiff.click();
    await page.locator('.monaco-diff-editor').first().waitFor({ state: 'visible', timeout: 30_000 });
    await page.locator('.editor-actions a[aria-label^="Reject Proposal"]').waitFor({ state: 'visible' });
    await page.locator('.editor-actions a[aria-label^="Accept Proposal"]').click();
    await eventually('test/greet.test.js to be created', () => (existsSync(path.join(folder, 'test', 'greet.test.js')) ? true : undefined));
    // The diff editor may have covered the panel: bring it back.
    await runCommand(page, 'Warden: Show Review Panel');
    review = await findFrame(page, 'button[data-action="approve"]', 60_000);

    await acceptFirstPending(review, /node --test/);
    const result = await eventually('the command result in the audit log', () =>
      auditEntries(folder).find((e) => e.type === 'command.result'),
    );
    assert.equal(result.data.exitCode, 0, `the tests ran in the sandbox: ${String(result.data.outputExcerpt)}`);
    await screenshot(page, 'review-panel-after-session');

    await stopSessionIfRunning(page);
  });
});

import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import type { EditProposal } from '../../src/core/proposals/model';
import { toProposalView } from '../../src/shared/reviewProtocol';
import { openReviewPanel, stubVsCodeApi, writeReviewPanelPage } from '../../scripts/vscode/reviewPanelPage';
import { launchChromium, type Chromium } from '../../scripts/vscode/server';
import { pendingEdit } from '../support/proposals';

/**
 * A long queue in the Review panel's webview, in Chromium (the built bundle, the real HTML and
 * CSP; VS Code's side is the message contract, as no agent makes 60 pending proposals at once):
 * the first 30 cards are drawn whole and the rest are filled as they come near the viewport, when
 * opened, or when the keys reach them, so nothing is ever decided unseen.
 */

const COUNT = 60;

function twoHunkEdit(n: number): EditProposal {
  const lines = Array.from({ length: 30 }, (_, i) => `line ${i + 1} of file ${n}`);
  const oldText = `${lines.join('\n')}\n`;
  const newText = `${[`// header ${n}`, ...lines.slice(0, 29), `line 30 changed in ${n}`].join('\n')}\n`;
  const filePath = `src/file${String(n).padStart(2, '0')}.txt`;
  return pendingEdit({
    id: `p-long-${n}`,
    sessionId: 's-long',
    createdAt: new Date(Date.UTC(2026, 11, 1, 0, 0, n)).toISOString(),
    path: filePath,
    oldText,
    newText,
  });
}

const proposals = Array.from({ length: COUNT }, (_, n) => twoHunkEdit(n));
const state = JSON.stringify({ type: 'state', proposals: proposals.map(toProposalView) });

async function post(page: Page, message: unknown): Promise<void> {
  await page.evaluate(`window.__post(${JSON.stringify(JSON.stringify(message))})`);
}

const bodyOf = (page: Page, n: number) => page.locator(`article.card[data-proposal-id="p-long-${n}"] .card-body`);

describe('e2e: a long queue in the Review panel is drawn as it comes into view, and never decided unseen', function () {
  this.timeout(120_000);
  let chromium: Chromium;
  let page: Page;
  let url: string;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'warden-long-queue-'));

  before(async () => {
    chromium = await launchChromium({ viewport: { width: 1200, height: 800 } });
    page = chromium.page;
    await stubVsCodeApi(page);
    url = writeReviewPanelPage(dir);
  });
  after(async () => {
    await chromium?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    await openReviewPanel(page, url);
    await page.evaluate(`window.__post(${JSON.stringify(state)})`);
  });

  it('draws the first 30 cards whole and the rest when scrolled to', async () => {
    assert.equal(await page.locator('article.card[data-state="pending"]').count(), COUNT);
    assert.equal(await page.locator('.card-body[data-deferred]').count(), COUNT - 30, 'cards past the 30th wait for the viewport');
    assert.equal(await bodyOf(page, 0).locator('tbody.hunk').count(), 2);
    assert.equal(
      await bodyOf(page, COUNT - 1)
        .locator('tbody.hunk')
        .count(),
      0,
    );
    await page.locator(`article.card[data-proposal-id="p-long-${COUNT - 1}"]`).scrollIntoViewIfNeeded();
    await bodyOf(page, COUNT - 1)
      .locator('tbody.hunk[data-hunk-id="h1"]')
      .waitFor({ state: 'visible' });
    assert.equal(await bodyOf(page, COUNT - 1).getAttribute('data-deferred'), null);
  });

  it('the keys fill a card before selecting in it: "previous" from nothing lands on the last hunk of the last card, and accept acts on that hunk', async () => {
    await post(page, { type: 'key', action: 'previous' });
    const last = page.locator(`article.card[data-proposal-id="p-long-${COUNT - 1}"] tbody.hunk[data-hunk-id="h1"]`);
    await last.waitFor({ state: 'visible' });
    assert.ok((await last.getAttribute('class'))?.includes('selected'), 'the last hunk of the last card is selected');
    await post(page, { type: 'key', action: 'accept' });
    const posted = await page.evaluate<Array<Record<string, unknown>>>('window.__posted');
    const choice = posted.find((m) => m.type === 'chooseHunk');
    assert.deepEqual(
      choice && { proposalId: choice.proposalId, hunkId: choice.hunkId, verdict: choice.verdict },
      { proposalId: `p-long-${COUNT - 1}`, hunkId: 'h1', verdict: 'approve' },
      'the hunk the reviewer sees is the one decided, never the whole unseen proposal',
    );
    assert.ok(!posted.some((m) => m.type === 'decide'));
  });

  it('accept on a selected card whose diff is not drawn yet draws it and decides nothing', async () => {
    // Focus a far card's header without scrolling: the keys act on the focused card.
    await page.evaluate(`document.querySelector('article.card[data-proposal-id="p-long-50"]').focus({ preventScroll: true })`);
    assert.notEqual(await bodyOf(page, 50).getAttribute('data-deferred'), null, 'not drawn yet');
    await post(page, { type: 'key', action: 'accept' });
    await bodyOf(page, 50).locator('tbody.hunk[data-hunk-id="h0"].selected').waitFor({ state: 'visible' });
    const posted = await page.evaluate<Array<Record<string, unknown>>>('window.__posted');
    assert.ok(!posted.some((m) => m.type === 'decide' || m.type === 'chooseHunk'), 'nothing decided');
  });

  it('closing and opening a waiting card draws it at once', async () => {
    const toggle = page.locator('article.card[data-proposal-id="p-long-45"] button[data-action="toggle"]');
    await toggle.click();
    await page.locator('article.card[data-proposal-id="p-long-45"] button[data-action="toggle"][aria-expanded="false"]').waitFor();
    await page.locator('article.card[data-proposal-id="p-long-45"] button[data-action="toggle"]').click();
    await bodyOf(page, 45).locator('tbody.hunk[data-hunk-id="h0"]').waitFor({ state: 'visible' });
  });

  it('a bulk request shows its cards busy until the extension says it is settled (a cancelled confirmation leaves them decidable)', async () => {
    await page.locator('button[data-action="rejectAll"]').click();
    await page.locator('.reject-reason[data-reject-target="all"] button[data-action="confirmReject"]').click();
    const posted = await page.evaluate<Array<Record<string, unknown>>>('window.__posted');
    const bulk = posted.find((m) => m.type === 'decideMany');
    assert.equal((bulk?.proposalIds as string[] | undefined)?.length, COUNT);
    await page.locator('article.card[data-proposal-id="p-long-0"] button[data-action="reject"][disabled]').waitFor();
    await post(page, { type: 'settled', proposalIds: bulk?.proposalIds });
    await page.locator('article.card[data-proposal-id="p-long-0"] button[data-action="reject"]:not([disabled])').waitFor();
  });
});

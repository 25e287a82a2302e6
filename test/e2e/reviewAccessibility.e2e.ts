import { strict as assert } from 'node:assert';
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { findFrame, repoRoot, runCommand, stopSessionIfRunning, submitQuickInput, useWorkbench, PER_ACTION } from './harness';
import { auditEntries, eventually, twoHunkWorkspace } from './workspaceState';

/**
 * The Review panel as a screen reader and a keyboard user meet it: names on every control,
 * labelled regions, no positive tabindex, a live region, the documented key shortcuts. It
 * also takes the README's screenshot of the panel.
 */
describe('e2e: the Review panel is accessible and follows the theme', function () {
  const source = twoHunkWorkspace();
  const vsc = useWorkbench(this, { folder: source.folder, settings: PER_ACTION });
  this.timeout(300_000);
  after(() => source.dispose());

  it('every control has a name, hunks and groups are labelled regions, and nothing has a positive tabindex', async () => {
    const { page, folder } = vsc();
    await runCommand(page, 'Warden: Start Agent Session');
    await submitQuickInput(page, 'document greet.js');
    const review = await findFrame(page, 'tbody.hunk[data-hunk-id="h1"] button[data-action="hunkApprove"]', 120_000);

    await review.locator('tbody.hunk[data-hunk-id="h0"] button[data-action="hunkApprove"]').click();
    await review.locator('tbody.hunk[data-hunk-id="h0"][data-choice="approve"]').waitFor({ state: 'visible' });
    const id = await review.locator('article[data-state="pending"]').first().getAttribute('data-proposal-id');
    assert.ok(id, 'a pending card');
    assert.ok(!auditEntries(folder).some((e) => e.type === 'edit.applied'), 'one hunk of two chosen: nothing written');
    mkdirSync(path.join(repoRoot, 'docs', 'screenshots'), { recursive: true });
    await page.screenshot({ path: path.join(repoRoot, 'docs', 'screenshots', 'review-panel.png') });

    // Runs in the webview (a string: the test bundle has no DOM types, and helpers it would name are not there).
    const report = await review.evaluate<{
      unnamedButtons: number;
      positiveTabindex: number;
      hunkLabels: string[];
      unlabelledSections: number;
      liveRegion: boolean;
      pressed: string[];
      editShortcut: string | null;
      themed: boolean;
      codicons: string;
    }>(`(() => {
      const name = (el) => (el.getAttribute('aria-label') || el.textContent || '').trim();
      const labelled = (el) => {
        const by = el.getAttribute('aria-labelledby');
        return Boolean((el.getAttribute('aria-label') || '').trim() || (by && (document.getElementById(by)?.textContent || '').trim()));
      };
      return {
        unnamedButtons: [...document.querySelectorAll('button')].filter((b) => name(b) === '').length,
        positiveTabindex: [...document.querySelectorAll('[tabindex]')].filter((e) => Number(e.getAttribute('tabindex')) > 0).length,
        hunkLabels: [...document.querySelectorAll('tbody.hunk[role="group"]')].map((h) => h.getAttribute('aria-label') || ''),
        unlabelledSections: [...document.querySelectorAll('section.group, section.session-group, section.file-group, article.card')].filter((s) => !labelled(s)).length,
        liveRegion: document.querySelector('[role="status"][aria-live="polite"]') !== null,
        pressed: [...document.querySelectorAll('tbody.hunk[data-hunk-id="h0"] button[aria-pressed]')].map((b) => b.getAttribute('data-action') + '=' + b.getAttribute('aria-pressed')),
        editShortcut: document.querySelector('button[data-action="edit"]')?.getAttribute('aria-keyshortcuts') ?? null,
        themed: getComputedStyle(document.body).getPropertyValue('--vscode-editor-background').trim() !== '',
        codicons: getComputedStyle(document.querySelector('.codicon') || document.body).fontFamily,
      };
    })()`);
    assert.equal(report.unnamedButtons, 0, 'every button has a name a screen reader reads');
    assert.equal(report.positiveTabindex, 0, 'the focus order is the document order');
    assert.deepEqual(report.hunkLabels, ['Hunk 1 of 2 of Edit src/greet.js, accepted', 'Hunk 2 of 2 of Edit src/greet.js']);
    assert.equal(report.unlabelledSections, 0, 'groups and cards are labelled regions');
    assert.ok(report.liveRegion, 'changes are announced');
    assert.deepEqual(report.pressed, ['hunkApprove=true', 'hunkReject=false']);
    assert.equal(report.editShortcut, 'E');
    assert.ok(report.themed, 'the theme variables reach the webview');
    assert.match(report.codicons, /codicon/, 'icons are codicons');

    // The accessibility tree a screen reader gets names the hunk buttons by what they act on.
    const tree = await review.locator(`article[data-proposal-id="${id}"]`).ariaSnapshot();
    assert.match(tree, /button "Accept hunk 2 of 2"/);
    assert.match(tree, /button "Reject: Edit src\/greet\.js"/);

    await review.locator(`article[data-proposal-id="${id}"] button[data-action="reject"]`).click();
    // The reason box takes the focus and is labelled; Enter rejects (without a reason here).
    const reason = review.locator(`article[data-proposal-id="${id}"] input.reject-reason-input`);
    await reason.waitFor({ state: 'visible' });
    assert.match(await review.locator(`article[data-proposal-id="${id}"] .reject-reason`).ariaSnapshot(), /textbox "Why reject\?/);
    await reason.press('Enter');
    await eventually('the rejection on the record', () =>
      auditEntries(folder).find((e) => e.type === 'decision' && e.data.proposalId === id),
    );
    await stopSessionIfRunning(page);
  });
});

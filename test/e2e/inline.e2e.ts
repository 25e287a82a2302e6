import { strict as assert } from 'node:assert';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { auditEntries } from './workspaceState';
import {
  docsScreenshot,
  findFrame,
  repoRoot,
  runCommand,
  stopSessionIfRunning,
  submitQuickInput,
  useWorkbench,
  waitForWorkbench,
  PER_ACTION,
} from './harness';

/** Polls a condition until it holds or the deadline passes (the UI acts asynchronously). */
async function eventually<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The edit proposal the demo agent made in its latest session (from the audit log). */
function latestProposalId(folder: string): string | undefined {
  const proposals = auditEntries(folder).filter((e) => e.type === 'proposal' && e.data.path === 'src/greet.js');
  return proposals[proposals.length - 1]?.data.proposalId as string | undefined;
}

/** The demo workspace with a greet.js long enough that the agent's header and footer are two hunks. */
function inlineWorkspace(): { folder: string; dispose(): void } {
  const temp = mkdtempSync(path.join(os.tmpdir(), 'warden-inline-src-'));
  const folder = path.join(temp, 'greeter');
  cpSync(path.join(repoRoot, 'test', 'fixtures', 'workspaces', 'demo'), folder, { recursive: true });
  const greetPath = path.join(folder, 'src', 'greet.js');
  const helpers = Array.from({ length: 8 }, (_, i) => `const GREETING_${i + 1} = 'Hello';`).join('\n');
  writeFileSync(greetPath, readFileSync(greetPath, 'utf8').replace('module.exports', `${helpers}\n\nmodule.exports`));
  return { folder, dispose: () => rmSync(temp, { recursive: true, force: true }) };
}

const lensLine = (page: Page, text: string) => page.locator('.monaco-editor .codelens-decoration', { hasText: text }).first();

async function openFile(page: Page, relative: string): Promise<void> {
  // Through the palette (it retries); a key press can land in a focused webview instead.
  await runCommand(page, 'Go to File...');
  await submitQuickInput(page, relative, { waitForItem: path.basename(relative) });
  // An editor of the same file may sit hidden in another group (beside the Review panel): wait for a visible one.
  await page
    .locator(`.monaco-editor[data-uri$="${path.basename(relative)}"] .view-lines`)
    .filter({ visible: true })
    .first()
    .waitFor({ state: 'visible' });
}

async function startDocumentSession(page: Page, folder: string, previous: string | undefined): Promise<string> {
  // Whatever an earlier test left running ends first (one session at a time).
  await page.keyboard.press('Escape');
  await stopSessionIfRunning(page);
  await runCommand(page, 'Warden: Start Agent Session');
  await submitQuickInput(page, 'document greet.js');
  return eventually(
    'a new proposal for src/greet.js',
    () => {
      const id = latestProposalId(folder);
      return id && id !== previous ? id : undefined;
    },
    120_000,
  );
}

describe('e2e: review in the editor, stale files and reloads', function () {
  const source = inlineWorkspace();
  // Auto-save off, as on the desktop, so typing stays unsaved editor text.
  const vsc = useWorkbench(this, { folder: source.folder, settings: { 'files.autoSave': 'off', ...PER_ACTION } });
  this.timeout(300_000);
  after(() => source.dispose());

  let lastProposal: string | undefined;

  it('the proposal shows in the file as CodeLens per hunk; Accept on one hunk and Reject on the other applies only the first', async () => {
    const { page, folder } = vsc();
    const greetPath = path.join(folder, 'src', 'greet.js');
    const original = readFileSync(greetPath, 'utf8');
    lastProposal = await startDocumentSession(page, folder, undefined);
    await openFile(page, 'src/greet.js');

    await lensLine(page, 'Accept hunk 2/2').waitFor({ state: 'visible', timeout: 60_000 });
    await lensLine(page, 'Accept hunk 1/2').waitFor({ state: 'visible' });
    // The hover over a hunk shows its diff.
    // Over the text itself (past its end there is nothing to hover), again if the first hover is lost.
    const hover = page.locator('.monaco-hover', { hasText: 'End of greet.js' }).first();
    const target = page
      .locator('.monaco-editor .view-line', { hasText: 'module.exports' })
      .first()
      .locator('span', { hasText: 'exports' })
      .first();
    for (let attempt = 1; ; attempt++) {
      await page.mouse.move(0, 0);
      await target.hover();
      try {
        await hover.waitFor({ state: 'visible', timeout: 10_000 });
        break;
      } catch (error) {
        if (attempt === 3) throw error;
      }
    }
    await eventually(
      'the hover to finish loading',
      async () => ((await hover.textContent())?.includes('Loading') ? undefined : true),
      10_000,
    ).catch(() => undefined);
    await docsScreenshot(page, 'inline-review');
    assert.equal(readFileSync(greetPath, 'utf8'), original, 'nothing is written before a decision');

    await lensLine(page, 'Accept hunk 1/2').locator('a', { hasText: 'Accept hunk 1/2' }).click();
    await lensLine(page, 'Accepted hunk 1/2').waitFor({ state: 'visible' });
    assert.equal(readFileSync(greetPath, 'utf8'), original, 'one hunk of two chosen: still nothing written');
    await lensLine(page, 'Accept hunk 2/2')
      .locator('a', { hasText: /^\s*Reject\s*$/ })
      .click();

    // The file is read once the write is on the record (a read during the save could see it half done).
    await eventually('edit.applied in the audit log', () =>
      auditEntries(folder).find((e) => e.type === 'edit.applied' && e.data.proposalId === lastProposal),
    );
    const written = readFileSync(greetPath, 'utf8');
    assert.ok(written.startsWith('// greet.js:'), `the accepted hunk (the header) is applied: ${written}`);
    assert.ok(!written.includes('End of greet.js'), 'the rejected hunk (the footer) is not');
    await stopSessionIfRunning(page);
  });

  it('typing in the file re-diffs the proposal (unsaved text included); typing on a line it changes makes it stale, and a stale proposal is never written', async () => {
    const { page, folder } = vsc();
    const greetPath = path.join(folder, 'src', 'greet.js');
    const onDisk = readFileSync(greetPath, 'utf8');
    const id = await startDocumentSession(page, folder, lastProposal);
    lastProposal = id;
    // One editor group: the file opens where the keys go.
    await runCommand(page, 'View: Close All Editor Groups');
    await openFile(page, 'src/greet.js');
    await lensLine(page, 'Accept hunk 2/2').waitFor({ state: 'visible', timeout: 60_000 });

    // A line far from both hunks: the proposal follows (re-diffed against the unsaved text).
    await page.keyboard.press('Control+G');
    await submitQuickInput(page, ':10');
    await page.keyboard.press('End');
    await page.keyboard.type(' // typed by the reviewer');
    await eventually('proposal.rediffed in the audit log', () =>
      auditEntries(folder).find((e) => e.type === 'proposal.rediffed' && e.data.proposalId === id),
    );
    await lensLine(page, 'Accept hunk 2/2').waitFor({ state: 'visible' });
    assert.equal(readFileSync(greetPath, 'utf8'), onDisk, 'the typing is unsaved and nothing was written');

    // The first line, which the header hunk's context needs: the change no longer fits.
    await page.keyboard.press('Control+Home');
    await page.keyboard.type('/* mine */ ');
    await eventually('edit.stale in the audit log', () =>
      auditEntries(folder).find((e) => e.type === 'edit.stale' && e.data.proposalId === id),
    );
    await page.locator('.monaco-editor .codelens-decoration', { hasText: 'Accept hunk' }).first().waitFor({ state: 'detached' });
    await runCommand(page, 'Warden: Show Review Panel');
    const review = await findFrame(page, `article.card[data-state="stale"]`);
    assert.equal(
      await review.locator('article.card[data-state="stale"] button[data-action="approve"]').count(),
      0,
      'the panel offers no Accept either',
    );
    assert.equal(readFileSync(greetPath, 'utf8'), onDisk);
    assert.ok(!auditEntries(folder).some((e) => e.type === 'edit.applied' && e.data.proposalId === id));
    await openFile(page, 'src/greet.js');
    await runCommand(page, 'File: Revert File');
    await stopSessionIfRunning(page);
  });

  it('a pending proposal survives "Reload Window": the panel comes back with it orphaned, and it is not applied', async () => {
    const { page, folder } = vsc();
    const greetPath = path.join(folder, 'src', 'greet.js');
    const onDisk = readFileSync(greetPath, 'utf8');
    const id = await startDocumentSession(page, folder, lastProposal);
    await findFrame(page, `article.card[data-state="pending"] button[data-action="approve"]`, 60_000);
    const saved = await eventually('the proposal saved under .warden/proposals', () => {
      const dir = path.join(folder, '.warden', 'proposals');
      if (!existsSync(dir)) return undefined;
      const file = readdirSync(dir).find((f) => f.endsWith('.json') && readFileSync(path.join(dir, f), 'utf8').includes(id));
      return file ? path.join(dir, file) : undefined;
    });

    await runCommand(page, 'Developer: Reload Window');
    await waitForWorkbench(page);
    const review = await findFrame(page, 'article.card[data-state="orphaned"]', 90_000);
    assert.equal(
      await review.locator('article.card[data-state="orphaned"] button[data-action="approve"]').count(),
      0,
      'an orphaned proposal cannot be accepted',
    );
    await eventually('the saved file says orphaned', () => (readFileSync(saved, 'utf8').match(/"state": ?"orphaned"/) ? true : undefined));
    assert.equal(readFileSync(greetPath, 'utf8'), onDisk, 'nothing was applied by the reload');
    assert.ok(!auditEntries(folder).some((e) => e.type === 'edit.applied' && e.data.proposalId === id));
    await page.screenshot({ path: path.join(repoRoot, 'test-results', 'inline-reload-orphaned.png') });
  });
});

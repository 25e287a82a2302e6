import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Frame, Page } from 'playwright-core';
import { findFrame, runCommand, stopSessionIfRunning, submitQuickInput, useWorkbench, PER_ACTION } from './harness';
import { auditEntries, eventually, twoHunkWorkspace } from './workspaceState';

/**
 * The Review panel's own flows, in the real VS Code UI with the demo agent: per-hunk choices
 * with the buttons and with the contributed keys, editing a proposed file before accepting
 * it, and editing a command before it runs (the policy checks it again).
 */

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/** Starts a demo session (stopping whatever ran before) and returns the id of its first proposal for `path`. */
async function startSession(page: Page, folder: string, instruction: string, path: string): Promise<string> {
  const before = new Set(
    auditEntries(folder)
      .filter((e) => e.type === 'proposal')
      .map((e) => e.data.proposalId),
  );
  await page.keyboard.press('Escape');
  await stopSessionIfRunning(page);
  await runCommand(page, 'Warden: Start Agent Session');
  await submitQuickInput(page, instruction);
  return eventually(
    `a new proposal for ${path}`,
    () =>
      auditEntries(folder).find((e) => e.type === 'proposal' && e.data.path === path && !before.has(e.data.proposalId))?.data.proposalId as
        string | undefined,
    120_000,
  );
}

const card = (review: Frame, id: string) => review.locator(`article.card[data-proposal-id="${id}"]`);
const hunk = (review: Frame, id: string, hunkId: string) => card(review, id).locator(`tbody.hunk[data-hunk-id="${hunkId}"]`);

/**
 * "add a farewell function with tests": accepts the edit of src/greet.js (a permission request)
 * and the new test file, so the session's next proposal is its command, \`node --test test/\`.
 */
async function untilTheCommand(page: Page, folder: string): Promise<{ review: Frame; sessionId: string }> {
  const permissionId = await startSession(page, folder, 'add a farewell function with tests', 'src/greet.js');
  const review = await findFrame(page, `article.card[data-proposal-id="${permissionId}"] button[data-action="approve"]`, 60_000);
  await card(review, permissionId).locator('button[data-action="approve"]').click();
  const sessionId = await eventually(
    'the session id',
    () => auditEntries(folder).find((e) => e.data.proposalId === permissionId)?.sessionId,
  );
  const testWrite = await eventually('the test file proposal', () =>
    auditEntries(folder).find((e) => e.type === 'proposal' && e.data.path === 'test/greet.test.js' && e.sessionId === sessionId),
  );
  const accept = card(review, String(testWrite.data.proposalId)).locator('button[data-action="approve"]');
  await accept.waitFor({ state: 'visible', timeout: 60_000 });
  await accept.click();
  await eventually('the test file written', () =>
    auditEntries(folder).find((e) => e.type === 'edit.applied' && e.data.proposalId === testWrite.data.proposalId),
  );
  return { review, sessionId };
}

async function appliedWithHunks(folder: string, id: string): Promise<{ accepted: number[]; rejected: number[] }> {
  await eventually('edit.applied in the audit log', () =>
    auditEntries(folder).find((e) => e.type === 'edit.applied' && e.data.proposalId === id),
  );
  const decision = auditEntries(folder).find((e) => e.type === 'decision' && e.data.proposalId === id);
  assert.ok(decision, 'the decision is on the record');
  return decision.data.hunks as { accepted: number[]; rejected: number[] };
}

describe('e2e: the Review panel flows (hunks, keys, edit before accept, command edit)', function () {
  const source = twoHunkWorkspace();
  const vsc = useWorkbench(this, { folder: source.folder, settings: PER_ACTION });
  this.timeout(300_000);
  after(() => source.dispose());

  it('hunk accept: Accept hunk 1 and Reject hunk 2 in the panel write only the first hunk', async () => {
    const { page, folder } = vsc();
    const greetPath = path.join(folder, 'src', 'greet.js');
    const original = readFileSync(greetPath, 'utf8');
    const id = await startSession(page, folder, 'document greet.js', 'src/greet.js');
    const review = await findFrame(page, `article.card[data-proposal-id="${id}"] tbody.hunk[data-hunk-id="h1"]`, 60_000);

    await hunk(review, id, 'h0').locator('button[data-action="hunkApprove"]').click();
    await review
      .locator(`article.card[data-proposal-id="${id}"] tbody.hunk[data-hunk-id="h0"][data-choice="approve"]`)
      .waitFor({ state: 'visible' });
    assert.equal(readFileSync(greetPath, 'utf8'), original, 'one hunk of two chosen: nothing written yet');
    await hunk(review, id, 'h1').locator('button[data-action="hunkReject"]').click();

    assert.deepEqual(await appliedWithHunks(folder, id), { accepted: [0], rejected: [1] });
    const written = readFileSync(greetPath, 'utf8');
    assert.ok(written.startsWith('// greet.js:'), `the accepted hunk (the header) is written: ${written.slice(0, 80)}`);
    assert.ok(!written.includes('End of greet.js'), 'the rejected hunk (the footer) is not');
    // The history card shows what was written: the rejected hunk is marked, not shown as the agent's change.
    await card(review, id).locator('.card-meta', { hasText: '1 hunk(s) written, 1 rejected' }).waitFor({ state: 'visible' });
    await card(review, id).locator('button[data-action="toggle"]').click();
    await hunk(review, id, 'h1').locator('.hunk-choice', { hasText: 'Rejected · not written' }).waitFor({ state: 'visible' });
    await hunk(review, id, 'h0').locator('.hunk-choice', { hasText: 'Accepted · written' }).waitFor({ state: 'visible' });
  });

  it('keyboard: j and k move between hunks, a accepts one and moves on, r rejects (the contributed keybindings)', async () => {
    const { page, folder } = vsc();
    const greetPath = path.join(folder, 'src', 'greet.js');
    const before = readFileSync(greetPath, 'utf8');
    const id = await startSession(page, folder, 'document greet.js', 'src/greet.js');
    const review = await findFrame(page, `article.card[data-proposal-id="${id}"] tbody.hunk[data-hunk-id="h1"]`, 60_000);

    // Focus the panel on something that is not a control: the keys go to the webview.
    await review.locator('h1', { hasText: 'Warden agent' }).click();
    await page.keyboard.press('j');
    await review.locator(`article.card[data-proposal-id="${id}"] tbody.hunk[data-hunk-id="h0"].selected`).waitFor({ state: 'visible' });
    await page.keyboard.press('a');
    await review
      .locator(`article.card[data-proposal-id="${id}"] tbody.hunk[data-hunk-id="h0"][data-choice="approve"]`)
      .waitFor({ state: 'visible' });
    // Accepting moves on to the next item by itself.
    await review.locator(`article.card[data-proposal-id="${id}"] tbody.hunk[data-hunk-id="h1"].selected`).waitFor({ state: 'visible' });
    await page.keyboard.press('k');
    await review.locator(`article.card[data-proposal-id="${id}"] tbody.hunk[data-hunk-id="h0"].selected`).waitFor({ state: 'visible' });
    await page.keyboard.press('j');
    await review.locator(`article.card[data-proposal-id="${id}"] tbody.hunk[data-hunk-id="h1"].selected`).waitFor({ state: 'visible' });
    await page.keyboard.press('r');

    assert.deepEqual(await appliedWithHunks(folder, id), { accepted: [0], rejected: [1] });
    const written = readFileSync(greetPath, 'utf8');
    assert.equal(
      written,
      `// greet.js: the greetings of the Warden demo.\n// Each function returns a string and prints nothing.\n${before}`,
      'the header hunk only',
    );
  });

  it('reject with a reason: typed in the card’s box, Enter sends it; the audit keeps it and the agent is told', async () => {
    const { page, folder } = vsc();
    const id = await startSession(page, folder, 'add a farewell function with tests', 'src/greet.js');
    const review = await findFrame(page, `article.card[data-proposal-id="${id}"] button[data-action="reject"]`, 60_000);
    await card(review, id).locator('button[data-action="reject"]').click();
    const field = card(review, id).locator('input.reject-reason-input');
    await field.waitFor({ state: 'visible' });
    const why = 'keep greet.js as it is; farewell belongs in its own module';
    await field.fill(why);
    await field.press('Enter');

    const decision = await eventually('the decision in the audit log', () =>
      auditEntries(folder).find((e) => e.type === 'decision' && e.data.proposalId === id),
    );
    assert.equal(decision.data.verdict, 'reject');
    assert.equal(decision.data.reason, why, 'the audit keeps the reviewer’s reason');
    assert.equal(decision.actor.kind, 'human');
    // The demo agent repeats what the answer told it, in its session feed.
    await runCommand(page, 'Warden: Show Agent Session');
    await findFrame(page, `text=/The edit to src\\/greet\\.js was not allowed \\(${why.replace(/[.;]/g, '\\$&')}\\)/`, 60_000);
    // The card in the history shows the reason with the decision.
    await card(review, id).locator('.card-meta', { hasText: why }).waitFor({ state: 'visible', timeout: 30_000 });
    await stopSessionIfRunning(page);
  });

  it('edit then accept: the reviewer’s text is what is written and audited, and the agent is told', async () => {
    const { page, folder } = vsc();
    const greetPath = path.join(folder, 'src', 'greet.js');
    const before = readFileSync(greetPath, 'utf8');
    const id = await startSession(page, folder, 'document greet.js', 'src/greet.js');
    const review = await findFrame(page, `article.card[data-proposal-id="${id}"] button[data-action="edit"]`, 60_000);

    await card(review, id).locator('button[data-action="edit"]').click();
    const area = card(review, id).locator('textarea.edit-text');
    await area.waitFor({ state: 'visible' });
    const proposed = await area.inputValue();
    assert.ok(proposed.includes('End of greet.js'), 'the text area holds the agent’s full proposed content');
    const mine = `// Reviewed and edited by a human before it was written.\n${before}`;
    await area.fill(mine);
    await card(review, id).locator('button[data-action="acceptEdited"]').click();

    await eventually('edit.applied in the audit log', () =>
      auditEntries(folder).find((e) => e.type === 'edit.applied' && e.data.proposalId === id),
    );
    assert.equal(readFileSync(greetPath, 'utf8'), mine, 'the edited bytes are what was written');
    const decision = auditEntries(folder).find((e) => e.type === 'decision' && e.data.proposalId === id);
    assert.equal(decision?.data.edited, true);
    assert.equal(decision?.data.editedHash, sha256(mine), 'the audit holds the hash of what was written');
    assert.match(String(decision?.data.editedDiff), /Reviewed and edited by a human/, 'and how it differs from the agent’s proposal');
    // The agent's write succeeded with a note of the reviewer's changes, which the demo agent reports in its session feed.
    await runCommand(page, 'Warden: Show Agent Session');
    await findFrame(page, "text=/with the reviewer's changes/", 60_000);
  });

  it('command edit: the edited command is what runs, after the policy checks it again', async () => {
    const { page, folder } = vsc();
    const { review } = await untilTheCommand(page, folder);
    assert.ok(existsSync(path.join(folder, 'test', 'greet.test.js')), 'the accepted test file is written');
    const command = review.locator('article.card.kind-command[data-state="pending"]').first();
    await command.locator('button[data-action="editCommand"]').waitFor({ state: 'visible', timeout: 60_000 });
    const commandId = await command.getAttribute('data-proposal-id');
    assert.ok(commandId);
    await command.locator('button[data-action="editCommand"]').click();
    const area = card(review, commandId).locator('textarea.edit-command');
    await area.waitFor({ state: 'visible' });
    assert.equal(await area.inputValue(), 'node --test test/', 'the text area starts with the agent’s command');
    await area.fill('node --test test/greet.test.js');
    await card(review, commandId).locator('button[data-action="runEditedCommand"]').click();

    const edited = await eventually('command.edited in the audit log', () =>
      auditEntries(folder).find((e) => e.type === 'command.edited' && e.data.proposalId === commandId),
    );
    assert.equal(edited.data.proposedCommandLine, 'node --test test/');
    assert.equal(edited.data.commandLine, 'node --test test/greet.test.js');
    const result = await eventually('command.result in the audit log', () =>
      auditEntries(folder).find((e) => e.type === 'command.result' && e.data.proposalId === commandId),
    );
    assert.equal(result.data.exitCode, 0, `the edited command ran in the sandbox: ${String(result.data.outputExcerpt)}`);
    assert.match(String(result.data.outputExcerpt), /farewell says goodbye/, 'the test file the reviewer named ran');
    // The card says what ran instead of what the agent asked.
    await card(review, commandId).locator('.card-meta', { hasText: 'exit 0' }).waitFor({ state: 'visible', timeout: 30_000 });
    await stopSessionIfRunning(page);
  });

  it('bulk: "Reject all" over a protected item asks first in a modal that names it; Cancel decides nothing, confirming rejects all', async () => {
    const { page, folder } = vsc();
    const { review, sessionId } = await untilTheCommand(page, folder);

    // The reviewer's command writes two files in the sandbox copy, one of them protected
    // (editor configuration); at the end of the turn both come back as proposals at once.
    const command = review.locator('article.card.kind-command[data-state="pending"]').first();
    await command.locator('button[data-action="editCommand"]').waitFor({ state: 'visible', timeout: 60_000 });
    const commandId = String(await command.getAttribute('data-proposal-id'));
    await command.locator('button[data-action="editCommand"]').click();
    await card(review, commandId)
      .locator('textarea.edit-command')
      .fill('mkdir -p .vscode && echo {} > .vscode/settings.json && echo note > NOTES.md');
    await card(review, commandId).locator('button[data-action="runEditedCommand"]').click();
    const changed = await eventually(
      'the sandbox changes proposed',
      () => auditEntries(folder).find((e) => e.type === 'sandbox.changes' && e.sessionId === sessionId),
      90_000,
    );
    assert.deepEqual([...(changed.data.paths as string[])].sort(), ['.vscode/settings.json', 'NOTES.md']);
    await review.locator('article.card[data-state="pending"] .risk[data-risk="protected"]').first().waitFor({ state: 'visible' });
    const rejectAll = review.locator('button[data-action="rejectAll"]');
    await rejectAll.waitFor({ state: 'visible' });

    const dialog = page.locator('.monaco-dialog-box');
    const confirmReject = review.locator('.reject-reason[data-reject-target="all"] button[data-action="confirmReject"]');
    await rejectAll.click();
    await confirmReject.click();
    await dialog.waitFor({ state: 'visible' });
    const text = await dialog.innerText();
    assert.match(text, /Reject all 2 waiting proposals\? 1 of the 2 is protected\./);
    assert.match(
      text,
      /Create \.vscode\/settings\.json \(changed in the sandbox\): Protected path \(\.vscode\/settings\.json is editor configuration/,
    );
    assert.doesNotMatch(text, /NOTES\.md/, 'only the protected item is listed');
    await dialog.locator('.monaco-button', { hasText: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
    assert.equal(await review.locator('article.card[data-state="pending"]').count(), 2, 'cancelled: both still wait');
    const enabledRejects = review.locator('article.card[data-state="pending"] button[data-action="reject"]:not([disabled])');
    await eventually(
      'the cards to stop showing busy after the cancel',
      async () => ((await enabledRejects.count()) === 2 ? true : undefined),
      10_000,
    );

    await rejectAll.click();
    await confirmReject.click();
    await dialog.waitFor({ state: 'visible' });
    await dialog.locator('.monaco-button', { hasText: 'Reject 2' }).click();
    const sandboxProposals = auditEntries(folder).filter(
      (e) => e.type === 'proposal' && e.sessionId === sessionId && e.data.origin === 'sandbox/change',
    );
    assert.equal(sandboxProposals.length, 2);
    for (const proposal of sandboxProposals) {
      const decision = await eventually(`the decision on ${String(proposal.data.path)}`, () =>
        auditEntries(folder).find((e) => e.type === 'decision' && e.data.proposalId === proposal.data.proposalId),
      );
      assert.equal(decision.data.verdict, 'reject');
      assert.equal(decision.actor.kind, 'human');
    }
    assert.ok(!existsSync(path.join(folder, '.vscode', 'settings.json')), 'nothing reached the workspace');
    assert.ok(!existsSync(path.join(folder, 'NOTES.md')));
    await stopSessionIfRunning(page);
  });
});

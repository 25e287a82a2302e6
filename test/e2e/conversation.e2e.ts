import { strict as assert } from 'node:assert';
import type { Frame } from 'playwright-core';
import { docsScreenshot, findFrame, runCommand, stopSessionIfRunning, submitQuickInput, useWorkbench, PER_ACTION } from './harness';
import { auditEntries, eventually } from './workspaceState';

/**
 * One place to work with the agent (issue 22, item 2), in the real VS Code UI with the demo
 * agent: Start Agent Session opens the Warden panel, the agent's words and its proposal appear
 * in the conversation, the proposal is accepted where it arose, a second instruction typed in
 * the box while the agent works is queued and becomes the next turn, and Start Agent Session
 * while the session runs sends its instruction to that session.
 */

const inline = (panel: Frame, id: string) => panel.locator(`li[data-conv-proposal-id="${id}"]`);

/** The feed's rows as "kind:text" (user / agent / proposal), in the order shown. */
async function feed(panel: Frame): Promise<string[]> {
  // Runs in the webview (a string: the test bundle has no DOM types).
  return panel.evaluate<string[]>(`[...document.querySelectorAll('ol.feed > li')].map((li) =>
    li.dataset.convProposalId !== undefined
      ? 'proposal:' + li.dataset.convProposalId
      : (li.classList.contains('user-message') ? (li.classList.contains('queued') ? 'queued:' : 'user:') : li.classList.contains('agent-message') ? 'agent:' : 'other:') +
        (li.querySelector('.text')?.textContent ?? '').trim())`);
}

/** Whether the feed is scrolled to its top or to its newest row; undefined otherwise (for `eventually`). */
async function feedAt(panel: Frame, where: 'top' | 'bottom'): Promise<true | undefined> {
  const [top, height, client] = await panel.evaluate<number[]>(
    `(() => { const f = document.querySelector('ol.feed'); return [f.scrollTop, f.scrollHeight, f.clientHeight]; })()`,
  );
  if (height! <= client!) throw new Error(`the feed does not overflow (${height} px in ${client} px): nothing to follow`);
  const at = where === 'top' ? top === 0 : height! - top! - client! <= 24;
  return at ? true : undefined;
}

/** Whether the instruction box has the webview's focus. */
const boxFocused = (panel: Frame): Promise<boolean> =>
  panel.evaluate<boolean>(`document.activeElement === document.querySelector('form.instruction-box textarea')`);

/** The newest proposal of the session that is not in `seen` (from the audit log, which the panel also shows). */
function newProposal(folder: string, seen: Set<string>): string | undefined {
  const found = auditEntries(folder).find((e) => e.type === 'proposal' && !seen.has(String(e.data.proposalId)));
  if (found) seen.add(String(found.data.proposalId));
  return found ? String(found.data.proposalId) : undefined;
}

describe('e2e: the conversation and the review in one panel', function () {
  const vsc = useWorkbench(this, { fixture: 'demo', settings: PER_ACTION });
  this.timeout(300_000);

  it('Start Agent Session, see the agent and its proposal inline, accept it, and send the next instructions to the running session', async () => {
    const { page, folder } = vsc();
    const seen = new Set<string>();
    await runCommand(page, 'Warden: Start Agent Session');
    await submitQuickInput(page, 'document greet.js');

    const first = await eventually('the first proposal', () => newProposal(folder, seen), 120_000);
    const panel = await findFrame(page, `li[data-conv-proposal-id="${first}"] button[data-action="inlineApprove"]`, 60_000);
    await panel.locator('li.agent-message', { hasText: "I'll work on" }).first().waitFor({ state: 'visible' });
    const before = await feed(panel);
    const at = (row: string): number => before.findIndex((r) => r.startsWith(row));
    assert.ok(at('user:document greet.js') === 0, `the instruction opens the conversation: ${before.join(' | ')}`);
    assert.ok(
      at("agent:I'll work on") > 0 && at(`proposal:${first}`) > at("agent:I'll work on"),
      `the proposal follows what the agent said: ${before.join(' | ')}`,
    );

    // The agent waits on the review, so its turn is running: the box queues the next instruction.
    const box = panel.locator('form.instruction-box textarea');
    await box.fill('document greet.js once more');
    await panel.locator('button[data-action="sendPrompt"]').click();
    await panel.locator('.box-note', { hasText: 'Queued' }).waitFor({ state: 'visible' });
    await panel.locator('li.user-message.queued', { hasText: 'document greet.js once more' }).waitFor({ state: 'visible' });
    assert.equal(await box.inputValue(), '', 'the box is cleared once the instruction is queued');

    await docsScreenshot(page, 'conversation-panel');

    // The feed follows the agent: made short here so the next turn overflows it, read from the bottom.
    await panel.evaluate(
      `(() => { const feed = document.querySelector('ol.feed'); feed.style.maxHeight = '120px'; feed.scrollTop = feed.scrollHeight; })()`,
    );
    // dispatchEvent: a click would first scroll the button into view, moving the reader off the bottom.
    await inline(panel, first).locator('button[data-action="inlineApprove"]').dispatchEvent('click');
    await box.focus();
    await eventually('the first edit written', () =>
      auditEntries(folder).find((e) => e.type === 'edit.applied' && e.data.proposalId === first),
    );

    // The first turn ends; the queued instruction is the second turn, with its own proposal in the conversation.
    const second = await eventually('the second turn’s proposal', () => newProposal(folder, seen), 120_000);
    await inline(panel, second).locator('button[data-action="inlineApprove"]').waitFor({ state: 'visible', timeout: 60_000 });
    const during = await feed(panel);
    assert.ok(
      during.indexOf('user:document greet.js once more') > during.indexOf(`proposal:${first}`) &&
        during.indexOf(`proposal:${second}`) > during.indexOf('user:document greet.js once more'),
      `the second instruction and its proposal follow the first turn: ${during.join(' | ')}`,
    );
    await eventually('the feed at its newest row', () => feedAt(panel, 'bottom'));
    assert.equal(await boxFocused(panel), true, 'the instruction box kept the focus while the feed followed');
    // Scrolled up, the feed stays put and counts what arrives (the click does not scroll it).
    await panel.evaluate(`document.querySelector('ol.feed').scrollTop = 0`);
    const jump = panel.locator('button[data-action="jumpToLatest"]');
    await jump.waitFor({ state: 'visible' });
    await inline(panel, second).locator('button[data-action="inlineApprove"]').dispatchEvent('click');
    await panel.locator('li.agent-message', { hasText: 'Done.' }).nth(1).waitFor({ state: 'attached' });
    await jump.filter({ hasText: /Jump to latest \(\d+ new\)/ }).waitFor({ state: 'visible' });
    assert.equal(await feedAt(panel, 'top'), true, 'the reader stayed where they were');
    await jump.click();
    await eventually('the feed back at its newest row', () => feedAt(panel, 'bottom'));
    await jump.waitFor({ state: 'detached' });
    await panel.evaluate(`document.querySelector('ol.feed').style.maxHeight = ''`);
    await eventually('the second edit written', () =>
      auditEntries(folder).find((e) => e.type === 'edit.applied' && e.data.proposalId === second),
    );
    await eventually('the second turn ended', () =>
      auditEntries(folder).filter((e) => e.type === 'turn.ended').length >= 2 ? true : undefined,
    );
    await panel.locator('li.agent-message', { hasText: 'Done.' }).nth(1).waitFor({ state: 'visible' });

    // Start Agent Session while the session runs: the instruction goes to it, not "already running".
    await runCommand(page, 'Warden: Start Agent Session');
    await submitQuickInput(page, 'document greet.js a third time');
    const third = await eventually('the third turn’s proposal', () => newProposal(folder, seen), 120_000);
    await inline(panel, third).waitFor({ state: 'visible', timeout: 60_000 });
    await panel.locator('li.user-message:not(.queued)', { hasText: 'document greet.js a third time' }).waitFor({ state: 'visible' });
    const sessions = new Set(
      auditEntries(folder)
        .filter((e) => e.type === 'instruction')
        .map((e) => e.sessionId),
    );
    assert.equal(sessions.size, 1, 'all three instructions went to the one session');
    assert.deepEqual(
      auditEntries(folder)
        .filter((e) => e.type === 'instruction')
        .map((e) => e.data.text),
      ['document greet.js', 'document greet.js once more', 'document greet.js a third time'],
    );
    // Reject where it arose: the reason box opens on its full card, and the reason is on the record.
    await inline(panel, third).locator('button[data-action="inlineReject"]').click();
    const reason = panel.locator(`article.card[data-proposal-id="${third}"] input.reject-reason-input`);
    await reason.waitFor({ state: 'visible' });
    await reason.fill('three times is enough');
    await reason.press('Enter');
    const rejected = await eventually('the reject in the audit log', () =>
      auditEntries(folder).find((e) => e.type === 'decision' && e.data.proposalId === third),
    );
    assert.equal(rejected.data.verdict, 'reject');
    assert.equal(rejected.data.reason, 'three times is enough');
    await stopSessionIfRunning(page);
  });
});

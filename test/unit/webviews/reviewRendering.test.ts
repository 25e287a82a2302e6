import { strict as assert } from 'node:assert';
import { h } from 'preact';
import type { Proposal } from '../../../src/core/proposals/model';
import { toProposalView } from '../../../src/shared/reviewProtocol';
import { containsHiddenCharacters } from '../../../media/common/hiddenCharacters';
import { mount } from '../../../media/common/program';
import { fakeWebview, type FakeWebview } from './dom';
import { openPanel, twoHunkEdit, type PanelHarness } from './reviewFixtures';

/** Issue 22's latency figures: what the panel no longer redraws, and what it draws once per frame, without losing a behaviour. */
describe('Review webview (happy-dom): drawing only what changed', () => {
  let panel: PanelHarness | undefined;
  let web: FakeWebview | undefined;
  afterEach(async () => {
    await panel?.close();
    await web?.close();
    panel = web = undefined;
  });

  const applied = (proposal: Proposal): Proposal => ({
    ...proposal,
    state: 'applied',
    decision: { verdict: 'approve', reviewer: { kind: 'human', name: 'Ada', source: 'git config' }, decidedAt: proposal.createdAt },
  });
  const frame = (harness: FakeWebview): Promise<void> => new Promise((resolve) => harness.window.requestAnimationFrame(() => resolve()));

  it('a decided proposal moves to the history closed, its diff not drawn there; opening it draws it, closing drops it again', () => {
    panel = openPanel();
    const edit = twoHunkEdit(1);
    panel.state([edit]);
    assert.equal(panel.card('p-1').querySelectorAll('table.diff-table').length, 2, 'drawn while pending (one table per hunk)');
    panel.state([applied(edit)]);
    const body = panel.card('p-1').querySelector('.card-body')!;
    assert.equal(body.hasAttribute('hidden'), true);
    assert.equal(body.childElementCount, 0, 'a closed card holds no diff');
    assert.equal(body.hasAttribute('data-deferred'), false, 'nor waits for the viewport');
    panel.click(panel.button('p-1', 'toggle'));
    assert.equal(panel.card('p-1').querySelectorAll('tbody.hunk').length, 2, 'opened: drawn at once');
    assert.equal(panel.document.activeElement, panel.button('p-1', 'toggle'), 'the focus stays on the toggle');
    panel.click(panel.button('p-1', 'toggle'));
    assert.equal(panel.card('p-1').querySelector('.card-body')!.childElementCount, 0);
  });

  it('each hunk is its own table in one group labelled with the file; a hunk choice redraws only that hunk', () => {
    panel = openPanel();
    const edit = twoHunkEdit(2);
    panel.state([edit]);
    const card = panel.card('p-2');
    const group = card.querySelector('.diff-hunks')!;
    assert.equal(group.getAttribute('role'), 'group');
    assert.equal(group.getAttribute('aria-label'), 'Changes to src/file2.txt');
    assert.deepEqual(
      [...group.querySelectorAll('.hunk-box > table.diff-table > tbody.hunk')].map((t) => (t as HTMLElement).dataset.hunkId),
      ['h0', 'h1'],
    );
    assert.match(group.textContent ?? '', /\/\/ header 2[\s\S]*line 30 changed in 2/, 'every line is in the page');
    const [first, second] = [...card.querySelectorAll<HTMLElement>('tbody.hunk')];
    const firstRow = first!.querySelector('tr.diff-row.add');
    panel.click([...second!.querySelectorAll<HTMLButtonElement>('button')].find((b) => b.dataset.action === 'hunkReject')!);
    assert.deepEqual(panel.last('chooseHunk'), {
      type: 'chooseHunk',
      proposalId: 'p-2',
      hunkId: 'h1',
      verdict: 'reject',
      newHash: edit.newHash,
    });
    panel.state([edit], { hunkChoices: { 'p-2': { h1: 'reject' } } });
    const [firstAfter, secondAfter] = [...panel.card('p-2').querySelectorAll<HTMLElement>('tbody.hunk')];
    assert.equal(secondAfter!.dataset.choice, 'reject');
    assert.equal(firstAfter, first, 'the other hunk keeps its elements');
    assert.equal(firstAfter!.querySelector('tr.diff-row.add'), firstRow);
  });

  it('messages of one frame are applied in order and drawn together just before it; a key after a snapshot acts on it', async () => {
    panel = openPanel(undefined, { batchMessages: true });
    panel.state([twoHunkEdit(3)]);
    panel.send({ type: 'key', action: 'next' });
    assert.equal(panel.root.querySelector('article.card'), null, 'nothing drawn before the frame');
    await frame(panel);
    assert.equal(panel.card('p-3').querySelector('tbody.hunk.selected')?.getAttribute('data-hunk-id'), 'h0');
    assert.equal((panel.document.activeElement as HTMLElement).dataset.hunkId, 'h0', 'with the focus');
    panel.send({ type: 'state', proposals: [toProposalView(twoHunkEdit(3))], rev: 1 });
    panel.send({ type: 'delta', base: 1, rev: 2, upsert: [toProposalView(twoHunkEdit(4))], remove: ['p-3'] });
    await frame(panel);
    assert.deepEqual(
      [...panel.root.querySelectorAll<HTMLElement>('article.card')].map((c) => c.dataset.proposalId),
      ['p-4'],
      'the delta applied on the snapshot before it',
    );
  });

  it('dispatchAll applies every action before drawing once, then runs their effects in order', () => {
    web = fakeWebview();
    const drawn: number[] = [];
    const ran: string[] = [];
    const running = mount<number, number, string>(web.root, {
      init: 0,
      update: (state, add) => ({ state: state + add, effects: [`after ${add}`] }),
      view: (state) => {
        drawn.push(state);
        return h('p', null, String(state));
      },
      run: (effect) => ran.push(effect),
    });
    running.dispatchAll([1, 2, 3]);
    assert.deepEqual(drawn, [6], 'one render, of the last state');
    assert.deepEqual(ran, ['after 1', 'after 2', 'after 3']);
    assert.equal(web.root.textContent, '6');
    running.dispatch(4);
    assert.deepEqual(drawn, [6, 10]);
  });

  it('the hidden-character search answers the same for objects it has seen, inside new arrays too', () => {
    const clean = { text: 'plain', nested: [{ more: 'text' }] };
    const hostile = { text: 'x', nested: [{ more: 'a\u202eb' }] };
    assert.equal(containsHiddenCharacters([clean]), false);
    assert.equal(containsHiddenCharacters([clean]), false);
    assert.equal(containsHiddenCharacters([clean, hostile]), true);
    assert.equal(containsHiddenCharacters([hostile.nested]), true);
    let deep: unknown = 'a\u200bb';
    for (let i = 0; i < 20; i++) deep = { deep };
    assert.equal(containsHiddenCharacters(deep), false, 'past the depth limit, as before');
  });
});

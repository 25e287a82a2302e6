import { strict as assert } from 'node:assert';
import type { Proposal } from '../../../src/core/proposals/model';
import { XSS_CORPUS } from '../../support/xssCorpus';
import { at, command, oneHunkEdit, openPanel, twoHunkEdit, type PanelHarness } from './reviewFixtures';

const key = (action: string) => ({ type: 'key', action });

describe('Review webview (happy-dom): keys, turn review, long queues, hostile text', function () {
  this.timeout(120_000); // the DOM emulation draws 1,000 cards slowly
  let panel: PanelHarness;
  afterEach(async () => panel?.close());

  const selected = (): string[] =>
    [...panel.root.querySelectorAll<HTMLElement>('.selected')].map((e) =>
      e.tagName === 'TBODY' ? `${e.dataset.proposalId}#${e.dataset.hunkId}` : (e.dataset.proposalId ?? ''),
    );

  it('j / k walk hunks of multi-hunk edits and whole proposals otherwise, with the focus', () => {
    panel = openPanel();
    panel.state([twoHunkEdit(1), oneHunkEdit(2)]);
    panel.send(key('next'));
    assert.deepEqual(selected(), ['p-1#h0']);
    assert.equal((panel.document.activeElement as HTMLElement).dataset.hunkId, 'h0');
    panel.send(key('next'));
    panel.send(key('next'));
    assert.deepEqual(selected(), ['p-2']);
    assert.equal(panel.document.activeElement, panel.card('p-2'));
    panel.send(key('next'));
    assert.deepEqual(selected(), ['p-2'], 'stays on the last item');
    panel.send(key('previous'));
    assert.deepEqual(selected(), ['p-1#h1']);
  });

  it('a / r decide the selected hunk or proposal and move the selection on (r on a proposal through its reason box); e opens the editor', () => {
    panel = openPanel();
    const edit = twoHunkEdit(1);
    panel.state([edit, oneHunkEdit(2), command(3)]);
    panel.send(key('next'));
    panel.send(key('accept'));
    assert.deepEqual(panel.last('chooseHunk'), {
      type: 'chooseHunk',
      proposalId: 'p-1',
      hunkId: 'h0',
      verdict: 'approve',
      newHash: edit.newHash,
    });
    assert.deepEqual(selected(), ['p-1#h1']);
    panel.send(key('next'));
    panel.send(key('reject'));
    assert.equal(panel.last('decide'), undefined, 'r opens the reason box first');
    const input = panel.document.activeElement as HTMLInputElement;
    assert.ok(input.classList.contains('reject-reason-input'), 'with the focus in its field');
    input.dispatchEvent(new panel.window.KeyboardEvent('keydown', { key: 'Enter', bubbles: true }) as unknown as Event);
    assert.deepEqual(
      panel.last('decide'),
      { type: 'decide', proposalId: 'p-2', verdict: 'reject' },
      'Enter rejects (no reason typed: none sent)',
    );
    assert.deepEqual(selected(), ['c-3']);
    panel.send(key('edit'));
    assert.equal(panel.document.activeElement, panel.card('c-3').querySelector('textarea.edit-command'));
  });

  it('the keys act on the focused card rather than the last selection', () => {
    panel = openPanel();
    panel.state([oneHunkEdit(1), oneHunkEdit(2)]);
    panel.send(key('next'));
    panel.card('p-2').focus();
    panel.send(key('accept'));
    assert.deepEqual(panel.last('decide'), { type: 'decide', proposalId: 'p-2', verdict: 'approve' });
  });

  it('with nothing waiting, a key is announced, not acted on', () => {
    panel = openPanel();
    panel.state([]);
    panel.send(key('accept'));
    assert.equal(panel.posted.filter((m) => m.type === 'decide').length, 0);
  });

  it('turn review: one group per turn with the commands it ran; Accept all and Shift+A / Shift+R decide the turn', () => {
    panel = openPanel();
    const ran: Proposal = {
      ...command(5),
      turn: 2,
      state: 'applied',
      result: { exitCode: 0, signal: null, outputExcerpt: 'ok\n', outputHash: 'h', truncated: false },
    };
    panel.state([twoHunkEdit(1, { turn: 2 }), twoHunkEdit(2, { turn: 3 }), ran], {
      mode: 'turn',
      turns: [
        { sessionId: 's-1', turn: 2, running: false },
        { sessionId: 's-1', turn: 3, running: true },
      ],
    });
    const turns = [...panel.root.querySelectorAll<HTMLElement>('section[data-turn-key]')];
    assert.equal(turns.length, 2);
    assert.match(turns[1]!.querySelector('h3')?.textContent ?? '', /the agent is still working/);
    assert.equal(turns[0]!.querySelector('.turn-commands summary')?.textContent, '1 command ran in this turn');
    panel.click(turns[0]!.querySelector('button[data-action="acceptTurn"]')!);
    assert.deepEqual(panel.last('decideTurn'), { type: 'decideTurn', sessionId: 's-1', turn: 2, verdict: 'approve' });
    panel.card('p-2').focus();
    panel.send(key('rejectAll'));
    assert.equal(panel.last('decideTurn')?.verdict, 'approve', 'Shift+R opens the turn’s reason box first');
    const input = panel.document.activeElement as HTMLInputElement;
    assert.equal(input.closest<HTMLElement>('.reject-reason')?.dataset.rejectTarget, 't:s-1#3');
    input.dispatchEvent(new panel.window.KeyboardEvent('keydown', { key: 'Enter', bubbles: true }) as unknown as Event);
    assert.deepEqual(panel.last('decideTurn'), { type: 'decideTurn', sessionId: 's-1', turn: 3, verdict: 'reject' });
  });

  it('Shift+A outside turn review is announced and decides nothing', () => {
    panel = openPanel();
    panel.state([oneHunkEdit(1)]);
    panel.send(key('acceptAll'));
    assert.equal(panel.last('decideTurn'), undefined);
    assert.equal(panel.last('decide'), undefined);
  });

  it('"Warden: Review Turn" focuses the turn it names', () => {
    panel = openPanel();
    panel.state([twoHunkEdit(1, { turn: 1 }), twoHunkEdit(2, { turn: 2 })], { mode: 'turn', focusTurn: 's-1#2' });
    const focused = panel.document.activeElement as HTMLElement;
    assert.equal(focused.dataset.turnKey, 's-1#2');
  });

  it('a queue of 1,000: every card is listed, the first 30 drawn, the rest drawn by the keys before anything is decided', () => {
    panel = openPanel();
    const queue = Array.from({ length: 1000 }, (_, n) => twoHunkEdit(n));
    panel.state(queue);
    assert.equal(panel.root.querySelectorAll('article.card[data-state="pending"]').length, 1000);
    assert.equal(panel.root.querySelectorAll('.card-body[data-deferred]').length, 970);
    const far = panel.card('p-500');
    far.focus();
    panel.send(key('accept'));
    assert.equal(panel.last('decide'), undefined, 'nothing decided unseen');
    assert.equal(panel.last('chooseHunk'), undefined);
    assert.deepEqual(selected(), ['p-500#h0']);
    panel.send(key('previous'));
    assert.deepEqual(selected(), ['p-499#h1'], 'going up into an undrawn card lands on its last hunk');
    // A snapshot with one card decided redraws that card only.
    const kept = panel.card('p-10');
    panel.state([{ ...queue[0]!, state: 'applied' }, ...queue.slice(1)]);
    assert.equal(panel.card('p-10'), kept, 'unchanged cards are the same elements');
    assert.equal(panel.root.querySelectorAll('.session-groups article.card').length, 999);
  });

  it('the XSS corpus in every field renders as text: no element, handler or script is added, and hidden characters are marked', () => {
    panel = openPanel();
    const proposals: Proposal[] = XSS_CORPUS.flatMap((text, i): Proposal[] => [
      {
        ...oneHunkEdit(i),
        id: `e-${i}`,
        title: `Edit ${text}`,
        path: `src/${text}.js`,
        diff: `--- a\n+++ b\n@@ -1 +1 @@\n-${text}\n+${text}!\n`,
      },
      command(i, {
        id: `c-${i}`,
        title: `Run ${text}`,
        commandLine: `echo ${text}`,
        argv: ['sh', '-c', text],
        cwd: `/w/${text}`,
        env: { X: text },
      }),
    ]);
    proposals.push({
      kind: 'question',
      id: 'q',
      sessionId: 's-1',
      createdAt: at(99),
      state: 'pending',
      title: 'Q',
      origin: 'x',
      question: XSS_CORPUS.join(' '),
    });
    panel.state(proposals, { risks: { 'e-0': [{ kind: 'protected', label: XSS_CORPUS[0]!, reason: XSS_CORPUS[1]! }] } });
    const injected = panel.root.querySelectorAll('img, svg, iframe, object, embed, a, b, script, style, details:not(.argv):not(.env)');
    assert.equal(injected.length, 0);
    const handlers = [...panel.root.querySelectorAll('*')].filter((e) => [...e.attributes].some((a) => a.name.startsWith('on')));
    assert.equal(handlers.length, 0);
    const text = panel.root.textContent ?? '';
    for (const hostile of XSS_CORPUS.map((t) => t.replace(/[\u202e\u202c]/g, '')))
      assert.ok(text.includes(hostile.slice(-20)), `shown as text: ${hostile}`);
    const markers = [...panel.root.querySelectorAll('.hidden-char')].map((m) => m.textContent);
    assert.ok(markers.includes('U+202E'), 'the right-to-left override is shown as a marker');
    assert.ok(panel.card('e-7').querySelector('.callout.warning[role="note"]'), 'the card warns about it');
  });
});

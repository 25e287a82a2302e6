import { strict as assert } from 'node:assert';
import { command, oneHunkEdit, openPanel, twoHunkEdit, type PanelHarness } from './reviewFixtures';

/** Item 3 of issue 22: Reject asks why (optionally) in the panel, inline; the reason goes with the decision. */
describe('Review webview (happy-dom): the reject reason box', () => {
  let panel: PanelHarness;
  afterEach(async () => panel?.close());

  const box = (target: string): HTMLElement | undefined =>
    [...panel.root.querySelectorAll<HTMLElement>('.reject-reason')].find((b) => b.dataset.rejectTarget === target);
  const input = (target: string): HTMLInputElement => {
    const found = box(target)?.querySelector<HTMLInputElement>('input.reject-reason-input');
    if (!found) throw new Error(`no reason box for ${target}`);
    return found;
  };
  const type = (field: HTMLInputElement, text: string): void => {
    field.value = text;
    field.dispatchEvent(new panel.window.Event('input', { bubbles: true }) as unknown as Event);
  };
  const press = (field: HTMLElement, key: string): void => {
    field.dispatchEvent(new panel.window.KeyboardEvent('keydown', { key, bubbles: true, cancelable: true }) as unknown as Event);
  };

  it('Reject on a card opens the box with the focus in it; Enter sends the reason typed (trimmed) with the decision', () => {
    panel = openPanel();
    panel.state([oneHunkEdit(1), oneHunkEdit(2)]);
    const reject = panel.button('p-1', 'reject');
    panel.click(reject);
    assert.equal(panel.last('decide'), undefined, 'nothing decided yet');
    assert.equal(panel.button('p-1', 'reject').getAttribute('aria-expanded'), 'true');
    const field = input('p:p-1');
    assert.equal(panel.document.activeElement, field, 'the field has the focus');
    assert.equal(field.labels?.[0]?.textContent?.startsWith('Why reject?'), true, 'the field is labelled');
    assert.equal(box('p:p-1')?.getAttribute('role'), 'group');
    type(field, '  keep the old name  ');
    press(field, 'Enter');
    assert.deepEqual(panel.last('decide'), { type: 'decide', proposalId: 'p-1', verdict: 'reject', reason: 'keep the old name' });
    assert.equal(box('p:p-1'), undefined, 'the box closes');
    assert.equal(panel.button('p-1', 'reject').disabled, true, 'the card is busy until the snapshot');
  });

  it('Escape cancels: nothing is decided and the focus goes back to Reject; the typed reason survives a snapshot while open', () => {
    panel = openPanel();
    panel.state([oneHunkEdit(1), command(2)]);
    panel.click(panel.button('c-2', 'reject'));
    type(input('p:c-2'), 'too broad');
    panel.state([oneHunkEdit(1), command(2), oneHunkEdit(3)]);
    assert.equal(input('p:c-2').value, 'too broad', 'a new proposal arriving keeps what was typed');
    press(input('p:c-2'), 'Escape');
    assert.equal(box('p:c-2'), undefined);
    assert.equal(panel.last('decide'), undefined, 'Escape decides nothing');
    assert.equal(panel.document.activeElement, panel.button('c-2', 'reject'));
  });

  it('the box’s Reject button sends the reason; Cancel closes it; a blank reason is no reason', () => {
    panel = openPanel();
    panel.state([oneHunkEdit(1), oneHunkEdit(2)]);
    panel.click(panel.button('p-1', 'reject'));
    panel.click(panel.button('p-1', 'cancelReject'));
    assert.equal(box('p:p-1'), undefined);
    assert.equal(panel.last('decide'), undefined);
    panel.click(panel.button('p-2', 'reject'));
    type(input('p:p-2'), '   ');
    panel.click(panel.button('p-2', 'confirmReject'));
    assert.deepEqual(panel.last('decide'), { type: 'decide', proposalId: 'p-2', verdict: 'reject' });
  });

  it('a proposal decided elsewhere while its box is open closes the box', () => {
    panel = openPanel();
    panel.state([oneHunkEdit(1)]);
    panel.click(panel.button('p-1', 'reject'));
    panel.state([{ ...oneHunkEdit(1), state: 'applied' }]);
    assert.equal(box('p:p-1'), undefined);
    assert.deepEqual(panel.panel.state().rejecting, {});
  });

  it('Reject all in file, Reject all… and a turn’s Reject all ask once for the whole batch and send the reason along', async () => {
    panel = openPanel();
    const a = twoHunkEdit(1);
    const b = { ...twoHunkEdit(2), path: a.path, id: 'p-2' };
    panel.state([a, b, command(3)]);
    panel.click(panel.root.querySelector('button[data-action="rejectFile"]')!);
    const file = panel.root.querySelector<HTMLElement>('.reject-reason')!;
    assert.equal(file.querySelector('button[data-action="confirmReject"]')?.textContent, 'Reject 2');
    type(file.querySelector('input')!, 'wrong file');
    press(file.querySelector('input')!, 'Enter');
    assert.deepEqual(panel.last('decideMany'), {
      type: 'decideMany',
      proposalIds: ['p-1', 'p-2'],
      verdict: 'reject',
      scope: 'every proposal in src/file1.txt',
      reason: 'wrong file',
    });
    panel.click(panel.root.querySelector('button[data-action="rejectAll"]')!);
    type(input('all'), 'stop');
    panel.click(box('all')!.querySelector('button[data-action="confirmReject"]')!);
    assert.deepEqual(panel.last('decideMany')?.reason, 'stop');
    assert.deepEqual(panel.last('decideMany')?.proposalIds, ['c-3']);

    await panel.close();
    panel = openPanel();
    panel.state([twoHunkEdit(1, { turn: 2 })], { mode: 'turn', turns: [{ sessionId: 's-1', turn: 2, running: false }] });
    panel.click(panel.root.querySelector('button[data-action="rejectTurn"]')!);
    type(input('t:s-1#2'), 'start over');
    press(input('t:s-1#2'), 'Enter');
    assert.deepEqual(panel.last('decideTurn'), { type: 'decideTurn', sessionId: 's-1', turn: 2, verdict: 'reject', reason: 'start over' });
  });

  it('typing in the box tells the extension a text field has the focus (the single-key bindings stand down)', () => {
    panel = openPanel();
    panel.state([oneHunkEdit(1)]);
    panel.click(panel.button('p-1', 'reject'));
    assert.deepEqual(panel.last('textFocus'), { type: 'textFocus', editing: true });
  });
});

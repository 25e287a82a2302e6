import { strict as assert } from 'node:assert';
import type { Proposal } from '../../../src/core/proposals/model';
import { command, oneHunkEdit, openPanel, twoHunkEdit, type PanelHarness } from './reviewFixtures';

describe('Review webview (happy-dom): messages, clicks and focus', () => {
  let panel: PanelHarness;
  afterEach(async () => panel?.close());

  it('says ready, keeps the loading shell until the first snapshot, then draws the queue and the history', () => {
    panel = openPanel();
    assert.deepEqual(panel.posted, [{ type: 'ready' }]);
    assert.ok(panel.root.querySelector('p.loading'), 'the shell stays until a snapshot');
    const applied: Proposal = { ...oneHunkEdit(9), state: 'applied' };
    panel.state([twoHunkEdit(1), command(2), applied]);
    assert.equal(panel.root.getAttribute('aria-busy'), null);
    assert.equal(panel.root.querySelectorAll('.session-groups article.card').length, 2);
    assert.equal(panel.root.querySelectorAll('.cards article.card[data-state="applied"]').length, 1);
    assert.equal(panel.root.querySelector('.summary')?.textContent, '2 waiting1 decided');
    assert.deepEqual(
      [...panel.root.querySelectorAll('.file-group-heading .group-label')].map((e) => e.textContent),
      ['src/file1.txt', 'Commands'],
    );
    // History cards are closed and drawn on demand.
    assert.equal(panel.card('p-9').querySelector('.card-body')?.hasAttribute('hidden'), true);
  });

  it('shows "loading" after a reload and "no proposals" when there are none', () => {
    panel = openPanel();
    panel.state([], { loading: true });
    assert.equal(panel.root.querySelector('section.loading')?.hasAttribute('hidden'), false);
    panel.state([]);
    assert.equal(panel.root.querySelector('section.loading')?.hasAttribute('hidden'), true);
    assert.equal(panel.root.querySelector('section.empty')?.hasAttribute('hidden'), false);
  });

  it('Accept posts one decision and shows the card busy; a second click sends nothing', () => {
    panel = openPanel();
    panel.state([oneHunkEdit(1)]);
    panel.click(panel.button('p-1', 'approve'));
    panel.click(panel.button('p-1', 'approve'));
    assert.deepEqual(
      panel.posted.filter((m) => m.type === 'decide'),
      [{ type: 'decide', proposalId: 'p-1', verdict: 'approve' }],
    );
    assert.equal(panel.button('p-1', 'approve').textContent, 'Accepting…');
    assert.equal(panel.button('p-1', 'reject').disabled, true);
  });

  it('per-hunk buttons send the hunk with the hash of the text seen, and show the choice once the snapshot has it', () => {
    panel = openPanel();
    const edit = twoHunkEdit(1);
    panel.state([edit]);
    const hunk = panel.card('p-1').querySelector('tbody.hunk[data-hunk-id="h1"]')!;
    assert.equal(hunk.getAttribute('aria-label'), 'Hunk 2 of 2 of Edit src/file1.txt');
    panel.click(hunk.querySelector('button[data-action="hunkReject"]')!);
    assert.deepEqual(panel.last('chooseHunk'), {
      type: 'chooseHunk',
      proposalId: 'p-1',
      hunkId: 'h1',
      verdict: 'reject',
      newHash: edit.newHash,
    });
    assert.equal((hunk.querySelector('button[data-action="hunkReject"]') as HTMLButtonElement).disabled, true, 'busy until the snapshot');
    panel.state([edit], { hunkChoices: { 'p-1': { h1: 'reject' } } });
    const chosen = panel.card('p-1').querySelector('tbody.hunk[data-hunk-id="h1"]')!;
    assert.equal(chosen.getAttribute('data-choice'), 'reject');
    assert.equal(chosen.querySelector('button[data-action="hunkReject"]')?.getAttribute('aria-pressed'), 'true');
    assert.match(panel.card('p-1').querySelector('.hunk-hint')?.textContent ?? '', /^1 of 2 hunks chosen/);
  });

  it('Edit… asks for the content, opens the draft with the focus in it, and Accept edited sends the typed text', () => {
    panel = openPanel();
    const edit = twoHunkEdit(1);
    panel.state([edit]);
    panel.click(panel.button('p-1', 'edit'));
    assert.deepEqual(panel.last('requestContent'), { type: 'requestContent', proposalId: 'p-1' });
    assert.equal(panel.button('p-1', 'edit').textContent, 'Opening…');
    panel.send({ type: 'content', proposalId: 'p-1', newHash: edit.newHash, text: 'new text\n' });
    const area = panel.card('p-1').querySelector('textarea.edit-text') as HTMLTextAreaElement;
    assert.equal(panel.document.activeElement, area, 'the focus is in the draft');
    assert.equal(area.value, 'new text\n');
    area.value = 'typed by the reviewer\n';
    area.dispatchEvent(new panel.window.Event('input', { bubbles: true }) as unknown as Event);
    panel.click(panel.button('p-1', 'acceptEdited'));
    assert.deepEqual(panel.last('acceptEdited'), {
      type: 'acceptEdited',
      proposalId: 'p-1',
      newHash: edit.newHash,
      text: 'typed by the reviewer\n',
    });
  });

  it('an edited command is sent as typed; an empty one is refused in the card; Cancel brings the buttons back', () => {
    panel = openPanel();
    panel.state([command(1)]);
    panel.click(panel.button('c-1', 'editCommand'));
    const area = panel.card('c-1').querySelector('textarea.edit-command') as HTMLTextAreaElement;
    assert.equal(area.value, 'npm test');
    area.value = '  ';
    panel.click(panel.button('c-1', 'runEditedCommand'));
    assert.match(panel.card('c-1').querySelector('.card-error')?.textContent ?? '', /command line is empty/);
    assert.equal(panel.last('runEditedCommand'), undefined);
    area.value = 'npm test -- --grep greet';
    panel.click(panel.button('c-1', 'runEditedCommand'));
    assert.deepEqual(panel.last('runEditedCommand'), {
      type: 'runEditedCommand',
      proposalId: 'c-1',
      commandLine: 'npm test -- --grep greet',
    });
    panel.send({ type: 'error', proposalId: 'c-1', message: 'policy denied it' });
    panel.click(panel.button('c-1', 'cancelEdit'));
    assert.equal(panel.card('c-1').querySelector('textarea'), null);
    assert.equal(panel.document.activeElement, panel.button('c-1', 'editCommand'), 'the focus goes back to Edit command…');
  });

  it('errors land on the pending card they are about, others in at most three banners that can be dismissed', () => {
    panel = openPanel();
    panel.state([oneHunkEdit(1)]);
    panel.click(panel.button('p-1', 'approve'));
    panel.send({ type: 'error', proposalId: 'p-1', message: 'disk full' });
    assert.equal(panel.card('p-1').querySelector('.card-error')?.textContent, 'disk full');
    assert.equal(panel.button('p-1', 'approve').disabled, false, 'decidable again');
    for (let i = 0; i < 5; i++) panel.send({ type: 'error', message: `banner ${i}` });
    const banners = [...panel.root.querySelectorAll('.banner-message')].map((b) => b.textContent);
    assert.deepEqual(banners, ['banner 2', 'banner 3', 'banner 4']);
    panel.click(panel.root.querySelector('.banner button[data-action="dismissError"]')!);
    assert.equal(panel.root.querySelectorAll('.banner').length, 2);
  });

  it('Accept all in file and Reject all… ask in bulk; the cards stay busy until `settled`', () => {
    panel = openPanel();
    const a = twoHunkEdit(1);
    const b = { ...twoHunkEdit(2), path: a.path, id: 'p-2' };
    panel.state([a, b, command(3)]);
    panel.click(panel.root.querySelector('button[data-action="acceptFile"]')!);
    assert.deepEqual(panel.last('decideMany'), {
      type: 'decideMany',
      proposalIds: ['p-1', 'p-2'],
      verdict: 'approve',
      scope: 'every proposal in src/file1.txt',
    });
    panel.click(panel.root.querySelector('button[data-action="rejectAll"]')!);
    panel.click(panel.root.querySelector('.reject-reason[data-reject-target="all"] button[data-action="confirmReject"]')!);
    assert.deepEqual(panel.last('decideMany')?.proposalIds, ['c-3'], 'the busy ones are not asked again');
    panel.send({ type: 'settled', proposalIds: ['p-1', 'p-2', 'c-3'] });
    assert.equal(panel.button('p-1', 'approve').disabled, false);
  });

  it('Open Diff and the toggle: the diff is asked of the extension; a closed card opens drawn', () => {
    panel = openPanel();
    panel.state([{ ...oneHunkEdit(1), state: 'applied' }]);
    const toggle = panel.button('p-1', 'toggle');
    assert.equal(toggle.getAttribute('aria-expanded'), 'false');
    panel.click(toggle);
    assert.equal(panel.button('p-1', 'toggle').getAttribute('aria-expanded'), 'true');
    assert.ok(panel.card('p-1').querySelector('table.diff-table'), 'drawn when opened');
    assert.equal(panel.document.activeElement, panel.button('p-1', 'toggle'));
    panel.state([oneHunkEdit(2)]);
    panel.click(panel.button('p-2', 'openDiff'));
    assert.deepEqual(panel.last('openDiff'), { type: 'openDiff', proposalId: 'p-2' });
  });

  it('after a decided card leaves the queue, the focus goes to the next waiting card (never onto Accept)', () => {
    panel = openPanel();
    const [a, b] = [oneHunkEdit(1), oneHunkEdit(2)];
    panel.state([a, b]);
    panel.button('p-1', 'approve').focus();
    panel.click(panel.button('p-1', 'approve'));
    panel.state([{ ...a, state: 'applied' }, b]);
    assert.equal(panel.document.activeElement, panel.card('p-2'));
  });

  it('a card that stays keeps its focused button across snapshots', () => {
    panel = openPanel();
    panel.state([oneHunkEdit(1), oneHunkEdit(2)]);
    const reject = panel.button('p-2', 'reject');
    reject.focus();
    panel.state([oneHunkEdit(1), oneHunkEdit(2), oneHunkEdit(3)]);
    assert.equal(panel.document.activeElement, reject, 'the same element, still focused');
  });

  it('typing in a field tells the extension, so the single-key bindings stand down', () => {
    panel = openPanel();
    panel.state([command(1)]);
    panel.click(panel.button('c-1', 'editCommand'));
    assert.deepEqual(panel.last('textFocus'), { type: 'textFocus', editing: true });
    panel.card('c-1').focus();
    assert.deepEqual(panel.last('textFocus'), { type: 'textFocus', editing: false });
  });

  it('invalid messages from the extension are dropped', () => {
    panel = openPanel();
    const invalid: Record<string, unknown> = { type: 'state', proposals: [{ kind: 'edit' }] };
    panel.send(invalid);
    panel.send({ type: 'nonsense' });
    assert.ok(panel.root.querySelector('p.loading'), 'nothing rendered');
  });

  it('an orphaned edit offers Apply anyway and Discard, as the editor lenses do', () => {
    panel = openPanel();
    panel.state([
      { ...oneHunkEdit(1), state: 'orphaned' },
      { ...command(2), state: 'orphaned' },
    ]);
    panel.click(panel.button('p-1', 'toggle'));
    panel.click(panel.button('p-1', 'applyAnyway'));
    assert.deepEqual(panel.last('orphan'), { type: 'orphan', proposalId: 'p-1', action: 'applyAnyway' });
    panel.click(panel.button('c-2', 'toggle'));
    assert.throws(() => panel.button('c-2', 'applyAnyway'), /no applyAnyway/, 'only edits can be applied anyway');
    panel.click(panel.button('c-2', 'discard'));
    assert.deepEqual(panel.last('orphan'), { type: 'orphan', proposalId: 'c-2', action: 'discard' });
  });
});

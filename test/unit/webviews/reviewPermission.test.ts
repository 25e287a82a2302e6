import { strict as assert } from 'node:assert';
import type { PermissionProposal } from '../../../src/core/proposals/model';
import { at, openPanel, twoHunkEdit, type PanelHarness } from './reviewFixtures';

/** Item 4 of issue 22: a permission card's answer is an explicit choice, never option "buttons"; `e` edits or says why not. */
describe('Review webview (happy-dom): permission cards', () => {
  let panel: PanelHarness;
  afterEach(async () => panel?.close());

  const permission = (fields: Partial<PermissionProposal> = {}): PermissionProposal => ({
    kind: 'permission',
    id: 'perm',
    sessionId: 's-1',
    createdAt: at(1),
    state: 'pending',
    title: 'Run make',
    origin: 'session/request_permission',
    toolKind: 'execute',
    commandLine: 'make',
    options: [
      { optionId: 'once', name: 'Allow', kind: 'allow_once' },
      { optionId: 'always', name: 'Always allow', kind: 'allow_always' },
      { optionId: 'no', name: 'Reject', kind: 'reject_once' },
    ],
    ...fields,
  });
  /** A permission that carries a placed two-hunk edit (as an ACP agent asks with a diff). */
  const editPermission = (fields: Partial<PermissionProposal> = {}): PermissionProposal => {
    const edit = twoHunkEdit(7);
    const { commandLine: _none, ...rest } = permission({ toolKind: 'edit', title: 'Edit src/file7.txt' });
    return {
      ...rest,
      edit: { path: edit.path, oldText: edit.oldText, newText: edit.newText, newHash: edit.newHash, diff: edit.diff, shape: 'whole' },
      ...fields,
    };
  };
  const key = (action: string) => ({ type: 'key', action });

  it('the agent’s options are a labelled choice of what Accept and Reject answer; the only buttons are the real actions', () => {
    panel = openPanel();
    panel.state([permission()]);
    const card = panel.card('perm');
    const actions = [...card.querySelectorAll<HTMLButtonElement>('button[data-action]')].map((b) => b.dataset.action);
    assert.deepEqual(actions, ['toggle', 'approve', 'reject'], 'no option looks like a button');
    const group = card.querySelector<HTMLFieldSetElement>('fieldset.answer-choice[data-verdict="approve"]')!;
    assert.equal(group.querySelector('legend')?.textContent, 'Accept answers the agent with');
    const radios = [...group.querySelectorAll<HTMLInputElement>('input[type="radio"]')];
    assert.deepEqual(
      radios.map((r) => [r.value, r.checked]),
      [
        ['once', true],
        ['always', false],
      ],
      'preset to what Warden sends by default',
    );
    assert.match(radios[1]!.closest('label')?.textContent ?? '', /answered as “once”: Warden suggests a policy rule/);
    assert.match(
      card.querySelector('.answer-line')?.textContent ?? '',
      /^Reject answers “Reject” \(this time\)\.$/,
      'a single option is a sentence',
    );

    panel.click(panel.button('perm', 'approve'));
    assert.deepEqual(panel.last('decide'), { type: 'decide', proposalId: 'perm', verdict: 'approve' }, 'the default needs no option id');
  });

  it('picking another option (keyboard: the radio group) sends it with Accept', () => {
    panel = openPanel();
    panel.state([permission()]);
    const always = panel.card('perm').querySelector<HTMLInputElement>('input[type="radio"][value="always"]')!;
    always.focus();
    always.click();
    assert.equal(panel.card('perm').querySelector<HTMLInputElement>('input[type="radio"][value="always"]')?.checked, true);
    assert.equal(panel.last('textFocus'), undefined, 'a radio is not a text field: the single keys keep working');
    panel.send(key('accept'));
    assert.deepEqual(panel.last('decide'), { type: 'decide', proposalId: 'perm', verdict: 'approve', optionId: 'always' });
  });

  it('`e` on a command permission says why in the card (never silently nothing)', () => {
    panel = openPanel();
    panel.state([permission()]);
    panel.send(key('next'));
    panel.send(key('edit'));
    assert.match(panel.card('perm').querySelector('.card-error')?.textContent ?? '', /The agent runs this command itself once you answer/);
    assert.equal(panel.last('requestContent'), undefined);
  });

  it('`e` on a permission that carries a placed edit opens the editor; its hunks can be decided one by one', () => {
    panel = openPanel();
    const asked = editPermission();
    panel.state([asked]);
    const card = panel.card('perm');
    assert.ok(panel.button('perm', 'edit'), 'Edit… is offered');
    const hunkButtons = card.querySelectorAll('button[data-action="hunkApprove"]');
    assert.equal(hunkButtons.length, 2);
    panel.click(hunkButtons[1]!);
    assert.deepEqual(panel.last('chooseHunk'), {
      type: 'chooseHunk',
      proposalId: 'perm',
      hunkId: 'h1',
      verdict: 'approve',
      newHash: asked.edit!.newHash,
    });
    panel.click(panel.button('perm', 'edit'));
    assert.deepEqual(panel.last('requestContent'), { type: 'requestContent', proposalId: 'perm' });
    panel.send({ type: 'content', proposalId: 'perm', newHash: asked.edit!.newHash, text: 'mine\n' });
    panel.click(panel.button('perm', 'acceptEdited'));
    assert.deepEqual(panel.last('acceptEdited'), {
      type: 'acceptEdited',
      proposalId: 'perm',
      newHash: asked.edit!.newHash,
      text: 'mine\n',
    });
  });

  it('`e` on a permission whose edit could not be placed says so', () => {
    panel = openPanel();
    panel.state([editPermission({ edit: { ...editPermission().edit!, unlocated: 'fragment not found' } })]);
    panel.card('perm').focus();
    panel.send(key('edit'));
    assert.match(panel.card('perm').querySelector('.card-error')?.textContent ?? '', /could not be placed in the file as it is now/);
    assert.equal(panel.card('perm').querySelectorAll('button[data-action="hunkApprove"]').length, 0);
  });

  it('once answered, the card says which option the agent got, and offers no choice', () => {
    panel = openPanel();
    panel.state([{ ...permission(), state: 'applied', chosenOptionId: 'once' }]);
    panel.click(panel.button('perm', 'toggle'));
    assert.equal(panel.card('perm').querySelectorAll('input[type="radio"]').length, 0);
    assert.equal(panel.card('perm').querySelector('.chosen-option')?.textContent, 'Allow (allow_once)');
  });
});

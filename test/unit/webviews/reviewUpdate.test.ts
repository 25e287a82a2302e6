import { strict as assert } from 'node:assert';
import type { Proposal } from '../../../src/core/proposals/model';
import { toProposalView, type ExtensionMessage } from '../../../src/shared/reviewProtocol';
import { initialState, restoreUi, persistUi, type ReviewAction, type ReviewState } from '../../../media/review/state';
import { update } from '../../../media/review/update';
import { at, command, oneHunkEdit, twoHunkEdit } from './reviewFixtures';

/** The reducer alone: no DOM, every state transition is a value. */
function run(state: ReviewState, ...actions: ReviewAction[]): { state: ReviewState; effects: unknown[] } {
  const effects: unknown[] = [];
  for (const action of actions) {
    const step = update(state, action);
    state = step.state;
    effects.push(...(step.effects ?? []));
  }
  return { state, effects };
}
const message = (m: ExtensionMessage): ReviewAction => ({ type: 'message', message: m });
const snapshot = (proposals: Proposal[], extra: Partial<Extract<ExtensionMessage, { type: 'state' }>> = {}): ReviewAction =>
  message({ type: 'state', proposals: proposals.map(toProposalView), ...extra });
const fresh = (): ReviewState => initialState(restoreUi(undefined));

describe('Review webview reducer: update(state, action)', () => {
  it('a snapshot keeps unchanged proposals by reference, so unchanged cards are not redrawn', () => {
    const first = run(fresh(), snapshot([oneHunkEdit(1), oneHunkEdit(2)])).state;
    const second = run(first, snapshot([oneHunkEdit(1), { ...oneHunkEdit(2), title: 'renamed' }])).state;
    assert.equal(second.proposals?.[0], first.proposals?.[0]);
    assert.notEqual(second.proposals?.[1], first.proposals?.[1]);
  });

  it('a decided proposal leaves busy, errors and drafts behind; a new one is announced', () => {
    let { state } = run(
      fresh(),
      snapshot([command(1)]),
      { type: 'startEdit', proposalId: 'c-1' },
      { type: 'submitDraft', proposalId: 'c-1' },
    );
    assert.equal(state.busy['c-1'], 'approve');
    assert.ok(state.ui.drafts['c-1']);
    const next = run(state, snapshot([{ ...command(1), state: 'applied' }, command(2)]));
    state = next.state;
    assert.deepEqual(state.busy, {});
    assert.deepEqual(state.ui.drafts, {});
    assert.ok(next.effects.some((e) => JSON.stringify(e).includes('New proposal: Run npm test 2')));
  });

  it('every decision action posts its message once, and not for a proposal that is not pending', () => {
    const state = run(fresh(), snapshot([oneHunkEdit(1), { ...oneHunkEdit(2), state: 'rejected' }])).state;
    const { effects } = run(
      state,
      { type: 'decide', proposalId: 'p-1', verdict: 'reject' },
      { type: 'decide', proposalId: 'p-1', verdict: 'approve' },
      { type: 'decide', proposalId: 'p-2', verdict: 'approve' },
    );
    assert.deepEqual(effects, [{ type: 'post', message: { type: 'decide', proposalId: 'p-1', verdict: 'reject' } }]);
  });

  it('`e` on a permission request says why nothing can be edited, in the card', () => {
    const permission: Proposal = {
      kind: 'permission',
      id: 'perm',
      sessionId: 's-1',
      createdAt: at(1),
      state: 'pending',
      title: 'Run tool',
      origin: 'session/request_permission',
      toolKind: 'execute',
      options: [
        { optionId: 'allow', name: 'Allow once', kind: 'allow_once' },
        { optionId: 'reject', name: 'Reject', kind: 'reject_once' },
      ],
    };
    const state = run(fresh(), snapshot([permission])).state;
    const { state: after, effects } = run(state, message({ type: 'key', action: 'edit' }));
    assert.match(after.cardErrors.perm ?? '', /nothing to edit/);
    assert.ok(effects.some((e) => (e as { type: string }).type === 'announce'));
  });

  it('the UI state survives hide/show: open cards, full diffs, drafts, scroll and the instruction box; a damaged one starts fresh', () => {
    const state = run(
      fresh(),
      snapshot([twoHunkEdit(1)]),
      { type: 'toggle', proposalId: 'p-1' },
      { type: 'showFullDiff', proposalId: 'p-1' },
    ).state;
    const saved = persistUi(state.ui, 120);
    assert.deepEqual(restoreUi(JSON.parse(JSON.stringify(saved))), { ...state.ui, scrollY: 120 });
    assert.deepEqual(restoreUi({ version: 9 }), { scrollY: 0, open: {}, fullDiff: {}, drafts: {}, prompt: '' });
  });

  it('content for a proposal that was decided meanwhile opens no draft', () => {
    const state = run(fresh(), snapshot([{ ...oneHunkEdit(1), state: 'applied' }])).state;
    const after = run(state, message({ type: 'content', proposalId: 'p-1', newHash: 'a'.repeat(64), text: 'x' })).state;
    assert.deepEqual(after.ui.drafts, {});
  });
});

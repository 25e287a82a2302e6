import { strict as assert } from 'node:assert';
import type { Decision, EditProposal, Proposal } from '../../../src/core/proposals/model';
import { command, openPanel, twoHunkEdit, type PanelHarness } from './reviewFixtures';

/** Item 5 of issue 22: the history shows what was written and who (or what) decided it, in words that say so. */
describe('Review webview (happy-dom): the history tells what was written', () => {
  let panel: PanelHarness;
  afterEach(async () => panel?.close());

  const ada = { kind: 'human' as const, name: 'Ada', email: 'ada@example.test', source: 'git config' };
  const decided = (proposal: Proposal, decision: Partial<Decision>, state: Proposal['state'] = 'applied'): Proposal => ({
    ...proposal,
    state,
    decision: { verdict: 'approve', reviewer: ada, decidedAt: proposal.createdAt, ...decision },
  });
  const open = (id: string): HTMLElement => {
    panel.click(panel.button(id, 'toggle'));
    return panel.card(id);
  };

  it('a partly accepted edit marks each hunk written or rejected, and its meta line counts both', () => {
    panel = openPanel();
    panel.state([decided(twoHunkEdit(1), { hunks: { accepted: [0], rejected: [1] }, reason: 'accepted hunk 1, rejected hunk 2' })]);
    const card = open('p-1');
    const hunks = [...card.querySelectorAll<HTMLElement>('tbody.hunk')];
    assert.deepEqual(
      hunks.map((h) => [h.dataset.hunkId, h.dataset.written, h.querySelector('.hunk-choice')?.textContent]),
      [
        ['h0', 'true', 'Accepted · written'],
        ['h1', 'false', 'Rejected · not written'],
      ],
    );
    assert.equal(card.querySelectorAll('button[data-action="hunkApprove"]').length, 0, 'marks, not controls');
    assert.match(card.querySelector('.card-meta')?.textContent ?? '', /Partly accepted by Ada: 1 hunk\(s\) written, 1 rejected/);
    assert.equal(card.querySelector('.decision-line .decision-verb')?.textContent, 'Partly accepted');
  });

  it('an edit accepted with the reviewer’s text shows the written diff first and the agent’s on demand', () => {
    panel = openPanel();
    const edit = twoHunkEdit(2);
    const written: EditProposal = {
      ...(decided(edit, { editedText: 'mine\n', reason: 'edited by the reviewer before applying' }) as EditProposal),
      appliedDiff: '--- a/src/file2.txt\n+++ b/src/file2.txt\n@@ -1,1 +1,1 @@\n-line 1 of file 2\n+mine\n',
    };
    panel.state([written]);
    const card = open('p-2');
    assert.equal(card.querySelector('.written-note')?.textContent, 'What was written (the reviewer’s edit):');
    const tables = [...card.querySelectorAll('table.diff-table')];
    assert.match(tables[0]?.textContent ?? '', /mine/, 'the written diff comes first');
    assert.doesNotMatch(tables[0]?.textContent ?? '', /header 2/, 'not the agent’s');
    assert.equal(card.querySelector('details.agent-proposal summary')?.textContent, 'What the agent proposed');
    assert.match(card.querySelector('details.agent-proposal')?.textContent ?? '', /header 2/);
    assert.match(card.querySelector('.card-meta')?.textContent ?? '', /Accepted with edits by Ada/);
  });

  it('a write carried out on an earlier approval says so (never "Accepted by warden"); a policy rule is named as such', () => {
    panel = openPanel();
    const granted = decided(twoHunkEdit(3), {
      reviewer: { kind: 'warden', name: 'warden', source: 'earlier approval' },
      reason: 'approved as permission request p-perm (by Ada)',
      grantedBy: { proposalId: 'p-perm', title: 'Edit src/file3.txt', approvedBy: 'Ada' },
    });
    const byPolicy = decided(command(4), { reviewer: { kind: 'policy', name: 'node-test', source: 'policy' }, reason: 'tests are fine' });
    const timedOut = decided(
      command(5),
      { verdict: 'reject', reviewer: { kind: 'warden', name: 'warden', source: 'decision timeout' }, reason: 'no decision within 600 s' },
      'rejected',
    );
    panel.state([granted, byPolicy, timedOut]);
    const text = (id: string): string =>
      `${panel.card(id).querySelector('.card-meta')?.textContent} | ${open(id).querySelector('.decision-line')?.textContent}`;
    assert.match(text('p-3'), /Applied automatically: covered by the approval of “Edit src\/file3\.txt” \(by Ada\)/);
    assert.match(text('c-4'), /Allowed by policy rule node-test/);
    assert.match(text('c-5'), /Rejected automatically by Warden \(decision timeout\)/);
    assert.doesNotMatch(panel.root.textContent ?? '', /Accepted by warden/i);
  });
});

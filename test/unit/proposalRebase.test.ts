import { strict as assert } from 'node:assert';
import { ProposalRebaser, rebaseEdit } from '../../src/core/proposals/rebase';
import { ProposalStore } from '../../src/core/proposals/store';
import { unifiedDiff } from '../../src/core/proposals/diff';
import type { EditProposal } from '../../src/core/proposals/model';
import { sha256Hex } from '../../src/core/util/hash';

const lines = (...xs: string[]): string => `${xs.join('\n')}\n`;
const base = lines('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k');
const proposed = lines('a', 'B', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'J', 'k');

function edit(id: string, oldText: string | null, newText: string, state: EditProposal['state'] = 'pending'): EditProposal {
  return {
    kind: 'edit',
    id,
    sessionId: 's1',
    createdAt: '2026-01-01T00:00:00Z',
    state,
    title: `Edit f.txt`,
    origin: 'fs/write_text_file',
    path: 'f.txt',
    oldText,
    newText,
    baseHash: oldText === null ? null : sha256Hex(oldText),
    newHash: sha256Hex(newText),
    diff: unifiedDiff('f.txt', oldText, newText),
  };
}

describe('rebaseEdit: re-diffing a proposal against the file as it is now', () => {
  it('leaves an unchanged file alone', () => {
    assert.deepEqual(rebaseEdit({ path: 'f.txt', oldText: base, newText: proposed }, base), { kind: 'unchanged' });
    assert.deepEqual(rebaseEdit({ path: 'f.txt', oldText: null, newText: 'x' }, null), { kind: 'unchanged' });
  });

  it('carries the change onto lines the user added elsewhere (three-way: base, ours, theirs)', () => {
    const current = `0\n${base}l\n`;
    const outcome = rebaseEdit({ path: 'f.txt', oldText: base, newText: proposed }, current);
    assert.equal(outcome.kind, 'rebased');
    if (outcome.kind !== 'rebased') return;
    assert.equal(outcome.oldText, current);
    assert.equal(outcome.newText, `0\n${proposed}l\n`, "the user's lines and the agent's change are both there");
    assert.equal(outcome.baseHash, sha256Hex(current));
    assert.equal(outcome.newHash, sha256Hex(outcome.newText));
    assert.match(outcome.diff, /^-b$/m);
    assert.match(outcome.diff, /^\+B$/m);
  });

  it('is a conflict when the user changed the lines the proposal changes', () => {
    const current = base.replace('b\n', 'X\n');
    const outcome = rebaseEdit({ path: 'f.txt', oldText: base, newText: proposed }, current);
    assert.equal(outcome.kind, 'conflict');
  });

  it('is a conflict when the file appeared for a create or vanished for an edit', () => {
    assert.equal(rebaseEdit({ path: 'f.txt', oldText: null, newText: 'x\n' }, 'someone else\n').kind, 'conflict');
    assert.equal(rebaseEdit({ path: 'f.txt', oldText: base, newText: proposed }, null).kind, 'conflict');
  });

  it('keeps CRLF line endings of the current text', () => {
    const crlf = (s: string): string => s.replace(/\n/g, '\r\n');
    const current = `${crlf(base)}z\r\n`;
    const outcome = rebaseEdit({ path: 'f.txt', oldText: crlf(base), newText: crlf(proposed) }, current);
    assert.equal(outcome.kind, 'rebased');
    if (outcome.kind === 'rebased') assert.equal(outcome.newText, `${crlf(proposed)}z\r\n`);
  });
});

describe('ProposalRebaser: keeping undecided proposals in step with their files', () => {
  function setup(text: { current: string | null }) {
    const store = new ProposalStore();
    const audit: Array<{ sessionId: string; type: string; data: Record<string, unknown> }> = [];
    const rebaser = new ProposalRebaser({
      store,
      read: async () => text.current,
      record: async (sessionId, event) => audit.push({ sessionId, type: event.type, data: event.data }),
    });
    return { store, audit, rebaser };
  }

  it('re-diffs a pending proposal, keeps it pending, says so and audits proposal.rediffed', async () => {
    const text = { current: `0\n${base}` as string | null };
    const { store, audit, rebaser } = setup(text);
    store.add(edit('p1', base, proposed));
    await rebaser.fileChanged('f.txt');
    const p = store.get('p1');
    assert.ok(p?.kind === 'edit');
    assert.equal(p.state, 'pending');
    assert.equal(p.oldText, text.current);
    assert.equal(p.newText, `0\n${proposed}`);
    assert.match(p.stateDetail ?? '', /Re-diffed/);
    assert.deepEqual(
      audit.map((a) => [a.sessionId, a.type]),
      [['s1', 'proposal.rediffed']],
    );
    assert.equal(audit[0]?.data.previousBaseHash, sha256Hex(base));
  });

  it('marks a conflicting proposal stale (never applied blind) and audits edit.stale', async () => {
    const { store, audit, rebaser } = setup({ current: base.replace('j\n', 'JJ\n') });
    store.add(edit('p1', base, proposed));
    assert.equal(await rebaser.refresh('p1'), 'stale');
    assert.equal(store.get('p1')?.state, 'stale');
    assert.deepEqual(
      audit.map((a) => a.type),
      ['edit.stale'],
    );
  });

  it('re-diffs an orphaned proposal but keeps it orphaned; leaves decided ones alone', async () => {
    const { store, rebaser } = setup({ current: `0\n${base}` });
    store.add(edit('p1', base, proposed, 'orphaned'));
    store.add(edit('p2', base, proposed, 'approved'));
    await rebaser.fileChanged('f.txt');
    assert.equal(store.get('p1')?.state, 'orphaned');
    assert.match(store.get('p1')?.stateDetail ?? '', /re-diffed/);
    assert.equal((store.get('p2') as EditProposal).oldText, base, "an approved proposal is its session's business");
    assert.deepEqual([...rebaser.watchedPaths()], ['f.txt']);
  });
});

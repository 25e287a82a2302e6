import { strict as assert } from 'node:assert';
import { ProposalStore, ProposalNotPendingError, ProposalOrphanedError } from '../../src/core/proposals/store';
import type { CommandProposal, Decision } from '../../src/core/proposals/model';

function command(id: string, sessionId = 's1'): CommandProposal {
  return {
    kind: 'command',
    id,
    sessionId,
    createdAt: new Date().toISOString(),
    state: 'pending',
    title: `Run ${id}`,
    origin: 'terminal/create',
    argv: ['true'],
    commandLine: 'true',
    cwd: '/w',
    env: {},
  };
}
const approve: Decision = {
  verdict: 'approve',
  reviewer: { kind: 'human', name: 'Ada', source: 'test' },
  decidedAt: '2026-01-01T00:00:00Z',
};

describe('ProposalStore', () => {
  it('hands the decision to the session waiting for it', async () => {
    const store = new ProposalStore();
    store.add(command('p1'));
    const waiting = store.waitForDecision('p1');
    store.decide('p1', approve);
    assert.equal((await waiting).verdict, 'approve');
    assert.equal(store.get('p1')?.state, 'approved');
  });

  it('refuses a second decision on the same proposal', () => {
    const store = new ProposalStore();
    store.add(command('p1'));
    store.decide('p1', approve);
    assert.throws(() => store.decide('p1', { ...approve, verdict: 'reject' }), ProposalNotPendingError);
  });

  it('orphans undecided proposals of an ended session and fails their waiters (never approves)', async () => {
    const store = new ProposalStore();
    store.add(command('p1'));
    store.add(command('p2', 'other'));
    const waiting = store.waitForDecision('p1');
    store.orphanSession('s1', 'agent crashed');
    await assert.rejects(waiting, ProposalOrphanedError);
    assert.equal(store.get('p1')?.state, 'orphaned');
    assert.equal(store.get('p2')?.state, 'pending');
    assert.throws(() => store.decide('p1', approve), ProposalNotPendingError);
  });

  it('notifies listeners of every change and survives a throwing listener', () => {
    const store = new ProposalStore();
    const seen: string[] = [];
    store.onDidChange(() => {
      throw new Error('faulty listener');
    });
    store.onDidChange((p) => seen.push(`${p.id}:${p.state}`));
    store.add(command('p1'));
    store.decide('p1', approve);
    assert.deepEqual(seen, ['p1:pending', 'p1:approved']);
  });

  it('dispose rejects every waiter so nothing hangs and nothing is applied', async () => {
    const store = new ProposalStore();
    store.add(command('p1'));
    const waiting = store.waitForDecision('p1');
    store.dispose();
    await assert.rejects(waiting, ProposalOrphanedError);
  });
});

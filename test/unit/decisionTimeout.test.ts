import { strict as assert } from 'node:assert';
import { handlerRig } from '../support/handlers';
import { nextPending } from '../support/proposals';

describe('a request nobody decides', () => {
  it('is rejected by Warden when the decision timeout passes (never approved), and the agent is told', async () => {
    const { h, store, audit } = handlerRig({ deps: { decisionTimeoutMs: 30 } });
    await assert.rejects(
      h.writeTextFile({ sessionId: 'x', path: '/workspaces/demo/src/new.js', content: 'x' }),
      /rejected the write to src\/new\.js: no decision within/,
    );
    const [proposal] = store.all();
    assert.equal(proposal?.state, 'rejected');
    assert.equal(proposal?.decision?.reviewer.kind, 'warden');
    assert.equal(proposal?.decision?.reviewer.source, 'decision timeout');
    const decision = audit.find((e) => e.type === 'decision');
    assert.equal(decision?.data.verdict, 'reject');
    assert.equal(decision?.actor.kind, 'warden');
  });

  it('a decision that arrives in time wins, and the timer does not fire afterwards', async () => {
    const { h, store } = handlerRig({ deps: { decisionTimeoutMs: 200 } });
    const write = h.writeTextFile({ sessionId: 'x', path: '/workspaces/demo/src/new.js', content: 'x' });
    const pending = await nextPending(store, new Set());
    store.decide(pending.id, {
      verdict: 'reject',
      reviewer: { kind: 'human', name: 'Ada', source: 'test' },
      decidedAt: new Date().toISOString(),
    });
    await assert.rejects(write, /rejected the write/);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(store.get(pending.id)?.decision?.reviewer.name, 'Ada');
  });
});

import { strict as assert } from 'node:assert';
import type * as acp from '@agentclientprotocol/sdk';
import { handlerRig, type HandlerRig } from '../support/handlers';

/** The policy wiring of the ACP handlers, without Docker: the sandbox never runs anything here. */
function handlers(policyText: string): HandlerRig {
  return handlerRig({ policyText });
}

const options: acp.PermissionOption[] = [
  { optionId: 'allow', name: 'Allow', kind: 'allow_once' },
  { optionId: 'reject', name: 'Reject', kind: 'reject_once' },
];

describe('policy in the ACP handlers', () => {
  it('a read the policy denies is a JSON-RPC error naming the rule, and is audited', async () => {
    const { h, audit } = handlers(
      '{"paths": [{"id": "keys", "paths": "keys/**", "actions": ["read"], "decision": "deny", "reason": "keys stay out"}]}',
    );
    await assert.rejects(
      h.readTextFile({ sessionId: 'x', path: '/workspaces/demo/keys/id.pem' }),
      /Denied by policy rule keys: .*keys stay out\. keys\/id\.pem is withheld from the sandbox: it is not in your copy of the workspace \(masked in read-only mode\), so no command there can read it either\./,
    );
    assert.equal((await h.readTextFile({ sessionId: 'x', path: '/workspaces/demo/src/a.js' })).content, '// src/a.js\n');
    const refused = audit.find((e) => e.type === 'refused');
    assert.equal(refused?.data.ruleId, 'keys');
  });

  it('a permission the policy allows is answered at once, born approved, with the rule as decider', async () => {
    const { h, store, audit } = handlers('{"commands": [{"id": "tests", "match": "node --test *", "decision": "allow"}]}');
    const response = await h.requestPermission({
      sessionId: 'x',
      toolCall: { toolCallId: 't1', kind: 'execute', title: 'Run tests', rawInput: { command: 'node --test test/' } },
      options,
    });
    assert.deepEqual(response.outcome, { outcome: 'selected', optionId: 'allow' });
    const [proposal] = store.all();
    assert.equal(proposal?.decision?.reviewer.kind, 'policy');
    assert.equal(proposal?.decision?.reviewer.name, 'tests');
    assert.equal(proposal?.policy?.ruleId, 'tests');
    const decision = audit.find((e) => e.type === 'decision');
    assert.equal(decision?.actor.kind, 'policy');
    assert.equal(decision?.data.ruleId, 'tests');
  });

  it('a command known only by its title is never allowed by the policy: it waits for a human', async () => {
    const { h, store } = handlers('{"commands": [{"id": "tests", "match": "node --test *", "decision": "allow"}]}');
    const answer = h.requestPermission({
      sessionId: 'x',
      toolCall: { toolCallId: 't2', kind: 'execute', title: 'node --test test/' },
      options,
    });
    await new Promise((resolve) => setImmediate(resolve));
    const [proposal] = store.all();
    assert.equal(proposal?.state, 'pending');
    assert.equal(proposal?.policy?.decision, 'ask');
    store.dispose(); // orphans the wait
    assert.deepEqual(await answer, { outcome: { outcome: 'cancelled' } }, 'never decided: cancelled, never allowed');
  });

  it('a permission the policy denies is born rejected, never pending', async () => {
    const { h, store } = handlers(
      '{"paths": [{"id": "frozen", "paths": "src/**", "actions": ["write"], "decision": "deny", "reason": "frozen"}]}',
    );
    const states: string[] = [];
    store.onDidChange((p) => states.push(p.state));
    const response = await h.requestPermission({
      sessionId: 'x',
      toolCall: {
        toolCallId: 't3',
        kind: 'edit',
        title: 'Edit',
        content: [{ type: 'diff', path: '/workspaces/demo/src/a.js', oldText: '// src/a.js\n', newText: 'x\n' }],
      },
      options,
    });
    assert.deepEqual(response.outcome, { outcome: 'selected', optionId: 'reject' });
    assert.ok(!states.includes('pending'), `states seen: ${states.join(', ')}`);
    assert.equal(store.all()[0]?.decision?.reason?.includes('frozen'), true);
  });

  it('limits.filesPerProposal: a permission request touching more files is denied as a whole, naming the limit', async () => {
    const { h, store, audit } = handlers(
      '{"limits": {"filesPerProposal": 2}, "paths": [{"id": "src", "paths": "src/**", "actions": ["write", "create"], "decision": "allow"}]}',
    );
    const diff = (n: number): acp.ToolCallContent => ({
      type: 'diff',
      path: `/workspaces/demo/src/f${n}.js`,
      oldText: null,
      newText: `${n}\n`,
    });
    const response = await h.requestPermission({
      sessionId: 'x',
      toolCall: { toolCallId: 't4', kind: 'edit', title: 'Edit three files', content: [diff(1), diff(2), diff(3)] },
      options,
    });
    assert.deepEqual(response.outcome, { outcome: 'selected', optionId: 'reject' });
    const [proposal] = store.all();
    assert.equal(proposal?.state, 'rejected');
    assert.equal(proposal?.policy?.ruleId, 'limits.filesPerProposal');
    assert.match(proposal?.policy?.reason ?? '', /touches 3 files.*at most 2/);
    assert.equal(audit.find((e) => e.type === 'decision')?.data.ruleId, 'limits.filesPerProposal');

    const within = await h.requestPermission({
      sessionId: 'x',
      toolCall: { toolCallId: 't5', kind: 'edit', title: 'Edit two files', content: [diff(1), diff(2)] },
      options,
    });
    assert.deepEqual(
      within.outcome,
      { outcome: 'selected', optionId: 'allow' },
      'two files are within the limit and the path rule allows them',
    );
  });
});

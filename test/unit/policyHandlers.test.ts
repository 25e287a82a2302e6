import { strict as assert } from 'node:assert';
import type * as acp from '@agentclientprotocol/sdk';
import { TerminalRegistry } from '../../src/core/agent/terminals';
import type { AuditEventInput } from '../../src/core/audit/types';
import { loadPolicyText, mergePolicies, type EffectivePolicy } from '../../src/core/policy';
import { ProposalStore } from '../../src/core/proposals/store';
import { WorkspacePathMapper } from '../../src/core/sandbox/paths';
import type { Sandbox } from '../../src/core/sandbox/types';
import { ProposalHandlers } from '../../src/core/session/proposalHandlers';
import type { WorkspaceFiles } from '../../src/core/workspace/files';

/** The policy wiring of the ACP handlers, without Docker: the sandbox never runs anything here. */
function handlers(policyText: string): { h: ProposalHandlers; store: ProposalStore; audit: Array<Omit<AuditEventInput, 'sessionId'>> } {
  const loaded = loadPolicyText(policyText);
  assert.ok(loaded.ok);
  const policy: EffectivePolicy = mergePolicies({ team: { status: 'loaded', policy: loaded.value } });
  const store = new ProposalStore();
  const audit: Array<Omit<AuditEventInput, 'sessionId'>> = [];
  const files: WorkspaceFiles = {
    read: async (p) => (p === 'src/a.js' || p === 'keys/id.pem' ? `// ${p}\n` : null),
    write: async () => {
      throw new Error('nothing is written in this test');
    },
  };
  const sandbox = {
    containerId: 'c',
    workspaceFolder: '/workspaces/demo',
    agentsFolder: '/opt/warden/agents',
    image: 'img',
    execAgent: async () => {
      throw new Error('not used');
    },
    runCommand: async () => {
      throw new Error('not used');
    },
    stop: async () => undefined,
  } satisfies Sandbox;
  const h = new ProposalHandlers({
    sessionId: 's-1',
    sandbox,
    mapper: new WorkspacePathMapper('/host/demo', '/workspaces/demo'),
    store,
    files,
    terminals: new TerminalRegistry(),
    record: async (e) => void audit.push(e),
    agentActor: () => ({ kind: 'agent', id: 'test-agent' }),
    onEvent: () => undefined,
    policy: () => policy,
  });
  return { h, store, audit };
}

const options: acp.PermissionOption[] = [
  { optionId: 'allow', name: 'Allow', kind: 'allow_once' },
  { optionId: 'reject', name: 'Reject', kind: 'reject_once' },
];

describe('policy in the ACP handlers', () => {
  it('a read the policy denies is a JSON-RPC error naming the rule, and is audited', async () => {
    const { h, audit } = handlers('{"paths": [{"id": "keys", "paths": "keys/**", "actions": ["read"], "decision": "deny", "reason": "keys stay out"}]}');
    await assert.rejects(h.readTextFile({ sessionId: 'x', path: '/workspaces/demo/keys/id.pem' }), /Denied by policy rule keys/);
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
    const answer = h.requestPermission({ sessionId: 'x', toolCall: { toolCallId: 't2', kind: 'execute', title: 'node --test test/' }, options });
    await new Promise((resolve) => setImmediate(resolve));
    const [proposal] = store.all();
    assert.equal(proposal?.state, 'pending');
    assert.equal(proposal?.policy?.decision, 'ask');
    store.dispose(); // orphans the wait
    await assert.rejects(answer);
  });

  it('a permission the policy denies is born rejected, never pending', async () => {
    const { h, store } = handlers('{"paths": [{"id": "frozen", "paths": "src/**", "actions": ["write"], "decision": "deny", "reason": "frozen"}]}');
    const states: string[] = [];
    store.onDidChange((p) => states.push(p.state));
    const response = await h.requestPermission({
      sessionId: 'x',
      toolCall: { toolCallId: 't3', kind: 'edit', title: 'Edit', content: [{ type: 'diff', path: '/workspaces/demo/src/a.js', oldText: '// src/a.js\n', newText: 'x\n' }] },
      options,
    });
    assert.deepEqual(response.outcome, { outcome: 'selected', optionId: 'reject' });
    assert.ok(!states.includes('pending'), `states seen: ${states.join(', ')}`);
    assert.equal(store.all()[0]?.decision?.reason?.includes('frozen'), true);
  });
});

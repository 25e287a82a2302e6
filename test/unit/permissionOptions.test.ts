import { strict as assert } from 'node:assert';
import { addRuleToPolicyText, suggestRule } from '../../src/core/policy/suggestions';
import { loadPolicyText } from '../../src/core/policy';
import type { PermissionProposal } from '../../src/core/proposals/model';
import type { RuleSuggestion } from '../../src/core/policy/suggestions';
import { AgentNotes } from '../../src/core/session/agentNotes';
import { autoDecide, protocolRig } from '../support/protocolRig';

const ALL = [
  { optionId: 'o1', name: 'Allow once', kind: 'allow_once' as const },
  { optionId: 'a1', name: 'Always allow', kind: 'allow_always' as const },
  { optionId: 'r1', name: 'Reject', kind: 'reject_once' as const },
  { optionId: 'ra', name: 'Always reject', kind: 'reject_always' as const },
];
const command = (options = ALL) => ({
  sessionId: 'x',
  toolCall: { toolCallId: 't', kind: 'execute' as const, title: 'npm test', rawInput: { command: 'npm test' } },
  options,
});

async function answer(optionId: string | undefined, verdict: 'approve' | 'reject', options = ALL) {
  const rig = protocolRig();
  const suggestions: RuleSuggestion[] = [];
  rig.deps.onSuggestion = (s) => void suggestions.push(s);
  const decider = autoDecide(rig.store, () => ({ verdict, ...(optionId ? { optionId } : {}) }));
  const response = await rig.handlers.requestPermission(command(options));
  decider.dispose();
  return { rig, response, suggestions, proposal: rig.store.all()[0] as PermissionProposal };
}

describe("permission requests offer the agent's own options", () => {
  it('the proposal lists every option the agent offered', async () => {
    const { proposal } = await answer('o1', 'approve');
    assert.deepEqual(
      proposal.options.map((o) => o.kind),
      ['allow_once', 'allow_always', 'reject_once', 'reject_always'],
    );
  });

  it("the reviewer's pick is sent: allow once, reject once, reject always", async () => {
    assert.deepEqual((await answer('o1', 'approve')).response.outcome, { outcome: 'selected', optionId: 'o1' });
    assert.deepEqual((await answer('r1', 'reject')).response.outcome, { outcome: 'selected', optionId: 'r1' });
    assert.deepEqual((await answer('ra', 'reject')).response.outcome, { outcome: 'selected', optionId: 'ra' });
  });

  it('"always allow" is answered as allow once and becomes a suggested command rule, audited; nothing is granted beyond this request', async () => {
    const { response, suggestions, rig, proposal } = await answer('a1', 'approve');
    assert.deepEqual(response.outcome, { outcome: 'selected', optionId: 'o1' });
    assert.equal(proposal.chosenOptionId, 'o1');
    assert.equal(suggestions.length, 1);
    assert.deepEqual(suggestions[0]!.suggested.section, 'commands');
    assert.equal((suggestions[0]!.suggested.rule as { match: string }).match, 'npm test');
    assert.equal(suggestions[0]!.suggested.rule.decision, 'allow');
    const audited = rig.audit.find((a) => a.type === 'policy.suggestion');
    assert.equal(audited?.data.proposalId, proposal.id);
    const answered = rig.audit.find((a) => a.type === 'permission.answered');
    assert.deepEqual(answered?.data.reviewerPicked, { optionId: 'a1', kind: 'allow_always' });
    // The next identical request asks again.
    const again = rig.handlers.requestPermission(command());
    await new Promise((r) => setImmediate(r));
    assert.equal(rig.store.pending().length, 1, 'Warden keeps asking');
    rig.store.orphanSession('s-proto', 'test over');
    assert.deepEqual(await again, { outcome: { outcome: 'cancelled' } }, 'never decided: cancelled, never allowed');
  });

  it('"always allow" with no once-variant is sent as chosen, and still only suggests a rule', async () => {
    const only = ALL.filter((o) => o.kind !== 'allow_once');
    const { response, suggestions } = await answer('a1', 'approve', only);
    assert.deepEqual(response.outcome, { outcome: 'selected', optionId: 'a1' });
    assert.equal(suggestions.length, 1);
  });

  it('a pick that contradicts the verdict is ignored (approve never sends a reject option and vice versa)', async () => {
    assert.deepEqual((await answer('r1', 'approve')).response.outcome, { outcome: 'selected', optionId: 'o1' });
    assert.deepEqual((await answer('o1', 'reject')).response.outcome, { outcome: 'selected', optionId: 'r1' });
  });
});

describe("a permission rejected with the reviewer's reason", () => {
  it('the agent reads the reason in _meta now and in a note with its next instruction; the audit keeps it', async () => {
    const rig = protocolRig();
    const notes = new AgentNotes();
    rig.deps.notes = notes;
    const decider = autoDecide(rig.store, () => ({ verdict: 'reject', reason: 'run the unit tier instead' }));
    const response = await rig.handlers.requestPermission(command());
    decider.dispose();
    assert.deepEqual(response.outcome, { outcome: 'selected', optionId: 'r1' });
    assert.deepEqual(response._meta, { warden: { rejected: { reason: 'run the unit tier instead', by: 'human' } } });
    assert.deepEqual(notes.take(), ['Your request "npm test" was rejected by the reviewer: run the unit tier instead']);
    assert.equal(rig.audit.find((a) => a.type === 'decision')?.data.reason, 'run the unit tier instead');
  });

  it('without a reason nothing more is said (the reject option is the whole answer)', async () => {
    const rig = protocolRig();
    rig.deps.notes = new AgentNotes();
    const decider = autoDecide(rig.store, () => ({ verdict: 'reject' }));
    const response = await rig.handlers.requestPermission(command());
    decider.dispose();
    assert.equal(response._meta, undefined);
    assert.equal(rig.deps.notes.size, 0);
  });
});

describe('suggested policy rules', () => {
  const base = {
    id: 'p',
    sessionId: 's',
    createdAt: '2026-11-23T00:00:00Z',
    state: 'applied' as const,
    title: 't',
    origin: 'o',
    options: [],
  };

  it('an edit permission suggests a path rule for that file; a complex command suggests nothing and says why', () => {
    const edit = suggestRule(
      { ...base, kind: 'permission', toolKind: 'edit', edit: { path: 'src/a.js', oldText: 'x', newText: 'y', newHash: 'h', diff: '' } },
      'Ada',
    );
    assert.ok('suggested' in edit);
    assert.deepEqual(edit.suggested.rule, { ...edit.suggested.rule, paths: 'src/a.js', actions: ['write'], decision: 'allow' });
    const complex = suggestRule({ ...base, kind: 'permission', toolKind: 'execute', commandLine: 'npm test && curl "x y"' }, 'Ada');
    assert.ok('reason' in complex);
  });

  it("adding a rule keeps the file's comments and is a valid policy; the same rule twice is added once", () => {
    const text =
      '// team policy\n{\n  "version": 1,\n  /* commands we trust */\n  "commands": [\n    { "id": "lint", "match": "npm run lint", "decision": "allow" }\n  ]\n}\n';
    const s = suggestRule({ ...base, kind: 'permission', toolKind: 'execute', commandLine: 'npm test' }, 'Ada');
    assert.ok('suggested' in s);
    const updated = addRuleToPolicyText(text, s.suggested);
    assert.match(updated, /\/\/ team policy/);
    assert.match(updated, /\/\* commands we trust \*\//);
    const loaded = loadPolicyText(updated);
    assert.ok(loaded.ok);
    assert.deepEqual(
      loaded.value.commands.map((c) => c.id),
      ['lint', s.suggested.rule.id],
    );
    assert.equal(addRuleToPolicyText(updated, s.suggested), updated);
    assert.ok(loadPolicyText(addRuleToPolicyText('', s.suggested)).ok, 'an empty file gets a minimal policy');
    assert.throws(() => addRuleToPolicyText('{ "version": 2 }', s.suggested), /not valid now/);
  });
});

describe('escalation: _warden/ask_human', () => {
  it('becomes a question proposal; the answer goes back as text and is audited', async () => {
    const rig = protocolRig();
    const decider = autoDecide(rig.store, () => ({ verdict: 'approve', answer: 'use tabs' }));
    const { answer: text } = await rig.handlers.askHuman({ question: 'Tabs or spaces?', choices: ['tabs', 'spaces'] });
    assert.equal(text, 'use tabs');
    const q = rig.store.all()[0]!;
    assert.equal(q.kind, 'question');
    assert.equal(q.state, 'applied');
    assert.ok(rig.audit.some((a) => a.type === 'proposal' && a.data.kind === 'question'));
    decider.dispose();
  });

  it('a decline or a timeout is an error to the agent, never an invented answer', async () => {
    const declined = protocolRig();
    const d = autoDecide(declined.store, () => ({ verdict: 'reject' }));
    await assert.rejects(declined.handlers.askHuman({ question: 'ok?' }), /declined/);
    d.dispose();
    const timedOut = protocolRig({ decisionTimeoutMs: 20 });
    await assert.rejects(timedOut.handlers.askHuman({ question: 'ok?' }), /No answer: no decision within/);
    assert.equal(timedOut.store.all()[0]!.state, 'rejected');
  });
});

import { strict as assert } from 'node:assert';
import { decisionFor } from '../../src/core/proposals/decisions';
import { appliedContent } from '../../src/core/proposals/decisions';
import type { CommandProposal, EditProposal, Proposal, Reviewer } from '../../src/core/proposals/model';
import { turnChoices } from '../../src/core/proposals/turnDecisions';
import { changesetOf, effectiveReviewMode, groupByTurn, latestTurn } from '../../src/core/proposals/turns';
import { sha256Hex } from '../../src/core/util/hash';
import { handlerRig } from '../support/handlers';
import { pendingEdit } from '../support/proposals';

const lines = (n: number): string => Array.from({ length: n }, (_, i) => `line ${i + 1}\n`).join('');
const OLD = lines(30);
const TWO_HUNKS = OLD.replace('line 3\n', 'LINE THREE\n').replace('line 25\n', 'LINE 25\n');
const reviewer: Reviewer = { kind: 'human', name: 'Ada', source: 'test' };

let clock = 0;
function edit(path: string, turn: number | undefined, oldText: string | null, newText: string, sessionId = 's1'): EditProposal {
  const at = new Date(Date.UTC(2026, 0, 1, 0, 0, clock++)).toISOString();
  return { ...pendingEdit({ id: `e${clock}`, sessionId, createdAt: at, path, oldText, newText }), ...(turn ? { turn } : {}) };
}
function command(commandLine: string, turn: number, state: Proposal['state'] = 'applied', output = ''): CommandProposal {
  const at = new Date(Date.UTC(2026, 0, 1, 0, 0, clock++)).toISOString();
  return {
    kind: 'command',
    id: `c${clock}`,
    sessionId: 's1',
    createdAt: at,
    state,
    title: `Run ${commandLine}`,
    origin: 'terminal/create',
    argv: ['sh', '-c', commandLine],
    commandLine,
    cwd: '/workspace',
    env: {},
    turn,
    ...(state === 'applied' ? { result: { exitCode: 0, signal: null, outputExcerpt: output, outputHash: 'h', truncated: false } } : {}),
  };
}

describe('turn review: the changeset model', () => {
  it('groups one turn as one changeset: files in the order first touched, the commands that ran, what waits', () => {
    const ls = command('ls -la', 1, 'applied', 'README.md\nsrc\n');
    const a = edit('src/a.js', 1, OLD, TWO_HUNKS);
    const test = command('node --test', 1, 'applied', 'ok 2');
    const b = edit('test/a.test.js', 1, null, 'new test\n');
    const a2 = edit('src/a.js', 1, OLD, `${OLD}tail\n`);
    const next = edit('NOTES.md', 2, null, 'notes\n');
    const turns = groupByTurn([next, a2, b, test, a, ls]);
    assert.deepEqual(
      turns.map((t) => [t.key, t.turn]),
      [
        ['s1#1', 1],
        ['s1#2', 2],
      ],
    );
    const first = turns[0]!;
    assert.deepEqual(
      first.files.map((f) => [f.path, f.proposals.map((p) => p.id)]),
      [
        ['src/a.js', [a.id, a2.id]],
        ['test/a.test.js', [b.id]],
      ],
    );
    assert.deepEqual(
      first.commands.map((c) => c.id),
      [ls.id, test.id],
      'the commands run in the turn, in order, whatever their state',
    );
    assert.deepEqual(
      first.pending.map((p) => p.id),
      [a.id, b.id, a2.id],
    );
  });

  it('keeps sessions apart and puts proposals made outside any turn in turn 0', () => {
    const early = edit('x', undefined, null, 'x\n');
    const other = edit('y', 1, null, 'y\n', 's2');
    const mine = edit('z', 1, null, 'z\n');
    const keys = groupByTurn([early, other, mine]).map((t) => t.key);
    assert.deepEqual(keys, ['s1#0', 's2#1', 's1#1']);
    assert.equal(changesetOf([early, other, mine], 's1', 1)?.files[0]?.path, 'z');
  });

  it('"Review Turn" opens the latest turn with something waiting, else the latest turn', () => {
    const waiting = edit('a', 1, null, 'a\n');
    const done = { ...edit('b', 2, null, 'b\n'), state: 'applied' as const };
    assert.equal(latestTurn([waiting, done])?.turn, 1);
    assert.equal(latestTurn([{ ...waiting, state: 'rejected' as const }, done])?.turn, 2);
    assert.equal(latestTurn([]), undefined);
  });

  it('Accept all keeps the hunks already chosen and gives the others the bulk verdict', () => {
    const a = edit('src/a.js', 1, OLD, TWO_HUNKS);
    const b = edit('src/b.js', 1, null, 'b\n');
    const q: Proposal = {
      kind: 'question',
      id: 'q1',
      sessionId: 's1',
      createdAt: a.createdAt,
      state: 'pending',
      title: 'Question',
      origin: '_warden/ask_human',
      question: 'Which?',
      turn: 1,
    };
    const chosen = (p: Proposal): Record<string, 'approve' | 'reject'> => (p.id === a.id ? { h1: 'reject' } : {});
    const choices = turnChoices([a, b, q], 'approve', chosen, 'turn review: accept all');
    assert.deepEqual(choices, [
      { proposalId: a.id, choice: { kind: 'hunks', accepted: [0], rejected: [1], newHash: a.newHash } },
      { proposalId: b.id, choice: { kind: 'verdict', verdict: 'approve', reason: 'turn review: accept all' } },
    ]);
    // The decision those choices make writes hunk 1 only: what the reviewer saw and chose.
    const decided = { ...a, decision: decisionFor(a, choices[0]!.choice, reviewer), state: 'approved' as const };
    assert.equal(appliedContent(decided).text, OLD.replace('line 3\n', 'LINE THREE\n'));
  });

  it('Reject all declines questions too, and rejects every hunk not explicitly accepted', () => {
    const a = edit('src/a.js', 1, OLD, TWO_HUNKS);
    const choices = turnChoices([a], 'reject', () => ({ h0: 'approve' }), 'turn review: reject all');
    assert.deepEqual(choices[0]?.choice, { kind: 'hunks', accepted: [0], rejected: [1], newHash: a.newHash });
    const done = { ...edit('c', 1, null, 'c\n'), state: 'applied' as const };
    assert.deepEqual(
      turnChoices([done], 'reject', () => ({}), 'x'),
      [],
      'decided proposals are left alone',
    );
  });

  it('the mode is the setting when set, else "action" for a policy that asks for commands and "turn" otherwise', () => {
    assert.equal(effectiveReviewMode('turn', 'ask'), 'turn');
    assert.equal(effectiveReviewMode('action', 'allow'), 'action');
    assert.equal(effectiveReviewMode(undefined, 'ask'), 'action');
    assert.equal(effectiveReviewMode(undefined, 'allow'), 'turn');
    assert.equal(effectiveReviewMode('bogus', 'deny'), 'turn');
  });
});

describe('turn review in copy mode: the agent writes its copy and is not kept waiting', () => {
  const rig = (policyText: string) => {
    const copy = new Map<string, string>();
    const { h, store, audit } = handlerRig({
      policyText,
      deps: {
        turn: () => 4,
        turnCopy: {
          read: async (p) => copy.get(p) ?? null,
          write: async (p, text) => void copy.set(p, text),
        },
      },
    });
    return { h, store, audit, copy };
  };

  it('a write the policy asks about lands in the copy at once (audited); the agent reads it back; no proposal waits', async () => {
    const { h, store, audit, copy } = rig('{}');
    assert.deepEqual(await h.writeTextFile({ sessionId: 'x', path: '/workspaces/demo/src/a.js', content: 'new\n' }), {});
    assert.equal(copy.get('src/a.js'), 'new\n');
    assert.equal(store.all().length, 0, 'nothing to decide yet: the change comes back with the turn');
    assert.deepEqual(
      audit.filter((e) => e.type === 'sandbox.write').map((e) => e.data),
      [{ path: 'src/a.js', hash: sha256Hex('new\n') }],
    );
    assert.deepEqual(await h.readTextFile({ sessionId: 'x', path: '/workspaces/demo/src/a.js' }), { content: 'new\n' });
  });

  it('a path the policy denies is refused as before, and the copy is untouched', async () => {
    const { h, copy } = rig('{ "paths": [{ "id": "no-keys", "paths": ["keys/**"], "actions": ["write"], "decision": "deny" }] }');
    await assert.rejects(h.writeTextFile({ sessionId: 'x', path: '/workspaces/demo/keys/id.pem', content: 'x' }), /no-keys/);
    assert.equal(copy.size, 0);
  });

  it('an edit permission is answered by turn review (no human, no grant), and the proposal carries its turn', async () => {
    const { h, store, copy } = rig('{}');
    const answer = await h.requestPermission({
      sessionId: 'x',
      toolCall: {
        toolCallId: 't1',
        kind: 'edit',
        title: 'Edit src/a.js',
        content: [{ type: 'diff', path: '/workspaces/demo/src/a.js', oldText: '// src/a.js\n', newText: 'changed\n' }],
      },
      options: [
        { optionId: 'allow', name: 'Allow', kind: 'allow_once' },
        { optionId: 'reject', name: 'Reject', kind: 'reject_once' },
      ],
    });
    assert.deepEqual(answer.outcome, { outcome: 'selected', optionId: 'allow' });
    const permission = store.all()[0];
    assert.equal(permission?.decision?.reviewer.name, 'turn-review');
    assert.equal(permission?.turn, 4);
    // The write that follows goes to the copy, not through a grant to the workspace.
    await h.writeTextFile({ sessionId: 'x', path: '/workspaces/demo/src/a.js', content: 'changed\n' });
    assert.equal(copy.get('src/a.js'), 'changed\n');
    assert.equal(store.all().length, 1);
  });
});

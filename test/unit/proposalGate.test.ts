import { strict as assert } from 'node:assert';
import type { AuditEventInput } from '../../src/core/audit/types';
import { loadPolicyText, mergePolicies, evaluatePath, type EffectivePolicy } from '../../src/core/policy';
import type { Decision, EditProposal } from '../../src/core/proposals/model';
import { ProposalStore } from '../../src/core/proposals/store';
import { ProposalGate, type GateDeps, type ProposalFields } from '../../src/core/session/gate';
import { sha256Hex } from '../../src/core/util/hash';
import type { WorkspaceFiles } from '../../src/core/workspace/files';

const ada = { kind: 'human' as const, name: 'Ada', email: 'ada@example.test', source: 'test' };

function policyFrom(text: string): EffectivePolicy {
  const loaded = loadPolicyText(text);
  assert.ok(loaded.ok);
  return mergePolicies({ team: { status: 'loaded', policy: loaded.value } });
}

/** A gate over an in-memory workspace; `diskHashOf` lets a test make the disk disagree with the reviewed bytes. */
function rig(options: { files?: Record<string, string>; deps?: Partial<GateDeps>; diskHashOf?: (text: string) => string } = {}) {
  const store = new ProposalStore();
  const audit: Array<Omit<AuditEventInput, 'sessionId'>> = [];
  const disk = new Map(Object.entries(options.files ?? {}));
  const files: WorkspaceFiles = {
    read: async (p) => disk.get(p) ?? null,
    write: async (p, text) => {
      disk.set(p, text);
      return { diskHash: (options.diskHashOf ?? sha256Hex)(text) };
    },
  };
  const gate = new ProposalGate({
    sessionId: 's-gate',
    store,
    files,
    record: async (e) => void audit.push(e),
    agentActor: () => ({ kind: 'agent', id: 'test-agent' }),
    ...options.deps,
  });
  return { gate, store, audit, disk };
}

function editFields(
  path: string,
  oldText: string | null,
  newText: string,
  extra: Partial<EditProposal> = {},
): ProposalFields<EditProposal> {
  return {
    kind: 'edit',
    origin: 'fs/write_text_file',
    title: `Edit ${path}`,
    path,
    oldText,
    newText,
    baseHash: oldText === null ? null : sha256Hex(oldText),
    newHash: sha256Hex(newText),
    diff: '',
    ...extra,
  };
}

function decideLater(store: ProposalStore, id: string, decision: Partial<Decision> = {}): void {
  setTimeout(() => store.decide(id, { verdict: 'approve', reviewer: ada, decidedAt: new Date().toISOString(), ...decision }), 5);
}

describe('the proposal gate', () => {
  it('mints every proposal in one place: a fresh id, the session, pending, and a proposal entry by the agent', async () => {
    const { gate, store, audit } = rig();
    const a = await gate.propose<EditProposal>(editFields('a.txt', null, 'a'));
    const b = await gate.propose<EditProposal>(editFields('b.txt', null, 'b'));
    assert.match(a.id, /^p-[0-9a-f-]{36}$/);
    assert.notEqual(a.id, b.id);
    assert.deepEqual([a.sessionId, a.state, store.get(a.id)?.state], ['s-gate', 'pending', 'pending']);
    assert.deepEqual(
      audit.map((e) => [e.type, e.actor.id, e.data.proposalId]),
      [
        ['proposal', 'test-agent', a.id],
        ['proposal', 'test-agent', b.id],
      ],
    );
  });

  it('a policy allow is born approved and a deny born rejected, each decision naming the rule', async () => {
    const policy = policyFrom(
      '{"paths": [{"id": "docs", "paths": "docs/**", "actions": ["create"], "decision": "allow"}, {"id": "frozen", "paths": "vendor/**", "actions": ["create"], "decision": "deny", "reason": "vendored"}]}',
    );
    const { gate, audit } = rig({ deps: { policy: () => policy } });
    for (const [path, verdict, state] of [
      ['docs/a.md', 'approve', 'approved'],
      ['vendor/x.js', 'reject', 'rejected'],
    ] as const) {
      const judged = gate.evaluate((p) => evaluatePath(p, 'create', path));
      const proposal = await gate.propose<EditProposal>(editFields(path, null, 'x'), { verdict: judged });
      assert.equal(proposal.state, state);
      const decision = await gate.decide(proposal);
      assert.equal(decision.verdict, verdict);
      const entry = audit.filter((e) => e.type === 'decision').at(-1);
      assert.deepEqual([entry?.actor.kind, entry?.actor.id, entry?.data.ruleId], ['policy', judged?.ruleId, judged?.ruleId]);
    }
  });

  it('a policy ask leaves the proposal pending for a human', async () => {
    const policy = policyFrom('{"paths": [{"id": "src", "paths": "src/**", "actions": ["create"], "decision": "ask"}]}');
    const { gate } = rig({ deps: { policy: () => policy } });
    const proposal = await gate.propose<EditProposal>(editFields('src/a.js', null, 'x'), {
      verdict: gate.evaluate((p) => evaluatePath(p, 'create', 'src/a.js')),
    });
    assert.equal(proposal.state, 'pending');
    assert.equal(proposal.policy?.decision, 'ask');
  });

  it('fails closed: a policy that throws asks (never allows), and without a policy there is no verdict', async () => {
    const { gate } = rig({
      deps: {
        policy: () => {
          throw new Error('policy.json does not parse');
        },
      },
    });
    const verdict = gate.evaluate(() => ({ decision: 'allow', ruleId: 'never', reason: 'unreachable' }));
    assert.deepEqual([verdict?.decision, verdict?.ruleId], ['ask', 'builtin.policy-error']);
    assert.match(verdict?.reason ?? '', /does not parse/);
    assert.equal((await gate.propose<EditProposal>(editFields('a.txt', null, 'a'), { verdict })).state, 'pending');
    assert.equal(
      rig().gate.evaluate(() => ({ decision: 'allow', ruleId: 'x', reason: 'x' })),
      undefined,
    );
  });

  it('a timeout rejects (never approves), with the one wording that names the setting', async () => {
    const { gate, store, audit } = rig({ deps: { decisionTimeoutMs: 20 } });
    const proposal = await gate.propose<EditProposal>(editFields('a.txt', null, 'a'));
    const decision = await gate.decide(proposal);
    assert.equal(decision.verdict, 'reject');
    assert.equal(decision.reason, 'no decision within 0 s (warden.review.decisionTimeoutSeconds)');
    assert.equal(store.get(proposal.id)?.state, 'rejected');
    const entry = audit.find((e) => e.type === 'decision');
    assert.deepEqual([entry?.actor.kind, (entry?.data.reviewer as { source?: string }).source], ['warden', 'decision timeout']);
  });

  it('applies an approved edit with the reviewed bytes, and audits edit.applied with both hashes', async () => {
    const { gate, store, audit, disk } = rig({ files: { 'a.txt': 'old\n' } });
    const proposal = await gate.propose<EditProposal>(editFields('a.txt', 'old\n', 'new\n'));
    decideLater(store, proposal.id);
    await gate.decide(proposal);
    const outcome = await gate.apply(gate.current<EditProposal>(proposal.id));
    assert.equal(outcome.kind, 'applied');
    assert.equal(disk.get('a.txt'), 'new\n');
    const applied = audit.find((e) => e.type === 'edit.applied');
    assert.deepEqual([applied?.data.reviewedHash, applied?.data.diskHash], [sha256Hex('new\n'), sha256Hex('new\n')]);
  });

  it('a target that changed so the change no longer fits is stale: nothing is written', async () => {
    const { gate, store, audit, disk } = rig({ files: { 'a.txt': 'old\n' } });
    const proposal = await gate.propose<EditProposal>(editFields('a.txt', 'old\n', 'new\n'));
    decideLater(store, proposal.id);
    await gate.decide(proposal);
    disk.set('a.txt', 'typed by the user\n');
    const outcome = await gate.apply(gate.current<EditProposal>(proposal.id));
    assert.equal(outcome.kind, 'stale');
    assert.equal(disk.get('a.txt'), 'typed by the user\n');
    assert.equal(store.get(proposal.id)?.state, 'stale');
    assert.deepEqual(audit.find((e) => e.type === 'edit.stale')?.data.currentHash, sha256Hex('typed by the user\n'));
  });

  it('bytes on disk that differ from the reviewed bytes fail the proposal and are audited as edit.mismatch', async () => {
    const { gate, store, audit } = rig({ files: { 'a.txt': 'old\n' }, diskHashOf: (text) => sha256Hex(text.replace(/\n/g, '\r\n')) });
    const proposal = await gate.propose<EditProposal>(editFields('a.txt', 'old\n', 'new\n'));
    decideLater(store, proposal.id);
    await gate.decide(proposal);
    const outcome = await gate.apply(gate.current<EditProposal>(proposal.id));
    assert.equal(outcome.kind, 'mismatch');
    assert.equal(store.get(proposal.id)?.state, 'failed');
    const mismatch = audit.find((e) => e.type === 'edit.mismatch');
    assert.equal(mismatch?.data.reviewedHash, sha256Hex('new\n'));
    assert.notEqual(mismatch?.data.diskHash, mismatch?.data.reviewedHash);
    assert.ok(!audit.some((e) => e.type === 'edit.applied'));
  });

  it('every refused entry names its rule as ruleId (scope, git guard, read policy), never as rule', async () => {
    const policy = policyFrom(
      '{"paths": [{"id": "keys", "paths": "keys/**", "actions": ["read"], "decision": "deny", "reason": "keys stay out"}]}',
    );
    const { gate, audit } = rig({
      deps: {
        policy: () => policy,
        scope: { checkWrite: async () => ({ allowed: false, rule: 'settings:scope.include', reason: 'outside the scope' }) },
        classifyCommand: async () => ({ verdict: 'deny', rule: 'git.push.protected', reason: 'protected branch', invocation: ['push'] }),
      },
    });
    assert.match((await gate.checkScope('package.json', 'write'))?.message ?? '', /rule settings:scope\.include/);
    assert.match((await gate.checkGitCommand('git push origin main'))?.message ?? '', /rule git\.push\.protected/);
    assert.match((await gate.checkRead('keys/id.pem'))?.message ?? '', /Denied by policy rule keys/);
    const refused = audit.filter((e) => e.type === 'refused');
    assert.deepEqual(
      refused.map((e) => e.data.ruleId),
      ['settings:scope.include', 'git.push.protected', 'keys'],
    );
    assert.ok(refused.every((e) => !('rule' in e.data)));
  });

  it('a decision on a change the agent made in its copy records the reviewer by email, like every other decision', async () => {
    const { gate, store, audit } = rig();
    const fields = editFields('src/new.js', null, 'x', {
      origin: 'sandbox/change',
      sandboxChange: { change: 'create', binary: false, size: 1 },
    });
    const proposal = await gate.propose<EditProposal>(fields);
    assert.deepEqual(audit[0]?.data.change, { change: 'create', binary: false, size: 1 });
    decideLater(store, proposal.id);
    await gate.decide(proposal);
    const decision = audit.find((e) => e.type === 'decision');
    assert.deepEqual(decision?.actor, { kind: 'human', id: 'ada@example.test', name: 'Ada', email: 'ada@example.test' });
    const outcome = await gate.apply(gate.current<EditProposal>(proposal.id), { auditData: { origin: 'sandbox/change' } });
    assert.equal(outcome.kind, 'applied');
    assert.equal(audit.find((e) => e.type === 'edit.applied')?.data.origin, 'sandbox/change');
  });

  it('a permission approval grants exactly those bytes once, and the write it covers is born approved naming the grant', async () => {
    const { gate, audit } = rig();
    gate.grantWrite({ path: 'a.txt', newHash: sha256Hex('x'), oldText: null, proposalId: 'p-permission' });
    assert.equal(gate.takeWriteGrant('a.txt', sha256Hex('other')), undefined);
    const grant = gate.takeWriteGrant('a.txt', sha256Hex('x'));
    assert.equal(gate.takeWriteGrant('a.txt', sha256Hex('x')), undefined, 'used once');
    const proposal = await gate.propose<EditProposal>(editFields('a.txt', null, 'x'), { grantedBy: grant?.proposalId });
    assert.equal(proposal.state, 'approved');
    await gate.decide(proposal);
    assert.equal(audit.find((e) => e.type === 'decision')?.data.grantedBy, 'p-permission');
  });

  it('re-diffs an approved edit onto a changed file when the change still fits exactly, and says so', async () => {
    const base = 'one\ntwo\nthree\nfour\nfive\nsix\nseven\n';
    const { gate, store, audit, disk } = rig({ files: { 'a.txt': base } });
    const proposal = await gate.propose<EditProposal>(editFields('a.txt', base, base.replace('two', 'TWO')));
    decideLater(store, proposal.id);
    await gate.decide(proposal);
    disk.set('a.txt', `${base}eight typed by the user\n`);
    const outcome = await gate.apply(gate.current<EditProposal>(proposal.id));
    assert.deepEqual([outcome.kind, outcome.kind === 'applied' && outcome.rediffed], ['applied', true]);
    assert.equal(disk.get('a.txt'), `${base.replace('two', 'TWO')}eight typed by the user\n`);
    assert.deepEqual(
      audit.map((e) => e.type).filter((t) => t.startsWith('proposal.') || t.startsWith('edit.')),
      ['proposal.rediffed', 'edit.applied'],
    );
  });

  it('what the caller writes itself (a deletion, binary bytes) is checked the same way: its stale check, then disk hash against reviewed hash', async () => {
    const { gate, store, audit } = rig();
    const fields = editFields('img.png', null, '', { newHash: 'reviewed', sandboxChange: { change: 'create', binary: true, size: 3 } });
    const proposal = await gate.propose<EditProposal>(fields);
    decideLater(store, proposal.id);
    await gate.decide(proposal);
    const order: string[] = [];
    const outcome = await gate.apply(gate.current<EditProposal>(proposal.id), {
      currentHash: async () => {
        order.push('stale check');
        return null;
      },
      write: async () => {
        order.push('write');
        return { diskHash: 'something else', reviewedHash: 'reviewed' };
      },
      notAppliedNote: 'the sandbox copy was restored',
    });
    assert.deepEqual(order, ['stale check', 'write']);
    assert.equal(outcome.kind, 'mismatch');
    assert.match(store.get(proposal.id)?.stateDetail ?? '', /the sandbox copy was restored$/);
    assert.deepEqual([audit.at(-1)?.type, audit.at(-1)?.data.reviewedHash], ['edit.mismatch', 'reviewed']);
  });

  it('a write that throws fails the proposal, audited as edit.failed (nothing is reported applied)', async () => {
    const { gate, store, audit } = rig();
    const proposal = await gate.propose<EditProposal>(editFields('a.txt', null, 'x'));
    decideLater(store, proposal.id);
    await gate.decide(proposal);
    const outcome = await gate.apply(gate.current<EditProposal>(proposal.id), {
      write: async () => {
        throw new Error('disk full');
      },
    });
    assert.deepEqual([outcome.kind, store.get(proposal.id)?.state], ['failed', 'failed']);
    assert.equal(audit.at(-1)?.type, 'edit.failed');
  });
});

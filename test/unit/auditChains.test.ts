import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  AuditLog,
  LEGACY_CHAIN,
  chainIdForSession,
  listChains,
  queryAuditLog,
  sessionDigests,
  summarizeBy,
  verifyAuditLog,
  writerChainId,
  type AuditEventInput,
} from '../../src/core/audit';

/** Issue 19: the log is a set of chains, one per session (or writer), that never need a merge. */

const human = { kind: 'human' as const, id: 'ada@example.com', name: 'Ada', email: 'ada@example.com' };

function ev(sessionId: string, type: string, data: Record<string, unknown>, actor: AuditEventInput['actor'] = human): AuditEventInput {
  return { sessionId, actor, type, data };
}

describe('audit chains (one per session, issue 19)', () => {
  let root: string;
  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'warden-chains-'));
  });
  afterEach(async () => {
    await fs.rm(root, { recursive: true, force: true });
  });

  const schemaOff = { schemaCheck: 'off' as const };

  it("each session's entries go to its own chain, with its own seq from 1", async () => {
    const log = AuditLog.forWorkspace(root, schemaOff);
    const a1 = await log.append(ev('s-a', 'test.event', { i: 1 }));
    const b1 = await log.append(ev('s-b', 'test.event', { i: 1 }));
    const a2 = await log.append(ev('s-a', 'test.event', { i: 2 }));
    assert.deepEqual([a1.seq, b1.seq, a2.seq], [1, 1, 2]);
    assert.deepEqual(
      (await listChains(root)).map((c) => c.id),
      ['s-a', 's-b'],
    );
    await fs.access(path.join(root, '.warden/audit/sessions/s-a/audit-000001.jsonl'));
    const report = await verifyAuditLog(root);
    assert.equal(report.ok, true);
    assert.deepEqual(
      report.chains.map((c) => [c.chain, c.entries, c.headSeq]),
      [
        ['s-a', 2, 2],
        ['s-b', 1, 1],
      ],
    );
  });

  it('a break in one chain is reported for that chain only; the others still verify', async () => {
    const log = AuditLog.forWorkspace(root, schemaOff);
    for (const s of ['s-a', 's-b', 's-c']) for (let i = 0; i < 3; i++) await log.append(ev(s, 'test.event', { i }));
    const file = path.join(root, '.warden/audit/sessions/s-b/audit-000001.jsonl');
    await fs.writeFile(file, (await fs.readFile(file, 'utf8')).replace('"i":1', '"i":9'));
    const report = await verifyAuditLog(root);
    assert.equal(report.ok, false);
    assert.deepEqual(
      report.chains.map((c) => [c.chain, c.ok]),
      [
        ['s-a', true],
        ['s-b', false],
        ['s-c', true],
      ],
    );
    assert.equal(report.firstBreak?.chain, 's-b');
    assert.equal(report.firstBreak?.line, 3);
    assert.equal(report.entries, 8, 'every entry before a break, in every chain, is counted');
  });

  it('a legacy single-chain log is read alongside the session chains and keeps verifying', async () => {
    const legacy = AuditLog.forWorkspace(root, { ...schemaOff, chain: LEGACY_CHAIN });
    await legacy.append(ev('old', 'test.event', { i: 1 }));
    await legacy.append(ev('old', 'test.event', { i: 2 }));
    await AuditLog.forWorkspace(root, schemaOff).append(ev('new', 'test.event', { i: 1 }));
    const report = await verifyAuditLog(root);
    assert.equal(report.ok, true);
    assert.deepEqual(
      report.chains.map((c) => [c.chain, c.entries]),
      [
        ['legacy', 2],
        ['new', 1],
      ],
    );
    await fs.access(path.join(root, '.warden/audit/audit-000001.jsonl'));
    const { rows } = await queryAuditLog(root);
    assert.deepEqual(
      rows.map((r) => [r.chain, r.sessionId]),
      [
        ['legacy', 'old'],
        ['legacy', 'old'],
        ['new', 'new'],
      ],
    );
  });

  it('chain names are safe file names that keep distinct sessions apart', () => {
    assert.equal(chainIdForSession('s-20261206082000-ab12cd34'), 's-20261206082000-ab12cd34');
    const odd = chainIdForSession('../../etc/passwd');
    assert.match(odd, /^[A-Za-z0-9][A-Za-z0-9._-]*$/);
    assert.ok(!odd.includes('..'));
    assert.notEqual(chainIdForSession('a/b'), chainIdForSession('a:b'));
    assert.notEqual(chainIdForSession(LEGACY_CHAIN), LEGACY_CHAIN, 'no session can write the legacy chain');
    assert.match(writerChainId(), /^w-\d{8}-[0-9a-f]{16}$/);
    assert.equal(writerChainId(), writerChainId(), 'one writer chain per process');
  });

  it('digests sessions per developer and agent: asks, approvals, rejections, automatic, median time to decide', async () => {
    let t = Date.parse('2026-12-01T10:00:00Z');
    const log = AuditLog.forWorkspace(root, { ...schemaOff, now: () => new Date((t += 1000)) });
    const agent = { kind: 'agent' as const, id: 'demo' };
    const policy = { kind: 'policy' as const, id: 'code-writes' };
    const starting = (s: string, name: string): AuditEventInput =>
      ev(s, 'session.starting', {
        workspace: root,
        reviewer: { kind: 'human', name, email: `${name.toLowerCase()}@x.org`, source: 'git config' },
      });
    await log.append(starting('s1', 'Ada'));
    await log.append(ev('s1', 'instruction', { text: 'do it' }));
    await log.append(ev('s1', 'proposal', { proposalId: 'p1', kind: 'edit', path: 'a.js' }, agent));
    await log.append(
      ev('s1', 'decision', { proposalId: 'p1', verdict: 'approve', reviewer: { kind: 'human', name: 'Ada', source: 'git config' } }),
    );
    await log.append(ev('s1', 'proposal', { proposalId: 'p2', kind: 'edit', path: 'b.js' }, agent));
    await log.append(
      ev(
        's1',
        'decision',
        {
          proposalId: 'p2',
          verdict: 'approve',
          ruleId: 'code-writes',
          reviewer: { kind: 'policy', name: 'code-writes', source: 'policy' },
        },
        policy,
      ),
    );
    await log.append(starting('s2', 'Bob'));
    await log.append(ev('s2', 'proposal', { proposalId: 'p3', kind: 'edit', path: 'c.js' }, agent));
    t += 4000;
    await log.append(
      ev('s2', 'decision', { proposalId: 'p3', verdict: 'reject', reviewer: { kind: 'human', name: 'Bob', source: 'git config' } }),
    );
    const digests = await sessionDigests(root);
    assert.deepEqual(
      digests.map((d) => [d.sessionId, d.developer, d.agent, d.asks, d.approvals, d.rejections, d.automatic]),
      [
        ['s1', 'Ada <ada@x.org>', 'demo', 1, 2, 0, 1],
        ['s2', 'Bob <bob@x.org>', 'demo', 1, 0, 1, 0],
      ],
    );
    assert.deepEqual(digests[0]?.rules, { 'code-writes': 1 });
    assert.deepEqual(
      summarizeBy(digests, 'developer').map((g) => [g.key, g.sessions, g.asks, g.medianDecideMs]),
      [
        ['Ada <ada@x.org>', 1, 1, 1000],
        ['Bob <bob@x.org>', 1, 1, 5000],
      ],
    );
    assert.deepEqual(
      summarizeBy(digests, 'agent').map((g) => [g.key, g.sessions, g.approvals, g.rejections, g.automatic, g.medianDecideMs]),
      [['demo', 2, 2, 1, 1, 3000]],
    );
    const filtered = await queryAuditLog(root, { developer: 'bob', type: 'decision' });
    assert.deepEqual(
      filtered.rows.map((r) => r.sessionId),
      ['s2'],
    );
    const byRule = await queryAuditLog(root, { rule: 'code-writes' });
    assert.deepEqual(
      byRule.rows.map((r) => r.proposalId),
      ['p2'],
    );
  });
});

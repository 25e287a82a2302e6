import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  AuditLog,
  filterSessions,
  parseCommitLog,
  percentile,
  sessionDigests,
  summarizeBy,
  type AuditEventInput,
} from '../../src/core/audit';
import { AuditStateMessage, type VerifyStatusView } from '../../src/shared/auditProtocol';
import { auditPanelState } from '../../src/vscode/auditPanelData';

/** Issue 19, the lead's view: filters by developer, agent, rule and date; summaries with median and p90 time to decide. */

const verify: VerifyStatusView = {
  ok: true,
  entries: 0,
  segments: 0,
  headSeq: 0,
  head: null,
  message: 'ok',
  chains: [],
  anchorFailures: [],
  repairable: false,
  anchors: { count: 0, ok: true, message: '' },
  checkedAt: '2026-12-01T00:00:00.000Z',
};

/** Three sessions: Ada with demo (Dec 1), Bob with codex (Dec 2), Ada with codex (Dec 3). */
async function writeTeamLog(root: string): Promise<void> {
  let t = 0;
  const at = (iso: string): void => void (t = Date.parse(iso));
  const log = AuditLog.forWorkspace(root, { schemaCheck: 'off', now: () => new Date(t) });
  const append = async (e: AuditEventInput, advanceMs = 1000): Promise<void> => {
    t += advanceMs;
    await log.append(e);
  };
  const session = async (
    s: string,
    who: string,
    agent: string,
    day: string,
    decisions: Array<[string, 'approve' | 'reject', number, string | null]>,
  ) => {
    at(`${day}T09:00:00Z`);
    const human = { kind: 'human' as const, id: `${who.toLowerCase()}@x.org`, name: who, email: `${who.toLowerCase()}@x.org` };
    await append({
      sessionId: s,
      actor: { kind: 'warden', id: 'warden' },
      type: 'session.starting',
      data: { reviewer: { kind: 'human', name: who, email: human.email, source: 'git config' } },
    });
    await append({ sessionId: s, actor: { kind: 'agent', id: agent }, type: 'agent.started', data: {} });
    await append({ sessionId: s, actor: human, type: 'instruction', data: { text: `work of ${who}` } });
    for (const [i, [p, verdict, waitMs, rule]] of decisions.entries()) {
      await append({
        sessionId: s,
        actor: { kind: 'agent', id: agent },
        type: 'proposal',
        data: { proposalId: `${s}-${p}`, kind: 'edit', path: `src/${p}.js` },
      });
      const reviewer = rule
        ? { kind: 'policy', name: rule, source: 'policy' }
        : { kind: 'human', name: who, email: human.email, source: 'git config' };
      await append(
        {
          sessionId: s,
          actor: rule ? { kind: 'policy', id: rule } : human,
          type: 'decision',
          data: { proposalId: `${s}-${p}`, verdict, reviewer, reason: null, ...(rule ? { ruleId: rule } : {}) },
        },
        waitMs,
      );
      if (i === 0)
        await append({ sessionId: s, actor: { kind: 'warden', id: 'warden' }, type: 'git.committed', data: { commit: `${s}c0ffee` } });
    }
  };
  await session('s-ada-1', 'Ada', 'demo', '2026-12-01', [
    ['a', 'approve', 1000, null],
    ['b', 'approve', 3000, null],
    ['c', 'approve', 10, 'code-writes'],
  ]);
  await session('s-bob-1', 'Bob', 'codex', '2026-12-02', [
    ['a', 'reject', 5000, null],
    ['b', 'approve', 10, 'code-writes'],
  ]);
  await session('s-ada-2', 'Ada', 'codex', '2026-12-03', [
    ['a', 'approve', 2000, null],
    ['b', 'approve', 9000, null],
    ['c', 'reject', 10, 'no-secrets'],
  ]);
}

describe("the lead's view of a team's audit log (issue 19)", function () {
  // A real log on disk (and a git probe): seconds on a loaded machine.
  this.timeout(60_000);
  let root: string;
  before(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'warden-team-view-'));
    await writeTeamLog(root);
  });
  after(async () => {
    await fs.rm(root, { recursive: true, force: true });
  });

  it('percentile is nearest-rank', () => {
    assert.equal(percentile([], 90), null);
    assert.equal(percentile([5], 90), 5);
    assert.equal(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90), 9);
    assert.equal(percentile([10, 1, 2], 90), 10);
    assert.equal(percentile([1, 2, 3, 4], 50), 2);
  });

  it('summarises per developer and per agent: asks, approvals, rejections, automatic, median and p90 time to decide', async () => {
    const digests = await sessionDigests(root);
    assert.deepEqual(
      summarizeBy(digests, 'developer').map((g) => [
        g.key,
        g.sessions,
        g.asks,
        g.approvals,
        g.rejections,
        g.automatic,
        g.medianDecideMs,
        g.p90DecideMs,
      ]),
      [
        ['Ada <ada@x.org>', 2, 4, 5, 1, 2, 2500, 9000],
        ['Bob <bob@x.org>', 1, 1, 1, 1, 1, 5000, 5000],
      ],
    );
    assert.deepEqual(
      summarizeBy(digests, 'agent').map((g) => [g.key, g.sessions, g.asks, g.automatic, g.medianDecideMs, g.p90DecideMs]),
      [
        ['codex', 2, 3, 2, 5000, 9000],
        ['demo', 1, 2, 1, 2000, 3000],
      ],
    );
  });

  it('filters sessions by developer, agent, rule and a date range (a session active in the range)', async () => {
    const digests = await sessionDigests(root);
    const ids = (f: Parameters<typeof filterSessions>[1]): string[] => filterSessions(digests, f).map((s) => s.sessionId);
    assert.deepEqual(ids({ developer: 'ada' }), ['s-ada-1', 's-ada-2']);
    assert.deepEqual(ids({ agent: 'codex' }), ['s-bob-1', 's-ada-2']);
    assert.deepEqual(ids({ rule: 'no-secrets' }), ['s-ada-2']);
    assert.deepEqual(ids({ since: '2026-12-02', until: '2026-12-02' }), ['s-bob-1']);
    assert.deepEqual(ids({ since: '2026-12-02' }), ['s-bob-1', 's-ada-2']);
    assert.deepEqual(ids({ developer: 'ada', agent: 'codex', until: '2026-12-31' }), ['s-ada-2']);
  });

  it('the panel state lists the sessions the filters keep, with their commits, and summarises only those', async () => {
    const all = AuditStateMessage.parse(await auditPanelState(root, {}, verify, false));
    assert.equal(all.sessionsTotal, 3);
    assert.deepEqual(
      all.sessions.map((s) => [s.sessionId, s.asks, s.approved, s.rejected, s.automatic, s.commits]),
      [
        ['s-ada-2', 2, 2, 1, 1, ['s-ada-2c0ffee']],
        ['s-bob-1', 1, 1, 1, 1, ['s-bob-1c0ffee']],
        ['s-ada-1', 2, 3, 0, 1, ['s-ada-1c0ffee']],
      ],
    );
    const codexDec = AuditStateMessage.parse(await auditPanelState(root, { agent: 'codex', since: '2026-12-03' }, verify, false));
    assert.deepEqual(
      codexDec.sessions.map((s) => s.sessionId),
      ['s-ada-2'],
    );
    assert.deepEqual(
      codexDec.byDeveloper.map((g) => [g.key, g.sessions, g.p90DecideMs]),
      [['Ada <ada@x.org>', 1, 9000]],
    );
    const picked = AuditStateMessage.parse(await auditPanelState(root, { developer: 'ada', sessionId: 's-ada-1' }, verify, false));
    assert.deepEqual(
      picked.sessions.map((s) => s.sessionId),
      ['s-ada-2', 's-ada-1'],
      'picking a session keeps the list (the pick filters entries and summaries)',
    );
    assert.deepEqual(
      picked.byAgent.map((g) => [g.key, g.sessions]),
      [['demo', 1]],
    );
    assert.ok(picked.rows.every((r) => r.sessionId === 's-ada-1'));
  });

  it('reads the links of commits to sessions from their trailers; an anchor commit names no producing chain', () => {
    const hash = 'a'.repeat(64);
    const log =
      `c1\x00Agent <agent@x>\x002026-12-01T10:00:00+00:00\x00Add farewell\x00Add farewell\n\nApproved-by: Ada <ada@x.org>\nWarden-Audit: ${hash}\nWarden-Session: s-1\nWarden-Audit-Chain: s-1 4 ${hash}\n\x1e\n` +
      `c2\x00Ada <ada@x.org>\x002026-12-01T11:00:00+00:00\x00Warden audit anchor: 2 chains\x00Warden audit anchor: 2 chains\n\nWarden-Audit-Chain: s-1 9 ${hash}\nWarden-Audit-Chain: s-2 3 ${hash}\n\x1e\n`;
    const links = parseCommitLog(log);
    assert.deepEqual(
      links.map((l) => [l.commit, l.sessions, l.chains, l.entries.length, l.approvedBy, l.anchor]),
      [
        ['c1', ['s-1'], ['s-1'], 1, ['Ada <ada@x.org>'], false],
        ['c2', [], [], 0, [], true],
      ],
    );
  });
});

import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { auditReport, sessionDigests, summarizeBy, verifyAuditAnchors } from '../../src/core/audit';
import { AuditStateMessage, type VerifyStatusView } from '../../src/shared/auditProtocol';
import { auditPanelState } from '../../src/vscode/auditPanelData';
import { buildTeamRepos, type TeamRepos } from '../fixtures/teamRepos';

/**
 * Issue 19 at team scale: 20 developers × 50 sessions, each developer in a real clone writing
 * with the real audit writer, anchoring, pulling (a git merge) and pushing to one bare
 * repository; the lead's clone gets all 1,000 chains. They verify, every anchor is found, the
 * panel's data lists every session, and a break in one developer's chain is reported for that
 * chain alone.
 */

const DEVELOPERS = 20;
const SESSIONS = 50;

describe('20 developers × 50 sessions merged into one clone (issue 19; real git, real writer)', function () {
  this.timeout(900_000);
  let root: string;
  let team: TeamRepos;

  before(async function () {
    this.timeout(900_000);
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'warden-team-scale-'));
    team = await buildTeamRepos(root, { developers: DEVELOPERS, sessionsPerDeveloper: SESSIONS, proposalsPerSession: 2 });
  });

  after(async () => {
    if (root) await fs.rm(root, { recursive: true, force: true });
  });

  it("the lead's clone holds every chain; each verifies and every developer's anchors are found", async () => {
    const report = await verifyAuditAnchors(team.lead);
    assert.equal(report.chain.ok, true, report.firstFailure?.reason);
    const chains = report.chain.chains.filter((c) => c.chain !== 'legacy');
    assert.equal(chains.length, DEVELOPERS * SESSIONS);
    assert.equal(report.chain.entries, DEVELOPERS * SESSIONS * 8, 'start, agent, instruction, 2 × (proposal, decision), end');
    assert.equal(report.anchors.length, DEVELOPERS * SESSIONS, 'one anchor per chain, from 20 anchor commits');
    assert.ok(report.anchors.every((a) => a.ok));
    assert.equal(report.ok, true);
  });

  it('the panel lists the 1,000 sessions with per-developer and per-agent summaries', async () => {
    const digests = await sessionDigests(team.lead);
    assert.equal(digests.length, DEVELOPERS * SESSIONS);
    const byDeveloper = summarizeBy(digests, 'developer');
    assert.equal(byDeveloper.length, DEVELOPERS);
    assert.ok(byDeveloper.every((g) => g.sessions === SESSIONS && g.asks === SESSIONS && g.automatic === SESSIONS));
    const verify: VerifyStatusView = {
      ok: true,
      entries: 0,
      segments: 0,
      headSeq: 0,
      head: null,
      message: '',
      chains: [],
      anchorFailures: [],
      repairable: false,
      anchors: { count: 0, ok: true, message: '' },
      checkedAt: new Date().toISOString(),
    };
    const state = AuditStateMessage.parse(await auditPanelState(team.lead, {}, verify, false));
    assert.equal(state.sessions.length, DEVELOPERS * SESSIONS);
    assert.equal(state.total, DEVELOPERS * SESSIONS * 8);
    assert.deepEqual(
      state.byAgent.map((g) => g.key),
      ['codex-acp', 'demo', 'gemini'],
    );
    const one = AuditStateMessage.parse(await auditPanelState(team.lead, { developer: 'Dev 07', agent: 'gemini' }, verify, false));
    assert.ok(one.sessions.length > 0 && one.sessions.every((s) => s.developer === 'Dev 07 <dev.07@example.com>' && s.agent === 'gemini'));
    assert.equal(one.byDeveloper.length, 1);
  });

  it('a report over the whole history names every session and verifies', async () => {
    const seed = (await import('simple-git')).simpleGit(team.lead);
    const first = (await seed.raw(['rev-list', '--max-parents=0', 'HEAD'])).trim();
    const report = await auditReport(team.lead, `${first}..HEAD`);
    assert.equal(report.ok, true);
    assert.equal(report.sessions.length, DEVELOPERS * SESSIONS);
    assert.equal(report.byDeveloper.length, DEVELOPERS);
  });

  it("a tampered line in one developer's chain is reported for that chain only", async () => {
    const victim = team.sessions.get('Dev 07')?.[13];
    assert.ok(victim);
    const file = path.join(team.lead, '.warden', 'audit', 'sessions', victim, 'audit-000001.jsonl');
    const lines = (await fs.readFile(file, 'utf8')).split('\n');
    lines[4] = (lines[4] ?? '').replace('"verdict":"', '"verdict":"x');
    await fs.writeFile(file, lines.join('\n'));
    const report = await verifyAuditAnchors(team.lead);
    const broken = report.chain.chains.filter((c) => !c.ok);
    assert.deepEqual(
      broken.map((c) => [c.chain, c.firstBreak?.line]),
      [[victim, 6]],
      'the break is where the next entry no longer chains to the changed line',
    );
    assert.equal(report.chain.chains.filter((c) => c.ok).length, DEVELOPERS * SESSIONS - 1);
  });
});

/**
 * Issue 19's benchmark: a team's log after a pull, 1,000 sessions (about 200,000 entries) by 20
 * developers, one chain per session, each beside `sha256sum` of the same files in the same run:
 *
 * - verify of every chain, the `warden audit verify` path (`verifyAuditAnchors`: each chain,
 *   then the git anchors);
 * - the Audit panel's data load (`auditPanelState` in src/vscode/auditPanelData.ts, which imports
 *   no `vscode`: the query, the session digests, the per-developer and per-agent summaries).
 *
 * The workspace is written once by the real writer (`AuditLog.append`, fsync and all; the 20
 * developers append at once, each to their own session chains) and cached in
 * bench/results/team-<sessions>/ (git ignores it); delete it to write it again.
 * `npx tsx bench/auditTeam.ts` or `npm run bench -- auditTeam`. WARDEN_BENCH_TEAM_SESSIONS
 * (default 1000) and WARDEN_BENCH_TEAM_RUNS (default 3) change the size and the runs.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { AuditLog, listAllSegments, verifyAuditAnchors, type AuditEventInput } from '../src/core/audit';
import { sha256Hex } from '../src/core/util/hash';
import type { VerifyStatusView } from '../src/shared/auditProtocol';
import { auditPanelState } from '../src/vscode/auditPanelData';
import { type BenchFigure, formatTable } from './lib';

const SESSIONS = Number(process.env.WARDEN_BENCH_TEAM_SESSIONS ?? 1000);
const RUNS = Number(process.env.WARDEN_BENCH_TEAM_RUNS ?? 3);
const DEVELOPERS = 20;
/** Edits per session: each a proposal, a decision and (when approved) edit.applied; about 200 entries a session. */
const EDITS = 66;

function developer(d: number): { name: string; email: string } {
  return { name: `Developer ${d + 1}`, email: `dev${d + 1}@example.com` };
}

/** One session as the gate writes it: start, instruction, edits decided by policy or by the developer, end. */
function sessionEvents(d: number, s: number): AuditEventInput[] {
  const sessionId = `s-2026120${1 + (s % 9)}-d${d + 1}-${String(s).padStart(3, '0')}-${sha256Hex(`${d}/${s}`).slice(0, 8)}`;
  const dev = developer(d);
  const human = { kind: 'human' as const, id: dev.email, name: dev.name, email: dev.email };
  const agent = { kind: 'agent' as const, id: ['codex-acp', 'gemini-cli', 'claude-code'][(d + s) % 3] ?? 'demo' };
  const warden = { kind: 'warden' as const, id: 'warden' };
  const reviewer = { kind: 'human' as const, name: dev.name, email: dev.email, source: 'git config' };
  const events: AuditEventInput[] = [
    {
      sessionId,
      actor: warden,
      type: 'session.starting',
      data: { workspace: '/work/repo', reviewer, owner: { host: `host-${d}`, pid: 1000 + s } },
    },
    {
      sessionId,
      actor: human,
      type: 'instruction',
      data: { text: `Session ${s} of ${dev.name}: refactor module ${s % 40} and keep the tests green` },
    },
  ];
  for (let e = 0; e < EDITS; e++) {
    const proposalId = `${sessionId}-p${e}`;
    const file = `src/module${(s + e) % 50}.ts`;
    events.push({
      sessionId,
      actor: agent,
      type: 'proposal',
      data: {
        proposalId,
        kind: 'edit',
        title: `Edit ${file}`,
        origin: 'fs/write_text_file',
        path: file,
        baseHash: sha256Hex(`base ${s} ${e}`),
        newHash: sha256Hex(`new ${s} ${e}`),
        diff: `--- a/${file}\n+++ b/${file}\n@@ -1,3 +1,3 @@\n const a = 1;\n-const b = ${e};\n+const b = ${e + 1};\n const c = 3;\n`,
      },
    });
    const byPolicy = e % 3 !== 0;
    const approve = e % 10 !== 9;
    events.push(
      byPolicy
        ? {
            sessionId,
            actor: { kind: 'policy', id: 'code-writes' },
            type: 'decision',
            data: {
              proposalId,
              verdict: 'approve',
              reviewer: { kind: 'policy', name: 'code-writes', source: 'team policy' },
              reason: 'sources are reviewed in the PR',
              ruleId: 'code-writes',
            },
          }
        : {
            sessionId,
            actor: human,
            type: 'decision',
            data: { proposalId, verdict: approve ? 'approve' : 'reject', reviewer, reason: approve ? null : 'not this way' },
          },
    );
    if (byPolicy || approve) {
      const hash = sha256Hex(`new ${s} ${e}`);
      events.push({ sessionId, actor: warden, type: 'edit.applied', data: { proposalId, path: file, reviewedHash: hash, diskHash: hash } });
    }
  }
  events.push({ sessionId, actor: warden, type: 'session.ended', data: { reason: 'stopped by the user', wasOpen: true } });
  return events;
}

/** Writes (or reuses) the team workspace with the real writer; returns its root. */
async function teamWorkspace(): Promise<string> {
  const root = path.join(__dirname, 'results', `team-${SESSIONS}`);
  const marker = path.join(root, 'complete.json');
  if (existsSync(marker)) return root;
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  process.stderr.write(
    `[bench] writing ${SESSIONS} sessions by ${DEVELOPERS} developers with AuditLog.append (once; cached in ${root})…\n`,
  );
  const started = Date.now();
  let entries = 0;
  // Each developer's clone: their own clock, their sessions one after another; all 20 at once.
  await Promise.all(
    Array.from({ length: DEVELOPERS }, async (_, d) => {
      let tick = Date.parse('2026-12-01T08:00:00.000Z') + d * 1000;
      const log = AuditLog.forWorkspace(root, { schemaCheck: 'throw', now: () => new Date((tick += 1700)) });
      for (let s = d; s < SESSIONS; s += DEVELOPERS) {
        for (const event of sessionEvents(d, s)) {
          await log.append(event);
          entries++;
        }
      }
    }),
  );
  execFileSync('git', ['init', '-q', root]);
  writeFileSync(
    marker,
    `${JSON.stringify({ sessions: SESSIONS, developers: DEVELOPERS, entries, seconds: (Date.now() - started) / 1000 })}\n`,
  );
  process.stderr.write(`[bench] ${entries} entries in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
  return root;
}

/** The verify status the panel passes along (its verify is the figure above). */
const VERIFIED: VerifyStatusView = {
  ...{ ok: true, entries: 0, segments: 0, headSeq: 0, head: null, message: '', chains: [], anchorFailures: [], repairable: false },
  ...{ anchors: { count: 0, ok: true, message: '' }, checkedAt: new Date(0).toISOString() },
};

async function seconds(body: () => unknown): Promise<number> {
  const start = process.hrtime.bigint();
  await body();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

export async function run(): Promise<BenchFigure[]> {
  const root = await teamWorkspace();
  const { entries } = JSON.parse(readFileSync(path.join(root, 'complete.json'), 'utf8')) as { entries: number };
  const files = (await listAllSegments(root)).map((s) => s.path);
  const mib = files.reduce((n, f) => n + statSync(f).size, 0) / 1024 / 1024;
  execFileSync('cat', files, { stdio: ['ignore', 'ignore', 'inherit'] });
  const times = { sha: [] as number[], verify: [] as number[], panel: [] as number[] };
  for (let r = 0; r < RUNS; r++) {
    times.sha.push(await seconds(() => execFileSync('sha256sum', files, { stdio: ['ignore', 'ignore', 'inherit'] })));
    times.verify.push(
      await seconds(async () => {
        const report = await verifyAuditAnchors(root);
        if (!report.ok || report.chain.entries !== entries)
          throw new Error(`the team log does not verify: ${JSON.stringify(report.chain.firstBreak)}`);
      }),
    );
    times.panel.push(
      await seconds(async () => {
        const state = await auditPanelState(root, {}, VERIFIED, false);
        if (state.total !== entries || state.sessions.length !== SESSIONS)
          throw new Error(`the panel read ${state.total} entries, ${state.sessions.length} sessions`);
      }),
    );
  }
  const best = (values: number[]): number => Math.min(...values);
  const list = (values: number[]): string => values.map((v) => v.toFixed(2)).join(', ');
  process.stderr.write(
    `[bench] ${files.length} chains, ${entries} entries, ${mib.toFixed(0)} MiB; runs (s): sha256sum ${list(times.sha)}; verify ${list(times.verify)}; panel ${list(times.panel)}\n`,
  );
  const label = `sha256sum, same ${files.length} files`;
  const size = `${SESSIONS} sessions, ${DEVELOPERS} developers, ${(entries / 1000).toFixed(0)}k entries`;
  return [
    {
      figure: `team audit verify, ${size}, throughput`,
      unit: 'MiB/s',
      warden: mib / best(times.verify),
      reference: mib / best(times.sha),
      referenceLabel: label,
      target: 'ratio >= 0.6',
    },
    {
      figure: `team audit verify, ${size}, wall time`,
      unit: 's',
      warden: best(times.verify),
      reference: best(times.sha),
      referenceLabel: label,
      target: 'report',
    },
    {
      figure: `Audit panel data load, ${size}`,
      unit: 's',
      warden: best(times.panel),
      reference: best(times.sha),
      referenceLabel: label,
      target: 'report',
    },
  ];
}

if (require.main === module) {
  void run()
    .then((figures) => console.log(formatTable(figures)))
    .catch((error: unknown) => {
      console.error(error);
      process.exit(1);
    });
}

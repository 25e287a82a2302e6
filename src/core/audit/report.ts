import { verifyAuditAnchors, type AnchorCheck } from './anchor';
import { auditBlame, type AuditBlame } from './blame';
import { formatBlameMarkdown, markdownCell as cell } from './blameFormat';
import { gitAt, readCommitLinks, type CommitLinks } from './gitLinks';
import { SESSIONS_DIR } from './chains';
import { AUDIT_DIR } from './segments';
import { sessionDigests, summarizeBy, type GroupSummary, type SessionDigest } from './team';
import type { ChainVerifyReport } from './types';

/**
 * `warden audit report --range A..B`: the agent sessions behind the commits of a range, for
 * a pull request. Sessions are found three ways, so commits made by other means count too:
 * `Warden-Session:` trailers (Commit Approved Changes), chains named by `Warden-Audit-Chain:`
 * trailers of the range's commits except anchor commits (which name every chain), and chains
 * whose files the range adds or changes.
 */

export interface ReportCommit {
  commit: string;
  subject: string;
  author: string;
  sessions: string[];
  chains: string[];
  approvedBy: string[];
}

export interface PrReport {
  range: string;
  ok: boolean;
  commits: ReportCommit[];
  sessions: SessionDigest[];
  /** Sessions a commit names whose log is not in the workspace. */
  missingSessions: string[];
  byDeveloper: GroupSummary[];
  byAgent: GroupSummary[];
  /** Every chain's verify result (a break anywhere fails the report). */
  chains: ChainVerifyReport[];
  /** Anchors that failed (a chain gone or cut). */
  failedAnchors: AnchorCheck[];
  /** Which sessions and approvals stand behind each line the range adds. */
  blame: AuditBlame;
}

export class AuditReportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuditReportError';
  }
}

export async function auditReport(workspaceRoot: string, range: string): Promise<PrReport> {
  const g = gitAt(workspaceRoot);
  let links: CommitLinks[];
  let changed: string;
  try {
    links = await readCommitLinks(g, [range]);
    const [base, head] = range.includes('...') ? range.split('...') : range.split('..');
    const diffRange = head === undefined ? [range] : [`${base || 'HEAD'}...${head || 'HEAD'}`];
    changed = await g.raw([
      'diff',
      '--name-only',
      '--no-renames',
      ...diffRange,
      '--',
      `${AUDIT_DIR.split('\\').join('/')}/${SESSIONS_DIR}`,
    ]);
  } catch (error) {
    throw new AuditReportError(`git could not read the range ${range}: ${error instanceof Error ? error.message.trim() : String(error)}`);
  }
  const commits: ReportCommit[] = links.map((c) => ({
    commit: c.commit,
    subject: c.subject,
    author: c.author,
    sessions: c.sessions,
    chains: c.chains,
    approvedBy: c.approvedBy,
  }));
  const sessionIds = new Set(links.flatMap((c) => c.sessions));
  const chainIds = new Set(links.flatMap((c) => c.chains));
  for (const file of changed.split('\n')) {
    const m = new RegExp(`/${SESSIONS_DIR}/([^/]+)/`).exec(file.trim());
    if (m?.[1]) chainIds.add(m[1]);
  }
  const [all, anchors, blame] = await Promise.all([
    sessionDigests(workspaceRoot),
    verifyAuditAnchors(workspaceRoot),
    auditBlame(workspaceRoot, range).catch((error: unknown) => {
      throw new AuditReportError(error instanceof Error ? error.message : String(error));
    }),
  ]);
  const sessions = all.filter((s) => sessionIds.has(s.sessionId) || s.chains.some((c) => chainIds.has(c)));
  const found = new Set(all.map((s) => s.sessionId));
  const missingSessions = [...sessionIds].filter((s) => !found.has(s)).sort();
  const failedAnchors = anchors.anchors.filter((a) => !a.ok);
  return {
    range,
    ok: anchors.ok && missingSessions.length === 0,
    commits,
    sessions,
    missingSessions,
    byDeveloper: summarizeBy(sessions, 'developer'),
    byAgent: summarizeBy(sessions, 'agent'),
    chains: anchors.chain.chains,
    failedAnchors,
    blame,
  };
}

const duration = (ms: number | null): string =>
  ms === null ? '–' : ms < 1000 ? `${Math.round(ms)} ms` : ms < 120_000 ? `${(ms / 1000).toFixed(1)} s` : `${(ms / 60_000).toFixed(1)} min`;

/** Markdown for a PR comment; every value from the log or git is escaped (it is untrusted text). */
export function formatReportMarkdown(report: PrReport): string {
  const out: string[] = [];
  const broken = report.chains.filter((c) => !c.ok);
  out.push(`## Warden audit report for \`${report.range.replace(/`/g, '')}\``, '');
  out.push(
    report.ok
      ? `**Verified**: ${report.chains.length} audit chain(s) intact, every anchor found.`
      : `**Does not verify**: ${broken.length} broken chain(s), ${report.failedAnchors.length} failed anchor(s), ${report.missingSessions.length} missing session log(s).`,
    '',
  );
  for (const c of broken)
    out.push(
      `- chain ${cell(c.chain)}: ${cell(c.firstBreak ? `${c.firstBreak.file}:${c.firstBreak.line}: ${c.firstBreak.reason}` : 'broken')}`,
    );
  for (const a of report.failedAnchors) out.push(`- ${cell(a.reason ?? 'anchor failed')}`);
  for (const s of report.missingSessions) out.push(`- session ${cell(s)} is named by a commit but its log is not in the repository`);
  if (broken.length + report.failedAnchors.length + report.missingSessions.length > 0) out.push('');
  out.push(`${report.commits.length} commit(s), ${report.sessions.length} agent session(s).`, '');
  if (report.sessions.length > 0) {
    out.push('| Session | Developer | Agent | Instruction | Asks | Approved | Rejected | Automatic | Commits |');
    out.push('|---|---|---|---|---|---|---|---|---|');
    for (const s of report.sessions) {
      out.push(
        `| ${cell(s.sessionId)} | ${cell(s.developer)} | ${cell(s.agent)} | ${cell((s.instruction ?? '').slice(0, 80))} | ${s.asks} | ${s.approvals} | ${s.rejections} | ${s.automatic} | ${s.commits.map((c) => c.slice(0, 10)).join(' ') || '–'} |`,
      );
    }
    out.push('', '### Decisions', '');
    for (const s of report.sessions) {
      if (s.decisions.length === 0) continue;
      out.push(`- **${cell(s.sessionId)}**`);
      for (const d of s.decisions) {
        const rule = d.ruleId ? ` (rule ${cell(d.ruleId)})` : '';
        out.push(`  - ${d.verdict === 'approve' ? 'approved' : '**rejected**'} ${cell(d.subject)} by ${cell(d.by)}${rule}`);
      }
    }
    out.push('', '### Per developer', '', ...groupTable(report.byDeveloper), '', '### Per agent', '', ...groupTable(report.byAgent));
  }
  out.push('', ...formatBlameMarkdown(report.blame));
  return `${out.join('\n')}\n`;
}

function groupTable(groups: GroupSummary[]): string[] {
  return [
    '| Who | Sessions | Asks | Approvals | Rejections | Automatic | Median time to decide | p90 time to decide |',
    '|---|---|---|---|---|---|---|---|',
    ...groups.map(
      (g) =>
        `| ${cell(g.key)} | ${g.sessions} | ${g.asks} | ${g.approvals} | ${g.rejections} | ${g.automatic} | ${duration(g.medianDecideMs)} | ${duration(g.p90DecideMs)} |`,
    ),
  ];
}

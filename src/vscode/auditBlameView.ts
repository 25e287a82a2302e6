import type { AuditBlame } from '../core/audit';
import type { AuditBlameMessage, BlameRangeView } from '../shared/auditProtocol';

/**
 * Audit blame as the panel shows it: per changed file, runs of consecutive lines with the same
 * commit and the same approval (or none), each naming its session, agent and approver through
 * `approvals`. No `vscode` import: unit-tested on a real blame.
 */

/** Ranges sent to the webview at most (a large range of commits is for the CLI). */
export const BLAME_RANGE_LIMIT = 2000;
const FIRST_LINE_LIMIT = 160;

export function toBlameView(blame: AuditBlame, limit = BLAME_RANGE_LIMIT): AuditBlameMessage {
  let budget = limit;
  let omitted = 0;
  const files = blame.files.map((f) => {
    const ranges: BlameRangeView[] = [];
    for (const l of f.lines) {
      const last = ranges[ranges.length - 1];
      if (last && last.end === l.line - 1 && last.commit === l.commit && last.approval === l.approval && last.linked === l.linked) {
        last.end = l.line;
        continue;
      }
      ranges.push({
        start: l.line,
        end: l.line,
        commit: l.commit,
        approval: l.approval,
        linked: l.linked,
        firstLine: l.text.slice(0, FIRST_LINE_LIMIT),
      });
    }
    const kept = ranges.slice(0, Math.max(0, budget));
    budget -= kept.length;
    omitted += ranges.length - kept.length;
    return { path: f.path, lines: f.lines.length, attributed: f.attributed, sessions: f.sessions, ranges: kept };
  });
  return {
    type: 'blame',
    target: blame.target,
    commits: blame.commits.map((c) => ({
      commit: c.commit,
      subject: c.subject,
      author: c.author,
      time: c.time,
      sessions: c.sessions,
      approvedBy: c.approvedBy,
    })),
    files,
    approvals: blame.approvals.map((a) => ({
      id: a.id,
      sessionId: a.sessionId,
      proposalId: a.proposalId,
      approvedBy: a.approvedBy,
      ruleId: a.ruleId,
      automatic: a.automatic,
      decidedAt: a.decidedAt,
      agent: a.agent,
      developer: a.developer,
    })),
    omittedRanges: omitted,
  };
}

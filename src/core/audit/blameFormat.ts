import type { AuditBlame, BlameApproval, BlameLine } from './blame';

/** Audit blame as text: the CLI's output, the editor's blame document, and the report's section. */

const short = (commit: string | null): string => (commit ? commit.slice(0, 10) : 'uncommitted');

/** Control and bidi characters (the log and the files are untrusted text) shown as escapes, so a line cannot fake another. */
const safe = (text: string): string =>
  [...text].map((c) => (isHidden(c.codePointAt(0) ?? 0) ? `\\u{${(c.codePointAt(0) ?? 0).toString(16)}}` : c)).join('');

function isHidden(code: number): boolean {
  return (code < 0x20 && code !== 0x09) || code === 0x7f || (code >= 0x202a && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069);
}

function who(a: BlameApproval): string {
  if (a.automatic && a.ruleId && a.approvedBy === `policy rule ${a.ruleId}`) return `automatic (policy rule ${a.ruleId})`;
  const rule = a.ruleId ? ` (rule ${a.ruleId})` : '';
  return `${a.automatic ? 'automatic' : 'approved'} by ${a.approvedBy}${rule}`;
}

/** One line: `  12 abc1234567 s-2026… approved by Ada <ada@x> (rule r) | text`. */
export function formatBlameLine(line: BlameLine, approvals: ReadonlyMap<number, BlameApproval>, width = 5): string {
  const a = line.approval === null ? undefined : approvals.get(line.approval);
  const source = a ? `session ${a.sessionId} ${who(a)}${line.linked ? '' : ' [matched by content]'}` : 'no approved edit';
  return `${String(line.line).padStart(width)} ${short(line.commit).padEnd(11)} ${safe(source)} | ${safe(line.text)}`;
}

export function formatBlameText(blame: AuditBlame): string {
  const approvals = new Map(blame.approvals.map((a) => [a.id, a]));
  const out: string[] = [`Audit blame of ${safe(blame.target)}`];
  for (const c of blame.commits) {
    out.push(
      `commit ${short(c.commit)} ${safe(c.subject)} (${safe(c.author)}): ${c.sessions.length ? `sessions ${c.sessions.join(', ')}` : 'no agent session'}`,
    );
  }
  if (blame.files.length === 0) out.push('No changed lines.');
  for (const f of blame.files) {
    out.push(
      '',
      `${safe(f.path)}: ${f.attributed} of ${f.lines.length} lines from approved edits${f.sessions.length ? ` (sessions ${f.sessions.join(', ')})` : ''}`,
    );
    const width = String(f.lines[f.lines.length - 1]?.line ?? 1).length;
    for (const l of f.lines) out.push(formatBlameLine(l, approvals, width));
  }
  return `${out.join('\n')}\n`;
}

/** A Markdown table cell: every value from the log or git is untrusted text. */
export const markdownCell = (text: string | number | null): string =>
  String(text ?? '–')
    .replace(/\|/g, '\\|')
    .replace(/[\r\n]+/g, ' ')
    .replace(/([`*_<>[\]])/g, '\\$1');

/** The report's section: per changed file, how many added lines approved edits account for, and by whom. */
export function formatBlameMarkdown(blame: AuditBlame): string[] {
  const approvals = new Map(blame.approvals.map((a) => [a.id, a]));
  const out = ['### Blame', ''];
  if (blame.files.length === 0) return [...out, 'No changed lines outside the audit log.'];
  out.push('| File | Added lines | From approved edits | Sessions | Approved by |', '|---|---|---|---|---|');
  for (const f of blame.files) {
    const by = [...new Set(f.approvals.map((id) => approvals.get(id)).map((a) => (a ? who(a) : '')))].filter(Boolean);
    out.push(
      `| ${markdownCell(f.path)} | ${f.lines.length} | ${f.attributed} | ${markdownCell(f.sessions.join(', ') || '–')} | ${markdownCell(by.join('; ') || '–')} |`,
    );
  }
  return out;
}

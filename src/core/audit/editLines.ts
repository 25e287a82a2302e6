import { parsePatch } from 'diff';
import { readAuditEvent } from './events';
import { AuditRowBuilder, readAuditLog } from './query';

/**
 * The lines each approved edit put into the workspace, read from the log: the `+` lines of the
 * proposal's recorded diff (or of its last re-diff), narrowed to the hunks the reviewer accepted,
 * or the reviewer's own edited diff. Blame matches changed lines against them by path and content.
 */

export interface ApprovedEdit {
  sessionId: string;
  proposalId: string;
  /** Workspace-relative, forward slashes. */
  path: string;
  /** `Name <email>` of the person, or `policy rule <id>`, or `warden: …`. */
  approvedBy: string;
  ruleId: string | null;
  /** Decided by a policy rule or an earlier approval, not by a person. */
  automatic: boolean;
  decidedAt: string;
  agent: string | null;
  developer: string | null;
  /** The decision entry. */
  decision: { chain: string; seq: number; hash: string };
  /** The permission request whose approval this edit was applied on (`approvedBy` and `ruleId` are that approval's). */
  grantedBy: string | null;
  /** Lines the applied edit added, without their terminator. */
  added: string[];
  /** An `edit.applied` (or `edit.mismatch`) entry follows: the edit reached the workspace. */
  applied: boolean;
}

interface Pending {
  sessionId: string;
  path: string;
  diff: string;
  edit?: ApprovedEdit;
}

/** `+` lines of a unified diff, hunk by hunk (0-based hunk index as in src/core/proposals/hunks.ts). */
export function addedLinesByHunk(diff: string): string[][] {
  const patch = parsePatch(diff)[0];
  if (!patch) return [];
  return patch.hunks.map((h) => h.lines.filter((l) => l.startsWith('+')).map((l) => l.slice(1).replace(/\r$/, '')));
}

/**
 * One pass over the log: every approved edit that was applied to the workspace, with the lines it
 * added. An approval without `edit.applied` changed nothing there: a stale or failed edit, or
 * turn review's go-ahead for a write into the sandbox copy (that change comes back as its own
 * proposal, decided on its own).
 */
export async function approvedEdits(workspaceRoot: string): Promise<ApprovedEdit[]> {
  const builder = new AuditRowBuilder();
  const pending = new Map<string, Pending>();
  // Who approved each proposal (permission requests too): an edit granted by an earlier approval is that approval's.
  const approvals = new Map<string, Pick<ApprovedEdit, 'approvedBy' | 'ruleId' | 'automatic'>>();
  for await (const record of readAuditLog(workspaceRoot)) {
    const row = builder.row(record);
    const event = readAuditEvent(record.entry);
    const key = row.proposalId ? `${record.entry.sessionId}\u0000${row.proposalId}` : undefined;
    if (!key || !row.proposalId) continue;
    if (event.known && event.type === 'decision' && event.data.verdict === 'approve') {
      approvals.set(key, { approvedBy: row.reviewer ?? record.entry.actor.id, ruleId: row.ruleId, automatic: row.automatic === true });
    }
    if (event.known && event.type === 'proposal' && event.data.kind === 'edit' && event.data.path && event.data.diff) {
      pending.set(key, { sessionId: record.entry.sessionId, path: event.data.path, diff: event.data.diff });
      continue;
    }
    const p = pending.get(key);
    if (!p) continue;
    if (event.known && event.type === 'proposal.rediffed' && typeof event.data.diff === 'string') p.diff = event.data.diff;
    else if (event.known && event.type === 'decision' && event.data.verdict === 'approve') {
      const d = event.data;
      const hunks = addedLinesByHunk(d.editedDiff ?? p.diff);
      const accepted = !d.editedDiff && d.hunks ? new Set(d.hunks.accepted) : undefined;
      const grant = d.grantedBy ? approvals.get(`${record.entry.sessionId}\u0000${d.grantedBy}`) : undefined;
      p.edit = {
        sessionId: p.sessionId,
        proposalId: row.proposalId,
        path: p.path.split('\\').join('/').replace(/^\.\//, ''),
        ...(grant ?? approvals.get(key) ?? { approvedBy: record.entry.actor.id, ruleId: null, automatic: true }),
        grantedBy: grant && d.grantedBy ? d.grantedBy : null,
        decidedAt: record.entry.time,
        agent: row.agent,
        developer: row.developer,
        decision: { chain: record.chain, seq: record.entry.seq, hash: record.hash },
        added: hunks.filter((_, i) => !accepted || accepted.has(i)).flat(),
        applied: false,
      };
    } else if (event.known && event.type === 'decision') pending.delete(key);
    else if ((record.entry.type === 'edit.applied' || record.entry.type === 'edit.mismatch') && p.edit) p.edit.applied = true;
  }
  return [...pending.values()]
    .filter((p): p is Pending & { edit: ApprovedEdit } => p.edit !== undefined && p.edit.applied && p.edit.added.length > 0)
    .map((p) => p.edit)
    .sort((a, b) => a.decidedAt.localeCompare(b.decidedAt));
}

/**
 * Pure derivations from the Review state: how pending proposals are grouped (by session and
 * file, or by agent turn), which hunks can be decided alone, and what the keys walk through.
 */
import type { Decision } from '../../src/core/proposals/model';
import type { ProposalView } from '../../src/shared/reviewProtocol';
import { permissionEditIsEditable, textIsEditable } from '../../src/core/proposals/editable';
import { groupByTurn, turnKey } from '../../src/core/proposals/turns';
import { bodyRows, DIFF_ROW_LIMIT, hunkCount, parsedDiff } from './diff';
import type { ReviewState } from './state';

export const KIND_LABELS: Record<ProposalView['kind'], string> = {
  edit: 'Edit',
  command: 'Command',
  permission: 'Permission',
  question: 'Needs your input',
  network: 'Network',
};

export function stateLabel(proposal: ProposalView): string {
  switch (proposal.state) {
    case 'pending':
      return 'Pending';
    case 'approved':
      return proposal.kind === 'command' ? 'Approved · running' : 'Approved · applying';
    case 'rejected':
      return 'Rejected';
    case 'applied':
      return proposal.kind === 'command' ? 'Ran' : proposal.kind === 'permission' ? 'Answered' : 'Applied';
    case 'failed':
      return 'Failed';
    case 'stale':
      return 'Stale';
    case 'orphaned':
      return 'Orphaned';
  }
}

/**
 * Who decided and how, in words that say it: a person, a policy rule, or Warden applying it
 * on the strength of an earlier approval (never "Accepted by warden").
 */
export function decidedBy(decision: Decision): string {
  const reviewer = decision.reviewer;
  const changed = decision.hunks
    ? ', only the hunks accepted there'
    : decision.editedText !== undefined
      ? ', with the reviewer’s edit'
      : '';
  if (reviewer.kind === 'policy') return `${decision.verdict === 'approve' ? 'Allowed' : 'Denied'} by policy rule ${reviewer.name}`;
  if (reviewer.kind === 'warden') {
    if (reviewer.source === 'earlier approval') {
      const grant = decision.grantedBy;
      const of = grant ? `“${grant.title}”${grant.approvedBy ? ` (by ${grant.approvedBy})` : ''}` : 'an earlier permission request';
      return `Applied automatically: covered by the approval of ${of}${changed}`;
    }
    const verb = decision.verdict === 'approve' ? 'Accepted' : 'Rejected';
    return `${verb} automatically by Warden (${reviewer.source})`;
  }
  return `${humanVerb(decision)} by ${reviewer.name}`;
}

/** What a person did: rejected, accepted, partly accepted (some hunks), accepted with their edits. */
export function humanVerb(decision: Decision): string {
  if (decision.verdict === 'reject') return 'Rejected';
  if (decision.hunks) return 'Partly accepted';
  if (decision.editedText !== undefined || decision.editedCommand !== undefined) return 'Accepted with edits';
  return 'Accepted';
}

export function decisionSummary(proposal: ProposalView): string | undefined {
  const decision = proposal.decision;
  if (!decision) return undefined;
  const words = decidedBy(decision);
  if (decision.reviewer.kind !== 'human') return words;
  if (decision.verdict === 'reject') return decision.reason ? `${words}: ${decision.reason}` : words;
  if (decision.hunks) return `${words}: ${decision.hunks.accepted.length} hunk(s) written, ${decision.hunks.rejected.length} rejected`;
  return words;
}

export function isOpen(state: ReviewState, proposal: ProposalView): boolean {
  return state.ui.open[proposal.id] ?? proposal.state === 'pending';
}

export function hasEdit(proposal: ProposalView): boolean {
  return proposal.kind === 'edit' || (proposal.kind === 'permission' && proposal.edit !== undefined);
}

/** The edit a reviewer may change before accepting: a text edit Warden writes, or a permission request's placed edit. */
export interface ReviewableEdit {
  path: string;
  diff: string;
  /** Pins hunk choices and edited text to the diff the reviewer saw. */
  newHash: string;
}

export function reviewableEdit(proposal: ProposalView): ReviewableEdit | undefined {
  if (proposal.kind === 'edit') return textIsEditable(proposal) ? proposal : undefined;
  if (proposal.kind === 'permission' && proposal.edit && permissionEditIsEditable(proposal)) return proposal.edit;
  return undefined;
}

/** Whether the reviewer can edit this proposal's text before accepting. */
export function canEditText(proposal: ProposalView): boolean {
  return reviewableEdit(proposal) !== undefined;
}

/** How many hunks of a pending text edit can be decided one by one (0: only the whole edit). */
export function decidableHunks(proposal: ProposalView): number {
  const edit = reviewableEdit(proposal);
  if (!edit) return 0;
  const diff = parsedDiff(edit.diff);
  if (diff.newFile) return 0;
  const count = hunkCount(bodyRows(diff));
  return count < 2 ? 0 : count;
}

/** Hunks in the rows shown (a long diff shows its first rows until "Show all lines"). */
export function visibleHunks(proposal: ProposalView, fullDiff: boolean): number {
  const edit = reviewableEdit(proposal);
  if (!edit || decidableHunks(proposal) === 0) return 0;
  const rows = bodyRows(parsedDiff(edit.diff));
  return hunkCount(fullDiff ? rows : rows.slice(0, DIFF_ROW_LIMIT));
}

function byCreated(a: ProposalView, b: ProposalView): number {
  return a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id);
}

export interface FileGroupData {
  key: string;
  /** Workspace path, or '' for commands and other requests. */
  file: string;
  label: string;
  proposals: ProposalView[];
}
export interface SessionGroupData {
  sessionId: string;
  files: FileGroupData[];
  /** Turn review: the turn this group is, and the commands that already ran in it (shown collapsed). */
  turn?: { turn: number; key: string; running: boolean; ran: ProposalView[] };
}

function fileOf(proposal: ProposalView): string {
  if (proposal.kind === 'edit') return proposal.path;
  if (proposal.kind === 'permission' && proposal.edit) return proposal.edit.path;
  return '';
}

export const OTHER_GROUPS: Record<ProposalView['kind'], string> = {
  edit: 'Files',
  command: 'Commands',
  permission: 'Tool requests',
  question: 'Questions',
  network: 'Network',
};

export interface Layout {
  pending: ProposalView[];
  history: ProposalView[];
  groups: SessionGroupData[];
}

const layouts = new WeakMap<object, Layout>();

/** Pending (grouped, in asking order) and history (newest first); computed once per snapshot and mode. */
export function layout(state: ReviewState): Layout {
  const proposals = state.proposals ?? [];
  const memoKey = state.mode === 'turn' ? (state.turns as object) : (proposals as object);
  const cached = state.mode === 'turn' ? undefined : layouts.get(memoKey);
  if (cached) return cached;
  const pending = proposals.filter((p) => p.state === 'pending').sort(byCreated);
  const history = proposals.filter((p) => p.state !== 'pending').sort((a, b) => byCreated(b, a));
  const groups = state.mode === 'turn' ? groupPendingByTurn(proposals, state) : groupPending(pending);
  const result = { pending, history, groups };
  if (state.mode !== 'turn') layouts.set(memoKey, result);
  return result;
}

/** Pending proposals by session, then file (commands, tool requests and questions in their own groups), in asking order. */
function groupPending(pending: ProposalView[]): SessionGroupData[] {
  const sessions = new Map<string, Map<string, FileGroupData>>();
  for (const proposal of pending) {
    let files = sessions.get(proposal.sessionId);
    if (!files) sessions.set(proposal.sessionId, (files = new Map<string, FileGroupData>()));
    const file = fileOf(proposal);
    const key = file === '' ? `:${proposal.kind}` : `f:${file}`;
    let group = files.get(key);
    if (!group)
      files.set(
        key,
        (group = { key: `${proposal.sessionId}|${key}`, file, label: file === '' ? OTHER_GROUPS[proposal.kind] : file, proposals: [] }),
      );
    group.proposals.push(proposal);
  }
  return [...sessions].map(([sessionId, files]) => ({ sessionId, files: [...files.values()] }));
}

/** Turn review: pending proposals by session and agent turn, each turn by file, then its waiting commands and requests. */
function groupPendingByTurn(all: readonly ProposalView[], state: ReviewState): SessionGroupData[] {
  return groupByTurn([...all])
    .filter((changeset) => changeset.pending.length > 0)
    .map((changeset) => {
      const waiting = (list: ProposalView[]): ProposalView[] => list.filter((p) => p.state === 'pending');
      const key = (suffix: string): string => `${changeset.key}|${suffix}`;
      const files: FileGroupData[] = changeset.files
        .map((file) => ({ key: key(`f:${file.path}`), file: file.path, label: file.path, proposals: waiting(file.proposals) }))
        .filter((group) => group.proposals.length > 0);
      const kinds = [...new Set(['command' as const, ...changeset.others.map((p) => p.kind)])];
      for (const kind of kinds) {
        const list = waiting(kind === 'command' ? changeset.commands : changeset.others).filter((p) => p.kind === kind);
        if (list.length > 0) files.push({ key: key(`:${kind}`), file: '', label: OTHER_GROUPS[kind], proposals: list });
      }
      const info = state.turns.find((t) => t.sessionId === changeset.sessionId && t.turn === changeset.turn);
      const ran = changeset.commands.filter((p) => p.state !== 'pending');
      return {
        sessionId: changeset.sessionId,
        files,
        turn: { turn: changeset.turn, key: turnKey(changeset.sessionId, changeset.turn), running: info?.running === true, ran },
      };
    });
}

/** Pending proposals in the order the page shows them. */
export function pendingInOrder(state: ReviewState): ProposalView[] {
  return layout(state).groups.flatMap((g) => g.files.flatMap((f) => f.proposals));
}

/** What the keys walk through, in display order: the hunks of drawn, open multi-hunk edits, otherwise whole proposals. */
export function keyItems(state: ReviewState): string[] {
  const items: string[] = [];
  for (const proposal of pendingInOrder(state)) {
    const hunks =
      isOpen(state, proposal) && state.filled[proposal.id] ? visibleHunks(proposal, state.ui.fullDiff[proposal.id] === true) : 0;
    if (hunks > 0) for (let i = 0; i < hunks; i++) items.push(`${proposal.id}#h${i}`);
    else items.push(proposal.id);
  }
  return items;
}

export function proposalOfKey(key: string): string {
  const at = key.indexOf('#');
  return at < 0 ? key : key.slice(0, at);
}

/** Describes what changed between two snapshots, for the screen reader's live region. */
export function describeChanges(previous: readonly ProposalView[] | undefined, next: readonly ProposalView[]): string | undefined {
  if (previous === undefined) return undefined;
  const before = new Map(previous.map((p) => [p.id, p.state]));
  const parts: string[] = [];
  for (const p of next) {
    const was = before.get(p.id);
    if (was === undefined && p.state === 'pending') parts.push(`New proposal: ${p.title}`);
    else if (was !== undefined && was !== p.state) parts.push(`${p.title}: ${stateLabel(p)}`);
  }
  return parts.length > 0 ? parts.slice(0, 3).join('. ') : undefined;
}

import type { RecordedEvent } from '../../audit/events';
import type { AuditActor } from '../../audit/types';
import type { Decision, EditProposal, Proposal, Reviewer } from '../../proposals/model';
import type { ProposalStore } from '../../proposals/store';
import type { WorkspaceFiles } from '../../workspace/files';
import { applyApproved } from './apply';
import type { GateDeps } from './types';
import { decisionAuditData, reviewerActor } from './verdicts';

/**
 * What a human may still do with an orphaned proposal (its agent is gone: the session ended,
 * the window was reloaded). Nothing here runs automatically:
 * - an orphaned edit may be applied by an explicit "Apply anyway", through the gate's own apply
 *   (the stale check against the file as it is now, re-diffed when the change still fits
 *   exactly, the reviewed-bytes check, the audit), so it is the one path every write takes;
 * - a command or permission is never run without its agent: it can only be discarded.
 */

export interface OrphanActionDeps {
  store: ProposalStore;
  files: WorkspaceFiles;
  /** Appends to the ended session's own record. */
  record(sessionId: string, event: RecordedEvent): Promise<unknown>;
}

export class OrphanActionError extends Error {}

const WARDEN: AuditActor = { kind: 'warden', id: 'warden' };

/** The orphaned edit that may be applied by hand: text content (not a delete, a link or binary bytes found in the copy). */
export function orphanedEdit(proposal: Proposal): EditProposal | undefined {
  if (proposal.state !== 'orphaned' || proposal.kind !== 'edit') return undefined;
  const change = proposal.sandboxChange;
  if (change && (change.binary || change.change === 'delete' || change.change === 'symlink')) return undefined;
  return proposal;
}

/** Applies an orphaned edit because a human explicitly asked; never called by any automatic path. */
export async function applyOrphanedEdit(deps: OrphanActionDeps, proposalId: string, reviewer: Reviewer): Promise<Proposal> {
  const proposal = deps.store.get(proposalId);
  if (!proposal) throw new OrphanActionError(`No proposal with id ${proposalId}`);
  const edit = orphanedEdit(proposal);
  if (!edit) {
    throw new OrphanActionError(
      proposal.state !== 'orphaned'
        ? `"${proposal.title}" is ${proposal.state}, not orphaned`
        : proposal.kind === 'edit'
          ? `"${proposal.title}" is a ${proposal.sandboxChange?.change ?? 'change'} found in the sandbox copy (a delete, a link or binary content): it cannot be applied without its session`
          : `"${proposal.title}" is a ${proposal.kind}: only file edits can be applied without their agent; commands never run without it`,
    );
  }
  const decision = humanDecision('approve', reviewer, 'applied anyway after its agent was gone');
  const gate = endedSessionGate(deps, edit.sessionId);
  await gate.record({
    actor: reviewerActor(reviewer),
    type: 'decision',
    data: { ...decisionAuditData(edit, decision, undefined), orphaned: true },
  });
  const approved = deps.store.setState(proposalId, 'approved', 'Applying: a reviewer chose to apply it without its agent', {
    decision,
  }) as EditProposal;
  const outcome = await applyApproved(gate, approved, { auditData: { orphaned: true } });
  if (outcome.kind !== 'applied') throw new OrphanActionError(outcome.detail);
  return deps.store.setState(proposalId, 'applied', 'Applied by a reviewer after its agent was gone (the agent was not told)');
}

/** Discards an orphaned proposal (a human's reject): it leaves the review queue; the audit keeps it. */
export async function discardOrphaned(
  deps: Pick<OrphanActionDeps, 'store' | 'record'>,
  proposalId: string,
  reviewer: Reviewer,
): Promise<Proposal> {
  const proposal = deps.store.get(proposalId);
  if (!proposal) throw new OrphanActionError(`No proposal with id ${proposalId}`);
  if (proposal.state !== 'orphaned') throw new OrphanActionError(`"${proposal.title}" is ${proposal.state}, not orphaned`);
  const decision = humanDecision('reject', reviewer, 'discarded after its agent was gone');
  await deps.record(proposal.sessionId, {
    actor: reviewerActor(reviewer),
    type: 'decision',
    data: { ...decisionAuditData(proposal, decision, undefined), orphaned: true },
  });
  return deps.store.setState(proposalId, 'rejected', 'Discarded by the reviewer after its agent was gone', { decision });
}

function humanDecision(verdict: Decision['verdict'], reviewer: Reviewer, reason: string): Decision {
  return { verdict, reviewer, reason, decidedAt: new Date().toISOString() };
}

/** The gate's dependencies for a session that has ended: its store, files and record; no agent, no policy, no waiting. */
function endedSessionGate(deps: OrphanActionDeps, sessionId: string): GateDeps {
  return {
    sessionId,
    store: deps.store,
    files: deps.files,
    record: (event) => deps.record(sessionId, event),
    agentActor: () => WARDEN,
  };
}

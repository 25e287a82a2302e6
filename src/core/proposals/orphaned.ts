import type { AuditActor } from '../audit/types';
import type { WorkspaceFiles } from '../workspace/files';
import type { Decision, Proposal, Reviewer } from './model';
import { rebaseEdit } from './rebase';
import type { ProposalStore } from './store';

/**
 * What a human may still do with an orphaned proposal (its agent is gone: the session ended,
 * the window was reloaded). Nothing here runs automatically:
 * - an orphaned edit may be applied by an explicit "Apply anyway", checked against the file
 *   as it is now (re-diffed, or stale when the change no longer fits) and audited;
 * - a command or permission is never run without its agent: it can only be discarded.
 */

export interface OrphanActionDeps {
  store: ProposalStore;
  files: WorkspaceFiles;
  record(sessionId: string, event: { actor: AuditActor; type: string; data: Record<string, unknown> }): Promise<unknown>;
}

export class OrphanActionError extends Error {}

const WARDEN: AuditActor = { kind: 'warden', id: 'warden' };

/** The file change an orphaned proposal carries, if it may be applied by hand. */
export function orphanedEditSides(proposal: Proposal): { path: string; oldText: string | null; newText: string } | undefined {
  if (proposal.state !== 'orphaned') return undefined;
  // A delete, a link or binary content found in the sandbox copy carries no text to write: never "applied anyway".
  if (
    proposal.kind === 'edit' &&
    proposal.sandboxChange &&
    (proposal.sandboxChange.binary || proposal.sandboxChange.change === 'delete' || proposal.sandboxChange.change === 'symlink')
  )
    return undefined;
  if (proposal.kind === 'edit') return proposal;
  return undefined;
}

/** Applies an orphaned edit because a human explicitly asked; never called by any automatic path. */
export async function applyOrphanedEdit(deps: OrphanActionDeps, proposalId: string, reviewer: Reviewer): Promise<Proposal> {
  const proposal = deps.store.get(proposalId);
  if (!proposal) throw new OrphanActionError(`No proposal with id ${proposalId}`);
  const sides = orphanedEditSides(proposal);
  if (!sides) {
    throw new OrphanActionError(
      proposal.state !== 'orphaned'
        ? `"${proposal.title}" is ${proposal.state}, not orphaned`
        : proposal.kind === 'edit'
          ? `"${proposal.title}" is a ${proposal.sandboxChange?.change ?? 'change'} found in the sandbox copy (a delete, a link or binary content): it cannot be applied without its session`
          : `"${proposal.title}" is a ${proposal.kind}: only file edits can be applied without their agent; commands never run without it`,
    );
  }
  const decision: Decision = {
    verdict: 'approve',
    reviewer,
    reason: 'applied anyway after its agent was gone',
    decidedAt: new Date().toISOString(),
  };
  await deps.record(proposal.sessionId, {
    actor: humanActor(reviewer),
    type: 'decision',
    data: { proposalId, verdict: 'approve', reviewer, reason: decision.reason, orphaned: true },
  });

  const current = await deps.files.read(sides.path);
  const outcome = rebaseEdit(sides, current);
  if (outcome.kind === 'conflict') {
    const detail = `${outcome.reason}: it is stale and was not applied`;
    deps.store.setState(proposalId, 'stale', detail, { decision });
    await deps.record(proposal.sessionId, {
      actor: WARDEN,
      type: 'edit.stale',
      data: { proposalId, path: sides.path, reason: outcome.reason },
    });
    throw new OrphanActionError(detail);
  }
  let newText = sides.newText;
  let newHash = proposal.kind === 'edit' ? proposal.newHash : '';
  if (outcome.kind === 'rebased') {
    newText = outcome.newText;
    newHash = outcome.newHash;
    deps.store.setState(proposalId, 'orphaned', proposal.stateDetail, {
      oldText: outcome.oldText,
      newText,
      baseHash: outcome.baseHash,
      newHash,
      diff: outcome.diff,
    });
    await deps.record(proposal.sessionId, {
      actor: WARDEN,
      type: 'proposal.rediffed',
      data: { proposalId, path: sides.path, baseHash: outcome.baseHash, newHash, diff: outcome.diff },
    });
  }
  deps.store.setState(proposalId, 'approved', 'Applying: a reviewer chose to apply it without its agent', { decision });
  let diskHash: string;
  try {
    ({ diskHash } = await deps.files.write(sides.path, newText));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    deps.store.setState(proposalId, 'failed', `Writing failed: ${message}`);
    await deps.record(proposal.sessionId, { actor: WARDEN, type: 'edit.failed', data: { proposalId, path: sides.path, error: message } });
    throw new OrphanActionError(`Could not write ${sides.path}: ${message}`);
  }
  const exact = diskHash === newHash;
  await deps.record(proposal.sessionId, {
    actor: WARDEN,
    type: exact ? 'edit.applied' : 'edit.mismatch',
    data: { proposalId, path: sides.path, reviewedHash: newHash, diskHash, orphaned: true },
  });
  return deps.store.setState(
    proposalId,
    exact ? 'applied' : 'failed',
    exact ? 'Applied by a reviewer after its agent was gone (the agent was not told)' : 'The bytes on disk differ from the reviewed bytes',
  );
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
  const decision: Decision = {
    verdict: 'reject',
    reviewer,
    reason: 'discarded after its agent was gone',
    decidedAt: new Date().toISOString(),
  };
  await deps.record(proposal.sessionId, {
    actor: humanActor(reviewer),
    type: 'decision',
    data: { proposalId, verdict: 'reject', reviewer, reason: decision.reason, orphaned: true },
  });
  return deps.store.setState(proposalId, 'rejected', 'Discarded by the reviewer after its agent was gone', { decision });
}

function humanActor(reviewer: Reviewer): AuditActor {
  return {
    kind: reviewer.kind,
    id: reviewer.email ?? reviewer.name,
    name: reviewer.name,
    ...(reviewer.email ? { email: reviewer.email } : {}),
  };
}

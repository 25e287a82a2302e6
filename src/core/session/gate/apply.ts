import { appliedContent, type AppliedContent } from '../../proposals/decisions';
import type { EditProposal } from '../../proposals/model';
import { unifiedDiff } from '../../proposals/diff';
import { isTextEdit, rebaseEdit } from '../../proposals/rebase';
import { sha256Hex } from '../../util/hash';
import type { ApplyOptions, ApplyOutcome, GateDeps } from './types';
import { message } from './verdicts';

const WARDEN = { kind: 'warden', id: 'warden' } as const;

/**
 * Applies an approved edit: the stale check (re-diffed when the change still fits the
 * current file exactly), the checkpoint, the write, and the reviewed-bytes check (the hash
 * written equals the hash reviewed). Every outcome is set on the proposal and audited.
 */
export async function applyApproved(deps: GateDeps, approved: EditProposal, options: ApplyOptions = {}): Promise<ApplyOutcome> {
  const currentHash = options.currentHash ? await options.currentHash() : await textHash(deps, approved.path);
  const proposal = currentHash === approved.baseHash ? approved : await rediffBeforeApply(deps, approved);
  const note = options.notAppliedNote ? `; ${options.notAppliedNote}` : '';
  if (proposal.baseHash !== currentHash) {
    const detail = `${proposal.path} changed since the proposal was made; it was not applied${note}`;
    deps.store.setState(proposal.id, 'stale', detail);
    await deps.record({
      actor: WARDEN,
      type: 'edit.stale',
      data: { proposalId: proposal.id, path: proposal.path, baseHash: proposal.baseHash, currentHash },
    });
    return { kind: 'stale', proposalId: proposal.id, detail };
  }
  let written: { diskHash: string | null; reviewedHash: string | null; text: string | null; change: AppliedContent['change'] };
  try {
    await deps.beforeApply?.({ proposalIds: [proposal.id], paths: [proposal.path] });
    written = await write(deps, proposal, options);
  } catch (error) {
    deps.store.setState(proposal.id, 'failed', `Writing failed: ${message(error)}${note}`);
    await deps.record({
      actor: WARDEN,
      type: 'edit.failed',
      data: { proposalId: proposal.id, path: proposal.path, error: message(error) },
    });
    return { kind: 'failed', proposalId: proposal.id, detail: `Warden could not write ${proposal.path}: ${message(error)}` };
  }
  const { diskHash, reviewedHash, change } = written;
  const exact = diskHash === reviewedHash;
  const detail = exact
    ? change
      ? upperFirst(change.summary)
      : undefined
    : `The bytes on disk differ from the reviewed bytes (the editor changed line endings or encoding)${note}`;
  const updated = deps.store.setState(proposal.id, exact ? 'applied' : 'failed', detail, {
    ...(change && reviewedHash ? { appliedHash: reviewedHash } : {}),
    // What was written when the reviewer edited it: the history shows this, not the agent's diff.
    ...(change?.kind === 'edited' && written.text !== null
      ? { appliedDiff: unifiedDiff(proposal.path, proposal.oldText, written.text) }
      : {}),
  });
  await deps.record({
    actor: WARDEN,
    type: exact ? 'edit.applied' : 'edit.mismatch',
    data: {
      proposalId: proposal.id,
      path: proposal.path,
      ...options.auditData,
      reviewedHash,
      diskHash,
      ...(change?.kind === 'edited' ? { edited: true, proposedHash: proposal.newHash } : {}),
      ...(change?.kind === 'hunks'
        ? { hunks: { accepted: change.accepted, rejected: change.rejected }, proposedHash: proposal.newHash }
        : {}),
    },
  });
  if (!exact)
    return { kind: 'mismatch', proposalId: proposal.id, detail: `${proposal.path} was written but differs from the reviewed content` };
  return { kind: 'applied', proposal: updated, text: written.text, change, rediffed: proposal !== approved };
}

/** Text edits write the agent's bytes, the hunks the reviewer accepted, or the reviewer's own text; the rest write as the caller says. */
async function write(deps: GateDeps, proposal: EditProposal, options: ApplyOptions) {
  if (options.write) return { ...(await options.write()), text: null, change: undefined };
  const content = appliedContent(proposal);
  const reviewedHash = content.change ? sha256Hex(content.text) : proposal.newHash;
  const { diskHash } = await deps.files.write(proposal.path, content.text);
  return { diskHash, reviewedHash, text: content.text, change: content.change };
}

/**
 * The approved edit re-diffed onto the current text when its change still fits exactly
 * (audited); otherwise unchanged, so it goes stale.
 */
async function rediffBeforeApply(deps: GateDeps, proposal: EditProposal): Promise<EditProposal> {
  if (!isTextEdit(proposal)) return proposal;
  // A decision on particular hunks or with the reviewer's own text was made against the old
  // text: carrying it over could write bytes nobody reviewed, so that proposal goes stale.
  if (proposal.decision?.hunks !== undefined || proposal.decision?.editedText !== undefined) return proposal;
  const current = await deps.files.read(proposal.path);
  const outcome = rebaseEdit(proposal, current);
  if (outcome.kind !== 'rebased') return proposal;
  const { kind: _kind, ...sides } = outcome;
  const updated = deps.store.setState(
    proposal.id,
    proposal.state,
    `Re-diffed against the current ${proposal.path} before applying`,
    sides,
  ) as EditProposal;
  await deps.record({
    actor: WARDEN,
    type: 'proposal.rediffed',
    data: {
      proposalId: proposal.id,
      path: proposal.path,
      previousBaseHash: proposal.baseHash,
      baseHash: outcome.baseHash,
      previousNewHash: proposal.newHash,
      newHash: outcome.newHash,
      diff: outcome.diff,
    },
  });
  return updated;
}

async function textHash(deps: GateDeps, path: string): Promise<string | null> {
  const current = await deps.files.read(path);
  return current === null ? null : sha256Hex(current);
}

function upperFirst(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

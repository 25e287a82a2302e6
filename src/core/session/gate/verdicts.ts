import type { AuditDataOf } from '../../audit/events';
import type { AuditActor } from '../../audit/types';
import type { EffectivePolicy, PolicyVerdict } from '../../policy';
import { editedDecisionData } from '../../proposals/decisionAudit';
import type { Decision, Proposal, Reviewer } from '../../proposals/model';

/** Evaluates the policy (when there is one). An evaluation that throws asks: it never allows. */
export function evaluateFailClosed(
  policy: (() => EffectivePolicy) | undefined,
  judge: (policy: EffectivePolicy) => PolicyVerdict,
): PolicyVerdict | undefined {
  if (!policy) return undefined;
  try {
    return judge(policy());
  } catch (error) {
    return {
      decision: 'ask',
      ruleId: 'builtin.policy-error',
      reason: `The policy could not be evaluated (${message(error)}), so a human decides`,
    };
  }
}

/** A proposal the policy decides is born decided (never pending); ask leaves it to a human. */
export function policyDecision(verdict: PolicyVerdict | undefined): Decision | undefined {
  if (!verdict || verdict.decision === 'ask') return undefined;
  return decision(
    verdict.decision === 'allow' ? 'approve' : 'reject',
    { kind: 'policy', name: verdict.ruleId, source: 'policy' },
    verdict.reason,
  );
}

/** The decision for a request a reviewer already approved through a permission request. */
export function grantDecision(permissionProposalId: string, approved?: Decision, permissionTitle?: string): Decision {
  // Warden applies it on the strength of that approval; the reason names who gave it.
  const approvedBy = approved?.reviewer;
  const by = approvedBy ? ` (by ${reviewerWords(approvedBy)})` : '';
  const changed = approved?.hunks ? ', some hunks only' : approved?.editedText !== undefined ? ", with the reviewer's edit" : '';
  return {
    ...decision(
      'approve',
      { kind: 'warden', name: 'warden', source: 'earlier approval' },
      `approved as permission request ${permissionProposalId}${by}${changed}`,
    ),
    ...(permissionTitle !== undefined
      ? {
          grantedBy: {
            proposalId: permissionProposalId,
            title: permissionTitle,
            ...(approvedBy ? { approvedBy: reviewerWords(approvedBy) } : {}),
          },
        }
      : {}),
    // The reviewer accepted the permission's edit with changes: the write carries them out.
    ...(approved?.hunks ? { hunks: approved.hunks } : {}),
    ...(approved?.editedText !== undefined ? { editedText: approved.editedText } : {}),
  };
}

/**
 * Whether a permission's approval may decide this proposal at birth. One accepted with changes
 * (hunks, edited text) was decided against the file as the reviewer saw it: a write whose base
 * differs would not carry those changes faithfully, so a human decides it again.
 */
export function grantFits(permission: Proposal | undefined, proposal: Pick<Proposal, 'kind'> & { oldText?: string | null }): boolean {
  const approved = permission?.decision;
  if (!approved?.hunks && approved?.editedText === undefined) return true;
  return permission?.kind === 'permission' && proposal.kind === 'edit' && permission.edit?.oldText === proposal.oldText;
}

/** The one decision-timeout rule: nobody decided in time, so Warden rejects (never approves). */
export function timeoutDecision(timeoutMs: number): Decision {
  return decision(
    'reject',
    { kind: 'warden', name: 'warden', source: 'decision timeout' },
    `no decision within ${Math.round(timeoutMs / 1000)} s (warden.review.decisionTimeoutSeconds)`,
  );
}

/** Who decided, as the audit names them: a human by email when known, a rule by its id. */
export function reviewerActor(reviewer: Reviewer): AuditActor {
  return {
    kind: reviewer.kind,
    id: reviewer.email ?? reviewer.name,
    name: reviewer.name,
    ...(reviewer.email ? { email: reviewer.email } : {}),
  };
}

/** The data of a `decision` audit entry, the same for every origin. */
export function decisionAuditData(proposal: Proposal, decided: Decision, grantedBy: string | undefined): AuditDataOf<'decision'> {
  return {
    proposalId: proposal.id,
    verdict: decided.verdict,
    reviewer: decided.reviewer,
    reason: decided.reason ?? null,
    ...(proposal.policy ? { ruleId: proposal.policy.ruleId, policy: proposal.policy } : {}),
    ...editedDecisionData(proposal, decided),
    ...(grantedBy ? { grantedBy } : {}),
  };
}

/** What the audit keeps of a proposal: everything needed to review it later. */
export function proposalAuditData(proposal: Proposal): AuditDataOf<'proposal'> {
  const base = {
    proposalId: proposal.id,
    kind: proposal.kind,
    title: proposal.title,
    origin: proposal.origin,
    ...(proposal.turn !== undefined ? { turn: proposal.turn } : {}),
  };
  switch (proposal.kind) {
    case 'edit':
      return {
        ...base,
        path: proposal.path,
        baseHash: proposal.baseHash,
        newHash: proposal.newHash,
        diff: proposal.diff,
        ...(proposal.sandboxChange ? { change: proposal.sandboxChange } : {}),
      };
    case 'command':
      return { ...base, argv: proposal.argv, commandLine: proposal.commandLine, cwd: proposal.cwd, env: proposal.env };
    case 'question':
      return { ...base, question: proposal.question, ...(proposal.choices ? { choices: proposal.choices } : {}) };
    case 'network':
      return {
        ...base,
        host: proposal.host,
        port: proposal.port,
        method: proposal.method,
        command: proposal.command,
        requestedBy: proposal.requestedBy,
      };
    case 'permission':
      return {
        ...base,
        toolKind: proposal.toolKind,
        options: proposal.options,
        ...(proposal.edit ? { path: proposal.edit.path, newHash: proposal.edit.newHash, diff: proposal.edit.diff } : {}),
        ...(proposal.commandLine ? { commandLine: proposal.commandLine } : {}),
      };
  }
}

export function decision(verdict: Decision['verdict'], reviewer: Reviewer, reason: string): Decision {
  return { verdict, reviewer, reason, decidedAt: new Date().toISOString() };
}

export function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A reviewer in words: a person by name, otherwise its kind and name ("policy node-test"). */
function reviewerWords(reviewer: Reviewer): string {
  return reviewer.kind === 'human' ? reviewer.name : `${reviewer.kind} ${reviewer.name}`;
}

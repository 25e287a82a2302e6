import type { Decision, Proposal, Reviewer } from './model';
import { commandIsEditable, permissionEditIsEditable, textIsEditable } from './editable';
import { applySelectedHunks, describeHunks, hunkChoiceProblem, hunkId, splitHunks, type HunkChoice } from './hunks';

/**
 * Turns what a reviewer chose in the panel or the editor (per hunk, edited content, edited
 * command) into a Decision the store records and the session applies. Pure: the vscode layer
 * resolves the reviewer and the policy, the session does the writing and running.
 */

export type ReviewChoice =
  | { kind: 'verdict'; verdict: Decision['verdict']; reason?: string }
  /** Every hunk decided; `newHash` pins the choice to the diff the reviewer saw (a re-diff renumbers hunks). */
  | { kind: 'hunks'; accepted: number[]; rejected: number[]; newHash: string }
  /** `newHash` pins the edit to the proposed text the reviewer started from (a re-diff changes it). */
  | { kind: 'editedText'; text: string; newHash?: string }
  | { kind: 'editedCommand'; commandLine: string };

export class ReviewChoiceError extends Error {}

export function decisionFor(proposal: Proposal, choice: ReviewChoice, reviewer: Reviewer, now = new Date()): Decision {
  const base = { reviewer, decidedAt: now.toISOString() };
  switch (choice.kind) {
    case 'verdict':
      return { ...base, verdict: choice.verdict, ...(choice.reason ? { reason: choice.reason } : {}) };
    case 'hunks': {
      const sides = editableSides(proposal, 'hunks');
      if (sides.newHash !== choice.newHash)
        throw new ReviewChoiceError(`${sides.path} was re-diffed since you looked at it; its hunks changed: look again`);
      const count = splitHunks(sides.oldText, sides.newText).length;
      const problem = hunkChoiceProblem(count, choice);
      if (problem) throw new ReviewChoiceError(problem);
      // All or nothing is a plain verdict: the agent's bytes, or nothing written.
      if (choice.rejected.length === 0) return { ...base, verdict: 'approve' };
      if (choice.accepted.length === 0) return { ...base, verdict: 'reject', reason: `every hunk rejected` };
      const hunks: HunkChoice = {
        accepted: [...choice.accepted].sort((a, b) => a - b),
        rejected: [...choice.rejected].sort((a, b) => a - b),
      };
      return {
        ...base,
        verdict: 'approve',
        hunks,
        reason: `accepted ${describeHunks(hunks.accepted)}, rejected ${describeHunks(hunks.rejected)}`,
      };
    }
    case 'editedText': {
      const sides = editableSides(proposal, 'content to edit');
      if (choice.newHash !== undefined && sides.newHash !== choice.newHash) {
        throw new ReviewChoiceError(
          `${sides.path} was re-diffed since you started editing; your text is kept in the editor box: compare it with the new diff and accept again`,
        );
      }
      if (choice.text === sides.newText) return { ...base, verdict: 'approve' };
      return { ...base, verdict: 'approve', editedText: choice.text, reason: 'edited by the reviewer before applying' };
    }
    case 'editedCommand': {
      if (proposal.kind !== 'command') throw new ReviewChoiceError('Only a command proposal has a command line to edit');
      if (!commandIsEditable(proposal)) throw new ReviewChoiceError(notChangeable(proposal));
      const commandLine = choice.commandLine.trim();
      if (commandLine === '') throw new ReviewChoiceError('The edited command is empty');
      if (commandLine === proposal.commandLine) return { ...base, verdict: 'approve' };
      return { ...base, verdict: 'approve', editedCommand: commandLine, reason: 'command edited by the reviewer before running' };
    }
  }
}

/** What an approved edit writes: the agent's bytes, only the accepted hunks, or the reviewer's edit. */
export interface AppliedContent {
  text: string;
  /** How it differs from the agent's proposal, in words the agent and the audit read; undefined when it is the agent's bytes. */
  change?: { kind: 'hunks'; accepted: number[]; rejected: number[]; summary: string } | { kind: 'edited'; summary: string };
}

export function appliedContent(proposal: Extract<Proposal, { kind: 'edit' }>): AppliedContent {
  const decision = proposal.decision;
  if (decision?.editedText !== undefined) {
    return {
      text: decision.editedText,
      change: { kind: 'edited', summary: `the reviewer edited your change to ${proposal.path} before applying it` },
    };
  }
  if (decision?.hunks) {
    const { accepted, rejected } = decision.hunks;
    const text = applySelectedHunks(proposal.oldText, proposal.newText, accepted.map(hunkId));
    const summary = `the reviewer accepted ${describeHunks(accepted)} and rejected ${describeHunks(rejected)} of your change to ${proposal.path}`;
    return { text, change: { kind: 'hunks', accepted, rejected, summary } };
  }
  return { text: proposal.newText };
}

/** The file sides a reviewer may change: an edit Warden writes, or the placed edit of a permission request. */
export interface EditSides {
  path: string;
  oldText: string | null;
  newText: string;
  newHash: string;
}

/** The sides a reviewer may change of this proposal, if any (no error: for the panel and the hunk choices). */
export function reviewableSides(proposal: Proposal): EditSides | undefined {
  if (proposal.kind === 'edit') return textIsEditable(proposal) ? proposal : undefined;
  if (proposal.kind === 'permission' && proposal.edit && permissionEditIsEditable(proposal)) return proposal.edit;
  return undefined;
}

function editableSides(proposal: Proposal, what: string): EditSides {
  if (proposal.kind === 'edit') {
    if (!textIsEditable(proposal)) throw new ReviewChoiceError(notChangeable(proposal));
    return proposal;
  }
  if (proposal.kind === 'permission' && proposal.edit) {
    if (!permissionEditIsEditable(proposal)) throw new ReviewChoiceError(notChangeable(proposal));
    return proposal.edit;
  }
  throw new ReviewChoiceError(`Only an edit (or a permission request that carries one) has ${what}`);
}

function notChangeable(proposal: Proposal): string {
  if (proposal.state !== 'pending') return `"${proposal.title}" is already ${proposal.state}`;
  return `"${proposal.title}" can only be accepted or rejected as it is: it came through ${proposal.origin}, where the agent applies or runs its own version`;
}

/** The reviewer's own reason, kept only on a reject (trimmed; blank is none): the agent is told why, the audit keeps it. */
export function rejectReason(verdict: Decision['verdict'], text: string | undefined): string | undefined {
  const reason = text?.trim();
  return verdict === 'reject' && reason ? reason : undefined;
}

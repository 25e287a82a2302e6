import * as vscode from 'vscode';
import type { ProposalStore } from '../core/proposals/store';
import type { KeyAction } from '../shared/reviewProtocol';
import { ProposalDocuments } from './proposalDocuments';
import { ReviewPanel, type BulkRequest, type ReviewPanelHandlers } from './reviewPanel';
import type { SessionController } from './sessionController';

/** Context key set while the reviewer types in the Review panel: the single-key keybindings stand down. */
export const REVIEW_TEXT_FOCUS = 'warden.reviewTextFocus';

/** What the Warden panel's buttons and instruction box do; shared by a new panel and one restored after a reload. */
export function reviewHandlers(store: ProposalStore, sessions: SessionController): ReviewPanelHandlers {
  return {
    decide: (id, verdict, reason, optionId) => sessions.decide(id, verdict, reason, optionId),
    openDiff: (id) => ProposalDocuments.openDiff(store, id),
    chooseHunk: (id, hunkId, verdict, seenHash) => sessions.hunks.choose(id, hunkId, verdict, seenHash),
    review: (id, choice) => sessions.review(id, choice),
    hunkChoices: (proposal) => sessions.hunks.choicesOf(proposal),
    confirmBulk,
    setTextFocus: (editing) => vscode.commands.executeCommand('setContext', REVIEW_TEXT_FOCUS, editing),
    reviewMode: () => sessions.reviewMode(),
    turns: () => sessions.turns(),
    conversation: {
      source: sessions,
      start: async (instruction) => vscode.commands.executeCommand<string | undefined>('warden.startSession', { instruction }),
    },
  };
}

/** A modal naming the protected items and why; only an explicit click goes on. */
/** "It is", "All 3 are", "1 of the 2 is", "2 of the 5 are". */
function howManyProtected(risky: number, total: number): string {
  if (risky === total) return total === 1 ? 'It is' : `All ${total} are`;
  return `${risky} of the ${total} ${risky === 1 ? 'is' : 'are'}`;
}

async function confirmBulk(request: BulkRequest): Promise<boolean> {
  const verb = request.verdict === 'approve' ? 'Accept' : 'Reject';
  const lines = request.risky
    .slice(0, 8)
    .map(({ proposal, risks }) => `• ${proposal.title}: ${risks.map((r) => `${r.label} (${r.reason})`).join('; ')}`);
  if (request.risky.length > 8) lines.push(`…and ${request.risky.length - 8} more`);
  const action = `${verb} ${request.proposals.length}`;
  const picked = await vscode.window.showWarningMessage(
    `${verb} ${request.scope}? ${howManyProtected(request.risky.length, request.proposals.length)} protected.`,
    { modal: true, detail: lines.join('\n') },
    action,
  );
  return picked === action;
}

/** The contributed keybindings of the Review panel: each is forwarded to the webview. */
export function registerReviewKeys(context: vscode.ExtensionContext): void {
  const actions: Record<string, KeyAction> = {
    'warden.review.next': 'next',
    'warden.review.previous': 'previous',
    'warden.review.accept': 'accept',
    'warden.review.reject': 'reject',
    'warden.review.edit': 'edit',
    'warden.review.acceptAll': 'acceptAll',
    'warden.review.rejectAll': 'rejectAll',
  };
  for (const [command, action] of Object.entries(actions)) {
    context.subscriptions.push(vscode.commands.registerCommand(command, () => ReviewPanel.current?.sendKey(action)));
  }
}

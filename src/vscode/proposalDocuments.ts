import * as vscode from 'vscode';
import type { Proposal } from '../core/proposals/model';
import type { ProposalStore } from '../core/proposals/store';

export const PROPOSAL_SCHEME = 'warden-proposal';

/**
 * Serves the two sides of a proposed edit as read-only documents, so "Open Diff" uses
 * VS Code's own diff editor: `warden-proposal:/<path>?<proposal id>#old|new`.
 */
export class ProposalDocuments implements vscode.TextDocumentContentProvider {
  constructor(private readonly store: ProposalStore) {}

  provideTextDocumentContent(uri: vscode.Uri): string {
    const proposal = this.store.get(uri.query);
    const sides = proposal ? editSides(proposal) : undefined;
    if (!sides) return '';
    return uri.fragment === 'old' ? (sides.oldText ?? '') : sides.newText;
  }

  static async openDiff(store: ProposalStore, proposalId: string): Promise<void> {
    const proposal = store.get(proposalId);
    const sides = proposal ? editSides(proposal) : undefined;
    if (!sides) throw new Error('This proposal has no file change to show');
    const base = vscode.Uri.from({ scheme: PROPOSAL_SCHEME, path: `/${sides.path}`, query: proposalId });
    const title = `${sides.path} (${sides.oldText === null ? 'new file' : 'current'} ↔ proposed)`;
    await vscode.commands.executeCommand('vscode.diff', base.with({ fragment: 'old' }), base.with({ fragment: 'new' }), title, {
      preview: true,
    });
  }
}

function editSides(proposal: Proposal): { path: string; oldText: string | null; newText: string } | undefined {
  if (proposal.kind === 'edit') return proposal;
  if (proposal.kind === 'permission' && proposal.edit) return proposal.edit;
  return undefined;
}

import * as vscode from 'vscode';
import type { ProposalStore } from '../core/proposals/store';

/** Shows how many proposals wait for review; clicking opens the Review panel. */
export function createPendingStatusItem(store: ProposalStore): vscode.Disposable {
  const item = vscode.window.createStatusBarItem('warden.pending', vscode.StatusBarAlignment.Left, 100);
  item.name = 'Warden pending proposals';
  item.command = 'warden.showReview';
  const refresh = (): void => {
    const count = store.pending().length;
    item.text = count > 0 ? `$(shield) Warden: ${count} pending` : '$(shield) Warden';
    item.tooltip = count > 0 ? `${count} agent proposal(s) wait for your review` : 'Warden: nothing waits for review';
    item.backgroundColor = count > 0 ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
  };
  refresh();
  item.show();
  const subscription = store.onDidChange(refresh);
  return {
    dispose: () => {
      subscription.dispose();
      item.dispose();
    },
  };
}

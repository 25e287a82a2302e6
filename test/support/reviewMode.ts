import * as vscode from 'vscode';

/**
 * Suites that prove the per-action review flows (each edit and command decided as it comes)
 * ask for that mode: since commands run without asking by default, Warden's default review is
 * the turn's changeset (`warden.review.mode` unset follows the policy's command default).
 */
export function usePerActionReview(): void {
  before(async () => {
    await vscode.workspace.getConfiguration('warden').update('review.mode', 'action', vscode.ConfigurationTarget.Workspace);
  });
  after(async () => {
    await vscode.workspace.getConfiguration('warden').update('review.mode', undefined, vscode.ConfigurationTarget.Workspace);
  });
}

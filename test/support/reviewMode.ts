import * as vscode from 'vscode';

/**
 * Suites that prove the per-action review flows (each edit, and with `askCommands` each
 * command, decided as it comes) ask for them: since commands run without asking by default,
 * Warden's default review is the turn's changeset (`warden.review.mode` unset follows the
 * policy's command default). `askCommands` adds a user rule that asks before every command,
 * as a user (or team) that wants to see each command would.
 */
export function usePerActionReview(options: { askCommands?: boolean } = {}): void {
  before(async () => {
    await vscode.workspace.getConfiguration('warden').update('review.mode', 'action', vscode.ConfigurationTarget.Workspace);
    if (options.askCommands) {
      await vscode.workspace
        .getConfiguration('warden')
        .update(
          'policy.userRules',
          { commands: [{ id: 'review-every-command', match: ['*', '* *'], decision: 'ask' }] },
          vscode.ConfigurationTarget.Global,
        );
    }
  });
  after(async () => {
    await vscode.workspace.getConfiguration('warden').update('review.mode', undefined, vscode.ConfigurationTarget.Workspace);
    if (options.askCommands)
      await vscode.workspace.getConfiguration('warden').update('policy.userRules', undefined, vscode.ConfigurationTarget.Global);
  });
}

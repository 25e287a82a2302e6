import * as vscode from 'vscode';
import type { ProposalStore } from '../core/proposals/store';
import type { SessionController } from './sessionController';

/** Set while an agent session runs: commands that only act on a running session are shown then. */
export const SESSION_ACTIVE = 'warden.sessionActive';
/** Set while any proposal waits for a decision: accept, reject and answer commands are shown then. */
export const HAS_PENDING = 'warden.hasPending';

/** Keeps the palette's `when` context keys in step with the session and the review queue. */
export function registerContextKeys(context: vscode.ExtensionContext, store: ProposalStore, sessions: SessionController): void {
  let pending: boolean | undefined;
  const setPending = (): void => {
    const now = store.pending().length > 0;
    if (now === pending) return; // the store changes often; the context only when the answer does
    pending = now;
    void vscode.commands.executeCommand('setContext', HAS_PENDING, now);
  };
  const setActive = (active: boolean): void => void vscode.commands.executeCommand('setContext', SESSION_ACTIVE, active);
  setPending();
  setActive(false);
  context.subscriptions.push(
    store.onDidChange(setPending),
    sessions.onDidChangeActive((session) => setActive(session !== undefined)),
  );
}

import * as vscode from 'vscode';
import type { ProposalStore } from '../core/proposals/store';
import type { SessionController } from './sessionController';

/** Set while an agent session runs: commands that only act on a running session are shown then. */
export const SESSION_ACTIVE = 'warden.sessionActive';
/** Set while any proposal waits for a decision: accept, reject and answer commands are shown then. */
export const HAS_PENDING = 'warden.hasPending';
/** Set while an orphaned proposal (its agent gone) waits: Apply Anyway and Discard are shown then. */
export const HAS_ORPHANED = 'warden.hasOrphaned';
/** Set once a session ran in this window: Commit Approved Changes and Roll Back to Checkpoint act on it. */
export const HAD_SESSION = 'warden.hadSession';

/** Keeps the palette's `when` context keys in step with the session and the review queue. */
export function registerContextKeys(context: vscode.ExtensionContext, store: ProposalStore, sessions: SessionController): void {
  const shown = new Map<string, boolean>();
  // The store changes often; the context only when an answer does.
  const set = (key: string, value: boolean): void => {
    if (shown.get(key) === value) return;
    shown.set(key, value);
    void vscode.commands.executeCommand('setContext', key, value);
  };
  const setQueue = (): void => {
    let pending = false;
    let orphaned = false;
    for (const p of store.all()) {
      pending ||= p.state === 'pending';
      orphaned ||= p.state === 'orphaned';
      if (pending && orphaned) break;
    }
    set(HAS_PENDING, pending);
    set(HAS_ORPHANED, orphaned);
  };
  setQueue();
  set(SESSION_ACTIVE, false);
  set(HAD_SESSION, sessions.lastSession !== undefined);
  context.subscriptions.push(
    store.onDidChange(setQueue),
    sessions.onDidChangeActive((session) => {
      set(SESSION_ACTIVE, session !== undefined);
      if (session !== undefined) set(HAD_SESSION, true);
    }),
  );
}

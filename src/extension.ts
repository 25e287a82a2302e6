import * as vscode from 'vscode';
import { ProposalStore } from './core/proposals/store';
import type { activateFeatures, Features } from './features';
import { FirstUse, neededAtStart, readManifest, requireBundle } from './vscode/firstUse';
import { PROPOSAL_SCHEME, ProposalDocuments } from './vscode/proposalDocuments';
import { createPendingStatusItem } from './vscode/statusBar';

/** What Warden exposes to tests (and other extensions): read-mostly views of its state. `inlineReview`, `hasAgentKey` and `reviewPanelMessage` load the features if they were not yet. */
export interface WardenApi extends Omit<Features, 'deactivate'> {
  readonly proposals: ProposalStore;
}

let features: FirstUse<Features> | undefined;

/**
 * Registration only (issue 21): the log, the proposal store, the pending-proposals status bar,
 * the proposal diff documents and a stand-in for every contributed command. Sessions, panels,
 * the policy service and the rest load from `dist/features.js` at first use (src/features.ts).
 */
export function activate(context: vscode.ExtensionContext): WardenApi {
  const log = vscode.window.createOutputChannel('Warden', { log: true });
  const store = new ProposalStore();
  const manifest = readManifest(context.extension.packageJSON);
  const part = new FirstUse(
    () => requireBundle<{ activateFeatures: typeof activateFeatures }>('features.js').activateFeatures({ context, log, store }),
    manifest.commands,
    log,
  );
  features = part;
  context.subscriptions.push(
    log,
    { dispose: () => store.dispose() },
    part,
    vscode.workspace.registerTextDocumentContentProvider(PROPOSAL_SCHEME, new ProposalDocuments(store)),
    createPendingStatusItem(store),
  );
  // A restored panel, the team policy's diagnostics or saved proposals: loaded right after activation returns.
  const atStart = neededAtStart(manifest)
    ? new Promise<void>((resolve) => setImmediate(resolve)).then(() => part.get().proposalsLoaded)
    : Promise.resolve();
  return {
    proposals: store,
    activeSession: () => (part.isLoaded ? part.get().activeSession() : undefined),
    lastTurn: () => (part.isLoaded ? part.get().lastTurn() : undefined),
    get inlineReview() {
      return part.get().inlineReview;
    },
    get proposalsLoaded() {
      return part.isLoaded ? part.get().proposalsLoaded : atStart;
    },
    hasAgentKey: (envName) => part.get().hasAgentKey(envName),
    reviewPanelMessage: (raw) => part.get().reviewPanelMessage(raw),
  };
}

/** Stops the session and its container; pending proposals become orphaned, never applied. */
export async function deactivate(): Promise<void> {
  if (features?.isLoaded) await features.get().deactivate();
  features = undefined;
}

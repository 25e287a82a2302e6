/**
 * Everything Warden does beyond activation, in its own bundle (`dist/features.js`): the
 * session controller, the panels and their serializers, the policy service and settings
 * diagnostics, inline review, and the commands. `src/extension.ts` loads it at first use (a
 * command, a restored panel, a policy or saved proposals in the workspace) and hands it the
 * pieces activation already made, so both bundles share one store and one log.
 */
import * as vscode from 'vscode';
import type { StopReason } from '@agentclientprotocol/sdk';
import type { ProposalStore } from './core/proposals/store';
import { resolveReviewer } from './core/git/identity';
import { GitRepo } from './core/git/repo';
import { loadDockerClient } from './core/sandbox/dockerode';
import { EngineSandboxProvider } from './core/sandbox/engineProvider';
import { whenIdle } from './core/util/whenIdle';
import { applyCopiesFolder, readSandboxSettings } from './vscode/settings';
import type { AgentSession } from './core/supervisor';
import { registerAgentCommands } from './vscode/agentCommands';
import { registerAgentSetup } from './vscode/agentSetup';
import { AgentSecrets } from './vscode/agentSettings';
import { registerAuditCommands } from './vscode/auditCommands';
import { registerCommands } from './vscode/commands';
import { registerContextKeys } from './vscode/contextKeys';
import { registerReviewKeys, reviewHandlers } from './vscode/reviewCommands';
import { registerPolicy } from './vscode/policyCommands';
import { registerGitCommands } from './vscode/gitCommands';
import { registerLifecycleCommands } from './vscode/killSwitch';
import { ReviewPanel } from './vscode/reviewPanel';
import { SessionController } from './vscode/sessionController';
import { registerInlineReview, type InlineReviewHandle } from './vscode/inline/register';

/** What activation already made and passes in. */
export interface ActivatedParts {
  readonly context: vscode.ExtensionContext;
  readonly log: vscode.LogOutputChannel;
  readonly store: ProposalStore;
}

export interface Features {
  activeSession(): AgentSession | undefined;
  lastTurn(): Promise<StopReason> | undefined;
  /** Inline review, re-diffing and the proposal files that survive a reload. */
  readonly inlineReview: InlineReviewHandle;
  /** Settles once proposals saved by an earlier window are loaded (orphaned). */
  readonly proposalsLoaded: Promise<void>;
  /** Whether secret storage holds an agent key for this variable (never the value). */
  hasAgentKey(envName: string): Promise<boolean>;
  /** A message as the Review panel's webview sends it (validated like one); the panel opens if needed. For tests. */
  reviewPanelMessage(raw: unknown): Promise<void>;
  /** Stops the session and its container; pending proposals become orphaned, never applied. */
  deactivate(): Promise<void>;
}

/** Wiring only: nothing here touches Docker or the network. */
export function activateFeatures({ context, log, store }: ActivatedParts): Features {
  const agentsHostPath = vscode.Uri.joinPath(context.extensionUri, 'dist', 'agents').fsPath;
  const policies = registerPolicy(context, log);
  const secrets = new AgentSecrets(context.secrets);
  // The engine (setting, DOCKER_HOST, Docker context) is resolved at each session start, not here.
  const sandboxProvider = new EngineSandboxProvider(() => {
    const settings = readSandboxSettings();
    applyCopiesFolder(settings.copiesFolder);
    return { setting: settings.dockerHost };
  });
  const sessions = new SessionController({ store, sandboxProvider, agentsHostPath, log, policies, secrets });
  context.subscriptions.push(ReviewPanel.registerSerializer(context.extensionUri, store, reviewHandlers(store, sessions), log));
  registerCommands(context, store, sessions, log);
  registerContextKeys(context, store, sessions);
  registerReviewKeys(context);
  registerAgentCommands(context, store, sessions, secrets, log);
  registerAgentSetup(context, secrets, log);
  registerGitCommands(context, sessions, log);
  registerLifecycleCommands(context, sessions, log);
  registerAuditCommands(context, log);
  const inline = registerInlineReview(context, store, sessions, log, () => void vscode.commands.executeCommand('warden.showReview'));
  const proposalsLoaded = Promise.all((vscode.workspace.workspaceFolders ?? []).map((folder) => inline.load(folder))).then(
    () => undefined,
    (error: unknown) => log.error(`[proposals] loading saved proposals failed: ${error instanceof Error ? error.message : String(error)}`),
  );
  ReviewPanel.trackLoading(proposalsLoaded);
  // The Docker client (ssh2, gRPC: about 100 ms of one task) is the first thing a session loads,
  // and where the workspace's repository and who the reviewer is are the first things it asks
  // git (a git run forks the extension host: 10-20 ms of its event loop): all done while the
  // window is idle, so not inside the first session's start (issue 21). GitRepo and
  // resolveReviewer remember their answers while the files they rest on stay as they are.
  const cancelPreload = whenIdle(() => {
    try {
      loadDockerClient();
    } catch (error) {
      log.debug(
        `[sandbox] preloading the Docker client failed (a session will report it): ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    for (const folder of vscode.workspace.workspaceFolders ?? []) {
      void GitRepo.open(folder.uri.fsPath);
      void resolveReviewer(folder.uri.fsPath);
    }
  });
  context.subscriptions.push({ dispose: cancelPreload });
  return {
    activeSession: () => sessions.activeSession,
    lastTurn: () => sessions.lastTurn,
    inlineReview: inline,
    proposalsLoaded,
    hasAgentKey: async (envName) => Boolean(await secrets.get(envName)),
    reviewPanelMessage: async (raw) => {
      await vscode.commands.executeCommand('warden.showReview');
      await ReviewPanel.current?.handleMessage(raw);
    },
    deactivate: async () => {
      await sessions.stop('the extension was deactivated');
      // The orphaned state reaches the proposal files before the window goes.
      await inline.flush();
    },
  };
}

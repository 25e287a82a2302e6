import * as path from 'node:path';
import * as vscode from 'vscode';
import * as z from 'zod';
import { AuditLog } from '../../core/audit';
import type { AuditActor } from '../../core/audit/types';
import { resolveReviewer } from '../../core/git/identity';
import type { Proposal } from '../../core/proposals/model';
import { applyOrphanedEdit, discardOrphaned } from '../../core/session/gate/orphans';
import { ProposalPersistence, PROPOSALS_DIR } from '../../core/proposals/persistence';
import { ProposalRebaser } from '../../core/proposals/rebase';
import type { ProposalStore } from '../../core/proposals/store';
import { errorMessage } from '../../core/supervisor';
import { commandRegistrar } from '../commandRegistrar';
import { EditorWorkspaceFiles } from '../editorWorkspaceFiles';
import { ReviewPanel } from '../reviewPanel';
import type { SessionController } from '../sessionController';
import { supportsHunks } from '../../core/proposals/hunkChoices';
import { hunksOf } from './hunkDecisions';
import { InlineReview } from './inlineReview';
import { ReviewNotifier } from './reviewNotifier';

/** What the rest of the extension (and tests) reach of the inline review. */
export interface InlineReviewHandle {
  readonly inline: InlineReview;
  readonly notifier: ReviewNotifier;
  readonly persistence: ProposalPersistence;
  readonly rebaser: ProposalRebaser;
  /** Loads a folder's saved proposals (orphaned) into the store; what activation does. */
  load(folder: vscode.WorkspaceFolder): Promise<void>;
  /** Whether the Review panel is on screen. */
  panelVisible(): boolean;
  /** Writes pending changes to the proposal files now (deactivation). */
  flush(): Promise<void>;
}

const ProposalRef = z.union([z.string(), z.object({ proposalId: z.string(), hunkId: z.string().optional() })]);
const HunkRef = z.object({ proposalId: z.string(), hunkId: z.string() });

/** Debounce of re-diffing after typing: one rebase per pause, not per keystroke. */
const REDIFF_DELAY_MS = 300;

/**
 * Wires the review that happens outside the panel: inline lenses and decorations, the
 * "needs your review" notification, re-diffing proposals when their files change, and the
 * proposal files that survive a reload.
 */
export function registerInlineReview(
  context: vscode.ExtensionContext,
  store: ProposalStore,
  sessions: SessionController,
  log: vscode.LogOutputChannel,
  showReview: () => void,
): InlineReviewHandle {
  const folderFor = (sessionId: string): vscode.WorkspaceFolder | undefined => {
    const root = persistence.rootOf(sessionId);
    const folders = vscode.workspace.workspaceFolders ?? [];
    if (root) return folders.find((f) => f.uri.fsPath === root);
    const last = sessions.lastSession;
    if (last?.sessionId === sessionId) return last.folder;
    return folders[0];
  };
  const rootFor = (sessionId: string): string | undefined => folderFor(sessionId)?.uri.fsPath;
  const filesFor = (sessionId: string): EditorWorkspaceFiles => {
    const folder = folderFor(sessionId);
    if (!folder) throw new Error('Open the workspace folder this proposal belongs to');
    return new EditorWorkspaceFiles(folder.uri);
  };
  const record = async (sessionId: string, event: { actor: AuditActor; type: string; data: Record<string, unknown> }): Promise<void> => {
    const root = rootFor(sessionId);
    if (!root) return;
    await AuditLog.forWorkspace(root).append({ ...event, sessionId });
  };

  const persistence = new ProposalPersistence({
    store,
    rootFor,
    onError: (error, sessionId) => {
      log.error(`[proposals] could not save the proposals of session ${sessionId}: ${errorMessage(error)}`);
      void vscode.window.showErrorMessage(
        `Warden: could not save pending proposals (${errorMessage(error)}); they stay in this window only.`,
      );
    },
  });
  const rebaser = new ProposalRebaser({ store, read: (relative, sessionId) => filesFor(sessionId).read(relative), record });
  const choices = sessions.hunks;
  const inline = new InlineReview({
    store,
    hunksOf,
    perHunk: supportsHunks,
    rootFor,
    choiceFor: (p, hunkId) => choices.choiceFor(p, hunkId),
  });
  const panelVisible = (): boolean => ReviewPanel.current?.visible === true;
  const notifier = new ReviewNotifier({ store, panelVisible, showReview });

  // Re-diff when a watched file changes: typing (unsaved text counts), another proposal applied, a change on disk.
  const timers = new Map<string, ReturnType<typeof setTimeout>>();
  const fileChanged = (uri: vscode.Uri): void => {
    if (uri.scheme !== 'file') return;
    const folder = vscode.workspace.getWorkspaceFolder(uri);
    if (!folder) return;
    const relative = path.relative(folder.uri.fsPath, uri.fsPath).split(path.sep).join('/');
    if (!rebaser.watchedPaths().has(relative)) return;
    clearTimeout(timers.get(relative));
    timers.set(
      relative,
      setTimeout(() => {
        timers.delete(relative);
        rebaser
          .fileChanged(relative)
          .catch((error: unknown) => log.error(`[proposals] re-diffing ${relative} failed: ${errorMessage(error)}`));
      }, REDIFF_DELAY_MS),
    );
  };
  const watcher = vscode.workspace.createFileSystemWatcher('**/*');
  context.subscriptions.push(
    { dispose: () => persistence.dispose() },
    inline,
    notifier,
    watcher,
    watcher.onDidChange(fileChanged),
    watcher.onDidCreate(fileChanged),
    watcher.onDidDelete(fileChanged),
    vscode.workspace.onDidChangeTextDocument((e) => {
      if (e.contentChanges.length > 0) fileChanged(e.document.uri);
    }),
    // Closing a dirty editor without saving brings the file back to what is on disk.
    vscode.workspace.onDidCloseTextDocument((document) => fileChanged(document.uri)),
    { dispose: () => timers.forEach((t) => clearTimeout(t)) },
  );

  const reviewerFor = async (proposal: Proposal) => {
    const root = rootFor(proposal.sessionId);
    if (!root) throw new Error('Open the workspace folder this proposal belongs to');
    return resolveReviewer(root);
  };
  const register = commandRegistrar(context, log);
  const hunkCommand = (verdict: 'approve' | 'reject') => async (raw: unknown, hunkId?: unknown) => {
    const ref = HunkRef.parse(typeof raw === 'string' ? { proposalId: raw, hunkId } : raw);
    return choices.choose(ref.proposalId, ref.hunkId, verdict);
  };
  register('warden.acceptHunk', hunkCommand('approve'));
  register('warden.rejectHunk', hunkCommand('reject'));
  register('warden.applyOrphanedEdit', async (raw, options) => {
    const proposal = raw === undefined ? await pickOrphaned(store, (p) => p.kind === 'edit') : requireProposal(store, raw);
    if (!proposal) return undefined;
    const confirmed =
      z.object({ confirmed: z.literal(true) }).safeParse(options).success ||
      (await vscode.window.showWarningMessage(
        `Apply "${proposal.title}" although its agent is gone?`,
        {
          modal: true,
          detail:
            'The agent will not be told. The change is checked against the file as it is now: re-diffed if it still fits, stale (not applied) if not. Your decision is recorded in the audit log.',
        },
        'Apply anyway',
      )) === 'Apply anyway';
    if (!confirmed) return undefined;
    const reviewer = await reviewerFor(proposal);
    return applyOrphanedEdit({ store, files: filesFor(proposal.sessionId), record }, proposal.id, reviewer);
  });
  register('warden.discardProposal', async (raw) => {
    const proposal = raw === undefined ? await pickOrphaned(store, () => true) : requireProposal(store, raw);
    if (!proposal) return undefined;
    return discardOrphaned({ store, record }, proposal.id, await reviewerFor(proposal));
  });

  const load = async (folder: vscode.WorkspaceFolder): Promise<void> => {
    const loaded = await persistence.load(folder.uri.fsPath);
    for (const corrupt of loaded.corrupt) {
      const name = path.relative(folder.uri.fsPath, corrupt.file);
      log.error(`[proposals] ${name} is not a valid proposals file (${corrupt.error}); kept as ${path.basename(corrupt.keptAs)}`);
      void vscode.window
        .showErrorMessage(
          `Warden: ${name} could not be loaded (${corrupt.error}). It was kept as ${path.basename(corrupt.keptAs)}; nothing in it was applied.`,
          'Open',
        )
        .then(async (choice) => {
          if (choice === 'Open') await vscode.window.showTextDocument(vscode.Uri.file(corrupt.keptAs));
        });
    }
    if (loaded.proposals.length > 0) {
      log.info(
        `[proposals] ${loaded.proposals.length} proposal(s) from earlier sessions loaded from ${path.join(folder.name, PROPOSALS_DIR)} (orphaned: reviewable, never applied automatically)`,
      );
      // Not re-diffed here: an editor restored with unsaved text may not be open yet. The lenses
      // follow the text as it is, the next change re-diffs, and "Apply anyway" checks again.
      if (!panelVisible()) {
        const count = loaded.proposals.length;
        void vscode.window
          .showInformationMessage(
            `Warden: ${count === 1 ? '1 proposal' : `${count} proposals`} from an earlier session ${count === 1 ? 'is' : 'are'} orphaned (the agent is gone): review or discard.`,
            'Review',
          )
          .then((choice) => {
            if (choice === 'Review') showReview();
          });
      }
    }
  };

  return { inline, notifier, persistence, rebaser, load, panelVisible, flush: () => persistence.flush() };
}

/** The user's pick among orphaned proposals (the command palette passes no argument). */
async function pickOrphaned(store: ProposalStore, fits: (p: Proposal) => boolean): Promise<Proposal | undefined> {
  const orphaned = store.all().filter((p) => p.state === 'orphaned' && fits(p));
  if (orphaned.length === 0) {
    void vscode.window.showInformationMessage('Warden: no orphaned proposal.');
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    orphaned.map((p) => ({ label: p.title, description: `${p.kind} · session ${p.sessionId}`, detail: p.stateDetail, proposal: p })),
    { title: 'Warden: pick an orphaned proposal' },
  );
  return picked?.proposal;
}

function requireProposal(store: ProposalStore, raw: unknown): Proposal {
  const ref = ProposalRef.parse(raw);
  const id = typeof ref === 'string' ? ref : ref.proposalId;
  const proposal = store.get(id);
  if (!proposal) throw new Error(`No proposal with id ${id}`);
  return proposal;
}

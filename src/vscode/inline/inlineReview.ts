import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Proposal } from '../../core/proposals/model';
import type { ProposalStore } from '../../core/proposals/store';
import { PROPOSAL_SCHEME } from '../proposalDocuments';
import { editSidesOf, ghostText, layoutProposal, type DocumentLayout, type LayoutHunk, type PlacedHunk } from './hunkLayout';

export interface InlineReviewOptions {
  store: ProposalStore;
  /** Splits an edit into the hunks the core decides on (same ids as the Review panel). */
  hunksOf: (oldText: string, newText: string) => readonly LayoutHunk[];
  /** Whether per-hunk decisions are offered for this proposal (edits written through Warden). */
  perHunk(proposal: Proposal): boolean;
  /** The workspace folder a proposal's paths are relative to. */
  rootFor(sessionId: string): string | undefined;
  /** The reviewer's choice so far for one hunk (until every hunk has one). */
  choiceFor?(proposal: Proposal, hunkId: string): 'approve' | 'reject' | undefined;
}

/** Commands the lenses call; each takes `{ proposalId, hunkId? }`. */
export const INLINE_COMMANDS = {
  acceptHunk: 'warden.acceptHunk',
  rejectHunk: 'warden.rejectHunk',
  acceptAll: 'warden.acceptProposal',
  rejectAll: 'warden.rejectProposal',
  openDiff: 'warden.openProposalDiff',
  applyAnyway: 'warden.applyOrphanedEdit',
  discard: 'warden.discardProposal',
} as const;

/**
 * Proposed changes shown in the file they touch: CodeLens "Accept | Reject" above each hunk
 * and "Accept all | Reject all | Open Diff" for the proposal, removed lines highlighted,
 * added lines as ghost text after the line they follow, and a hover with the hunk's diff.
 * Everything is computed against the document's current text (unsaved changes included) and
 * follows the store live. A create, whose file does not exist yet, gets its lenses in the
 * proposal's virtual document (the right side of Open Diff).
 */
export class InlineReview implements vscode.Disposable, vscode.CodeLensProvider, vscode.HoverProvider {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly removedLine = vscode.window.createTextEditorDecorationType({
    isWholeLine: true,
    backgroundColor: new vscode.ThemeColor('diffEditor.removedLineBackground'),
    overviewRulerColor: new vscode.ThemeColor('editorOverviewRuler.deletedForeground'),
    overviewRulerLane: vscode.OverviewRulerLane.Left,
    borderColor: new vscode.ThemeColor('editorGutter.deletedBackground'),
    borderStyle: 'solid',
    borderWidth: '0 0 0 3px',
  });
  private readonly insertion = vscode.window.createTextEditorDecorationType({
    overviewRulerColor: new vscode.ThemeColor('editorOverviewRuler.addedForeground'),
    overviewRulerLane: vscode.OverviewRulerLane.Left,
    isWholeLine: true,
    borderColor: new vscode.ThemeColor('editorGutter.addedBackground'),
    borderStyle: 'solid',
    borderWidth: '0 0 0 3px',
  });
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly options: InlineReviewOptions) {
    const selector: vscode.DocumentSelector = [{ scheme: 'file' }, { scheme: PROPOSAL_SCHEME }];
    this.disposables.push(
      this.changed,
      this.removedLine,
      this.insertion,
      vscode.languages.registerCodeLensProvider(selector, this),
      vscode.languages.registerHoverProvider(selector, this),
      options.store.onDidChange(() => this.scheduleRefresh()),
      vscode.window.onDidChangeVisibleTextEditors(() => this.scheduleRefresh()),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (vscode.window.visibleTextEditors.some((editor) => editor.document === e.document)) this.scheduleRefresh();
      }),
    );
    this.scheduleRefresh();
  }

  /** Layouts of the reviewable proposals touching a document (public for tests). */
  layoutsFor(document: vscode.TextDocument): Array<{ proposal: Proposal; layout: DocumentLayout | undefined }> {
    if (document.uri.scheme === PROPOSAL_SCHEME) {
      const proposal = this.options.store.get(document.uri.query);
      if (!proposal || !reviewable(proposal) || document.uri.fragment !== 'new') return [];
      return [{ proposal, layout: undefined }];
    }
    const relative = this.relativePath(document.uri);
    if (relative === undefined) return [];
    const text = document.getText();
    return this.options.store
      .all()
      .filter((p) => reviewable(p) && editSidesOf(p)?.path === relative && this.sameFolder(p, document.uri))
      .map((proposal) => ({ proposal, layout: layoutProposal(proposal, text, this.options.hunksOf) }));
  }

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    const lenses: vscode.CodeLens[] = [];
    for (const { proposal, layout } of this.layoutsFor(document)) {
      const top = new vscode.Range(0, 0, 0, 0);
      if (!layout) {
        // The virtual document of a proposal (a create has no real file to put lenses in).
        lenses.push(...this.proposalLenses(proposal, top));
        continue;
      }
      if (layout.kind === 'conflict') {
        lenses.push(
          lens(
            top,
            `$(warning) Warden: ${layout.reason}; this proposal will not be applied`,
            INLINE_COMMANDS.openDiff,
            { proposalId: proposal.id },
            "Open the proposal's diff",
          ),
        );
        continue;
      }
      const first = layout.hunks[0];
      lenses.push(...this.proposalLenses(proposal, first ? new vscode.Range(first.anchorLine, 0, first.anchorLine, 0) : top));
      if (proposal.state !== 'pending' || !this.options.perHunk(proposal) || layout.hunks.length === 0) continue;
      layout.hunks.forEach((hunk, index) => {
        const range = new vscode.Range(hunk.anchorLine, 0, hunk.anchorLine, 0);
        const label = layout.hunks.length > 1 ? ` hunk ${index + 1}/${layout.hunks.length}` : ' hunk';
        const args = { proposalId: proposal.id, hunkId: hunk.id };
        const chosen = this.options.choiceFor?.(proposal, hunk.id);
        if (chosen === 'approve') {
          lenses.push(
            lens(range, `$(pass-filled) Accepted${label}`, INLINE_COMMANDS.acceptHunk, args, 'Applied once every hunk has a choice'),
            lens(range, 'Reject instead', INLINE_COMMANDS.rejectHunk, args, 'Reject this hunk instead'),
          );
        } else if (chosen === 'reject') {
          lenses.push(
            lens(range, `$(circle-slash) Rejected${label}`, INLINE_COMMANDS.rejectHunk, args, 'Left out once every hunk has a choice'),
            lens(range, 'Accept instead', INLINE_COMMANDS.acceptHunk, args, 'Accept this hunk instead'),
          );
        } else {
          lenses.push(
            lens(range, `$(check) Accept${label}`, INLINE_COMMANDS.acceptHunk, args, 'Accept this hunk'),
            lens(range, '$(close) Reject', INLINE_COMMANDS.rejectHunk, args, 'Reject this hunk'),
          );
        }
      });
    }
    return lenses;
  }

  provideHover(document: vscode.TextDocument, position: vscode.Position): vscode.Hover | undefined {
    for (const { proposal, layout } of this.layoutsFor(document)) {
      if (layout?.kind !== 'placed') continue;
      const hunk = layout.hunks.find((h) => position.line >= h.firstLine && position.line <= h.lastLine);
      if (!hunk) continue;
      const markdown = new vscode.MarkdownString(undefined, true);
      markdown.appendMarkdown(`**Warden** · ${escapeMarkdown(proposal.title)} · _${proposal.state}_\n\n`);
      markdown.appendCodeblock(hunk.patch, 'diff');
      if (layout.rediffed) markdown.appendMarkdown('\n_Re-diffed against the text in the editor._');
      return new vscode.Hover(markdown, new vscode.Range(hunk.firstLine, 0, hunk.lastLine, 0));
    }
    return undefined;
  }

  dispose(): void {
    if (this.refreshTimer !== undefined) clearTimeout(this.refreshTimer);
    for (const editor of vscode.window.visibleTextEditors) {
      editor.setDecorations(this.removedLine, []);
      editor.setDecorations(this.insertion, []);
    }
    for (const d of this.disposables.splice(0)) d.dispose();
  }

  /** Recomputes lenses and decorations now (tests call it instead of waiting). */
  refresh(): void {
    if (this.refreshTimer !== undefined) clearTimeout(this.refreshTimer);
    this.refreshTimer = undefined;
    this.changed.fire();
    for (const editor of vscode.window.visibleTextEditors) this.decorate(editor);
  }

  private scheduleRefresh(): void {
    if (this.refreshTimer !== undefined) return;
    this.refreshTimer = setTimeout(() => this.refresh(), 50);
  }

  private decorate(editor: vscode.TextEditor): void {
    const removed: vscode.DecorationOptions[] = [];
    const inserted: vscode.DecorationOptions[] = [];
    if (editor.document.uri.scheme === 'file') {
      for (const { layout } of this.layoutsFor(editor.document)) {
        if (layout?.kind !== 'placed') continue;
        // The hover provider shows the hunk's diff over its whole range.
        for (const hunk of layout.hunks) {
          for (const line of hunk.removed) removed.push({ range: new vscode.Range(line, 0, line, 0) });
          for (const insertion of hunk.insertions) inserted.push(ghost(editor.document, insertion));
        }
      }
    }
    editor.setDecorations(this.removedLine, removed);
    editor.setDecorations(this.insertion, inserted);
  }

  private proposalLenses(proposal: Proposal, range: vscode.Range): vscode.CodeLens[] {
    const args = { proposalId: proposal.id };
    if (proposal.state === 'orphaned') {
      const lenses = [
        lens(
          range,
          '$(debug-disconnect) Warden: orphaned (its agent is gone)',
          INLINE_COMMANDS.openDiff,
          args,
          proposal.stateDetail ?? 'Its agent is gone',
        ),
      ];
      if (proposal.kind === 'edit')
        lenses.push(
          lens(range, 'Apply anyway', INLINE_COMMANDS.applyAnyway, args, 'Apply this edit yourself, checked against the file as it is now'),
        );
      lenses.push(
        lens(range, 'Discard', INLINE_COMMANDS.discard, args, 'Remove it from the review queue (the audit log keeps it)'),
        lens(range, 'Open Diff', INLINE_COMMANDS.openDiff, args, 'Open the diff'),
      );
      return lenses;
    }
    return [
      lens(
        range,
        `$(shield) Warden: ${proposal.title}`,
        INLINE_COMMANDS.openDiff,
        args,
        proposal.policy ? `Policy: ${proposal.policy.reason}` : 'An agent proposal waiting for your review',
      ),
      lens(range, '$(check-all) Accept all', INLINE_COMMANDS.acceptAll, args, 'Accept the whole proposal'),
      lens(range, '$(close-all) Reject all', INLINE_COMMANDS.rejectAll, args, 'Reject the whole proposal'),
      lens(range, '$(diff) Open Diff', INLINE_COMMANDS.openDiff, args, 'Open the diff'),
    ];
  }

  private relativePath(uri: vscode.Uri): string | undefined {
    const folder = vscode.workspace.getWorkspaceFolder(uri);
    if (!folder || uri.scheme !== 'file') return undefined;
    const relative = path.relative(folder.uri.fsPath, uri.fsPath);
    if (relative.startsWith('..') || path.isAbsolute(relative)) return undefined;
    return relative.split(path.sep).join('/');
  }

  private sameFolder(proposal: Proposal, uri: vscode.Uri): boolean {
    const root = this.options.rootFor(proposal.sessionId);
    const folder = vscode.workspace.getWorkspaceFolder(uri);
    return root === undefined || folder?.uri.fsPath === root;
  }
}

/** Pending proposals can be decided; orphaned ones stay reviewable. */
function reviewable(proposal: Proposal): boolean {
  return proposal.state === 'pending' || proposal.state === 'orphaned';
}

function lens(range: vscode.Range, title: string, command: string, args: object, tooltip: string): vscode.CodeLens {
  return new vscode.CodeLens(range, { title, command, arguments: [args], tooltip });
}

/** Added lines are not in the document yet: shown as ghost text after the line they follow. */
function ghost(document: vscode.TextDocument, insertion: PlacedHunk['insertions'][number]): vscode.DecorationOptions {
  const style = {
    color: new vscode.ThemeColor('editorGhostText.foreground'),
    backgroundColor: new vscode.ThemeColor('diffEditor.insertedTextBackground'),
    fontStyle: 'italic',
  };
  // Shown after the line the added lines follow; lines added at the very top say so on the first line.
  const top = insertion.beforeLine === 0;
  const after = top ? 0 : Math.min(insertion.beforeLine - 1, document.lineCount - 1);
  const line = document.lineAt(after);
  return {
    range: new vscode.Range(after, line.text.length, after, line.text.length),
    // Every added line, in the line and in full in the hover (a decoration cannot break lines).
    hoverMessage: new vscode.MarkdownString()
      .appendMarkdown(`**${insertion.lines.length} line(s) to be added:**`)
      .appendCodeblock(insertion.lines.join('\n'), document.languageId),
    renderOptions: { after: { ...style, contentText: `  ⊕ ${top ? 'above: ' : ''}${ghostText(insertion.lines)}` } },
  };
}

function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
}

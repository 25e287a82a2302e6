import * as vscode from 'vscode';
import type { ProposalStore } from '../core/proposals/store';
import {
  parseSessionWebviewMessage,
  type QuestionView,
  type SessionExtensionMessage,
  type SessionSummary,
  type SessionWebviewMessage,
} from '../shared/sessionProtocol';
import type { FeedEntry } from '../core/session/sessionFeed';
import { createNonce, webviewShellHtml } from './webviewHtml';

/** What the Session view needs from the window's session. */
export interface SessionViewSource {
  summary(): SessionSummary | null;
  entries(): FeedEntry[];
  /** Fires when the session, its feed or its state changes. */
  onDidChange(listener: () => void): { dispose(): unknown };
  prompt(text: string): Promise<unknown>;
  cancel(): Promise<unknown>;
  answer(proposalId: string, answer: string): Promise<unknown>;
  decline(proposalId: string): Promise<unknown>;
  showReview(): unknown;
}

const STATE_THROTTLE_MS = 50;

/**
 * The "Warden Session" panel: what the agent is doing while it works (its messages and
 * thoughts, plan, tool calls with their diffs and output, mode), the questions waiting for
 * the human's answer, and a box for the next instruction. Same shell and CSP as the Review
 * panel; the contract is `src/shared/sessionProtocol.ts`, validated on both sides.
 */
export class SessionView implements vscode.Disposable {
  static readonly viewType = 'warden.session';
  private static instance: SessionView | undefined;

  static get current(): SessionView | undefined {
    return SessionView.instance;
  }

  static createOrShow(
    extensionUri: vscode.Uri,
    store: ProposalStore,
    source: SessionViewSource,
    log: vscode.LogOutputChannel,
  ): SessionView {
    const open = SessionView.instance;
    if (open) {
      open.panel.reveal(open.panel.viewColumn ?? vscode.ViewColumn.Beside, true);
      return open;
    }
    const panel = vscode.window.createWebviewPanel(
      SessionView.viewType,
      'Warden Session',
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      { enableScripts: true, enableFindWidget: true, localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'media')] },
    );
    return new SessionView(panel, extensionUri, store, source, log);
  }

  static registerSerializer(
    extensionUri: vscode.Uri,
    store: ProposalStore,
    source: SessionViewSource,
    log: vscode.LogOutputChannel,
  ): vscode.Disposable {
    return vscode.window.registerWebviewPanelSerializer(SessionView.viewType, {
      deserializeWebviewPanel: (panel) => {
        SessionView.instance?.dispose();
        panel.webview.options = { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'media')] };
        new SessionView(panel, extensionUri, store, source, log);
        return Promise.resolve();
      },
    });
  }

  private readonly subscriptions: Array<{ dispose(): unknown }> = [];
  private ready = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private disposed = false;

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    private readonly store: ProposalStore,
    private readonly source: SessionViewSource,
    private readonly log: vscode.LogOutputChannel,
  ) {
    SessionView.instance = this;
    const media = vscode.Uri.joinPath(extensionUri, 'dist', 'media');
    this.subscriptions.push(
      panel.onDidDispose(() => this.dispose()),
      panel.onDidChangeViewState(() => {
        if (!panel.visible) this.ready = false;
      }),
      panel.webview.onDidReceiveMessage((raw: unknown) => void this.handleMessage(raw)),
      source.onDidChange(() => this.schedule()),
      store.onDidChange(() => this.schedule()),
    );
    panel.webview.html = webviewShellHtml({
      cspSource: panel.webview.cspSource,
      nonce: createNonce(),
      scriptUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(media, 'session.js')).toString(),
      styleUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(media, 'session.css')).toString(),
      title: 'Warden Session',
      loadingText: 'Loading the session…',
    });
  }

  /** The entry point for every webview message (public so extension tests can drive it). */
  async handleMessage(raw: unknown): Promise<void> {
    const parsed = parseSessionWebviewMessage(raw);
    if (!parsed.ok) {
      this.log.warn(`[session view] dropped an invalid message from the webview: ${parsed.error}`);
      return;
    }
    const message: SessionWebviewMessage = parsed.message;
    try {
      switch (message.type) {
        case 'ready':
          this.ready = true;
          this.postState();
          return;
        case 'prompt':
          void this.source.prompt(message.text).catch((error: unknown) => this.fail(error));
          return;
        case 'cancel':
          await this.source.cancel();
          return;
        case 'answer':
          await this.source.answer(message.proposalId, message.answer);
          return;
        case 'decline':
          await this.source.decline(message.proposalId);
          return;
        case 'showReview':
          this.source.showReview();
          return;
      }
    } catch (error) {
      this.fail(error);
    }
  }

  /** The snapshot the webview gets (public for tests). */
  snapshot(): Extract<SessionExtensionMessage, { type: 'state' }> {
    const summary = this.source.summary();
    const questions: QuestionView[] = this.store
      .pending()
      .filter((p) => p.kind === 'question' && (!summary || p.sessionId === summary.id))
      .map((p) =>
        p.kind === 'question'
          ? { proposalId: p.id, question: p.question, createdAt: p.createdAt, ...(p.choices ? { choices: p.choices } : {}) }
          : undefined,
      )
      .filter((q): q is QuestionView => q !== undefined);
    return { type: 'state', session: summary, entries: this.source.entries(), questions };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (SessionView.instance === this) SessionView.instance = undefined;
    if (this.timer) clearTimeout(this.timer);
    for (const s of this.subscriptions.splice(0)) s.dispose();
    this.panel.dispose();
  }

  private fail(error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    this.log.error(`[session view] ${message}`);
    this.post({ type: 'error', message });
  }

  private schedule(): void {
    if (!this.ready || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.postState();
    }, STATE_THROTTLE_MS);
  }

  private postState(): void {
    if (!this.ready) return;
    this.post(this.snapshot());
  }

  private post(message: SessionExtensionMessage): void {
    if (this.disposed) return;
    this.panel.webview
      .postMessage(message)
      .then(undefined, (error: unknown) => this.log.warn(`[session view] could not post: ${String(error)}`));
  }
}

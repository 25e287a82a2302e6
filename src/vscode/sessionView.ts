import * as vscode from 'vscode';
import type { ProposalStore } from '../core/proposals/store';
import {
  parseSessionWebviewMessage,
  type QuestionView,
  type SessionExtensionMessage,
  type SessionSummary,
  type SessionWebviewMessage,
} from '../shared/sessionProtocol';
import type { FeedChanges } from '../core/session/sessionFeed';
import { WebviewPanelHost, type WebviewPanelSpec } from './webviewPanelHost';

/** What the Session view needs from the window's session. */
export interface SessionViewSource {
  summary(): SessionSummary | null;
  /** The feed's entries changed since a version (0: all of them). */
  feedChanges(since: number): FeedChanges;
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
  static readonly spec: WebviewPanelSpec = {
    viewType: SessionView.viewType,
    title: 'Warden Session',
    script: 'session.js',
    style: 'session.css',
    loadingText: 'Loading the session…',
    throttleMs: STATE_THROTTLE_MS,
  };

  static get current(): SessionView | undefined {
    return WebviewPanelHost.instance<SessionView>(SessionView.viewType);
  }

  static createOrShow(
    extensionUri: vscode.Uri,
    store: ProposalStore,
    source: SessionViewSource,
    log: vscode.LogOutputChannel,
  ): SessionView {
    const open = SessionView.current;
    if (open) {
      open.host.reveal(vscode.ViewColumn.Beside, true);
      return open;
    }
    const panel = WebviewPanelHost.createPanel(extensionUri, SessionView.spec, {
      viewColumn: vscode.ViewColumn.Beside,
      preserveFocus: true,
    });
    return new SessionView(panel, extensionUri, store, source, log);
  }

  static registerSerializer(
    extensionUri: vscode.Uri,
    store: ProposalStore,
    source: SessionViewSource,
    log: vscode.LogOutputChannel,
  ): vscode.Disposable {
    return WebviewPanelHost.registerSerializer(extensionUri, SessionView.viewType, (panel) => {
      new SessionView(panel, extensionUri, store, source, log);
    });
  }

  private readonly host: WebviewPanelHost<SessionExtensionMessage>;
  private readonly subscriptions: Array<{ dispose(): unknown }> = [];
  /** The number of the last state message, and the feed version it held: a delta sends what changed since. */
  private rev = 0;
  private feedVersion = 0;

  private constructor(
    panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    private readonly store: ProposalStore,
    private readonly source: SessionViewSource,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.host = new WebviewPanelHost<SessionExtensionMessage>(panel, extensionUri, SessionView.spec, this, {
      onMessage: (raw) => this.handleMessage(raw),
      snapshot: (full) => this.snapshot(full),
      onDispose: () => {
        for (const s of this.subscriptions.splice(0)) s.dispose();
      },
      log,
    });
    this.subscriptions.push(
      source.onDidChange(() => this.host.scheduleState()),
      store.onDidChange(() => this.host.scheduleState()),
    );
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
          this.host.markReady();
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

  /** The full state a new document gets, or what changed since the last message (public for tests). */
  snapshot(full = true): Extract<SessionExtensionMessage, { type: 'state' | 'delta' }> {
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
    const feed = this.source.feedChanges(full ? 0 : this.feedVersion);
    this.feedVersion = feed.version;
    const base = this.rev;
    this.rev = base + 1;
    if (full) return { type: 'state', session: summary, entries: feed.changed, questions, rev: this.rev };
    return { type: 'delta', base, rev: this.rev, session: summary, entries: feed.changed, seqs: feed.seqs, questions };
  }

  dispose(): void {
    this.host.dispose();
  }

  private fail(error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    this.log.error(`[session view] ${message}`);
    this.host.post({ type: 'error', message });
  }
}

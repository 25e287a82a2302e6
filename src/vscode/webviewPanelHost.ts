import * as vscode from 'vscode';
import { LeadingThrottle } from '../core/util/throttle';
import { createNonce, webviewShellHtml } from './webviewHtml';

/**
 * What every Warden webview panel shares on the extension side: the panel with its strict
 * shell (one script by nonce, the stylesheets from dist/media), one instance per view type,
 * restoring after a window reload (a serializer), the `ready` handshake (a hidden webview is
 * torn down and says `ready` again when shown) and a throttle on state snapshots.
 * Each panel (Review, Session, Audit) keeps its own message contract and handlers.
 */
export interface WebviewPanelSpec {
  viewType: string;
  title: string;
  /** Bundle and stylesheet in dist/media, e.g. `review.js`, `review.css`. */
  script: string;
  style: string;
  loadingText: string;
  /** Snapshots at most this often (a lone change goes at once). */
  throttleMs: number;
}

export interface WebviewPanelCallbacks<Out> {
  /** A raw message from the webview: the panel validates it with its own contract. */
  onMessage(raw: unknown): unknown;
  /**
   * The state message: `full` after `ready` (a new document holds nothing); otherwise, after a
   * change (throttled), the panel may send only what changed since its last message.
   */
  snapshot(full: boolean): Out | undefined;
  onDispose(): void;
  log: { warn(message: string): void };
}

/** Stylesheets every webview loads before its own: the codicon font and the shared common.css. */
const SHARED_STYLES = ['codicons/codicon.css', 'common.css'];

export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  return {
    enableScripts: true,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'media'), vscode.Uri.joinPath(extensionUri, 'media')],
  };
}

export class WebviewPanelHost<Out extends { type: string }> implements vscode.Disposable {
  private static readonly open = new Map<string, vscode.Disposable>();

  /** The open panel of a view type (the panel classes keep their typed `current`). */
  static instance<T extends vscode.Disposable>(viewType: string): T | undefined {
    return WebviewPanelHost.open.get(viewType) as T | undefined;
  }

  /** A new panel (the caller checked there is none to reveal). */
  static createPanel(
    extensionUri: vscode.Uri,
    spec: WebviewPanelSpec,
    show: vscode.ViewColumn | { viewColumn: vscode.ViewColumn; preserveFocus: boolean },
  ): vscode.WebviewPanel {
    return vscode.window.createWebviewPanel(spec.viewType, spec.title, show, { ...webviewOptions(extensionUri), enableFindWidget: true });
  }

  /** Restores the panel after a reload (matches the `onWebviewPanel:<viewType>` activation event). */
  static registerSerializer(extensionUri: vscode.Uri, viewType: string, revive: (panel: vscode.WebviewPanel) => void): vscode.Disposable {
    return vscode.window.registerWebviewPanelSerializer(viewType, {
      deserializeWebviewPanel: (panel) => {
        WebviewPanelHost.open.get(viewType)?.dispose();
        panel.webview.options = webviewOptions(extensionUri);
        revive(panel);
        return Promise.resolve();
      },
    });
  }

  private readonly subscriptions: vscode.Disposable[] = [];
  private readonly throttle: LeadingThrottle;
  private isReady = false;
  private isDisposed = false;

  constructor(
    readonly panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    private readonly spec: WebviewPanelSpec,
    private readonly owner: vscode.Disposable,
    private readonly callbacks: WebviewPanelCallbacks<Out>,
  ) {
    WebviewPanelHost.open.set(spec.viewType, owner);
    this.throttle = new LeadingThrottle(spec.throttleMs, () => this.postState());
    this.subscriptions.push(
      panel.onDidDispose(() => {
        owner.dispose();
      }),
      panel.onDidChangeViewState(() => {
        // Hidden webviews are torn down; the reloaded document sends `ready` again.
        if (!panel.visible) this.isReady = false;
      }),
      panel.webview.onDidReceiveMessage((raw: unknown) => void this.callbacks.onMessage(raw)),
      { dispose: () => this.throttle.cancel() },
    );
    const webview = panel.webview;
    const media = vscode.Uri.joinPath(extensionUri, 'dist', 'media');
    const uri = (file: string): string => webview.asWebviewUri(vscode.Uri.joinPath(media, ...file.split('/'))).toString();
    webview.html = webviewShellHtml({
      cspSource: webview.cspSource,
      nonce: createNonce(),
      scriptUri: uri(spec.script),
      styleUri: uri(spec.style),
      extraStyleUris: SHARED_STYLES.map(uri),
      title: spec.title,
      loadingText: spec.loadingText,
    });
  }

  get ready(): boolean {
    return this.isReady && !this.isDisposed;
  }

  get visible(): boolean {
    return !this.isDisposed && this.panel.visible;
  }

  get disposed(): boolean {
    return this.isDisposed;
  }

  /** The webview said `ready`: it gets the full snapshot now. */
  markReady(): void {
    this.isReady = true;
    this.postState(true);
  }

  /** Something changed: a snapshot goes out soon (at most one per `throttleMs`). */
  scheduleState(): void {
    if (this.ready) this.throttle.schedule();
  }

  /** The state now (when the webview is there to get it): what changed, or everything when `full`. */
  postState(full = false): void {
    this.throttle.flushed();
    if (!this.ready) return;
    const snapshot = this.callbacks.snapshot(full);
    if (snapshot) this.post(snapshot);
  }

  post(message: Out): void {
    if (this.isDisposed) return;
    const failed = (error: unknown): void =>
      this.callbacks.log.warn(`[${this.spec.viewType}] could not post '${message.type}' to the webview: ${String(error)}`);
    try {
      this.panel.webview.postMessage(message).then(undefined, failed);
    } catch (error) {
      failed(error);
    }
  }

  reveal(column: vscode.ViewColumn | undefined, preserveFocus = false): void {
    this.panel.reveal(this.panel.viewColumn ?? column, preserveFocus);
  }

  dispose(): void {
    if (this.isDisposed) return;
    this.isDisposed = true;
    if (WebviewPanelHost.open.get(this.spec.viewType) === this.owner) WebviewPanelHost.open.delete(this.spec.viewType);
    this.callbacks.onDispose();
    for (const subscription of this.subscriptions.splice(0)) subscription.dispose();
    this.panel.dispose();
  }
}

import { existsSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  auditBlame,
  auditDiffSides,
  defaultBlameTarget,
  exportAuditCsv,
  exportAuditJson,
  exportAuditOtlp,
  findAuditEntry,
  formatAnchorReport,
  formatVerifyReport,
  verifyAuditAnchors,
} from '../core/audit';
import {
  parseAuditWebviewMessage,
  type AuditExtensionMessage,
  type AuditFilters,
  type ExportFormat,
  type VerifyStatusView,
} from '../shared/auditProtocol';
import type { AuditDocuments } from './auditDocuments';
import { toBlameView } from './auditBlameView';
import { auditPanelState, toQuery } from './auditPanelData';
import { WebviewPanelHost, type WebviewPanelSpec } from './webviewPanelHost';

export { AUDIT_ROW_LIMIT, toQuery } from './auditPanelData';

/** What the webview lists after drawing a state. */
export interface RenderedCounts {
  sessions: number;
  rows: number;
  /** When a blame result was drawn. */
  blame?: { target: string; files: number; ranges: number; unexplained: number };
}

export interface AuditPanelDeps {
  log: { info(message: string): void; warn(message: string): void; error(message: string): void };
  documents: AuditDocuments;
  /** The configured OpenTelemetry logs endpoint, if any. */
  otlp(): { endpoint: string; headers: Record<string, string> } | undefined;
}

const REFRESH_DEBOUNCE_MS = 300;

/**
 * The "Warden Audit Log" webview panel of one workspace folder: the verify status on top, a
 * timeline of sessions, filters and full-text search over every entry, audit blame of a commit
 * or range, diffs in the diff editor, exports. One instance at a time (WebviewPanelHost); it
 * re-reads the log when a segment changes.
 */
export class AuditPanel implements vscode.Disposable {
  static readonly viewType = 'warden.audit';
  static readonly title = 'Warden Audit Log';
  static readonly spec: WebviewPanelSpec = {
    viewType: AuditPanel.viewType,
    title: AuditPanel.title,
    script: 'audit.js',
    style: 'audit.css',
    loadingText: 'Reading the audit log…',
    // Snapshots are read from disk on demand (refresh), not from a throttled store.
    throttleMs: 0,
  };

  static get current(): AuditPanel | undefined {
    return WebviewPanelHost.instance<AuditPanel>(AuditPanel.viewType);
  }

  static createOrShow(extensionUri: vscode.Uri, folder: vscode.WorkspaceFolder, deps: AuditPanelDeps): AuditPanel {
    const open = AuditPanel.current;
    if (open && open.folder.uri.toString() === folder.uri.toString()) {
      open.host.reveal(vscode.ViewColumn.Active);
      return open;
    }
    open?.dispose();
    return new AuditPanel(
      WebviewPanelHost.createPanel(extensionUri, AuditPanel.spec, vscode.ViewColumn.Active),
      extensionUri,
      folder,
      deps,
    );
  }

  /** Restores the panel after a reload, on the first workspace folder. */
  static registerSerializer(extensionUri: vscode.Uri, deps: AuditPanelDeps): vscode.Disposable {
    return WebviewPanelHost.registerSerializer(extensionUri, AuditPanel.viewType, (panel) => {
      const folder = vscode.workspace.workspaceFolders?.[0];
      if (!folder) panel.dispose();
      else new AuditPanel(panel, extensionUri, folder, deps);
    });
  }

  private readonly host: WebviewPanelHost<AuditExtensionMessage>;
  private readonly subscriptions: vscode.Disposable[] = [];
  private filters: AuditFilters = {};
  private verify: VerifyStatusView | undefined;
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  private lastRefreshMs = 0;
  /** Waiting for the webview to draw the next state (see `rendered`). */
  private renderWaiters: Array<{ until: (counts: RenderedCounts) => boolean; resolve: (counts: RenderedCounts) => void }> = [];
  /** Serializes reads so a slow query never overwrites a newer one. */
  private work: Promise<unknown> = Promise.resolve();

  private constructor(
    panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    readonly folder: vscode.WorkspaceFolder,
    private readonly deps: AuditPanelDeps,
  ) {
    this.host = new WebviewPanelHost<AuditExtensionMessage>(panel, extensionUri, AuditPanel.spec, this, {
      onMessage: (raw) => this.handleMessage(raw),
      // Each state is read from the log (refresh); the host sends nothing on its own.
      snapshot: () => undefined,
      onDispose: () => {
        if (this.refreshTimer !== undefined) clearTimeout(this.refreshTimer);
        for (const s of this.subscriptions.splice(0)) s.dispose();
      },
      log: deps.log,
    });
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(folder, '.warden/audit/**/*.jsonl'));
    this.subscriptions.push(
      watcher,
      watcher.onDidChange(() => this.scheduleRefresh()),
      watcher.onDidCreate(() => this.scheduleRefresh()),
      watcher.onDidDelete(() => this.scheduleRefresh()),
    );
  }

  private get root(): string {
    return this.folder.uri.fsPath;
  }

  /** Every webview message comes here (public so extension tests can drive it). */
  async handleMessage(raw: unknown): Promise<void> {
    const parsed = parseAuditWebviewMessage(raw);
    if (!parsed.ok) {
      this.deps.log.warn(`[audit panel] dropped an invalid message from the webview: ${parsed.error}`);
      return;
    }
    const message = parsed.message;
    try {
      switch (message.type) {
        case 'ready':
          this.host.markReady();
          await this.refresh(true);
          return;
        case 'query':
          this.filters = message.filters;
          await this.refresh(false);
          return;
        case 'verify':
          await this.refresh(true);
          this.post({ type: 'notice', message: this.verify?.message ?? 'Verified.' });
          return;
        case 'repair':
          await vscode.commands.executeCommand('warden.repairAuditLog', this.root);
          await this.refresh(true);
          return;
        case 'openDiff':
          await this.deps.documents.openDiff(await auditDiffSides(this.root, message.seq, message.hash));
          return;
        case 'openEntry':
          await this.openEntry(message.seq, message.hash);
          return;
        case 'openBreak': {
          const at = this.verify?.firstBreak;
          if (at) await this.openAt(at.file, at.line);
          return;
        }
        case 'export':
          await this.export(message.format);
          return;
        case 'blame':
          // A failure is drawn in the blame section: no second notice.
          await this.blame(message.target).catch(() => undefined);
          return;
        case 'rendered': {
          const counts: RenderedCounts = {
            sessions: message.sessions,
            rows: message.rows,
            ...(message.blame ? { blame: message.blame } : {}),
          };
          const blame = message.blame ? `; blame: ${message.blame.files} file(s), ${message.blame.ranges} range(s)` : '';
          this.deps.log.info(`[audit panel] listed ${counts.sessions} session(s) and ${counts.rows} entries${blame}`);
          for (const waiter of this.renderWaiters.splice(0)) {
            if (waiter.until(counts)) waiter.resolve(counts);
            else this.renderWaiters.push(waiter);
          }
          return;
        }
      }
    } catch (error) {
      const text = error instanceof Error ? error.message : String(error);
      this.deps.log.error(`[audit panel] ${message.type}: ${text}`);
      this.post({ type: 'error', message: text });
    }
  }

  /** Resolves when the webview has drawn its next state, with what it lists. */
  nextRender(until: (counts: RenderedCounts) => boolean = () => true): Promise<RenderedCounts> {
    return new Promise((resolve) => this.renderWaiters.push({ until, resolve }));
  }

  /** Re-reads the log (and re-verifies it when asked) and sends a snapshot. */
  refresh(reverify: boolean): Promise<void> {
    const run = this.work.catch(() => undefined).then(() => this.doRefresh(reverify));
    this.work = run;
    return run;
  }

  private async doRefresh(reverify: boolean): Promise<void> {
    if (!this.host.ready) return;
    const started = Date.now();
    try {
      await this.readAndPost(reverify);
    } finally {
      this.lastRefreshMs = Date.now() - started;
    }
  }

  private async readAndPost(reverify: boolean): Promise<void> {
    if (reverify || !this.verify) this.verify = await verifyStatus(this.root);
    this.post(await auditPanelState(this.root, this.filters, this.verify, this.deps.otlp() !== undefined));
  }

  /**
   * Re-reads after the log changed. The wait grows with the cost of a refresh (twice the last
   * one), so a session appending to a very large log never keeps the extension host busy.
   */
  private scheduleRefresh(): void {
    // Throttle, not debounce: a steady stream of appends still refreshes the panel.
    if (this.refreshTimer !== undefined) return;
    const delay = Math.max(REFRESH_DEBOUNCE_MS, 2 * this.lastRefreshMs);
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      void this.refresh(true).catch((error: unknown) => this.deps.log.warn(`[audit panel] refresh failed: ${String(error)}`));
    }, delay);
  }

  private async openEntry(seq: number, hash: string | undefined): Promise<void> {
    const row = await findAuditEntry(this.root, seq, hash);
    if (!row) throw new Error(`No entry with seq ${seq}`);
    await this.openAt(row.file, row.line);
  }

  private async openAt(file: string, lineNumber: number): Promise<void> {
    const document = await vscode.workspace.openTextDocument(vscode.Uri.file(path.join(this.root, file)));
    const line = Math.max(0, lineNumber - 1);
    await vscode.window.showTextDocument(document, { selection: new vscode.Range(line, 0, line, 0), preview: true });
  }

  private async export(format: ExportFormat): Promise<void> {
    const query = toQuery(this.filters);
    const filtered = Object.keys(query).length > 0;
    if (format === 'otlp') {
      const otlp = this.deps.otlp();
      if (!otlp) throw new Error('No OpenTelemetry endpoint is configured (setting warden.audit.otlp.endpoint).');
      const scope = filtered ? 'the entries matching the filters' : 'every entry';
      const choice = await vscode.window.showInformationMessage(
        `Send ${scope} of the audit log to ${otlp.endpoint}?`,
        { modal: true },
        'Send',
      );
      if (choice !== 'Send') {
        this.notice('Nothing was sent.');
        return;
      }
      this.post({ type: 'busy', what: 'Sending to OpenTelemetry…' });
      const result = await exportAuditOtlp(this.root, { endpoint: otlp.endpoint, headers: otlp.headers, query });
      this.notice(
        `Sent ${result.records} audit entries to ${result.endpoint} in ${result.requests} request${result.requests === 1 ? '' : 's'}.`,
      );
      return;
    }
    const stamp = new Date().toISOString().slice(0, 10);
    const target = await vscode.window.showSaveDialog({
      title: `Export the audit log as ${format.toUpperCase()}${filtered ? ' (matching the filters)' : ''}`,
      // Outside the repository: an export is a copy for someone else, never a file to commit by accident.
      defaultUri: vscode.Uri.joinPath(vscode.Uri.file(exportFolder()), `warden-audit-${stamp}.${format}`),
      filters: format === 'json' ? { JSON: ['json'] } : { CSV: ['csv'] },
      saveLabel: 'Export',
    });
    if (!target) {
      this.notice('Export cancelled.');
      return;
    }
    this.post({ type: 'busy', what: `Exporting ${format.toUpperCase()}…` });
    const text = format === 'json' ? await exportAuditJson(this.root, query) : await exportAuditCsv(this.root, query);
    await vscode.workspace.fs.writeFile(target, Buffer.from(text, 'utf8'));
    this.notice(`Exported the audit log to ${target.fsPath}.`);
  }

  /** The commit or range to blame: the one asked for, else the branch's own commits (see defaultBlameTarget). */
  async blameTarget(requested: string | undefined): Promise<string> {
    return requested?.trim() || defaultBlameTarget(this.root);
  }

  /** Audit blame of a commit or range, drawn in the panel; a failure is shown there and thrown. */
  async blame(requested: string | undefined): Promise<void> {
    const target = await this.blameTarget(requested);
    try {
      const view = toBlameView(await auditBlame(this.root, target));
      this.deps.log.info(`[audit panel] blame of ${target}: ${view.files.length} file(s), ${view.approvals.length} approval(s)`);
      this.post(view);
    } catch (error) {
      this.post({ type: 'blameFailed', target, message: error instanceof Error ? error.message : String(error) });
      throw error;
    }
  }

  private notice(message: string): void {
    this.deps.log.info(`[audit panel] ${message}`);
    this.post({ type: 'notice', message });
  }

  private post(message: AuditExtensionMessage): void {
    this.host.post(message);
  }

  dispose(): void {
    this.host.dispose();
  }
}

/** Chain and anchors, as the panel shows them. */
export async function verifyStatus(root: string): Promise<VerifyStatusView> {
  const report = await verifyAuditAnchors(root);
  const chain = report.chain;
  return {
    ok: chain.ok,
    entries: chain.entries,
    segments: chain.segments,
    headSeq: chain.headSeq,
    head: chain.head,
    message: formatVerifyReport(chain),
    ...(chain.firstBreak ? { firstBreak: chain.firstBreak } : {}),
    chains: chain.chains.map((c) => ({
      chain: c.chain,
      ok: c.ok,
      entries: c.entries,
      headSeq: c.headSeq,
      ...(c.firstBreak ? { firstBreak: c.firstBreak } : {}),
    })),
    anchorFailures: report.anchors.filter((a) => !a.ok).map((a) => a.reason ?? 'an anchor failed'),
    repairable: !chain.ok && /torn write\?/.test(chain.firstBreak?.reason ?? ''),
    anchors: { count: report.anchors.length, ok: !report.firstFailure, message: formatAnchorReport(report) },
    checkedAt: new Date().toISOString(),
  };
}

/** Where exports go by default: the user's Downloads folder when there is one, else their home folder. */
function exportFolder(): string {
  const downloads = path.join(os.homedir(), 'Downloads');
  return existsSync(downloads) ? downloads : os.homedir();
}

import * as vscode from 'vscode';
import type { AuditDiffSides } from '../core/audit';

export const AUDIT_DIFF_SCHEME = 'warden-audit';

/** How many rebuilt diffs stay available to open editors. */
const MAX_KEPT = 50;

/**
 * Serves the rebuilt sides of recorded diffs as read-only documents for VS Code's diff editor:
 * `warden-audit:/<path>?<key>#old|new`.
 */
export class AuditDocuments implements vscode.TextDocumentContentProvider {
  private readonly sides = new Map<string, AuditDiffSides>();
  private next = 1;

  provideTextDocumentContent(uri: vscode.Uri): string {
    const sides = this.sides.get(uri.query);
    if (!sides) return '(This recorded diff is no longer loaded: open it again from the Audit panel.)';
    return uri.fragment === 'old' ? sides.oldText : sides.newText;
  }

  async openDiff(sides: AuditDiffSides): Promise<void> {
    const key = `${sides.seq}-${this.next++}`;
    this.sides.set(key, sides);
    while (this.sides.size > MAX_KEPT) {
      const oldest = this.sides.keys().next().value;
      if (oldest === undefined) break;
      this.sides.delete(oldest);
    }
    // A partial record holds "lines not recorded" placeholders: served as plain text, so the file's
    // language server (TypeScript for a .js file) does not fill the Problems panel with errors about them.
    const served = sides.completeness === 'full' ? `/${sides.path}` : `/${sides.path}.recorded-hunks.txt`;
    const base = vscode.Uri.from({ scheme: AUDIT_DIFF_SCHEME, path: served, query: key });
    const scope = sides.completeness === 'full' ? '' : ', recorded hunks';
    const title = `${sides.path} (audit #${sides.seq}${scope}: before ↔ proposed)`;
    await vscode.commands.executeCommand('vscode.diff', base.with({ fragment: 'old' }), base.with({ fragment: 'new' }), title, {
      preview: true,
    });
  }
}

export const AUDIT_BLAME_SCHEME = 'warden-audit-blame';

/**
 * Audit blame documents: `warden-audit-blame:/<path>.audit-blame?<key>`, one line per line of
 * the file with the commit, the session and who approved it (by which rule), read-only text.
 */
export class AuditBlameDocuments implements vscode.TextDocumentContentProvider {
  private readonly texts = new Map<string, string>();
  private next = 1;

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.query) ?? '(This audit blame is no longer loaded: run Warden: Show Audit Blame for File again.)';
  }

  async open(relativePath: string, text: string): Promise<vscode.TextEditor> {
    const key = String(this.next++);
    this.texts.set(key, text);
    while (this.texts.size > MAX_KEPT) {
      const oldest = this.texts.keys().next().value;
      if (oldest === undefined) break;
      this.texts.delete(oldest);
    }
    const uri = vscode.Uri.from({ scheme: AUDIT_BLAME_SCHEME, path: `/${relativePath}.audit-blame`, query: key });
    const document = await vscode.workspace.openTextDocument(uri);
    return vscode.window.showTextDocument(document, { preview: true, viewColumn: vscode.ViewColumn.Beside });
  }
}

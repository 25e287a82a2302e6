import * as vscode from 'vscode';
import { sha256Hex } from '../core/util/hash';
import type { WorkspaceFiles } from '../core/workspace/files';

/**
 * Reads what the user sees (unsaved editor text included) and writes through an undoable
 * WorkspaceEdit that is then saved, so an applied proposal is one Ctrl+Z away.
 */
export class EditorWorkspaceFiles implements WorkspaceFiles {
  constructor(private readonly folder: vscode.Uri) {}

  async read(relativePath: string): Promise<string | null> {
    const uri = this.uri(relativePath);
    const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
    if (open?.isDirty) return open.getText();
    try {
      return new TextDecoder('utf-8').decode(await vscode.workspace.fs.readFile(uri));
    } catch (error) {
      if (error instanceof vscode.FileSystemError && error.code === 'FileNotFound') return null;
      throw error;
    }
  }

  async write(relativePath: string, text: string): Promise<{ diskHash: string }> {
    const uri = this.uri(relativePath);
    const bytes = new TextEncoder().encode(text);
    const edit = new vscode.WorkspaceEdit();
    if (!(await this.exists(uri))) {
      edit.createFile(uri, { overwrite: false, contents: bytes }, { label: `Warden: create ${relativePath}`, needsConfirmation: false });
      if (!(await vscode.workspace.applyEdit(edit))) throw new Error(`VS Code refused to create ${relativePath}`);
    } else {
      const document = await vscode.workspace.openTextDocument(uri);
      const whole = new vscode.Range(document.positionAt(0), document.positionAt(document.getText().length));
      // The document keeps one EOL style; set the one the reviewed text uses so the bytes match.
      const eol = text.includes('\r\n') ? vscode.EndOfLine.CRLF : vscode.EndOfLine.LF;
      edit.set(uri, [vscode.TextEdit.replace(whole, text), vscode.TextEdit.setEndOfLine(eol)]);
      if (!(await vscode.workspace.applyEdit(edit))) throw new Error(`VS Code refused the edit to ${relativePath}`);
      if (!(await document.save())) throw new Error(`VS Code could not save ${relativePath}`);
    }
    return { diskHash: sha256Hex(await vscode.workspace.fs.readFile(uri)) };
  }

  /** Deletes through an undoable WorkspaceEdit (a rollback removing a file the agent created). */
  async delete(relativePath: string): Promise<void> {
    const uri = this.uri(relativePath);
    if (!(await this.exists(uri))) return;
    const edit = new vscode.WorkspaceEdit();
    edit.deleteFile(uri, { ignoreIfNotExists: true }, { label: `Warden: delete ${relativePath}`, needsConfirmation: false });
    if (!(await vscode.workspace.applyEdit(edit))) throw new Error(`VS Code refused to delete ${relativePath}`);
  }

  private uri(relativePath: string): vscode.Uri {
    return vscode.Uri.joinPath(this.folder, ...relativePath.split('/'));
  }

  private async exists(uri: vscode.Uri): Promise<boolean> {
    try {
      await vscode.workspace.fs.stat(uri);
      return true;
    } catch {
      return false;
    }
  }
}

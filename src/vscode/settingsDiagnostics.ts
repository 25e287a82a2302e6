import * as vscode from 'vscode';
import type * as z from 'zod';
import { scopeRulesSchema } from '../core/git/scope';
import { settingProblems, TighteningRules, USER_RULES_SETTING, type PolicyProblem } from '../core/policy';

/** Settings that tighten the policy or narrow a session; an invalid value makes everything ask, so it is shown where it is. */
const CHECKED_SETTINGS: ReadonlyArray<{ key: string; schema: z.ZodType<unknown> }> = [
  { key: USER_RULES_SETTING, schema: TighteningRules },
  { key: 'warden.session.scope', schema: scopeRulesSchema },
];

/**
 * Problems-panel diagnostics for Warden's policy settings, at the line and column of the
 * offending value, in every settings file that holds them: the user's settings.json, each
 * folder's .vscode/settings.json and the .code-workspace file. Open editors are checked as
 * the user types; files on disk when the configuration changes.
 */
export class SettingsDiagnostics implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection('warden-settings');
  private readonly disposables: vscode.Disposable[] = [this.collection];

  /** `userSettings`: the user's settings.json when its location is known (desktop: next to globalStorage). */
  constructor(private readonly userSettings: vscode.Uri | undefined) {
    this.disposables.push(
      vscode.workspace.onDidOpenTextDocument((d) => this.checkDocument(d)),
      vscode.workspace.onDidChangeTextDocument((e) => this.checkDocument(e.document)),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('warden')) void this.refresh();
      }),
      vscode.workspace.onDidChangeWorkspaceFolders(() => void this.refresh()),
    );
    void this.refresh();
  }

  /** Re-checks every known settings file and every open settings editor. */
  async refresh(): Promise<void> {
    const files = new Map<string, vscode.Uri>();
    const add = (uri: vscode.Uri | undefined): void => {
      if (uri) files.set(uri.toString(), uri);
    };
    add(this.userSettings);
    add(vscode.workspace.workspaceFile?.scheme === 'file' ? vscode.workspace.workspaceFile : undefined);
    for (const folder of vscode.workspace.workspaceFolders ?? []) add(vscode.Uri.joinPath(folder.uri, '.vscode', 'settings.json'));
    for (const document of vscode.workspace.textDocuments) if (this.isSettingsFile(document.uri)) add(document.uri);
    await Promise.all([...files.values()].map((uri) => this.checkFile(uri)));
  }

  diagnosticsFor(uri: vscode.Uri): readonly vscode.Diagnostic[] {
    return this.collection.get(uri) ?? [];
  }

  dispose(): void {
    for (const d of this.disposables.splice(0)) d.dispose();
  }

  private async checkFile(uri: vscode.Uri): Promise<void> {
    const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
    if (open) return this.checkDocument(open);
    let text: string;
    try {
      text = Buffer.from(await vscode.workspace.fs.readFile(uri)).toString('utf8');
    } catch {
      this.collection.delete(uri); // no such settings file: nothing to report
      return;
    }
    this.publish(uri, text);
  }

  private checkDocument(document: vscode.TextDocument): void {
    if (this.isSettingsFile(document.uri)) this.publish(document.uri, document.getText());
  }

  private publish(uri: vscode.Uri, text: string): void {
    const prefix = this.isWorkspaceFile(uri) ? ['settings'] : [];
    const problems = CHECKED_SETTINGS.flatMap(({ key, schema }) => settingProblems(text, [...prefix, key], schema));
    this.collection.set(uri, problems.map(toDiagnostic));
  }

  private isWorkspaceFile(uri: vscode.Uri): boolean {
    return vscode.workspace.workspaceFile?.toString() === uri.toString();
  }

  private isSettingsFile(uri: vscode.Uri): boolean {
    return this.isWorkspaceFile(uri) || uri.path.endsWith('/settings.json');
  }
}

function toDiagnostic(problem: PolicyProblem): vscode.Diagnostic {
  const range = new vscode.Range(
    problem.line - 1,
    problem.column - 1,
    problem.endLine - 1,
    Math.max(problem.endColumn - 1, problem.column),
  );
  const diagnostic = new vscode.Diagnostic(
    range,
    `${problem.message}. Until it is fixed, Warden runs with the safest policy: everything asks.`,
    vscode.DiagnosticSeverity.Error,
  );
  diagnostic.source = 'Warden settings';
  return diagnostic;
}

import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  checkExamples,
  describeEffectivePolicy,
  loadPolicyText,
  loadWorkspacePolicy,
  locate,
  mergePolicies,
  TEAM_POLICY_PATH,
  type EffectivePolicy,
  type ExampleResult,
  type PolicyProblem,
  type PolicyProvider,
} from '../core/policy';
import { errorMessage } from '../core/supervisor';
import { readPolicySettings } from './settings';

export const EFFECTIVE_POLICY_SCHEME = 'warden-policy';

/**
 * The team policy in the editor: diagnostics for `.warden/policy.json` (parse and validation
 * errors at their line and column, failed examples) on open, change and save; the effective
 * policy a session uses (reloaded when the file or the settings change); "Warden: Test
 * Policy" and "Warden: Show Effective Policy".
 */
export class PolicyService implements vscode.Disposable, vscode.TextDocumentContentProvider {
  private readonly diagnostics = vscode.languages.createDiagnosticCollection('warden-policy');
  private readonly effective = new Map<string, EffectivePolicy>();
  private readonly disposables: vscode.Disposable[] = [];
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  /** Folders whose policy was reported invalid, so the warning is shown once per breakage. */
  private readonly warnedInvalid = new Set<string>();

  constructor(private readonly log: vscode.LogOutputChannel) {
    this.disposables.push(
      this.diagnostics,
      this.changed,
      vscode.workspace.registerTextDocumentContentProvider(EFFECTIVE_POLICY_SCHEME, this),
      vscode.workspace.onDidOpenTextDocument((d) => this.onDocument(d, 'open')),
      vscode.workspace.onDidChangeTextDocument((e) => this.onDocument(e.document, 'change')),
      vscode.workspace.onDidSaveTextDocument((d) => this.onDocument(d, 'save')),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('warden.policy')) void this.reloadAll();
      }),
    );
    const watcher = vscode.workspace.createFileSystemWatcher(`**/${TEAM_POLICY_PATH}`);
    this.disposables.push(
      watcher,
      watcher.onDidCreate((uri) => this.onDisk(uri)),
      watcher.onDidChange((uri) => this.onDisk(uri)),
      watcher.onDidDelete((uri) => this.onDisk(uri)),
    );
    for (const document of vscode.workspace.textDocuments) this.onDocument(document, 'open');
    void this.reloadAll();
  }

  /** Loads the policy from disk for a session; says so when it is invalid. */
  async forSession(folder: vscode.WorkspaceFolder): Promise<PolicyProvider> {
    const policy = await this.load(folder);
    if (!policy.valid) this.warnInvalid(folder, policy, true);
    return { current: () => this.effective.get(folder.uri.toString()) ?? safestPolicy('the policy was not loaded') };
  }

  /** The effective policy of a folder, read from disk (the committed file, not unsaved edits). */
  async load(folder: vscode.WorkspaceFolder): Promise<EffectivePolicy> {
    const settings = readPolicySettings(folder.uri);
    let policy: EffectivePolicy;
    try {
      policy = await loadWorkspacePolicy(folder.uri.fsPath, {
        userRules: settings.userRules,
        ...(settings.managedPolicyPath ? { managedPolicyPath: settings.managedPolicyPath } : {}),
      });
    } catch (error) {
      policy = safestPolicy(`the policy could not be read: ${errorMessage(error)}`);
    }
    this.effective.set(folder.uri.toString(), policy);
    this.changed.fire(effectiveUri(folder));
    return policy;
  }

  /** Checks the examples of the folder's policy; reports them in the Problems panel and returns them. */
  async testPolicy(folder: vscode.WorkspaceFolder): Promise<{ policy: EffectivePolicy; results: ExampleResult[] }> {
    const policy = await this.load(folder);
    // Examples are the team's tests of its own file: checked without the user's or the machine's tightening.
    const team = await this.teamOnly(folder);
    const results = team ? checkExamples(team) : [];
    const document = vscode.workspace.textDocuments.find((d) => this.folderOfPolicy(d)?.uri.toString() === folder.uri.toString());
    if (document) this.publish(document);
    return { policy, results };
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    const folder = vscode.workspace.workspaceFolders?.find((f) => f.uri.toString() === new URLSearchParams(uri.query).get('folder'));
    const policy = folder ? this.effective.get(folder.uri.toString()) : undefined;
    return policy ? describeEffectivePolicy(policy) : '// No effective policy loaded for this folder yet.\n';
  }

  async showEffective(folder: vscode.WorkspaceFolder): Promise<vscode.TextDocument> {
    await this.load(folder);
    const document = await vscode.workspace.openTextDocument(effectiveUri(folder));
    const typed = await vscode.languages.setTextDocumentLanguage(document, 'jsonc');
    await vscode.window.showTextDocument(typed, { preview: false });
    return typed;
  }

  private async teamOnly(folder: vscode.WorkspaceFolder): Promise<EffectivePolicy | undefined> {
    try {
      const uri = vscode.Uri.joinPath(folder.uri, ...TEAM_POLICY_PATH.split('/'));
      // The open document is what the reviewer sees and the diagnostics describe (just saved, the disk may lag behind).
      const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
      const text = open ? open.getText() : Buffer.from(await vscode.workspace.fs.readFile(uri)).toString('utf8');
      const loaded = loadPolicyText(text);
      return loaded.ok ? mergePolicies({ team: { status: 'loaded', policy: loaded.value } }) : undefined;
    } catch {
      return undefined;
    }
  }

  /** Diagnostics currently shown for a policy document. */
  diagnosticsFor(uri: vscode.Uri): readonly vscode.Diagnostic[] {
    return this.diagnostics.get(uri) ?? [];
  }

  dispose(): void {
    for (const d of this.disposables.splice(0)) d.dispose();
  }

  private folderOfPolicy(document: vscode.TextDocument): vscode.WorkspaceFolder | undefined {
    if (document.uri.scheme !== 'file') return undefined;
    const folder = vscode.workspace.getWorkspaceFolder(document.uri);
    if (!folder) return undefined;
    return path.relative(folder.uri.fsPath, document.uri.fsPath).split(path.sep).join('/') === TEAM_POLICY_PATH ? folder : undefined;
  }

  private onDocument(document: vscode.TextDocument, event: 'open' | 'change' | 'save'): void {
    const folder = this.folderOfPolicy(document);
    if (!folder) return;
    const results = this.publish(document);
    if (event === 'save') {
      void this.load(folder).then((policy) => {
        if (!policy.valid) this.warnInvalid(folder, policy, false);
        else this.warnedInvalid.delete(folder.uri.toString());
        const failed = results.filter((r) => !r.pass);
        if (failed.length > 0) {
          void vscode.window
            .showWarningMessage(`Warden: ${failed.length} policy example(s) failed. ${failed[0]!.message}`, 'Show Problems')
            .then((choice) => {
              if (choice) void vscode.commands.executeCommand('workbench.actions.view.problems');
            });
        }
      });
    }
  }

  private onDisk(uri: vscode.Uri): void {
    const folder = vscode.workspace.getWorkspaceFolder(uri);
    if (folder) void this.load(folder);
  }

  /** Publishes parse/validation problems and failed examples of the document's text; returns the example results. */
  private publish(document: vscode.TextDocument): ExampleResult[] {
    const text = document.getText();
    const loaded = loadPolicyText(text);
    if (!loaded.ok) {
      this.diagnostics.set(
        document.uri,
        loaded.problems.map((p) => toDiagnostic(p, vscode.DiagnosticSeverity.Error)),
      );
      return [];
    }
    // The examples are checked against this text as the team wrote it (the team's own tests),
    // not against one user's tightening settings.
    const policy = mergePolicies({ team: { status: 'loaded', policy: loaded.value } });
    const results = checkExamples(policy, loaded.value.examples);
    const diagnostics = results
      .filter((r) => !r.pass)
      .map((r) => {
        const where = locate(text, ['examples', r.index]) ?? {
          line: 1,
          column: 1,
          endLine: 1,
          endColumn: 2,
          offset: 0,
          length: 1,
          message: '',
        };
        return toDiagnostic({ ...where, message: r.message }, vscode.DiagnosticSeverity.Warning);
      });
    this.diagnostics.set(document.uri, diagnostics);
    return results;
  }

  private warnInvalid(folder: vscode.WorkspaceFolder, policy: EffectivePolicy, always: boolean): void {
    const key = folder.uri.toString();
    if (!always && this.warnedInvalid.has(key)) return;
    this.warnedInvalid.add(key);
    const broken = policy.sources.filter((s) => s.status === 'invalid');
    const first = broken[0]?.problems[0];
    // A setting's problems have no line of their own here; the Problems panel shows them in the settings file.
    const where =
      first && broken[0]?.source !== 'user'
        ? ` (line ${first.line}, column ${first.column}: ${first.message})`
        : first
          ? ` (${first.message})`
          : '';
    const text = `Warden: the policy ${broken.map((s) => s.origin).join(' and ')} is invalid${where}. Warden runs with the safest policy: everything asks until it is fixed.`;
    this.log.warn(`[policy] ${text}`);
    void vscode.window.showWarningMessage(text, 'Show Problems').then((choice) => {
      if (choice) void vscode.commands.executeCommand('workbench.actions.view.problems');
    });
  }

  private async reloadAll(): Promise<void> {
    for (const folder of vscode.workspace.workspaceFolders ?? []) {
      const policy = await this.load(folder);
      if (!policy.valid) this.log.warn(`[policy] ${folder.name}: invalid policy source; everything asks until it is fixed`);
    }
  }
}

function effectiveUri(folder: vscode.WorkspaceFolder): vscode.Uri {
  return vscode.Uri.from({
    scheme: EFFECTIVE_POLICY_SCHEME,
    path: `/${folder.name}/effective-policy.jsonc`,
    query: new URLSearchParams({ folder: folder.uri.toString() }).toString(),
  });
}

function toDiagnostic(problem: PolicyProblem, severity: vscode.DiagnosticSeverity): vscode.Diagnostic {
  const range = new vscode.Range(
    problem.line - 1,
    problem.column - 1,
    problem.endLine - 1,
    Math.max(problem.endColumn - 1, problem.column),
  );
  const diagnostic = new vscode.Diagnostic(range, problem.message, severity);
  diagnostic.source = 'Warden policy';
  return diagnostic;
}

/** The policy used when nothing could be loaded: everything asks. */
function safestPolicy(why: string): EffectivePolicy {
  return mergePolicies({
    team: { status: 'invalid', problems: [{ message: why, line: 1, column: 1, endLine: 1, endColumn: 1, offset: 0, length: 0 }] },
  });
}

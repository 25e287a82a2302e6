import * as vscode from 'vscode';
import { TEAM_POLICY_PATH } from '../core/policy/effective';
import { STARTER_POLICY } from '../core/policy/starter';
import { SettingsDiagnostics } from './settingsDiagnostics';
import { PolicyService } from './policyService';
import { commandRegistrar } from './commandRegistrar';

/** What "Warden: Test Policy" returns (tests and other extensions read it). */
export interface TestPolicyResult {
  valid: boolean;
  passed: number;
  failed: Array<{ index: number; message: string }>;
}

/** The team policy: diagnostics, the policy each session uses (passed to the SessionController), and its two commands. */
export function registerPolicy(context: vscode.ExtensionContext, log: vscode.LogOutputChannel): PolicyService {
  const service = new PolicyService(log);
  // The user's settings.json sits two folders above the extension's global storage (User/globalStorage/<id>).
  const settingsDiagnostics = new SettingsDiagnostics(vscode.Uri.joinPath(context.globalStorageUri, '..', '..', 'settings.json'));
  context.subscriptions.push(service, settingsDiagnostics);

  const register = commandRegistrar(context, log);

  register('warden.testPolicy', async (): Promise<TestPolicyResult | undefined> => {
    const folder = await pickFolder();
    if (!folder) return undefined;
    if (!(await offerStarterPolicy(folder))) return undefined;
    const { policy, results } = await service.testPolicy(folder);
    const failed = results.filter((r) => !r.pass).map((r) => ({ index: r.index, message: r.message }));
    const passed = results.length - failed.length;
    for (const r of results) log.info(`[policy] example ${r.index + 1}: ${r.pass ? 'pass' : 'FAIL'}: ${r.message}`);
    if (!policy.valid) {
      void vscode.window
        .showErrorMessage('Warden: the policy is invalid (see the Problems panel); everything asks until it is fixed.', 'Show Problems')
        .then((choice) => {
          if (choice) void vscode.commands.executeCommand('workbench.actions.view.problems');
        });
    } else if (results.length === 0) {
      void vscode.window.showInformationMessage(
        'Warden: the policy has no examples. Add some, e.g. {"command": "git push origin main", "expect": "ask"}.',
      );
    } else if (failed.length === 0) {
      void vscode.window.showInformationMessage(`Warden: all ${passed} policy example(s) pass.`);
    } else {
      void vscode.window
        .showWarningMessage(
          `Warden: ${failed.length} of ${results.length} policy example(s) failed. ${failed[0]!.message}`,
          'Show Problems',
        )
        .then((choice) => {
          if (choice) void vscode.commands.executeCommand('workbench.actions.view.problems');
        });
    }
    return { valid: policy.valid, passed, failed };
  });

  register('warden.showEffectivePolicy', async () => {
    const folder = await pickFolder();
    if (!folder) return undefined;
    const document = await service.showEffective(folder);
    return document.uri.toString();
  });

  return service;
}

async function pickFolder(): Promise<vscode.WorkspaceFolder | undefined> {
  const folders = vscode.workspace.workspaceFolders ?? [];
  if (folders.length === 0) throw new Error('Open a folder first');
  if (folders.length === 1) return folders[0];
  return vscode.window.showWorkspaceFolderPick({ placeHolder: "Which folder's policy?" });
}

/**
 * A folder without a team policy has nothing to test: offer to create one (Warden's defaults
 * written out, with examples), opened for editing. False when there is none and the user declined.
 */
async function offerStarterPolicy(folder: vscode.WorkspaceFolder): Promise<boolean> {
  const file = vscode.Uri.joinPath(folder.uri, TEAM_POLICY_PATH);
  const exists = await vscode.workspace.fs.stat(file).then(
    () => true,
    () => false,
  );
  if (exists) return true;
  const create = 'Create Policy';
  const choice = await vscode.window.showInformationMessage(
    `Warden: ${folder.name} has no ${TEAM_POLICY_PATH}, so the built-in defaults apply and there are no examples to test. Create a policy with the defaults written out and a few examples?`,
    create,
  );
  if (choice !== create) return false;
  // Through the editor's file service, not the disk: a document still open from a deleted policy
  // takes the new text at once, and the examples checked next are the starter's.
  const edit = new vscode.WorkspaceEdit();
  edit.createFile(file, { overwrite: true, contents: Buffer.from(STARTER_POLICY, 'utf8') });
  if (!(await vscode.workspace.applyEdit(edit))) throw new Error(`Could not create ${TEAM_POLICY_PATH} in ${folder.name}`);
  await vscode.window.showTextDocument(file);
  return true;
}

import * as vscode from 'vscode';
import * as z from 'zod';
import {
  planSetup,
  problemLine,
  presetOf,
  SETUP_PRESET_IDS,
  SetupPresetId,
  type FileChange,
  type SetupPlan,
  type SetupProblem,
  type SetupStep,
} from '../core/agent/setup';
import type { AgentSecrets } from './agentSettings';
import { commandRegistrar } from './commandRegistrar';

export const SETUP_SCHEME = 'warden-setup';

/**
 * Arguments tests (and other extensions) pass instead of answering prompts: the preset, which
 * steps are approved (`true`: all; a list: those kinds; `false`: none, so nothing changes), and
 * the key to store (absent: the key step is skipped).
 */
const SetupArgs = z
  .object({
    preset: SetupPresetId,
    approve: z.union([z.boolean(), z.array(z.enum(['sandbox', 'policy', 'setting']))]).default(false),
    apiKey: z.string().optional(),
    folder: z.string().optional(),
  })
  .optional();

/** What "Warden: Set Up Agent…" returns. */
export interface SetupAgentResult {
  preset: SetupPresetId;
  /** Workspace-relative files written. */
  written: string[];
  /** Titles of the steps refused or cancelled (nothing of them was written). */
  refused: string[];
  problems: SetupProblem[];
  /** The `warden.agent.preset` value now in the workspace settings (undefined when refused). */
  setting: string | undefined;
  /** The variable whose key was stored. */
  keyStored: string | undefined;
}

/** Serves both sides of a proposed setup change for VS Code's diff editor: `warden-setup:/<path>?<n>#old|new`. */
class SetupDocuments implements vscode.TextDocumentContentProvider {
  private readonly sides = new Map<string, FileChange>();
  private next = 0;

  add(change: FileChange): vscode.Uri {
    const key = String(this.next++);
    this.sides.set(key, change);
    return vscode.Uri.from({ scheme: SETUP_SCHEME, path: `/${change.path}`, query: key });
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    const change = this.sides.get(uri.query);
    if (!change) return '';
    return uri.fragment === 'old' ? (change.before ?? '') : change.after;
  }
}

export function registerAgentSetup(context: vscode.ExtensionContext, secrets: AgentSecrets, log: vscode.LogOutputChannel): void {
  const documents = new SetupDocuments();
  context.subscriptions.push(vscode.workspace.registerTextDocumentContentProvider(SETUP_SCHEME, documents));
  const register = commandRegistrar(context, log);

  register('warden.setupAgent', async (raw): Promise<SetupAgentResult | undefined> => {
    const args = SetupArgs.parse(raw);
    const folder = args?.folder
      ? vscode.workspace.workspaceFolders?.find((f) => f.uri.fsPath === args.folder)
      : vscode.workspace.workspaceFolders?.[0];
    if (!folder) throw new Error('Open the workspace folder to set the agent up in');
    const id =
      args?.preset ??
      (
        await vscode.window.showQuickPick(
          SETUP_PRESET_IDS.map((p) => {
            const preset = presetOf(p);
            return {
              label: p === 'demo' ? 'Built-in demo agent' : preset.label,
              description: p,
              detail:
                p === 'demo'
                  ? 'No install, no key, no network'
                  : `${preset.install} · key ${preset.apiKeyEnv ?? 'none'} · host ${preset.hosts.join(', ') || 'none'}`,
              id: p,
            };
          }),
          { title: 'Warden: Set Up Agent — which agent?', ignoreFocusOut: true },
        )
      )?.id;
    if (!id) return undefined;

    const read = async (relative: string): Promise<string | undefined> => {
      const uri = vscode.Uri.joinPath(folder.uri, ...relative.split('/'));
      const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
      if (open?.isDirty) throw new Error(`${relative} has unsaved changes; save or revert it, then set the agent up again`);
      try {
        return new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
      } catch (error) {
        if (error instanceof vscode.FileSystemError && error.code === 'FileNotFound') return undefined;
        throw error;
      }
    };
    const plan = await planSetup(id, read);
    const result: SetupAgentResult = {
      preset: id,
      written: [],
      refused: [],
      problems: plan.problems,
      setting: undefined,
      keyStored: undefined,
    };
    for (const problem of plan.problems) log.warn(`[setup] ${problemLine(problem)} (left untouched)`);

    const approved = async (
      kind: SetupStep['kind'] | 'setting',
      title: string,
      detail: string,
      changes: FileChange[],
    ): Promise<boolean> => {
      if (args) return args.approve === true || (Array.isArray(args.approve) && args.approve.includes(kind));
      for (const change of changes) {
        const uri = documents.add(change);
        await vscode.commands.executeCommand(
          'vscode.diff',
          uri.with({ fragment: 'old' }),
          uri.with({ fragment: 'new' }),
          `${change.path} (${change.before === undefined ? 'new file' : 'current'} ↔ proposed)`,
          {
            preview: changes.length === 1,
          },
        );
      }
      const choice = await vscode.window.showInformationMessage(`Warden: ${title}?`, { modal: true, detail }, 'Apply');
      return choice === 'Apply';
    };

    let cancelled = false;
    for (const step of plan.steps) {
      const detail = `${step.changes.map((c) => `${c.before === undefined ? 'Create' : 'Change'} ${c.path}`).join('\n')}\n\nThe diff is open in the editor. Cancel changes nothing.`;
      if (cancelled || !(await approved(step.kind, step.title, detail, step.changes))) {
        result.refused.push(step.title);
        cancelled = cancelled || !args;
        continue;
      }
      await applyStep(folder, step, read);
      result.written.push(...step.changes.map((c) => c.path));
      log.info(`[setup] ${step.title}: wrote ${step.changes.map((c) => c.path).join(', ')}`);
    }

    const config = vscode.workspace.getConfiguration('warden.agent', folder.uri);
    const current = config.inspect<string>('preset');
    const overridingCommand = config.get<string>('command')?.trim();
    if (
      current?.workspaceFolderValue === plan.settingPreset ||
      (current?.workspaceFolderValue === undefined && current?.workspaceValue === plan.settingPreset)
    ) {
      result.setting = plan.settingPreset;
    } else {
      const title = `Set warden.agent.preset to "${plan.settingPreset}" in the workspace settings`;
      if (!cancelled && (await approved('setting', title, `${plan.label} starts with "Warden: Start Agent Session".`, []))) {
        await config.update('preset', plan.settingPreset, vscode.ConfigurationTarget.Workspace);
        result.setting = plan.settingPreset;
      } else {
        result.refused.push(title);
        cancelled = cancelled || !args;
      }
    }
    if (overridingCommand)
      log.warn(
        `[setup] warden.agent.command ("${overridingCommand}") overrides the preset's command; clear it to start ${plan.label} as set up`,
      );

    // warden.agent.apiKeyEnv, when set, names the variable the agent gets its key in (OpenCode with another provider).
    const keyEnv = plan.apiKeyEnv ? config.get<string>('apiKeyEnv')?.trim() || plan.apiKeyEnv : undefined;
    if (keyEnv && !cancelled) {
      const value =
        args !== undefined
          ? args.apiKey
          : await vscode.window.showInputBox({
              title: `Warden: API key for ${plan.label} (${keyEnv})`,
              prompt: `Stored in VS Code's secret storage; only the agent process in the sandbox gets it, as ${keyEnv}. Leave empty to keep ${(await secrets.get(keyEnv)) ? 'the stored key' : 'it unset'}.`,
              password: true,
              ignoreFocusOut: true,
            });
      if (value) {
        // The one way keys are stored: "Warden: Set Agent API Key".
        await vscode.commands.executeCommand('warden.setAgentApiKey', { envName: keyEnv, value });
        result.keyStored = keyEnv;
      }
    }

    if (!args) void report(plan, result);
    return result;
  });
}

/** Writes a step's files, each only if it still holds the text that was reviewed. */
async function applyStep(
  folder: vscode.WorkspaceFolder,
  step: SetupStep,
  read: (relative: string) => Promise<string | undefined>,
): Promise<void> {
  for (const change of step.changes) {
    const now = await read(change.path);
    if (now !== change.before)
      throw new Error(`${change.path} changed since the diff was made; nothing of "${step.title}" was written. Run the setup again.`);
  }
  for (const change of step.changes) {
    const uri = vscode.Uri.joinPath(folder.uri, ...change.path.split('/'));
    await vscode.workspace.fs.createDirectory(vscode.Uri.joinPath(uri, '..'));
    await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(change.after));
  }
}

async function report(plan: SetupPlan, result: SetupAgentResult): Promise<void> {
  if (plan.problems.length > 0) {
    await vscode.window.showErrorMessage(
      `Warden: left untouched (fix, then run the setup again): ${plan.problems.map(problemLine).join('; ')}`,
    );
    return;
  }
  if (result.refused.length > 0) {
    void vscode.window.showWarningMessage(`Warden: set-up of ${plan.label} is incomplete: not done: ${result.refused.join('; ')}.`);
    return;
  }
  const choice = await vscode.window.showInformationMessage(
    `Warden: ${plan.label} is set up${result.written.length ? ` (${result.written.join(', ')})` : ''}. Commit the sandbox and policy changes to share them.`,
    'Start Agent Session',
  );
  if (choice) await vscode.commands.executeCommand('warden.startSession');
}

import * as vscode from 'vscode';

/** How the test answers each kind of prompt (undefined: dismissed), given what was asked. */
export interface PromptAnswers {
  pick?: (labels: string[]) => string | undefined;
  warning?: (message: string, buttons: string[]) => string | undefined;
  info?: (message: string, buttons: string[]) => string | undefined;
}

export interface Asked<T> {
  result: T;
  picks: vscode.QuickPickItem[];
  warnings: string[];
  infos: string[];
}

/**
 * Runs `action` in the extension host with the quick pick and the warning and information
 * messages answered by the test (the extension shares this `vscode` API object), and records
 * what was asked. The real prompts are back afterwards.
 */
export async function answeringPrompts<T>(answers: PromptAnswers, action: () => Thenable<T>): Promise<Asked<T>> {
  const window = vscode.window as unknown as Record<string, unknown>;
  const originals = {
    showQuickPick: window.showQuickPick,
    showWarningMessage: window.showWarningMessage,
    showInformationMessage: window.showInformationMessage,
  };
  const asked = { picks: [] as vscode.QuickPickItem[], warnings: [] as string[], infos: [] as string[] };
  // Buttons follow the message and an optional options object.
  const buttons = (rest: unknown[]): string[] => rest.filter((r): r is string => typeof r === 'string');
  window.showQuickPick = async (items: vscode.QuickPickItem[] | Thenable<vscode.QuickPickItem[]>) => {
    const list = await Promise.resolve(items);
    asked.picks.push(...list);
    const label = answers.pick?.(list.map((i) => i.label));
    return list.find((i) => i.label === label);
  };
  window.showWarningMessage = async (message: string, ...rest: unknown[]) => {
    asked.warnings.push(message);
    return answers.warning?.(message, buttons(rest));
  };
  window.showInformationMessage = async (message: string, ...rest: unknown[]) => {
    asked.infos.push(message);
    return answers.info?.(message, buttons(rest));
  };
  try {
    return { result: await action(), ...asked };
  } finally {
    Object.assign(window, originals);
  }
}

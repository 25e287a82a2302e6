import * as vscode from 'vscode';

/** How the test answers each kind of prompt (undefined: dismissed), given what was asked. */
export interface PromptAnswers {
  pick?: (labels: string[]) => string | undefined;
  warning?: (message: string, buttons: string[]) => string | undefined;
  info?: (message: string, buttons: string[]) => string | undefined;
}

/** Under the suites' 60 s test timeout, so the prompts are restored and what was asked is reported. */
const ACTION_LIMIT_MS = 45_000;

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
  // A command that never finishes must not leave the prompts answered for the tests after it.
  let timer: NodeJS.Timeout | undefined;
  const gaveUp = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`the command did not finish in ${ACTION_LIMIT_MS / 1000} s; asked so far: ${JSON.stringify(asked)}`)),
      ACTION_LIMIT_MS,
    );
  });
  try {
    return { result: await Promise.race([Promise.resolve(action()), gaveUp]), ...asked };
  } finally {
    clearTimeout(timer);
    Object.assign(window, originals);
  }
}

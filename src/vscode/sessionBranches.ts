import * as vscode from 'vscode';
import * as z from 'zod';
import { branchState, returnToBranch, settleUncommitted, type BranchState, type UncommittedChoice } from '../core/git/branchChoice';
import type { SessionBranch } from '../core/git/sessionBranch';

/** Set while the window's last session left it on a session branch it can return from. */
export const ON_SESSION_BRANCH = 'warden.onSessionBranch';

/** What a caller (a test, another extension) may decide up front instead of being asked. */
export const BranchArgs = z.object({
  branch: z.enum(['new', 'current']).optional(),
  uncommitted: z.enum(['stash', 'commit', 'carry']).optional(),
});
export type BranchArgs = z.infer<typeof BranchArgs>;

const SESSION_BRANCH_MODES = ['new', 'current', 'ask'] as const;

/**
 * Before a session starts: whether it gets its own branch (`warden.git.sessionBranch`, or the
 * reviewer's answer), and what happens to uncommitted work first. A session branch starts
 * from the commit checked out, so uncommitted work is stashed, committed or taken along only
 * as the human chose. Undefined: the human cancelled, and the session does not start.
 */
export async function chooseSessionBranch(folder: vscode.WorkspaceFolder, args: BranchArgs = {}): Promise<boolean | undefined> {
  const root = folder.uri.fsPath;
  const state = await branchState(root);
  if (!state) return true; // not in git (or no commit yet): the session records why it has no branch
  const configured = vscode.workspace.getConfiguration('warden', folder.uri).get<string>('git.sessionBranch');
  const mode = SESSION_BRANCH_MODES.find((m) => m === configured) ?? 'new';
  const where = args.branch ?? (mode === 'ask' ? await askWhere(state) : mode);
  if (where === undefined) return undefined;
  if (where === 'current') return false;
  if (state.uncommitted.length === 0) return true;
  const choice = args.uncommitted ?? (await askUncommitted(state, 'A session branch starts from the last commit.'));
  if (!choice) return undefined;
  await settleUncommitted(root, choice, `Warden: work in progress on ${state.current ?? 'HEAD'} before a session branch`);
  return true;
}

async function askWhere(state: BranchState): Promise<'new' | 'current' | undefined> {
  const current = state.current ?? 'the detached HEAD';
  const picked = await vscode.window.showQuickPick(
    [
      {
        label: 'New session branch',
        description: 'warden/<session>',
        detail: `Created from ${current}; you can return to it afterwards`,
        where: 'new' as const,
      },
      { label: `Stay on ${current}`, detail: 'The agent’s approved changes land on the branch checked out', where: 'current' as const },
    ],
    { title: 'Warden: where should this session’s changes go?', ignoreFocusOut: true },
  );
  return picked?.where;
}

/** The human's choice for uncommitted work (modal); undefined = cancel. */
async function askUncommitted(state: BranchState, why: string): Promise<UncommittedChoice | undefined> {
  const { uncommitted } = state;
  const listed = `${uncommitted.slice(0, 8).join('\n')}${uncommitted.length > 8 ? `\n…and ${uncommitted.length - 8} more` : ''}`;
  const choices: Record<string, UncommittedChoice> = { 'Stash Them': 'stash', 'Commit Them': 'commit', 'Take Them Along': 'carry' };
  const picked = await vscode.window.showWarningMessage(
    `You have ${uncommitted.length} uncommitted change(s) on ${state.current ?? 'the detached HEAD'}. ${why} What should happen to them?`,
    { modal: true, detail: listed },
    ...Object.keys(choices),
  );
  return picked === undefined ? undefined : choices[picked];
}

/** The branch the window's last session created and the one it left, for "Return to Previous Branch". */
export class SessionBranches implements vscode.Disposable {
  private last: { folder: vscode.WorkspaceFolder; branch: string; previous: string } | undefined;

  constructor(private readonly log: vscode.LogOutputChannel) {
    void this.setContext(false);
  }

  /** Says which branch the session works on, with the way back. */
  announce(folder: vscode.WorkspaceFolder, branch: SessionBranch | undefined): void {
    if (branch?.status !== 'created') return;
    const previous = branch.previousBranch;
    this.last = previous ? { folder, branch: branch.branch, previous } : undefined;
    void this.setContext(this.last !== undefined);
    const carried = branch.carried.length > 0 ? ` ${branch.carried.length} uncommitted change(s) came along, as you chose.` : '';
    const message = `Warden: this session works on the new branch ${branch.branch}${previous ? `, created from ${previous}` : ''}.${carried}`;
    this.log.info(`[git] ${message}`);
    const action = previous ? `Return to ${previous}` : undefined;
    void (action ? vscode.window.showInformationMessage(message, action) : vscode.window.showInformationMessage(message)).then((picked) => {
      if (picked === action) void vscode.commands.executeCommand('warden.returnToPreviousBranch');
    });
  }

  /** Checks out the branch the last session left; uncommitted work moves only as the human chose. */
  async returnToPrevious(args: BranchArgs = {}): Promise<string | undefined> {
    const last = this.last;
    if (!last) throw new Error('No Warden session moved this window to a session branch, so there is no branch to return to');
    const root = last.folder.uri.fsPath;
    const state = await branchState(root);
    let choice = args.uncommitted;
    if (state && state.uncommitted.length > 0 && !choice) {
      choice = await askUncommitted(state, `Returning to ${last.previous} would take them along.`);
      if (!choice) return undefined;
    }
    await returnToBranch(root, last.previous, choice);
    this.last = undefined;
    await this.setContext(false);
    void vscode.window.showInformationMessage(`Warden: back on ${last.previous}; ${last.branch} keeps the session's work.`);
    return last.previous;
  }

  dispose(): void {
    this.last = undefined;
  }

  private async setContext(on: boolean): Promise<void> {
    await vscode.commands.executeCommand('setContext', ON_SESSION_BRANCH, on);
  }
}

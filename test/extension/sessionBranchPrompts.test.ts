import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { gitIn, initReviewRepo } from '../support/gitRepo';

/**
 * Issue 22 item 8 in a real extension host: with `warden.git.sessionBranch: "ask"` starting a
 * session offers the choice (new branch / stay), says what happened, and "Return to Previous
 * Branch" goes back with uncommitted work handled as the human chose. The prompts are answered
 * by replacing `showQuickPick` / `showInformationMessage` for the test (the extension shares
 * this `vscode` API object) and recording what they were asked.
 */
describe('Warden: session branch prompts (warden.git.sessionBranch: ask)', function () {
  this.timeout(240_000);
  let root: string;
  const git = async (...args: string[]): Promise<string> => (await gitIn(root, ...args)).trim();
  const window = vscode.window as unknown as Record<string, unknown>;
  const originals = {
    showQuickPick: window.showQuickPick,
    showInformationMessage: window.showInformationMessage,
    showErrorMessage: window.showErrorMessage,
  };
  let picks: Array<{ title: string | undefined; labels: string[] }> = [];
  let messages: string[] = [];
  /** Which item the next quick pick answers with (its label), or undefined to cancel. */
  let answer: (labels: string[]) => string | undefined = () => undefined;

  before(async () => {
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder, 'the test opens a workspace folder');
    root = folder.uri.fsPath;
    // The setting first: its .vscode/settings.json is then part of the first commit, not uncommitted work.
    await vscode.workspace.getConfiguration('warden').update('git.sessionBranch', 'ask', vscode.ConfigurationTarget.Workspace);
    await initReviewRepo(root);
    window.showQuickPick = async (items: Array<{ label: string }> | Thenable<Array<{ label: string }>>, options?: { title?: string }) => {
      const list = await Promise.resolve(items);
      const labels = list.map((i) => i.label);
      picks.push({ title: options?.title, labels });
      const label = answer(labels);
      return list.find((i) => i.label === label);
    };
    window.showInformationMessage = async (message: string) => {
      messages.push(message);
      return undefined;
    };
    window.showErrorMessage = async (message: string) => {
      messages.push(`error: ${message}`);
      return undefined;
    };
    assert.notEqual(vscode.window.showQuickPick, originals.showQuickPick, 'the prompts can be answered by the test');
  });

  beforeEach(() => {
    picks = [];
    messages = [];
  });

  afterEach(async () => {
    await vscode.commands.executeCommand('warden.stopSession');
  });

  after(async () => {
    window.showQuickPick = originals.showQuickPick;
    window.showInformationMessage = originals.showInformationMessage;
    window.showErrorMessage = originals.showErrorMessage;
    await vscode.workspace.getConfiguration('warden').update('git.sessionBranch', undefined, vscode.ConfigurationTarget.Workspace);
    // Later suites run without git, as the ones before this suite did.
    await fs.rm(path.join(root, '.git'), { recursive: true, force: true });
  });

  it('asks first; "New session branch" creates warden/<session> and says so with the way back', async () => {
    answer = (labels) => labels.find((l) => l === 'New session branch');
    const sessionId = await vscode.commands.executeCommand<string>('warden.startSession', { instruction: 'say hello' });
    assert.ok(sessionId, `the session started: ${JSON.stringify(messages)}`);
    assert.deepEqual(picks, [{ title: 'Warden: where should this session’s changes go?', labels: ['New session branch', 'Stay on main'] }]);
    assert.equal(await git('branch', '--show-current'), `warden/${sessionId}`);
    assert.ok(
      messages.some((m) => m === `Warden: this session works on the new branch warden/${sessionId}, created from main.`),
      `said what happened: ${JSON.stringify(messages)}`,
    );
    await vscode.commands.executeCommand('warden.stopSession');

    // Work left uncommitted on the session branch: Return stashes it, as asked, and goes back.
    await fs.writeFile(path.join(root, 'notes.txt'), 'unfinished\n');
    const back = await vscode.commands.executeCommand<string>('warden.returnToPreviousBranch', { uncommitted: 'stash' });
    assert.equal(back, 'main', JSON.stringify(messages));
    assert.equal(await git('branch', '--show-current'), 'main');
    await assert.rejects(fs.stat(path.join(root, 'notes.txt')), 'the uncommitted work did not come along');
    assert.match(await git('stash', 'list'), /stash@\{0\}/, 'it is kept in the stash');
    assert.ok(
      messages.some((m) => m === `Warden: back on main; warden/${sessionId} keeps the session's work.`),
      `said so: ${JSON.stringify(messages)}`,
    );
    // Nothing to return to twice: the command says why (shown as an error) and moves nothing.
    assert.equal(await vscode.commands.executeCommand('warden.returnToPreviousBranch', { uncommitted: 'stash' }), undefined);
    assert.equal(await git('branch', '--show-current'), 'main');
  });

  it('"Stay on main": the session works on the branch checked out, no branch is created; Escape starts nothing', async () => {
    const branchesBefore = await git('branch', '--list', 'warden/*');
    answer = (labels) => labels.find((l) => l.startsWith('Stay on'));
    const sessionId = await vscode.commands.executeCommand<string>('warden.startSession', { instruction: 'say hello' });
    assert.ok(sessionId);
    assert.equal(picks.length, 1);
    assert.equal(await git('branch', '--show-current'), 'main');
    assert.equal(await git('branch', '--list', 'warden/*'), branchesBefore, 'no session branch was created');
    assert.ok(!messages.some((m) => m.includes('works on the new branch')), 'nothing to announce');
    await vscode.commands.executeCommand('warden.stopSession');

    answer = () => undefined;
    const cancelled = await vscode.commands.executeCommand<string | undefined>('warden.startSession', { instruction: 'say hello' });
    assert.equal(cancelled, undefined, 'Escape at the question starts no session');
    assert.equal(picks.length, 2);
  });
});

import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { usePerActionReview } from '../support/reviewMode';
import type { WardenApi } from '../../src/extension';
import type { VerifyReport } from '../../src/core/audit/types';
import { nextPending } from '../support/proposals';
import { answeringPrompts } from '../support/prompts';
import { firstAuditSegment, readAudit } from '../support/workspace';

async function activateWarden(): Promise<WardenApi> {
  const extension = vscode.extensions.getExtension<WardenApi>('warden-dev.warden');
  assert.ok(extension, 'the Warden extension is installed in this VS Code');
  return extension.activate();
}

function workspaceRoot(): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the test opens a workspace folder');
  return folder.uri.fsPath;
}

/** Presses Escape on the input box a command opened (closeQuickOpen) until the command is over. */
async function dismissInputUntil(command: Thenable<unknown>): Promise<void> {
  let over = false;
  void Promise.resolve(command).finally(() => (over = true));
  while (!over) {
    await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('Warden: a session driven through the commands', function () {
  usePerActionReview({ askCommands: true });
  this.timeout(240_000);

  it('starts a sandboxed session, applies accepted proposals through the editor, and records a verifiable log', async () => {
    const api = await activateWarden();
    const root = workspaceRoot();
    const originalGreet = await fs.readFile(path.join(root, 'src/greet.js'), 'utf8');

    const sessionId = await vscode.commands.executeCommand<string>('warden.startSession', {
      instruction: 'add a farewell function with tests',
    });
    assert.match(sessionId ?? '', /^s-/, 'startSession returns the session id');
    const seen = new Set<string>();

    const permission = await nextPending(api.proposals, seen);
    assert.ok(permission.kind === 'permission' && permission.edit?.path === 'src/greet.js');
    assert.equal(await fs.readFile(path.join(root, 'src/greet.js'), 'utf8'), originalGreet, 'nothing is written before approval');
    await vscode.commands.executeCommand('warden.openProposalDiff', permission.id);
    const diffTab = vscode.window.tabGroups.activeTabGroup.activeTab;
    assert.ok(diffTab?.input instanceof vscode.TabInputTextDiff, "Open Diff shows VS Code's diff editor");
    assert.equal(diffTab.input.modified.scheme, 'warden-proposal');
    // Accept in the diff editor's title bar: the command receives the proposed document.
    assert.equal(await vscode.commands.executeCommand('warden.acceptProposal', diffTab.input.modified), true);

    const create = await nextPending(api.proposals, seen);
    assert.ok(create.kind === 'edit' && create.path === 'test/greet.test.js');
    const greetNow = await fs.readFile(path.join(root, 'src/greet.js'), 'utf8');
    assert.match(greetNow, /function farewell/, 'the accepted edit is on disk');
    const greetDocument = vscode.workspace.textDocuments.find((d) => d.uri.fsPath === path.join(root, 'src/greet.js'));
    assert.ok(greetDocument && !greetDocument.isDirty, 'the edit went through the editor and was saved');
    await vscode.commands.executeCommand('warden.acceptProposal', create.id);

    const command = await nextPending(api.proposals, seen);
    assert.ok(command.kind === 'command');
    assert.equal(command.commandLine, 'node --test test/');
    await vscode.commands.executeCommand('warden.acceptProposal', command.id);

    assert.equal(await api.lastTurn(), 'end_turn');
    const ran = api.proposals.get(command.id);
    assert.ok(
      ran?.kind === 'command' && ran.result?.exitCode === 0,
      `the tests ran in the sandbox and passed: ${ran?.kind === 'command' ? ran.result?.outputExcerpt : ''}`,
    );

    const report = await vscode.commands.executeCommand<VerifyReport>('warden.verifyAuditLog');
    assert.ok(report?.ok, `the audit log verifies: ${JSON.stringify(report)}`);
    const entries = await readAudit(root);
    assert.ok(entries.some((e) => e.type === 'instruction' && e.data.text === 'add a farewell function with tests'));
    assert.equal(entries.filter((e) => e.type === 'decision' && e.actor.kind === 'human').length, 3);
    assert.equal(entries.filter((e) => e.type === 'edit.applied').length, 2);

    assert.equal(await vscode.commands.executeCommand('warden.stopSession'), true);
    assert.equal(api.activeSession(), undefined);

    // Resume Agent Session from the palette offers the sessions on record (issue 22 item 9), not a raw id box; Escape starts nothing.
    const agentSessionId = entries.find((e) => e.type === 'agent.started')?.data.agentSessionId;
    assert.ok(typeof agentSessionId === 'string' && agentSessionId.length > 0, 'the agent session id is on record');
    const resume = await answeringPrompts({}, () => vscode.commands.executeCommand<string | undefined>('warden.resumeAgentSession'));
    assert.equal(resume.result, undefined);
    assert.equal(api.activeSession(), undefined, 'nothing started');
    const offered = resume.picks.find((p) => p.detail?.startsWith(`${agentSessionId} · Warden session `));
    assert.ok(offered, `the session is offered: ${JSON.stringify(resume.picks)}`);
    assert.equal(offered.label, 'add a farewell function with tests', 'by its instruction');
    assert.ok(resume.picks.at(-1)?.label.includes('Enter an agent session id'), 'typing an id stays possible, last');
  });

  it('a second instruction goes to the running session: Start Agent Session queues it behind the running turn, the panel box sends the next', async () => {
    const api = await activateWarden();
    const root = workspaceRoot();
    const sessionId = await vscode.commands.executeCommand<string>('warden.startSession', { instruction: 'document greet.js' });
    const seen = new Set<string>();
    const first = await nextPending(api.proposals, seen);
    // The agent waits on the review, so its turn runs: the instruction is queued for the session, not refused as "already running".
    const again = await vscode.commands.executeCommand<string>('warden.startSession', { instruction: 'document greet.js once more' });
    assert.equal(again, sessionId, 'the instruction went to the running session');
    // Rejected, like the rest, so the workspace is as the next suites expect it.
    await vscode.commands.executeCommand('warden.rejectProposal', { proposalId: first.id, reason: 'not yet' });
    const second = await nextPending(api.proposals, seen);
    assert.equal(second.sessionId, sessionId, 'the queued instruction became the next turn of the same session');
    await vscode.commands.executeCommand('warden.rejectProposal', { proposalId: second.id, reason: 'enough' });
    assert.equal(await api.lastTurn(), 'end_turn');
    // The Warden panel's instruction box, as its webview sends it, while the agent waits for the next instruction.
    await api.reviewPanelMessage({ type: 'prompt', id: 1, text: 'document greet.js a third time' });
    const third = await nextPending(api.proposals, seen);
    assert.equal(third.sessionId, sessionId);
    await vscode.commands.executeCommand('warden.rejectProposal', { proposalId: third.id, reason: 'enough' });
    assert.equal(await api.lastTurn(), 'end_turn');
    const instructions = (await readAudit(root)).filter((e) => e.type === 'instruction').map((e) => e.data.text);
    assert.deepEqual(instructions.slice(-3), ['document greet.js', 'document greet.js once more', 'document greet.js a third time']);
    await vscode.commands.executeCommand('warden.stopSession');
  });

  it('a rejected proposal never reaches the workspace, and verify points at a tampered line', async () => {
    const api = await activateWarden();
    const root = workspaceRoot();
    const readme = await fs.readFile(path.join(root, 'README.md'), 'utf8');
    await vscode.commands.executeCommand('warden.startSession', { instruction: 'try again' });
    const seen = new Set<string>();
    // The first and last with the reviewer's reason; the second through the reason box, dismissed (Escape still rejects).
    const first = await nextPending(api.proposals, seen);
    await vscode.commands.executeCommand('warden.rejectProposal', { proposalId: first.id, reason: 'keep the greeting as it is' });
    const second = await nextPending(api.proposals, seen);
    const rejecting = vscode.commands.executeCommand('warden.rejectProposal', second.id);
    await dismissInputUntil(rejecting);
    assert.equal(await rejecting, true);
    const third = await nextPending(api.proposals, seen);
    await vscode.commands.executeCommand('warden.rejectProposal', { proposalId: third.id, reason: 'not now' });
    assert.equal(await api.lastTurn(), 'end_turn');
    assert.equal(await fs.readFile(path.join(root, 'README.md'), 'utf8'), readme);
    const decisions = (await readAudit(root)).filter((e) => e.type === 'decision' && e.actor.kind === 'human');
    const reasonOf = (id: string): unknown => decisions.find((e) => e.data.proposalId === id)?.data.reason;
    assert.deepEqual(
      [first, second, third].map((p) => [api.proposals.get(p.id)?.state, reasonOf(p.id)]),
      [
        ['rejected', 'keep the greeting as it is'],
        ['rejected', null],
        ['rejected', 'not now'],
      ],
      'each is rejected; the audit keeps the reviewer’s reason, none when the box was dismissed',
    );
    // The agent was told why: its turn summary repeats the reasons it received.
    const ended = (await readAudit(root)).filter((e) => e.type === 'turn.ended').at(-1);
    const said = String(ended?.data.agentMessage);
    assert.match(said, /keep the greeting as it is/);
    assert.match(said, /not now/);
    await vscode.commands.executeCommand('warden.stopSession');

    const segment = await firstAuditSegment(root);
    const lines = (await fs.readFile(segment, 'utf8')).split('\n');
    lines[2] = (lines[2] ?? '').replace('"type":"', '"type":"x');
    await fs.writeFile(segment, lines.join('\n'));
    const report = await vscode.commands.executeCommand<VerifyReport>('warden.verifyAuditLog');
    assert.ok(report && !report.ok);
    assert.equal(
      report.firstBreak?.line,
      4,
      `the break is reported at the entry after the edited one: ${JSON.stringify(report.firstBreak)}`,
    );
  });
});

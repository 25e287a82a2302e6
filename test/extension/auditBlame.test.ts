import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { AuditBlame } from '../../src/core/audit';
import type { RenderedCounts } from '../../src/vscode/auditPanel';
import { AUDIT_BLAME_SCHEME } from '../../src/vscode/auditDocuments';
import { HAND_WRITTEN, commitSampleSession, writeSampleAuditLog } from '../fixtures/auditSession';

/**
 * Issue 19, the lead's view of a commit: which sessions and approvals stand behind each changed
 * line. The workspace becomes a real git repository whose last commit is session-one's approved
 * edit (named in its trailers) plus one line written by hand; the real log records the session.
 */
describe('Warden: audit blame of a commit, in a document and in the Audit panel', function () {
  this.timeout(180_000);
  let root: string;
  let dir: string;
  let aside: string;
  let greet: string;
  let original: string;
  let initial: string;

  before(async () => {
    await vscode.extensions.getExtension('warden-dev.warden')?.activate();
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder, 'the test opens a workspace folder');
    root = folder.uri.fsPath;
    dir = path.join(root, '.warden', 'audit');
    aside = path.join(root, '.warden', `audit-before-blame-${Date.now()}`);
    greet = path.join(root, 'src', 'greet.js');
    original = await fs.readFile(greet, 'utf8');
    await fs.rename(dir, aside).catch(() => undefined);
    await writeSampleAuditLog(root);
    ({ initial } = await commitSampleSession(root));
  });

  after(async () => {
    for (const tab of vscode.window.tabGroups.all.flatMap((g) => g.tabs)) {
      const blameDoc = tab.input instanceof vscode.TabInputText && tab.input.uri.scheme === AUDIT_BLAME_SCHEME;
      const panel = tab.input instanceof vscode.TabInputWebview && tab.input.viewType.endsWith('warden.audit');
      if (blameDoc || panel) await vscode.window.tabGroups.close(tab);
    }
    // Later suites run without git, as before this one.
    await fs.rm(path.join(root, '.git'), { recursive: true, force: true });
    await fs.rm(path.join(root, '.gitignore'), { force: true });
    await fs.writeFile(greet, original);
    await fs.rm(dir, { recursive: true, force: true });
    await fs.rename(aside, dir).catch(() => undefined);
  });

  it('Show Audit Blame explains each line of a file by the session and approval behind it, in a read-only document', async () => {
    const blame = await vscode.commands.executeCommand<AuditBlame>('warden.showAuditBlame', vscode.Uri.file(greet));
    const file = blame.files[0];
    assert.ok(file, 'one file blamed');
    assert.equal(file.path, 'src/greet.js');
    assert.equal(file.lines.length, 12);
    assert.deepEqual(
      file.lines.filter((l) => l.approval !== null).map((l) => l.line),
      [6, 7, 8, 9, 10, 11],
      'the farewell lines session-one was approved to write',
    );
    assert.ok(
      file.lines.every((l) => l.approval === null || l.linked),
      'the commit names the session',
    );
    assert.deepEqual(
      blame.approvals.map((a) => [a.sessionId, a.proposalId, a.approvedBy]),
      [['session-one', 'p-1', 'Alice Lead <alice@example.com>']],
    );
    const shown = vscode.window.activeTextEditor?.document;
    assert.equal(shown?.uri.scheme, AUDIT_BLAME_SCHEME);
    const text = shown?.getText() ?? '';
    assert.match(text, /^\s*7 \w{10}\s+session session-one approved by Alice Lead <alice@example\.com> \| function farewell\(name\) \{$/m);
    assert.match(text, new RegExp(`^\\s*12 \\w{10}\\s+no approved edit \\| ${HAND_WRITTEN}$`, 'm'));
  });

  it("the Audit panel blames the branch by default (here HEAD) and a named range, and draws each file's ranges", async () => {
    const byDefault = await vscode.commands.executeCommand<RenderedCounts>('warden.showAuditLog', { waitForRender: true, blame: '' });
    assert.equal(byDefault.sessions, 2);
    assert.deepEqual(byDefault.blame, { target: 'HEAD', files: 1, ranges: 2, unexplained: 1 });
    const range = `${initial}..HEAD`;
    const named = await vscode.commands.executeCommand<RenderedCounts>('warden.showAuditLog', { waitForRender: true, blame: range });
    assert.deepEqual(named.blame, { target: range, files: 1, ranges: 2, unexplained: 1 });
  });

  it('a revision git does not know fails the command (shown as an error, drawn in the panel), nothing else', async () => {
    const failed = await vscode.commands.executeCommand('warden.showAuditLog', { waitForRender: true, blame: 'no-such-branch' });
    assert.equal(failed, undefined);
  });
});

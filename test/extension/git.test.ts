import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { usePerActionReview } from '../support/reviewMode';
import type { WardenApi } from '../../src/extension';
import type { VerifyReport } from '../../src/core/audit/types';
import type { RollbackResult } from '../../src/core/git/checkpoints';
import type { CommitResult } from '../../src/core/git/commit';
import { gitIn, initReviewRepo } from '../support/gitRepo';
import { answeringPrompts } from '../support/prompts';
import { nextPending } from '../support/proposals';
import { auditText } from '../support/workspace';

/** test/fixtures/workspaces/demo/src/greet.js */
const FIXTURE_GREET =
  '/** Greets someone by name. */\nfunction greet(name) {\n  return `Hello, ${name}!`;\n}\n\nmodule.exports = { greet };\n';

/**
 * The git commands in a real extension host: the workspace becomes a git repository, a
 * session runs on its own branch, Commit Approved Changes commits as the agent, and Roll Back
 * to Checkpoint restores through the editor.
 */
describe('Warden: git commands', function () {
  usePerActionReview({ askCommands: true });
  this.timeout(240_000);
  let root: string;
  const git = (...args: string[]): Promise<string> => gitIn(root, ...args);

  before(async () => {
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder, 'the test opens a workspace folder');
    root = folder.uri.fsPath;
    // Earlier suites leave a deliberately tampered log; this suite needs a log that verifies.
    await fs
      .rename(path.join(root, '.warden', 'audit'), path.join(root, '.warden', `audit-before-git-suite-${Date.now()}`))
      .catch(() => undefined);
    // Earlier suites applied the demo agent's edits; start from the fixture's files again.
    await fs.writeFile(path.join(root, 'src/greet.js'), FIXTURE_GREET);
    await fs.rm(path.join(root, 'test/greet.test.js'), { force: true });
    await initReviewRepo(root);
  });

  // Later suites run without git, as the ones before this suite did (no session-branch questions there).
  after(async () => {
    await fs.rm(path.join(root, '.git'), { recursive: true, force: true });
  });

  it('a session works on warden/<session>; Commit Approved Changes commits as the agent with trailers; Roll Back restores through the editor', async () => {
    const extension = vscode.extensions.getExtension<WardenApi>('warden-dev.warden');
    assert.ok(extension);
    const api = await extension.activate();
    const originalGreet = await fs.readFile(path.join(root, 'src/greet.js'), 'utf8');
    const sessionId = await vscode.commands.executeCommand<string>('warden.startSession', {
      instruction: 'add a farewell function with tests',
    });
    assert.ok(sessionId);
    assert.equal((await git('branch', '--show-current')).trim(), `warden/${sessionId}`);
    const seen = new Set<string>();
    for (let i = 0; i < 3; i++) await vscode.commands.executeCommand('warden.acceptProposal', (await nextPending(api.proposals, seen)).id);
    assert.equal(await api.lastTurn(), 'end_turn');
    await vscode.commands.executeCommand('warden.stopSession');

    const refs = (await git('for-each-ref', '--format=%(refname)', 'refs/warden')).trim().split('\n');
    assert.deepEqual(refs, [`refs/warden/checkpoints/${sessionId}/1`, `refs/warden/checkpoints/${sessionId}/2`]);

    const commit = await vscode.commands.executeCommand<CommitResult>('warden.commitApprovedChanges', { sessionId });
    assert.ok(commit, 'the commit command returned its result (an error would have been shown instead)');
    assert.deepEqual(commit.paths, ['src/greet.js', 'test/greet.test.js']);
    const log = await git('log', '-1', '--format=%an|%ae|%cn|%ce|%B', `warden/${sessionId}`);
    assert.match(log, /^Warden Agent\|agent@warden\.invalid\|Ada Reviewer\|ada@example\.test\|/);
    assert.match(log, /^Approved-by: Ada Reviewer <ada@example\.test>$/m);
    assert.equal((log.match(/^Warden-Audit: [0-9a-f]{64}$/gm) ?? []).length, 2);
    assert.equal((await git('log', '-1', '--format=%s', 'main')).trim(), 'initial', 'main did not move');

    // From the palette (no checkpoint given): a list by what each was taken before, with its date apart, and a confirmation first.
    const asked = await answeringPrompts({ pick: (labels) => labels.find((l) => l.startsWith('Checkpoint 1:')) }, () =>
      vscode.commands.executeCommand<RollbackResult | undefined>('warden.rollbackToCheckpoint', { sessionId }),
    );
    assert.equal(asked.result, undefined, 'the confirmation was dismissed: nothing rolled back');
    assert.deepEqual(
      asked.picks.map((p) => p.label),
      ['Checkpoint 2: before applying test/greet.test.js', 'Checkpoint 1: before applying src/greet.js'],
      'newest first, labelled by what each was taken before (no proposal ids)',
    );
    for (const item of asked.picks)
      assert.ok(!Number.isNaN(Date.parse(item.description ?? '')), `a readable date apart from the label: ${item.description}`);
    assert.deepEqual(asked.warnings, [`Roll back session ${sessionId} to checkpoint 1?`], 'asked before anything changed');
    assert.notEqual(await fs.readFile(path.join(root, 'src/greet.js'), 'utf8'), originalGreet, 'nothing was restored yet');

    const rollback = await vscode.commands.executeCommand<RollbackResult>('warden.rollbackToCheckpoint', { sessionId, checkpoint: 1 });
    assert.ok(rollback, 'the rollback command returned its result');
    assert.deepEqual([rollback.restored, rollback.deleted], [['src/greet.js'], ['test/greet.test.js']]);
    assert.equal(await fs.readFile(path.join(root, 'src/greet.js'), 'utf8'), originalGreet);
    await assert.rejects(fs.stat(path.join(root, 'test/greet.test.js')), 'the file the agent created was deleted through the editor');
    const greet = vscode.workspace.textDocuments.find((d) => d.uri.fsPath === path.join(root, 'src/greet.js'));
    assert.ok(greet && !greet.isDirty && greet.getText() === originalGreet, 'the editor shows the restored, saved file');

    const report = await vscode.commands.executeCommand<VerifyReport>('warden.verifyAuditLog');
    assert.ok(report?.ok, JSON.stringify(report));
    // Every chain of the log (one per session since issue 19).
    const audit = await auditText(root);
    for (const type of ['git.branch', 'checkpoint.created', 'git.committed', 'checkpoint.rolledBack'])
      assert.ok(audit.includes(`"type":"${type}"`), `audited: ${type}`);
  });
});

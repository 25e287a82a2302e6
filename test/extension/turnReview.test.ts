import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { WardenApi } from '../../src/extension';
import type { VerifyReport } from '../../src/core/audit/types';
import type { EditProposal, Proposal } from '../../src/core/proposals/model';
import type { ProposalStore } from '../../src/core/proposals/store';
import { sha256Hex } from '../../src/core/util/hash';
import { readAudit } from '../support/workspace';

function workspaceRoot(): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the test opens a workspace folder');
  return folder.uri.fsPath;
}

/** Resolves when `check` holds, re-checking on every store change (no sleeps). */
function until(store: ProposalStore, check: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (): void => {
      if (!check()) return;
      subscription.dispose();
      clearTimeout(timer);
      resolve();
    };
    const subscription = store.onDidChange(done);
    const timer = setTimeout(() => {
      subscription.dispose();
      reject(
        new Error(
          `Timed out waiting for ${what}; states: ${store
            .all()
            .map((p) => `${p.title}=${p.state}`)
            .join(', ')}`,
        ),
      );
    }, timeoutMs);
    done();
  });
}

const HEADER = '// greet.js: the greetings of the Warden demo.\n// Each function returns a string and prints nothing.\n';
/** greet.js made long enough that the demo agent's header and footer are two hunks. */
const LONG_GREET = [
  '/** Greets someone by name. */',
  'function greet(name) {',
  '  return `Hello, ${name}!`;',
  '}',
  '',
  ...Array.from({ length: 20 }, (_, i) => `// padding line ${i + 1}`),
  '',
  'module.exports = { greet };',
  '',
].join('\n');
const NOTES = '# Notes\n\nDocumented greet.js and added farewell.js in one turn.\n';
const FAREWELL = '/** Says goodbye. */\nfunction farewell(name) {\n  return `Goodbye, ${name}!`;\n}\n\nmodule.exports = { farewell };\n';

describe('Warden: turn review (one changeset per agent turn)', function () {
  this.timeout(240_000);

  it('the demo agent works a whole turn without waiting; its files are reviewed as one changeset: one file accepted, a hunk rejected, the rest accepted together', async () => {
    const api = await vscode.extensions.getExtension<WardenApi>('warden-dev.warden')!.activate();
    const root = workspaceRoot();
    const touched = ['src/greet.js', 'src/farewell.js', 'NOTES.md', '.warden/policy.json'];
    const before = await Promise.all(touched.map((f) => fs.readFile(path.join(root, f), 'utf8').catch(() => null)));
    const config = vscode.workspace.getConfiguration('warden');
    await config.update('review.mode', 'turn', vscode.ConfigurationTarget.Workspace);
    await fs.mkdir(path.join(root, '.warden'), { recursive: true });
    // The new default of the boundary model: commands run inside the sandbox without asking.
    await fs.writeFile(path.join(root, '.warden/policy.json'), JSON.stringify({ defaults: { command: 'allow' } }));
    await fs.writeFile(path.join(root, 'src/greet.js'), LONG_GREET);
    await Promise.all(['src/farewell.js', 'NOTES.md'].map((f) => fs.rm(path.join(root, f), { force: true })));
    const askedWhileRunning: string[] = [];
    const watch = api.proposals.onDidChange((p) => {
      // A proposal from the copy never blocks the agent; anything else pending would have made it wait.
      if (p.state === 'pending' && p.origin !== 'sandbox/change') askedWhileRunning.push(p.title);
    });
    try {
      const sessionId = await vscode.commands.executeCommand<string>('warden.startSession', {
        instruction: 'document greet.js and add a farewell module, the whole turn',
      });
      assert.ok(sessionId);
      assert.equal(await api.lastTurn(), 'end_turn', 'the turn ran to its end without any decision');
      assert.equal(await fs.readFile(path.join(root, 'src/greet.js'), 'utf8'), LONG_GREET, 'nothing reached the workspace yet');
      const mine = (): Proposal[] => api.proposals.all().filter((p) => p.sessionId === sessionId);
      await until(api.proposals, () => mine().filter((p) => p.state === 'pending').length === 3, 'the three changed files');
      const pending = mine().filter((p): p is EditProposal => p.state === 'pending' && p.kind === 'edit');
      assert.deepEqual(pending.map((p) => p.path).sort(), ['NOTES.md', 'src/farewell.js', 'src/greet.js']);
      assert.ok(
        pending.every((p) => p.turn === 1 && p.origin === 'sandbox/change'),
        'all of them are turn 1, from the copy',
      );
      const commands = mine().filter((p) => p.kind === 'command');
      assert.deepEqual(
        commands.map((c) => (c.kind === 'command' ? `${c.commandLine}:${c.turn}:${c.result?.exitCode}` : '')),
        ['ls -la src:1:0', 'grep -n function src/greet.js:1:0', 'cat NOTES.md:1:0'],
        'the commands ran in the turn (the agent saw its own write in the copy)',
      );
      assert.ok(commands.some((c) => c.kind === 'command' && c.result?.outputExcerpt.includes('in one turn')));

      const byPath = (p: string): EditProposal => pending.find((e) => e.path === p)!;
      const greet = byPath('src/greet.js');
      await api.reviewPanelMessage({ type: 'decide', proposalId: byPath('NOTES.md').id, verdict: 'approve' });
      await api.reviewPanelMessage({ type: 'chooseHunk', proposalId: greet.id, hunkId: 'h1', verdict: 'reject', newHash: greet.newHash });
      assert.equal(api.proposals.get(greet.id)?.state, 'pending', 'one hunk of two chosen: still waiting');
      await api.reviewPanelMessage({ type: 'decideTurn', sessionId, turn: 1, verdict: 'approve' });
      await until(api.proposals, () => pending.every((p) => api.proposals.get(p.id)?.state === 'applied'), 'the turn applied');

      const disk = async (f: string): Promise<string> => sha256Hex(await fs.readFile(path.join(root, f)));
      assert.equal(await disk('NOTES.md'), sha256Hex(NOTES));
      assert.equal(await disk('src/farewell.js'), sha256Hex(FAREWELL));
      assert.equal(await disk('src/greet.js'), sha256Hex(`${HEADER}${LONG_GREET}`), 'the header hunk only: the footer was rejected');
      assert.deepEqual(askedWhileRunning, [], 'nothing waited while the agent worked');

      const report = await vscode.commands.executeCommand<VerifyReport>('warden.verifyAuditLog');
      assert.ok(report?.ok, `the audit log verifies: ${JSON.stringify(report)}`);
      const entries = (await readAudit(root)).filter((e) => e.sessionId === sessionId);
      const humans = entries.filter((e) => e.type === 'decision' && e.actor.kind === 'human');
      assert.equal(humans.length, 3, 'one human decision per file');
      const greetDecision = humans.find((e) => e.data.proposalId === greet.id);
      assert.deepEqual(greetDecision?.data.hunks, { accepted: [0], rejected: [1] });
      assert.equal(entries.filter((e) => e.type === 'edit.applied').length, 3);
      assert.equal(entries.filter((e) => e.type === 'sandbox.write').length, 3, 'each agent write went to the copy, on the record');
      assert.ok(
        entries.some((e) => e.type === 'decision' && (e.data.reviewer as { name?: string }).name === 'turn-review'),
        "the agent's edit permission was answered by turn review, not a human",
      );
      assert.ok(entries.some((e) => e.type === 'turn.ended' && e.data.turn === 1));
      assert.deepEqual(
        entries.filter((e) => e.type === 'sandbox.changes').map((e) => e.data.reason),
        ['turn end'],
        'the copy is compared once, when the turn ends',
      );
    } finally {
      watch.dispose();
      await vscode.commands.executeCommand('warden.stopSession');
      await config.update('review.mode', undefined, vscode.ConfigurationTarget.Workspace);
      await Promise.all(
        touched.map((f, i) =>
          before[i] === null || before[i] === undefined
            ? fs.rm(path.join(root, f), { force: true })
            : fs.writeFile(path.join(root, f), before[i]),
        ),
      );
    }
  });
});

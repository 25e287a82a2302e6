import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { usePerActionReview } from '../support/reviewMode';
import type { WardenApi } from '../../src/extension';
import type { EditProposal, Proposal } from '../../src/core/proposals/model';
import { ProposalPersistence, sessionFile } from '../../src/core/proposals/persistence';
import { ProposalStore } from '../../src/core/proposals/store';
import { unifiedDiff } from '../../src/core/proposals/diff';
import { sha256Hex } from '../../src/core/util/hash';
import { ReviewNotifier } from '../../src/vscode/inline/reviewNotifier';
import { nextPending } from '../support/proposals';
import { readAudit } from '../support/workspace';

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

/** Resolves when `check` holds, re-checking on every store change (no sleeps). */
function until(store: ProposalStore, check: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (): boolean => {
      if (!check()) return false;
      subscription.dispose();
      clearTimeout(timer);
      resolve();
      return true;
    };
    const subscription = store.onDidChange(() => void done());
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

/** Polls the file system for a condition (file writes have no event the test can wait on). */
async function eventually<T>(read: () => Promise<T | undefined>, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const numbered = (from: number, to: number): string[] =>
  Array.from({ length: to - from + 1 }, (_, i) => `const line${from + i} = ${from + i};`);

function editProposal(id: string, sessionId: string, relative: string, oldText: string, newText: string): EditProposal {
  return {
    kind: 'edit',
    id,
    sessionId,
    createdAt: new Date().toISOString(),
    state: 'pending',
    title: `Edit ${relative}`,
    origin: 'fs/write_text_file',
    path: relative,
    oldText,
    newText,
    baseHash: sha256Hex(oldText),
    newHash: sha256Hex(newText),
    diff: unifiedDiff(relative, oldText, newText),
  };
}

/** Closes the Review panel's tab (the extension's panel; this bundle has its own copy of the class). */
async function closeReviewPanel(): Promise<void> {
  const tabs = vscode.window.tabGroups.all
    .flatMap((g) => g.tabs)
    .filter((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.includes('warden.review'));
  if (tabs.length > 0) await vscode.window.tabGroups.close(tabs);
}

async function lensesOf(uri: vscode.Uri): Promise<vscode.CodeLens[]> {
  return (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri)) ?? [];
}

describe('Warden: review in the editor, re-diffing and reloads', function () {
  usePerActionReview({ askCommands: true });
  this.timeout(240_000);

  it('shows CodeLens per hunk in the open file, follows unsaved typing (re-diffed), and goes stale when the typing hits a hunk', async () => {
    const api = await activateWarden();
    const root = workspaceRoot();
    // The web workbench auto-saves after a second by default; this test is about unsaved text.
    const files = vscode.workspace.getConfiguration('files');
    await files.update('autoSave', 'off', vscode.ConfigurationTarget.Global);
    const relative = 'src/lenses.js';
    const oldText = `${numbered(1, 20).join('\n')}\n`;
    const newText = oldText.replace('const line2 = 2;', 'const line2 = 200;').replace('const line18 = 18;', 'const line18 = 1800;');
    await fs.writeFile(path.join(root, relative), oldText);
    const document = await vscode.workspace.openTextDocument(path.join(root, relative));
    const editor = await vscode.window.showTextDocument(document);
    const sessionId = 's-inline-lenses';
    api.proposals.add(editProposal('p-inline-lenses', sessionId, relative, oldText, newText));
    try {
      let lenses = await lensesOf(document.uri);
      const titles = lenses.map((l) => `${l.range.start.line}:${l.command?.title ?? ''}`);
      assert.ok(titles.includes('1:$(check) Accept hunk 1/2'), `a lens above the first hunk: ${titles.join(' | ')}`);
      assert.ok(titles.includes('17:$(check) Accept hunk 2/2'), `a lens above the second hunk: ${titles.join(' | ')}`);
      assert.ok(titles.includes('1:$(check-all) Accept all') && titles.includes('1:$(diff) Open Diff'));
      const accept = lenses.find((l) => l.command?.title === '$(check) Accept hunk 2/2');
      assert.equal(accept?.command?.command, 'warden.acceptHunk');
      assert.deepEqual(accept?.command?.arguments, [
        { proposalId: 'p-inline-lenses', hunkId: (accept?.command?.arguments?.[0] as { hunkId: string }).hunkId },
      ]);

      // The proposal is saved in the workspace while it waits.
      const saved = await eventually(async () => {
        const text = await fs.readFile(sessionFile(root, sessionId), 'utf8');
        return text.includes('p-inline-lenses') ? text : undefined;
      }, 'the proposal file');
      assert.match(saved, /"state": ?"pending"/);
      assert.match(await fs.readFile(path.join(root, '.warden', '.gitignore'), 'utf8'), /^proposals\/$/m);

      // Unsaved typing above the hunks: the lenses move at once, the proposal is re-diffed (still pending).
      await editor.edit((e) => e.insert(new vscode.Position(0, 0), '// typed by the user\n'));
      lenses = await lensesOf(document.uri);
      assert.ok(
        lenses.some((l) => l.range.start.line === 18 && l.command?.title === '$(check) Accept hunk 2/2'),
        'the lens follows the text',
      );
      await until(api.proposals, () => /Re-diffed/.test(api.proposals.get('p-inline-lenses')?.stateDetail ?? ''), 'the re-diff');
      const rediffed = api.proposals.get('p-inline-lenses');
      assert.ok(rediffed?.kind === 'edit' && rediffed.state === 'pending');
      assert.equal(rediffed.oldText, document.getText(), 'the proposal now diffs against the unsaved text');
      assert.equal(rediffed.newText, `// typed by the user\n${newText}`);
      assert.equal(await fs.readFile(path.join(root, relative), 'utf8'), oldText, 'nothing was written');
      await eventually(
        async () =>
          (await readAudit(root)).some((e) => e.type === 'proposal.rediffed' && e.data.proposalId === 'p-inline-lenses') ? true : undefined,
        'proposal.rediffed in the audit log',
      );

      // Typing on a line the proposal changes: it cannot be rebased, so it is stale.
      const line = document.lineAt(2);
      assert.equal(line.text, 'const line2 = 2;');
      await editor.edit((e) => e.replace(line.range, 'const line2 = 22;'));
      await until(api.proposals, () => api.proposals.get('p-inline-lenses')?.state === 'stale', 'the stale state');
      lenses = await lensesOf(document.uri);
      assert.ok(!lenses.some((l) => l.command?.command === 'warden.acceptHunk'), 'no lens offers to accept a stale proposal');
    } finally {
      if (api.proposals.get('p-inline-lenses')?.state === 'pending') api.proposals.setState('p-inline-lenses', 'rejected', 'test cleanup');
      await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
      await fs.rm(path.join(root, relative), { force: true });
      await files.update('autoSave', undefined, vscode.ConfigurationTarget.Global);
    }
  });

  it("a new file has no editor yet: its lenses are in the proposal's own document (the right side of Open Diff)", async () => {
    const api = await activateWarden();
    const create: EditProposal = {
      ...editProposal('p-inline-create', 's-inline-create', 'src/brand-new.js', 'x', 'module.exports = 1;\n'),
      oldText: null,
      baseHash: null,
      title: 'Create src/brand-new.js',
    };
    api.proposals.add(create);
    try {
      await vscode.commands.executeCommand('warden.openProposalDiff', create.id);
      const right = vscode.Uri.from({ scheme: 'warden-proposal', path: '/src/brand-new.js', query: create.id, fragment: 'new' });
      const titles = (await lensesOf(right)).map((l) => `${l.command?.command}:${l.command?.title}`);
      assert.deepEqual(titles.slice(1), [
        'warden.acceptProposal:$(check-all) Accept all',
        'warden.rejectProposal:$(close-all) Reject all',
        'warden.openProposalDiff:$(diff) Open Diff',
      ]);
      const left = right.with({ fragment: 'old' });
      assert.deepEqual(await lensesOf(left), [], 'the empty left side has none');
    } finally {
      api.proposals.setState(create.id, 'rejected', 'test cleanup');
      await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
    }
  });

  it('accepting one hunk and rejecting the other from the lenses applies only the accepted hunk', async () => {
    const api = await activateWarden();
    const root = workspaceRoot();
    const greetPath = path.join(root, 'src', 'greet.js');
    const greet = await fs.readFile(greetPath, 'utf8');
    // A file long enough that the demo agent's header and footer are two hunks.
    const long = greet.replace('module.exports', `${numbered(1, 10).join('\n')}\n\nmodule.exports`);
    await fs.writeFile(greetPath, long);
    try {
      await vscode.commands.executeCommand('warden.startSession', { instruction: 'document greet.js' });
      const proposal = await nextPending(api.proposals, new Set());
      assert.ok(proposal.kind === 'edit' && proposal.path === 'src/greet.js');
      const document = await vscode.workspace.openTextDocument(greetPath);
      await vscode.window.showTextDocument(document);
      const hunkLenses = (await lensesOf(document.uri)).filter((l) => l.command?.command === 'warden.acceptHunk');
      assert.equal(hunkLenses.length, 2, 'one Accept lens per hunk');
      const [first, second] = hunkLenses.map((l) => (l.command?.arguments?.[0] as { hunkId: string }).hunkId);
      await vscode.commands.executeCommand('warden.acceptHunk', { proposalId: proposal.id, hunkId: first });
      assert.equal(api.proposals.get(proposal.id)?.state, 'pending', 'one hunk chosen of two: nothing decided yet');
      const chosen = (await lensesOf(document.uri)).map((l) => l.command?.title ?? '');
      assert.ok(chosen.includes('$(pass-filled) Accepted hunk 1/2'), `the lens shows the choice: ${chosen.join(' | ')}`);
      assert.equal(await fs.readFile(greetPath, 'utf8'), long);
      await vscode.commands.executeCommand('warden.rejectHunk', { proposalId: proposal.id, hunkId: second });
      await until(api.proposals, () => api.proposals.get(proposal.id)?.state === 'applied', 'the edit applied with only the accepted hunk');
      const written = await fs.readFile(greetPath, 'utf8');
      assert.ok(written.startsWith('// greet.js:'), 'the accepted header hunk is applied');
      assert.ok(!written.includes('End of greet.js'), 'the rejected footer hunk is not');
      const applied = await eventually(
        async () => (await readAudit(root)).find((e) => e.type === 'edit.applied' && e.data.proposalId === proposal.id),
        'edit.applied',
      );
      const decision = (await readAudit(root)).find((e) => e.type === 'decision' && e.data.proposalId === proposal.id);
      assert.deepEqual(decision?.data.hunks, { accepted: [0], rejected: [1] }, 'the per-hunk decision is on the record');
      assert.equal(applied.data.reviewedHash, sha256Hex(written), 'what was applied is what the reviewer accepted');
      assert.equal(applied.data.diskHash, sha256Hex(written));
      assert.equal(applied.data.proposedHash, proposal.newHash, "the agent's own bytes are on the record too");
      assert.match(api.proposals.get(proposal.id)?.stateDetail ?? '', /accepted hunk 1 and rejected hunk 2/);
    } finally {
      await vscode.commands.executeCommand('warden.stopSession');
      await fs.writeFile(greetPath, greet);
    }
  });

  it('notifies once when something needs review while the panel is hidden, and never while it is visible', async () => {
    const api = await activateWarden();
    await closeReviewPanel();
    const store = new ProposalStore();
    const shown: string[] = [];
    let close: ((choice: string | undefined) => void) | undefined;
    const notifier = new ReviewNotifier({
      store,
      panelVisible: () => api.inlineReview.panelVisible(),
      showReview: () => undefined,
      throttleMs: 0,
      show: (message) => {
        shown.push(message);
        return new Promise((resolve) => (close = resolve));
      },
    });
    const edit = (id: string): Proposal => editProposal(id, 's-notify', 'a.txt', 'a\n', 'b\n');
    try {
      store.add(edit('n1'));
      store.add(edit('n2'));
      assert.deepEqual(shown, ['Warden: 1 proposal needs your review'], 'one notification at a time: the second waits');
      close?.(undefined);
      await new Promise((r) => setTimeout(r, 0));
      store.add(edit('n3'));
      assert.deepEqual(shown.slice(1), ['Warden: 3 proposals need your review']);
      close?.(undefined);
      await new Promise((r) => setTimeout(r, 0));

      await vscode.commands.executeCommand('warden.showReview');
      await eventually(async () => (api.inlineReview.panelVisible() ? true : undefined), 'the Review panel');
      store.add(edit('n4'));
      assert.equal(shown.length, 2, 'no notification while the panel is visible');
    } finally {
      notifier.dispose();
      store.dispose();
      await closeReviewPanel();
    }
  });

  it('a pending proposal is saved in the workspace, comes back orphaned after a re-activation, and only an explicit "Apply anyway" writes it', async () => {
    const api = await activateWarden();
    const root = workspaceRoot();
    const greetPath = path.join(root, 'src', 'greet.js');
    const greet = await fs.readFile(greetPath, 'utf8');
    const sessionId = await vscode.commands.executeCommand<string>('warden.startSession', { instruction: 'document greet.js' });
    assert.ok(sessionId);
    try {
      const proposal = await nextPending(api.proposals, new Set());
      assert.ok(proposal.kind === 'edit' && proposal.path === 'src/greet.js');
      await eventually(
        async () => ((await fs.readFile(sessionFile(root, sessionId), 'utf8')).includes(proposal.id) ? true : undefined),
        'the saved proposal',
      );

      // A re-activation: a fresh store loads what the workspace kept.
      const fresh = new ProposalStore();
      const persistence = new ProposalPersistence({ store: fresh, rootFor: () => root, onError: (e) => assert.fail(String(e)) });
      const loaded = await persistence.load(root);
      persistence.dispose();
      assert.deepEqual(loaded.corrupt, []);
      const reloaded = fresh.get(proposal.id);
      assert.ok(reloaded?.kind === 'edit', 'the proposal came back');
      assert.equal(reloaded.state, 'orphaned');
      assert.equal(reloaded.diff, proposal.diff, 'its diff is still reviewable');
      assert.equal(fresh.pending().length, 0);
      fresh.dispose();
      assert.equal(await fs.readFile(greetPath, 'utf8'), greet, 'nothing was applied');

      // The agent goes away for real: the window's proposal is orphaned, saved as such, never applied.
      await vscode.commands.executeCommand('warden.stopSession');
      assert.equal(api.proposals.get(proposal.id)?.state, 'orphaned');
      await eventually(
        async () => ((await fs.readFile(sessionFile(root, sessionId), 'utf8')).match(/"state": ?"orphaned"/) ? true : undefined),
        'the orphaned state on disk',
      );
      assert.equal(await fs.readFile(greetPath, 'utf8'), greet);

      // A human may still apply the orphaned edit explicitly, checked against the file now, audited.
      const applied = await vscode.commands.executeCommand<Proposal>('warden.applyOrphanedEdit', proposal.id, { confirmed: true });
      assert.equal(applied?.state, 'applied');
      assert.equal(await fs.readFile(greetPath, 'utf8'), proposal.newText);
      const audit = await readAudit(root);
      assert.ok(
        audit.some(
          (e) => e.type === 'decision' && e.data.proposalId === proposal.id && e.data.orphaned === true && e.actor.kind === 'human',
        ),
      );
      assert.ok(audit.some((e) => e.type === 'edit.applied' && e.data.proposalId === proposal.id && e.data.orphaned === true));
      await eventually(
        async () => ((await fs.stat(sessionFile(root, sessionId)).catch(() => undefined)) ? undefined : true),
        'the emptied session file removed',
      );
    } finally {
      await vscode.commands.executeCommand('warden.stopSession');
      await fs.writeFile(greetPath, greet);
    }
  });
});

import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { usePerActionReview } from '../support/reviewMode';
import type { WardenApi } from '../../src/extension';
import type { TestPolicyResult } from '../../src/vscode/policyCommands';
import { STARTER_POLICY } from '../../src/core/policy/starter';
import { answeringPrompts } from '../support/prompts';

function workspaceRoot(): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the test opens a workspace folder');
  return folder.uri.fsPath;
}

/** Resolves when the diagnostics of `uri` satisfy `ok` (event-driven, with a bound). */
function diagnosticsWhere(
  uri: vscode.Uri,
  ok: (d: readonly vscode.Diagnostic[]) => boolean,
  timeoutMs = 20_000,
  source = 'Warden policy',
): Promise<readonly vscode.Diagnostic[]> {
  return new Promise((resolve, reject) => {
    const check = (): boolean => {
      const current = vscode.languages.getDiagnostics(uri).filter((d) => d.source === source);
      if (!ok(current)) return false;
      subscription.dispose();
      clearTimeout(timer);
      resolve(current);
      return true;
    };
    const subscription = vscode.languages.onDidChangeDiagnostics((e) => {
      if (e.uris.some((u) => u.toString() === uri.toString())) check();
    });
    const timer = setTimeout(() => {
      subscription.dispose();
      reject(
        new Error(
          `diagnostics never matched; now: ${JSON.stringify(vscode.languages.getDiagnostics(uri).map((d) => [d.range.start.line, d.range.start.character, d.message]))}`,
        ),
      );
    }, timeoutMs);
    check();
  });
}

const BROKEN = [
  '{',
  '  // the team policy',
  '  "commands": [',
  '    { "id": "node-test", "match": "node --test *", "decision": "sometimes" }',
  '  ]',
  '}',
  '',
].join('\n');

const WITH_FAILING_EXAMPLE = [
  '{',
  '  "commands": [{ "id": "node-test", "match": "node --test *", "decision": "allow" }],',
  '  "examples": [',
  '    { "command": "git push origin main", "expect": "ask" },',
  '    { "command": "npm publish", "expect": "allow" }',
  '  ]',
  '}',
  '',
].join('\n');

/**
 * Closes every editor without a save prompt: a policy document left dirty by an earlier test
 * (an edit racing a save under load) would otherwise hold closeAllEditors on a modal dialog.
 */
async function closeEditorsDiscardingChanges(): Promise<void> {
  for (const document of vscode.workspace.textDocuments.filter((d) => d.isDirty && !d.isClosed)) {
    await vscode.window.showTextDocument(document);
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  }
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
}

describe('Warden: the team policy in the editor', function () {
  usePerActionReview();
  this.timeout(60_000);
  let policyFile: string;

  before(async () => {
    const extension = vscode.extensions.getExtension('warden-dev.warden');
    assert.ok(extension);
    await extension.activate();
    policyFile = path.join(workspaceRoot(), '.warden', 'policy.json');
    await fs.mkdir(path.dirname(policyFile), { recursive: true });
  });

  after(async () => {
    await closeEditorsDiscardingChanges();
    await fs.rm(policyFile, { force: true });
  });

  it('a policy that does not validate gets a diagnostic in the Problems panel at the right line and column', async () => {
    await fs.writeFile(policyFile, BROKEN);
    const document = await vscode.workspace.openTextDocument(vscode.Uri.file(policyFile));
    await vscode.window.showTextDocument(document);
    assert.equal(document.languageId, 'jsonc', '.warden/policy.json is JSONC (comments allowed)');
    const diagnostics = await diagnosticsWhere(document.uri, (d) => d.length > 0);
    const problem = diagnostics[0]!;
    assert.equal(problem.severity, vscode.DiagnosticSeverity.Error);
    assert.equal(problem.range.start.line, 3, 'line 4 (0-based 3) holds the bad decision');
    assert.equal(problem.range.start.character, BROKEN.split('\n')[3]!.indexOf('"sometimes"'));
    assert.match(problem.message, /commands\.0\.decision/);

    const result = await vscode.commands.executeCommand<TestPolicyResult>('warden.testPolicy');
    assert.equal(result?.valid, false, 'Test Policy reports the policy invalid (everything asks)');
  });

  it('a JSON syntax error is reported while typing, and fixing it clears the diagnostics', async () => {
    const document = await vscode.workspace.openTextDocument(vscode.Uri.file(policyFile));
    const editor = await vscode.window.showTextDocument(document);
    // Break the syntax on line 3: remove the comma-separated structure's closing bracket.
    await editor.edit((b) => b.replace(new vscode.Range(4, 0, 4, 3), '  '));
    const syntax = await diagnosticsWhere(document.uri, (d) => d.some((x) => /JSON syntax error/.test(x.message)));
    assert.ok(syntax.every((d) => d.severity === vscode.DiagnosticSeverity.Error));
    const fixed = BROKEN.replace('"sometimes"', '"allow"');
    await editor.edit((b) => b.replace(new vscode.Range(0, 0, document.lineCount, 0), fixed));
    await diagnosticsWhere(document.uri, (d) => d.length === 0);
    await document.save();
  });

  it('policy examples are checked on save and by "Warden: Test Policy"', async () => {
    const document = await vscode.workspace.openTextDocument(vscode.Uri.file(policyFile));
    const editor = await vscode.window.showTextDocument(document);
    await editor.edit((b) => b.replace(new vscode.Range(0, 0, document.lineCount, 0), WITH_FAILING_EXAMPLE));
    await document.save();
    const diagnostics = await diagnosticsWhere(document.uri, (d) => d.length === 1);
    assert.equal(diagnostics[0]!.severity, vscode.DiagnosticSeverity.Warning);
    assert.equal(diagnostics[0]!.range.start.line, 4, 'the failing example is the one on line 5');
    assert.match(diagnostics[0]!.message, /npm publish.*expected to allow but the policy says ask/);

    const result = await vscode.commands.executeCommand<TestPolicyResult>('warden.testPolicy');
    assert.equal(result?.valid, true);
    assert.equal(result?.passed, 1);
    assert.deepEqual(
      result?.failed.map((f) => f.index),
      [1],
    );
  });

  it('a session started from the editor is decided by the committed policy, with no human', async function () {
    this.timeout(240_000);
    const api = await vscode.extensions.getExtension<WardenApi>('warden-dev.warden')!.activate();
    const root = workspaceRoot();
    const files = ['src/greet.js', 'test/greet.test.js'];
    const before = await Promise.all(files.map((f) => fs.readFile(path.join(root, f), 'utf8').catch(() => null)));
    await fs.writeFile(
      policyFile,
      JSON.stringify({
        paths: [{ id: 'code-writes', paths: ['src/**', 'test/**'], actions: ['write', 'create'], decision: 'allow' }],
        commands: [{ id: 'node-test', match: 'node --test *', decision: 'allow' }],
      }),
    );
    const pending: string[] = [];
    const subscription = api.proposals.onDidChange((p) => {
      if (p.state === 'pending') pending.push(p.title);
    });
    try {
      const sessionId = await vscode.commands.executeCommand<string>('warden.startSession', {
        instruction: 'add a farewell function with tests',
      });
      assert.ok(sessionId);
      assert.equal(await api.lastTurn(), 'end_turn');
      const mine = api.proposals.all().filter((p) => p.sessionId === sessionId);
      assert.deepEqual(pending, [], 'nothing waited for a human');
      // The write that follows an allowed permission request is granted by that earlier decision.
      assert.deepEqual(
        mine.map((p) => `${p.decision?.reviewer.kind}:${p.decision?.reviewer.name}`),
        ['policy:code-writes', 'warden:warden', 'policy:code-writes', 'policy:node-test'],
      );
    } finally {
      subscription.dispose();
      await vscode.commands.executeCommand('warden.stopSession');
      await Promise.all(
        files.map((f, i) =>
          before[i] === null ? fs.rm(path.join(root, f), { force: true }) : fs.writeFile(path.join(root, f), before[i]!),
        ),
      );
    }
  });

  it('"Warden: Show Effective Policy" shows the merged policy and the source of each rule', async () => {
    const uri = await vscode.commands.executeCommand<string>('warden.showEffectivePolicy');
    assert.ok(uri, 'the command returns the document it opened');
    const document = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri);
    assert.ok(document);
    const text = document.getText();
    assert.match(text, /"id": "node-test"[\s\S]*?"source": "team"/);
    assert.match(text, /team \(\.warden\/policy\.json\): loaded/);
  });

  it('"Warden: Test Policy" with no policy offers to create one (defaults written out, with examples), and creates nothing when declined', async () => {
    await closeEditorsDiscardingChanges();
    await fs.rm(policyFile, { force: true });
    const declined = await answeringPrompts({}, () => vscode.commands.executeCommand<TestPolicyResult | undefined>('warden.testPolicy'));
    assert.equal(declined.result, undefined);
    assert.match(declined.infos[0] ?? '', /has no \.warden\/policy\.json, so the built-in defaults apply[\s\S]*Create a policy/);
    await assert.rejects(fs.stat(policyFile), 'declined: no policy file was written');

    const created = await answeringPrompts({ info: (_, buttons) => buttons.find((b) => b === 'Create Policy') }, () =>
      vscode.commands.executeCommand<TestPolicyResult | undefined>('warden.testPolicy'),
    );
    assert.ok(created.result?.valid, 'the starter policy is valid');
    assert.ok(created.result.passed > 0 && created.result.failed.length === 0, `its examples pass: ${JSON.stringify(created.result)}`);
    assert.equal(await fs.readFile(policyFile, 'utf8'), STARTER_POLICY);
    assert.equal(vscode.window.activeTextEditor?.document.uri.fsPath, policyFile, 'opened for editing');
  });

  it('an invalid policy setting gets a diagnostic in the user settings file, at the offending value, and clears when fixed', async () => {
    const config = vscode.workspace.getConfiguration('warden.policy');
    const wardenSettingsProblems = (): Array<[vscode.Uri, vscode.Diagnostic[]]> =>
      vscode.languages
        .getDiagnostics()
        .map(([uri, all]): [vscode.Uri, vscode.Diagnostic[]] => [uri, all.filter((d) => d.source === 'Warden settings')])
        .filter(([, found]) => found.length > 0);
    const until = (ok: () => boolean, what: string): Promise<void> =>
      new Promise((resolve, reject) => {
        const done = (): boolean => {
          if (!ok()) return false;
          subscription.dispose();
          clearTimeout(timer);
          resolve();
          return true;
        };
        const subscription = vscode.languages.onDidChangeDiagnostics(() => done());
        const timer = setTimeout(() => {
          subscription.dispose();
          reject(
            new Error(
              `${what}; Warden settings diagnostics now: ${JSON.stringify(wardenSettingsProblems().map(([u, d]) => [u.toString(), d.map((x) => x.message)]))}`,
            ),
          );
        }, 20_000);
        done();
      });
    try {
      // userRules is an application-scoped (user) setting, and settings may only tighten: "allow" is refused.
      await config.update('userRules', { commands: [{ id: 'mine', match: 'ls *', decision: 'allow' }] }, vscode.ConfigurationTarget.Global);
      await until(() => wardenSettingsProblems().length > 0, 'no diagnostic appeared for the invalid setting');
      const [[uri, [problem]]] = wardenSettingsProblems() as [[vscode.Uri, [vscode.Diagnostic]]];
      const lines = Buffer.from(await vscode.workspace.fs.readFile(uri))
        .toString('utf8')
        .split('\n');
      const line = lines[problem.range.start.line] ?? '';
      assert.match(line, /"allow"/, `the diagnostic is on the line of the value (${uri.toString()}:${problem.range.start.line + 1})`);
      assert.equal(problem.range.start.character, line.indexOf('"allow"'));
      assert.match(problem.message, /warden\.policy\.userRules: commands\.0\.decision/);
      assert.match(problem.message, /everything asks/);
    } finally {
      await config.update('userRules', undefined, vscode.ConfigurationTarget.Global);
    }
    await until(() => wardenSettingsProblems().length === 0, 'the diagnostic stayed after the setting was removed');
  });
});

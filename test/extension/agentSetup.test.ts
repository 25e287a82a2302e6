import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { WardenApi } from '../../src/extension';
import { presetOf, SETUP_PRESET_IDS } from '../../src/core/agent/setup';
import { loadPolicyText } from '../../src/core/policy';
import type { SetupAgentResult } from '../../src/vscode/agentSetup';
import type { TestPolicyResult } from '../../src/vscode/policyCommands';

/** "Warden: Set Up Agent…" against the demo workspace, answered through its arguments (the test seam). */
describe('Warden: Set Up Agent… (one-step setup of each preset)', function () {
  this.timeout(240_000);
  let api: WardenApi;
  let root: string;
  const files = ['.devcontainer/devcontainer.json', '.devcontainer/Dockerfile', '.warden/policy.json'];
  let original: Map<string, string | undefined>;
  const read = (p: string) => fs.readFile(path.join(root, p), 'utf8').catch(() => undefined);

  before(async () => {
    const extension = vscode.extensions.getExtension<WardenApi>('warden-dev.warden');
    assert.ok(extension);
    api = await extension.activate();
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder);
    root = folder.uri.fsPath;
    original = new Map(await Promise.all(files.map(async (f) => [f, await read(f)] as const)));
  });

  afterEach(async () => {
    for (const [file, text] of original) {
      if (text === undefined) await fs.rm(path.join(root, file), { force: true });
      else await fs.writeFile(path.join(root, file), text);
    }
    await vscode.workspace.getConfiguration('warden.agent').update('preset', undefined, vscode.ConfigurationTarget.Workspace);
    for (const id of SETUP_PRESET_IDS) {
      const env = presetOf(id).apiKeyEnv;
      if (env) await vscode.commands.executeCommand('warden.setAgentApiKey', { envName: env, value: '' });
    }
  });

  for (const id of SETUP_PRESET_IDS) {
    it(`${id}: every change approved lands (install line, model host, setting, key); a second run changes nothing`, async () => {
      const preset = presetOf(id);
      const result = await vscode.commands.executeCommand<SetupAgentResult>('warden.setupAgent', {
        preset: id,
        approve: true,
        apiKey: `key-for-${id}`,
      });
      assert.ok(result, 'the command ran');
      assert.deepEqual(result.problems, []);
      assert.deepEqual(result.refused, []);
      const dockerfile = (await read('.devcontainer/Dockerfile'))!;
      assert.ok(dockerfile.startsWith(original.get('.devcontainer/Dockerfile')!), 'the Dockerfile keeps what it had');
      assert.equal(
        await read('.devcontainer/devcontainer.json'),
        original.get('.devcontainer/devcontainer.json'),
        'devcontainer.json (which builds the Dockerfile) is unchanged',
      );
      const policyText = await read('.warden/policy.json');
      if (id === 'demo') {
        assert.equal(dockerfile, original.get('.devcontainer/Dockerfile'));
        assert.equal(policyText, undefined, 'the demo agent needs no network');
        assert.deepEqual(result.written, []);
      } else {
        assert.ok(dockerfile.split('\n').includes(preset.install), dockerfile);
        assert.ok(policyText);
        const loaded = loadPolicyText(policyText);
        assert.ok(loaded.ok);
        assert.deepEqual(
          loaded.value.network?.allow.map((a) => a.host),
          preset.hosts,
        );
        assert.deepEqual(result.written.sort(), ['.devcontainer/Dockerfile', '.warden/policy.json']);
        const tested = await vscode.commands.executeCommand<TestPolicyResult>('warden.testPolicy');
        assert.equal(tested?.valid, true, 'the policy service loads the new policy');
      }
      assert.equal(
        vscode.workspace.getConfiguration('warden.agent').inspect<string>('preset')?.workspaceValue,
        id === 'demo' ? 'custom' : id,
      );
      assert.equal(result.setting, id === 'demo' ? 'custom' : id);
      if (preset.apiKeyEnv) {
        assert.equal(result.keyStored, preset.apiKeyEnv);
        assert.equal(await api.hasAgentKey(preset.apiKeyEnv), true);
      } else assert.equal(result.keyStored, undefined);

      const again = await vscode.commands.executeCommand<SetupAgentResult>('warden.setupAgent', { preset: id, approve: true });
      assert.deepEqual(again?.written, [], 'idempotent');
      assert.equal(await read('.devcontainer/Dockerfile'), dockerfile);
      assert.equal(await read('.warden/policy.json'), policyText);
    });
  }

  it('refused steps change nothing; a policy that does not parse is reported with line and column and left untouched', async () => {
    const refused = await vscode.commands.executeCommand<SetupAgentResult>('warden.setupAgent', { preset: 'gemini', approve: false });
    assert.equal(refused?.refused.length, 3, 'sandbox, policy and setting were refused');
    assert.deepEqual(refused?.written, []);
    for (const [file, text] of original) assert.equal(await read(file), text, file);
    assert.equal(vscode.workspace.getConfiguration('warden.agent').inspect<string>('preset')?.workspaceValue, undefined);

    await fs.mkdir(path.join(root, '.warden'), { recursive: true });
    const broken = '{\n  "version": 1,\n  "network": { "allow": [ }\n}\n';
    await fs.writeFile(path.join(root, '.warden', 'policy.json'), broken);
    const result = await vscode.commands.executeCommand<SetupAgentResult>('warden.setupAgent', { preset: 'claude', approve: true });
    assert.deepEqual(
      result?.problems.map((p) => [p.path, p.line, p.column]),
      [['.warden/policy.json', 3, 27]],
    );
    assert.equal(await read('.warden/policy.json'), broken, 'untouched');
    assert.deepEqual(result?.written, ['.devcontainer/Dockerfile'], 'the sandbox step still applied');
  });

  it('after setting up the demo agent, "Warden: Start Agent Session" starts it with no further edit', async () => {
    await vscode.commands.executeCommand<SetupAgentResult>('warden.setupAgent', { preset: 'demo', approve: true });
    try {
      await vscode.commands.executeCommand<string>('warden.startSession', { instruction: 'add a farewell function' });
      assert.ok(api.activeSession()?.id, 'the session started');
    } finally {
      await vscode.commands.executeCommand('warden.stopAgentNow');
      await api.lastTurn()?.catch(() => undefined);
    }
  });
});

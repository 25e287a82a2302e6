import { strict as assert } from 'node:assert';
import * as vscode from 'vscode';
import type { WardenApi } from '../../src/extension';
import { auditText } from '../support/workspace';

/** A canary: if it shows up anywhere in the audit log, a secret leaked into the record. */
const TOKEN = 'ghp_wardenCanaryTokenForTheAgentOnly0000';

describe("Warden: a scoped token of the agent's own (warden.agent.secretEnv)", function () {
  this.timeout(240_000);

  it('a secret named in warden.agent.secretEnv reaches only the agent, by name in the audit, never by value', async () => {
    const extension = vscode.extensions.getExtension<WardenApi>('warden-dev.warden');
    assert.ok(extension);
    const api = await extension.activate();
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder);
    const config = vscode.workspace.getConfiguration('warden.agent');
    try {
      await config.update('secretEnv', ['GH_TOKEN'], vscode.ConfigurationTarget.Global);
      assert.equal(await vscode.commands.executeCommand('warden.setAgentApiKey', { envName: 'GH_TOKEN', value: TOKEN }), true);
      await vscode.commands.executeCommand<string>('warden.startSession', { instruction: 'add a farewell function' });
      const sessionId = api.activeSession()?.id;
      assert.ok(sessionId, 'the session started');
      const text = await auditText(folder.uri.fsPath);
      const started = text
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { type: string; sessionId?: string; data: Record<string, unknown> })
        .find((e) => e.type === 'agent.started' && e.sessionId === sessionId);
      assert.deepEqual(started?.data.agentEnvNames, ['GH_TOKEN'], 'the agent got the token, and the audit names it');
      assert.ok(!text.includes(TOKEN), 'the token itself is never in the audit log');
    } finally {
      await vscode.commands.executeCommand('warden.stopAgentNow');
      await api.lastTurn()?.catch(() => undefined);
      await vscode.commands.executeCommand('warden.setAgentApiKey', { envName: 'GH_TOKEN', value: '' });
      await config.update('secretEnv', undefined, vscode.ConfigurationTarget.Global);
    }
  });
});

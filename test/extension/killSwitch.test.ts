import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import Dockerode from 'dockerode';
import * as vscode from 'vscode';
import type { WardenApi } from '../../src/extension';
import { nextPending } from '../support/proposals';
import { readAudit } from '../support/workspace';

async function activateWarden(): Promise<WardenApi> {
  const extension = vscode.extensions.getExtension<WardenApi>('warden-dev.warden');
  assert.ok(extension, 'the Warden extension is installed in this VS Code');
  return extension.activate();
}

describe('Warden: Stop Agent Now (kill switch) and Remove Sandbox', function () {
  this.timeout(240_000);

  it('kills the demo agent and its container; the pending proposal is orphaned and the workspace unchanged', async () => {
    const api = await activateWarden();
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder);
    const root = folder.uri.fsPath;
    const greet = await fs.readFile(path.join(root, 'src/greet.js'), 'utf8');
    const registered = await vscode.commands.getCommands(true);
    assert.ok(registered.includes('warden.stopAgentNow') && registered.includes('warden.removeSandbox'));

    await vscode.commands.executeCommand<string>('warden.startSession', { instruction: 'add a farewell function' });
    const containerId = api.activeSession()?.containerId;
    assert.ok(containerId, 'the session runs in a container');
    const pending = await nextPending(api.proposals, new Set());

    assert.equal(await vscode.commands.executeCommand('warden.stopAgentNow'), true);
    assert.equal(api.activeSession(), undefined);
    assert.equal(api.proposals.get(pending.id)?.state, 'orphaned');
    await assert.rejects(new Dockerode().getContainer(containerId).inspect(), /no such container/i, 'the killed container is gone');
    assert.equal(await fs.readFile(path.join(root, 'src/greet.js'), 'utf8'), greet);
    await api.lastTurn()?.catch(() => undefined);

    const killed = (await readAudit(root)).find((e) => e.type === 'session.killed');
    assert.equal(killed?.data.containerId, containerId);

    assert.equal(await vscode.commands.executeCommand('warden.stopAgentNow'), false, 'nothing left to kill');
    const removed = await vscode.commands.executeCommand<string[]>('warden.removeSandbox');
    assert.ok(Array.isArray(removed), 'Remove Sandbox runs when no session is active');
  });
});

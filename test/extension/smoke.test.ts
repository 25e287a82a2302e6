import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { z } from 'zod';
import { WORKSPACE_ENV } from './results';

const EXTENSION_ID = 'warden-dev.warden';

/** The part of package.json this suite checks, validated rather than cast. */
const manifestSchema = z.object({
  contributes: z.object({
    commands: z.array(z.object({ command: z.string(), title: z.string() })),
  }),
});

function warden(): vscode.Extension<unknown> {
  const extension = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(extension, `${EXTENSION_ID} is loaded in this extension host`);
  return extension;
}

describe('smoke: Warden loads in a real VS Code', () => {
  it('runs inside a real VS Code extension host (vscode.version is set)', () => {
    assert.match(vscode.version, /^\d+\.\d+\.\d+/);
  });

  it('opens the test workspace folder', () => {
    const folders = vscode.workspace.workspaceFolders ?? [];
    assert.equal(folders.length, 1, 'exactly one workspace folder is open');
    const expected = process.env[WORKSPACE_ENV];
    if (expected) assert.equal(path.resolve(folders[0]!.uri.fsPath), path.resolve(expected));
    assert.equal(vscode.workspace.isTrusted, true, 'the test workspace is trusted (Warden does not run in Restricted Mode)');
  });

  it(`finds ${EXTENSION_ID} and activates it`, async () => {
    const extension = warden();
    await extension.activate();
    assert.equal(extension.isActive, true);
  });

  it('registers every command contributed in package.json (a contributed-but-unregistered command fails here)', async () => {
    const extension = warden();
    await extension.activate();
    const manifest = manifestSchema.parse(extension.packageJSON);
    const contributed = manifest.contributes.commands.map((c) => c.command);
    assert.ok(contributed.length > 0, 'package.json contributes commands');
    const registered = new Set(await vscode.commands.getCommands(true));
    const missing = contributed.filter((id) => !registered.has(id));
    assert.deepEqual(missing, [], `contributed in package.json but never registered: ${missing.join(', ')}`);
  });
});

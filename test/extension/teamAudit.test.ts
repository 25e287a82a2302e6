import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { buildTeamRepos } from '../fixtures/teamRepos';

/**
 * Issue 19: the lead opens the Audit panel on a team's merged log, 20 developers × 50 sessions
 * written by the real writer in 20 real clones, merged through a bare repository. The webview
 * reports what it drew (its `rendered` message), so the test sees the page list all 1,000.
 */

interface Rendered {
  sessions: number;
  rows: number;
}

function isRendered(value: unknown): value is Rendered {
  return typeof value === 'object' && value !== null && 'sessions' in value && typeof value.sessions === 'number';
}

describe("Warden: the Audit panel on a team's merged log (issue 19)", function () {
  this.timeout(600_000);
  let root: string;
  let dir: string;
  let aside: string;
  let temp: string;

  before(async function () {
    this.timeout(600_000);
    await vscode.extensions.getExtension('warden-dev.warden')?.activate();
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder, 'the test opens a workspace folder');
    root = folder.uri.fsPath;
    dir = path.join(root, '.warden', 'audit');
    aside = path.join(root, '.warden', `audit-before-team-${Date.now()}`);
    await fs.rename(dir, aside).catch(() => undefined);
    temp = await fs.mkdtemp(path.join(os.tmpdir(), 'warden-team-panel-'));
    // Sessions without proposals (start, agent, instruction, end) keep the build quick; the 1,000 chains are what is under test.
    const team = await buildTeamRepos(temp, { developers: 20, sessionsPerDeveloper: 50, proposalsPerSession: 0 });
    await fs.cp(path.join(team.lead, '.warden', 'audit'), dir, { recursive: true });
  });

  after(async () => {
    for (const tab of vscode.window.tabGroups.all.flatMap((g) => g.tabs)) {
      if (tab.input instanceof vscode.TabInputWebview && tab.input.viewType.endsWith('warden.audit'))
        await vscode.window.tabGroups.close(tab);
    }
    await fs.rm(dir, { recursive: true, force: true });
    await fs.rename(aside, dir).catch(() => undefined);
    if (temp) await fs.rm(temp, { recursive: true, force: true });
  });

  it('Show Audit Log lists all 1,000 sessions of 20 developers', async () => {
    // The first draw may be of a log read before the copy finished: ask again until it settles.
    const deadline = Date.now() + 240_000;
    let rendered: unknown;
    do {
      rendered = await vscode.commands.executeCommand('warden.showAuditLog', { waitForRender: true });
    } while (!(isRendered(rendered) && rendered.sessions === 1000) && Date.now() < deadline);
    assert.ok(isRendered(rendered), `the panel drew the log (${JSON.stringify(rendered)})`);
    assert.equal(rendered.sessions, 1000);
    assert.equal(rendered.rows, 500, 'the newest 500 of the 4,000 entries');
  });
});

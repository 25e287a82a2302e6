import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { queryAuditLog, type AuditRow, type RepairResult } from '../../src/core/audit';
import type { VerifyReport } from '../../src/core/audit/types';
import { writeSampleAuditLog } from '../fixtures/auditSession';

function workspaceRoot(): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the test opens a workspace folder');
  return folder.uri.fsPath;
}

function auditTabs(): vscode.Tab[] {
  return vscode.window.tabGroups.all
    .flatMap((g) => g.tabs)
    .filter((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith('warden.audit'));
}

/** Tab groups update after the command resolves: poll until `count` Audit tabs exist. */
async function auditTabCount(count: number): Promise<number> {
  const deadline = Date.now() + 10_000;
  while (auditTabs().length !== count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  return auditTabs().length;
}

describe('Warden: the audit commands', function () {
  this.timeout(60_000);
  let root: string;
  let dir: string;
  let aside: string;

  /** Rows of the log the session suite (which runs first) recorded through the real session code. */
  let sessionRows: AuditRow[] = [];

  before(async () => {
    await vscode.extensions.getExtension('warden-dev.warden')?.activate();
    root = workspaceRoot();
    dir = path.join(root, '.warden', 'audit');
    sessionRows = (await queryAuditLog(root)).rows;
    // Keep the log earlier suites wrote (and tampered with) out of the way, and put it back after.
    aside = path.join(root, '.warden', `audit-before-${Date.now()}`);
    await fs.rename(dir, aside).catch(() => undefined);
    await writeSampleAuditLog(root);
  });

  after(async () => {
    await fs.rm(dir, { recursive: true, force: true });
    await fs.rename(aside, dir).catch(() => undefined);
  });

  it('the log a real session wrote reads back with agent, kind, path, decision and reviewer on every decision', () => {
    const decisions = sessionRows.filter((r) => r.type === 'decision');
    assert.ok(decisions.length >= 3, `the session suite recorded decisions (${decisions.length})`);
    for (const d of decisions) {
      assert.ok(d.agent, `decision ${d.seq} knows its agent`);
      assert.ok(d.kind, `decision ${d.seq} knows its proposal kind`);
      assert.ok(d.decision && d.reviewer, `decision ${d.seq} has a verdict and a reviewer`);
    }
    const human = decisions.find((d) => d.automatic === false && d.kind !== 'command');
    assert.ok(human?.path, 'an edit decided by a person carries the file path');
    assert.ok(
      sessionRows.some((r) => r.type === 'proposal' && r.hasDiff),
      'edit proposals carry their diff',
    );
    assert.ok(
      sessionRows.some((r) => r.type === 'command.result' && r.commandLine && r.exitCode !== null),
      'command results know their command line',
    );
  });

  it('Show Audit Log opens one Audit panel, and again reveals the same one', async () => {
    assert.equal(await vscode.commands.executeCommand('warden.showAuditLog'), true);
    assert.equal(await auditTabCount(1), 1);
    await vscode.commands.executeCommand('warden.showAuditLog');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(auditTabs().length, 1, 'a second Show reveals the open panel');
  });

  it('Repair Audit Log cuts a torn last line into a side file and leaves a log that verifies', async () => {
    const segment = path.join(dir, 'audit-000001.jsonl');
    await fs.appendFile(segment, '{"v":1,"seq":18,"time":"2026-');
    const broken = await vscode.commands.executeCommand<VerifyReport>('warden.verifyAuditLog');
    assert.equal(broken?.ok, false);
    assert.match(broken?.firstBreak?.reason ?? '', /torn write\?/);

    const result = await vscode.commands.executeCommand<RepairResult>('warden.repairAuditLog', { confirmed: true });
    assert.equal(result?.repaired, true, result?.message);
    assert.equal(result?.after.ok, true);
    assert.equal(await fs.readFile(path.join(root, result?.torn?.savedTo ?? 'missing'), 'utf8'), '{"v":1,"seq":18,"time":"2026-');
    const report = await vscode.commands.executeCommand<VerifyReport>('warden.verifyAuditLog');
    assert.equal(report?.ok, true);
    assert.equal(report?.entries, 18, '17 entries and the audit.repaired entry');
  });

  it('Repair Audit Log does nothing to a log that verifies', async () => {
    const before = await fs.readFile(path.join(dir, 'audit-000001.jsonl'));
    const result = await vscode.commands.executeCommand<RepairResult>('warden.repairAuditLog', { confirmed: true });
    assert.equal(result?.repaired, false);
    assert.deepEqual(await fs.readFile(path.join(dir, 'audit-000001.jsonl')), before);
  });
});

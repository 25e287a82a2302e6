import { strict as assert } from 'node:assert';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Frame } from 'playwright-core';
import type { Proposal } from '../../src/core/proposals/model';
import type { PersistedSession } from '../../src/core/proposals/persistence';
import { pendingEdit } from '../support/proposals';
import { XSS_CORPUS } from '../support/xssCorpus';
import { findFrame, repoRoot, runCommand, stopSessionIfRunning, submitQuickInput, useWorkbench, PER_ACTION } from './harness';
import { auditEntries, eventually, twoHunkWorkspace } from './workspaceState';

/**
 * Agent-provided text is shown as text: an XSS corpus in proposal titles, paths, diffs, command
 * lines, working directories, environments and questions executes nothing and adds no element.
 * The proposals are saved in the workspace before the window opens (as a reload leaves them),
 * so they come back orphaned, through the same rendering as live ones.
 */

const CORPUS = XSS_CORPUS;
const payload = (i: number): string => CORPUS[i % CORPUS.length]!;

function hostileProposals(sessionId: string): Proposal[] {
  const at = (n: number): string => new Date(Date.UTC(2026, 11, 1, 12, 0, n)).toISOString();
  const proposals: Proposal[] = [];
  CORPUS.forEach((text, i) => {
    const filePath = `src/${text.replace(/\//g, '_')}.js`;
    const oldText = `const safe = 1;\n// ${payload(i + 1)}\n`;
    const newText = `const safe = 1;\n// ${text}\nconst unsafe = "${payload(i + 2).replace(/"/g, '\\"')}";\n`;
    proposals.push(
      pendingEdit({ id: `p-xss-edit-${i}`, sessionId, createdAt: at(i), title: `Edit ${text}`, path: filePath, oldText, newText }),
    );
    proposals.push({
      kind: 'command',
      id: `p-xss-command-${i}`,
      sessionId,
      createdAt: at(20 + i),
      state: 'pending',
      title: `Run ${text}`,
      origin: 'terminal/create',
      argv: ['sh', '-c', `echo ${text}`],
      commandLine: `echo ${text}`,
      cwd: `/workspace/${payload(i + 3)}`,
      env: { [`X_${i}`]: payload(i + 4) },
    });
  });
  proposals.push({
    kind: 'question',
    id: 'p-xss-question',
    sessionId,
    createdAt: at(40),
    state: 'pending',
    title: `Question ${payload(5)}`,
    origin: 'session/request_permission',
    question: `Which one? ${payload(6)}`,
    choices: [payload(0), payload(1)],
  });
  return proposals;
}

interface HostileReport {
  xss: string | null;
  parentXss: string | null;
  injected: string[];
  handlers: number;
  scripts: string[];
  /** The text of `scope`. */
  text: string;
  /** Hidden-character markers and warnings in `scope`. */
  markers: string[];
  warnings: number;
}

/** What agent text did in a webview: globals set, elements and handlers added, scripts, and the text of `scope` as shown. */
function hostileReport(frame: Frame, scope: string): Promise<HostileReport> {
  // Runs in the webview (a string: the test bundle has no DOM types).
  return frame.evaluate<HostileReport>(`(() => {
    const scope = document.querySelector(${JSON.stringify(scope)});
    return {
      xss: window.__xss === undefined ? null : String(window.__xss),
      parentXss: (() => { try { return window.parent.__xss === undefined ? null : String(window.parent.__xss); } catch { return 'cross-origin'; } })(),
      // The panel's own: VS Code's default styles, the argv and environment disclosures, tool calls and thoughts.
      injected: [...document.querySelectorAll('img, svg, iframe, object, embed, a[href], b, #__xss, style:not(#_defaultStyles), details:not(.argv):not(.env):not(.tool):not(li.thought > details)')].map((e) => e.outerHTML.slice(0, 80)),
      handlers: [...document.querySelectorAll('*')].filter((e) => [...e.attributes].some((a) => a.name.startsWith('on'))).length,
      scripts: [...document.scripts].map((s) => (s.src ? 'src:' + s.src.split('?')[0].split('/').pop() : 'inline:' + s.textContent.slice(0, 60))),
      text: scope ? scope.textContent : '',
      markers: scope ? [...scope.querySelectorAll('.hidden-char')].map((m) => m.textContent) : [],
      warnings: scope ? scope.querySelectorAll('.callout.warning[role="note"]').length : 0,
    };
  })()`);
}

/** Nothing ran, nothing was added, and every corpus string is shown as text, its bidi control as a marker. */
function assertNothingRan(report: HostileReport): void {
  assert.equal(report.xss, null, 'no payload ran in the webview');
  assert.ok(report.parentXss === null || report.parentXss === 'cross-origin', `no payload reached the parent frame: ${report.parentXss}`);
  assert.deepEqual(report.injected, [], 'no element came from agent text');
  assert.equal(report.handlers, 0, 'no inline event handler attribute exists');
  // VS Code's own inline script defines acquireVsCodeApi; the panel's script is the only other one.
  assert.deepEqual(
    report.scripts.filter((s) => !s.includes('globalThis.acquireVsCodeApi')),
    ['src:review.js'],
    'no script came from agent text',
  );
  for (const text of CORPUS) {
    // Bidirectional controls are shown as visible markers (U+202E), so match the text around them.
    const visible = text.replace(/[\u202a-\u202e]/g, '');
    const probe = visible.slice(Math.max(0, visible.indexOf('<')), Math.max(0, visible.indexOf('<')) + 20);
    assert.ok(report.text.includes(probe), `shown as text: ${probe}`);
  }
  assert.ok(report.markers.includes('U+202E'), 'the hidden bidirectional control is shown as a marker');
  assert.ok(report.warnings > 0, 'a warning says the text has hidden characters');
}

function hostileWorkspace(): { folder: string; dispose(): void } {
  const source = twoHunkWorkspace('hostile');
  const sessionId = 's-xss-corpus';
  const dir = path.join(source.folder, '.warden', 'proposals');
  mkdirSync(dir, { recursive: true });
  const saved: PersistedSession = { version: 1, sessionId, savedAt: new Date().toISOString(), proposals: hostileProposals(sessionId) };
  writeFileSync(path.join(dir, `${sessionId}.json`), `${JSON.stringify(saved, null, 2)}\n`);
  return source;
}

describe('e2e: an XSS corpus in proposals executes nothing in the Warden panel', function () {
  const source = hostileWorkspace();
  const vsc = useWorkbench(this, { folder: source.folder, settings: PER_ACTION });
  this.timeout(300_000);
  after(() => source.dispose());

  it('titles, paths, diffs, command lines, directories, environments and questions render as text', async () => {
    const { page, folder } = vsc();
    const dialogs: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    await runCommand(page, 'Warden: Show Review Panel');
    const review = await findFrame(page, 'article.card[data-proposal-id="p-xss-question"]', 90_000);
    const cards = review.locator('article.card[data-state="orphaned"]');
    assert.equal(await cards.count(), CORPUS.length * 2 + 1, 'every saved proposal came back, orphaned');
    // Orphaned proposals sit closed in the history: open each, so every diff, command and field is drawn.
    for (let i = 0; i < CORPUS.length * 2 + 1; i++) {
      const toggle = cards.nth(i).locator('button[data-action="toggle"]');
      if ((await toggle.getAttribute('aria-expanded')) !== 'true') await toggle.click();
    }
    await review.locator('article.card[data-proposal-id="p-xss-edit-0"] table.diff-table').waitFor({ state: 'visible' });
    await review.locator('article.card[data-proposal-id="p-xss-command-0"] .card-body').waitFor({ state: 'visible' });

    const report = await hostileReport(review, 'body');
    const openBodies = await review.locator('article.card .card-body:not([hidden]):not([data-deferred])').count();
    assertNothingRan(report);
    assert.equal(openBodies, CORPUS.length * 2 + 1, 'every card is open and drawn');
    assert.equal(await page.evaluate('window.__xss === undefined'), true, 'nothing ran in the workbench either');
    assert.deepEqual(dialogs, [], 'no dialog opened');

    // Orphaned proposals are decided in the panel (issue 22, item 6): Apply anyway asks first, Discard rejects on the record.
    const edit = review.locator('article.card[data-proposal-id="p-xss-edit-1"]');
    await edit.locator('button[data-action="applyAnyway"]').click();
    const dialog = page.locator('.monaco-dialog-box');
    await dialog.waitFor({ state: 'visible' });
    assert.match(await dialog.innerText(), /although its agent is gone\?/);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    assert.equal(await edit.getAttribute('data-state'), 'orphaned', 'cancelled: nothing applied');
    await review.locator('article.card[data-proposal-id="p-xss-command-1"] button[data-action="discard"]').click();
    await review.locator('article.card[data-proposal-id="p-xss-command-1"][data-state="rejected"]').waitFor({ state: 'attached' });
    const discarded = await eventually('the discard in the audit log', () =>
      auditEntries(folder).find((e) => e.type === 'decision' && e.data.proposalId === 'p-xss-command-1'),
    );
    assert.equal(discarded.data.orphaned, true);
    assert.equal(discarded.data.verdict, 'reject');
  });
});

/**
 * The same corpus through the conversation: the instruction (echoed as the human's message), and
 * a scripted agent (test/fixtures/agents/xss-agent.mjs) saying each string back as messages, a
 * thought, plan entries, tool call titles, locations and output, in the real Warden panel.
 */
function agentWorkspace(): { folder: string; dispose(): void } {
  const parent = mkdtempSync(path.join(os.tmpdir(), 'warden-e2e-xss-agent-'));
  const folder = path.join(parent, 'demo');
  cpSync(path.join(repoRoot, 'test', 'fixtures', 'workspaces', 'demo'), folder, { recursive: true });
  cpSync(path.join(repoRoot, 'test', 'fixtures', 'agents', 'xss-agent.mjs'), path.join(folder, 'xss-agent.mjs'));
  return { folder, dispose: () => rmSync(parent, { recursive: true, force: true }) };
}

describe('e2e: an XSS corpus in the conversation executes nothing in the Warden panel', function () {
  const source = agentWorkspace();
  // The workspace is at /workspaces/demo in the sandbox (devcontainer.json's default).
  const vsc = useWorkbench(this, { folder: source.folder, settings: { 'warden.agent.command': 'node /workspaces/demo/xss-agent.mjs' } });
  this.timeout(300_000);
  after(() => source.dispose());

  it('the instruction, agent messages, thoughts, plan entries and tool calls render as text, bidi controls marked', async () => {
    const { page } = vsc();
    const dialogs: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    await runCommand(page, 'Warden: Start Agent Session');
    await submitQuickInput(page, `Say these back: ${JSON.stringify(CORPUS)}`);
    const panel = await findFrame(page, 'li.agent-message', 120_000);
    await panel.locator('li.agent-message', { hasText: 'Said it all back.' }).waitFor({ state: 'visible', timeout: 60_000 });
    const rows = (type: string): Promise<number> => panel.locator(`ol.feed > li.${type}`).count();
    assert.equal(await rows('user-message'), 1, 'the instruction is echoed');
    assert.equal(await rows('plan'), 1, 'the plan is drawn');
    assert.equal(await rows('tool-call'), CORPUS.length, 'a row per tool call');
    assert.equal(await rows('thought'), 1, 'the thought is drawn');

    const report = await hostileReport(panel, 'section.conversation');
    assertNothingRan(report);
    // The instruction echo shows the corpus as typed (JSON-quoted), the agent's rows as said.
    const echo = await panel.locator('ol.feed > li.user-message .text').innerText();
    assert.ok(echo.includes('<img src=x onerror=') && echo.includes('<script>'), `the instruction is shown as typed: ${echo.slice(0, 80)}`);
    for (const row of ['agent-message', 'plan', 'tool-call'])
      assert.ok((await panel.locator(`ol.feed > li.${row} .hidden-char`).count()) > 0, `the bidi control is marked in the ${row} rows too`);
    assert.equal(await page.evaluate('window.__xss === undefined'), true, 'nothing ran in the workbench either');
    assert.deepEqual(dialogs, [], 'no dialog opened');
    await stopSessionIfRunning(page);
  });
});

import { strict as assert } from 'node:assert';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Proposal } from '../../src/core/proposals/model';
import type { PersistedSession } from '../../src/core/proposals/persistence';
import { pendingEdit } from '../support/proposals';
import { XSS_CORPUS } from '../support/xssCorpus';
import { findFrame, runCommand, useWorkbench, PER_ACTION } from './harness';
import { twoHunkWorkspace } from './workspaceState';

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

function hostileWorkspace(): { folder: string; dispose(): void } {
  const source = twoHunkWorkspace('hostile');
  const sessionId = 's-xss-corpus';
  const dir = path.join(source.folder, '.warden', 'proposals');
  mkdirSync(dir, { recursive: true });
  const saved: PersistedSession = { version: 1, sessionId, savedAt: new Date().toISOString(), proposals: hostileProposals(sessionId) };
  writeFileSync(path.join(dir, `${sessionId}.json`), `${JSON.stringify(saved, null, 2)}\n`);
  return source;
}

describe('e2e: an XSS corpus in proposals executes nothing in the Review panel', function () {
  const source = hostileWorkspace();
  const vsc = useWorkbench(this, { folder: source.folder, settings: PER_ACTION });
  this.timeout(300_000);
  after(() => source.dispose());

  it('titles, paths, diffs, command lines, directories, environments and questions render as text', async () => {
    const { page } = vsc();
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

    const report = await review.evaluate<{
      xss: string | null;
      parentXss: string | null;
      injected: string[];
      handlers: number;
      text: string;
      openBodies: number;
      scripts: string[];
    }>(`(() => ({
      xss: window.__xss === undefined ? null : String(window.__xss),
      parentXss: (() => { try { return window.parent.__xss === undefined ? null : String(window.parent.__xss); } catch { return 'cross-origin'; } })(),
      // The panel's own: VS Code's default styles, and the argv and environment disclosures.
      injected: [...document.querySelectorAll('img, svg, iframe, object, embed, a[href], b, #__xss, style:not(#_defaultStyles), details:not(.argv):not(.env)')].map((e) => e.outerHTML.slice(0, 80)),
      handlers: [...document.querySelectorAll('*')].filter((e) => [...e.attributes].some((a) => a.name.startsWith('on'))).length,
      scripts: [...document.scripts].map((s) => (s.src ? 'src:' + s.src.split('?')[0].split('/').pop() : 'inline:' + s.textContent.slice(0, 60))),
      text: document.body.textContent,
      openBodies: document.querySelectorAll('article.card .card-body:not([hidden]):not([data-deferred])').length,
    }))()`);

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
    assert.equal(report.openBodies, CORPUS.length * 2 + 1, 'every card is open and drawn');
    for (const text of CORPUS) {
      // Bidirectional controls are shown as visible markers (U+202E), so match the text around them.
      const visible = text.replace(/[\u202a-\u202e]/g, '');
      const probe = visible.slice(Math.max(0, visible.indexOf('<')), Math.max(0, visible.indexOf('<')) + 20);
      assert.ok(report.text.includes(probe), `shown as text: ${probe}`);
    }
    assert.ok(report.text.includes('U+202E'), 'the hidden bidirectional control is shown as a marker');
    assert.equal(await page.evaluate('window.__xss === undefined'), true, 'nothing ran in the workbench either');
    assert.deepEqual(dialogs, [], 'no dialog opened');
  });
});

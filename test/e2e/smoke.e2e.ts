import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { findFrame, runCommand, submitQuickInput, useWorkbench } from './harness';

describe('e2e smoke: the harness drives the real VS Code UI', function () {
  const vsc = useWorkbench(this);

  it('opens this repository as an extension development window on the temp folder', async () => {
    const { page, folder } = vsc();
    const title = await page.title();
    assert.match(title, /\[Extension Development Host\]/, 'the payload made it an extension development window');
    assert.ok(title.includes(path.basename(folder)), `the window shows the temp folder: ${title}`);
  });

  it('opens a file through Quick Open (a command, then a quick input submitted with Enter)', async () => {
    const { page, folder } = vsc();
    writeFileSync(path.join(folder, 'notes.md'), '# Harness heading\n\nText from the e2e smoke test.\n');
    await runCommand(page, 'Go to File...');
    await submitQuickInput(page, 'notes.md', { waitForItem: 'notes.md' });
    await page.locator('.tabs-container .tab.active', { hasText: 'notes.md' }).waitFor({ state: 'visible' });
  });

  it('finds content inside a webview (Markdown preview) by walking the nested frames', async () => {
    const { page } = vsc();
    await runCommand(page, 'Markdown: Open Preview to the Side');
    const frame = await findFrame(page, 'h1');
    assert.notEqual(frame, page.mainFrame(), 'webview content lives in a child frame');
    assert.equal((await frame.locator('h1').first().textContent())?.trim(), 'Harness heading');
  });

  it('"View: Toggle Terminal" from the command palette shows a live shell, and "View: Hide Panel" hides it', async () => {
    const { page } = vsc();
    const terminal = page.locator('.terminal-wrapper .xterm').first();
    await runCommand(page, 'View: Toggle Terminal');
    await terminal.waitFor({ state: 'visible' });
    // xterm draws on a canvas, so read the shell's name from the input's label: it is there
    // once the pty host on the server has spawned the shell ("Terminal 1, bash").
    await page.locator('.terminal-wrapper textarea.xterm-helper-textarea[aria-label*="bash"]').first().waitFor({ state: 'attached' });
    // Not a second toggle: from the palette, Toggle Terminal focuses a visible terminal instead of hiding it.
    await runCommand(page, 'View: Hide Panel');
    await terminal.waitFor({ state: 'hidden' });
  });
});

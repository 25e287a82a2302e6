import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { findFrame, runCommand, stopSessionIfRunning, screenshot, submitQuickInput, useWorkbench } from './harness';

async function eventually<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('e2e: turn review in the real VS Code UI', function () {
  const vsc = useWorkbench(this, { fixture: 'demo', settings: { 'warden.review.mode': 'turn' } });
  this.timeout(300_000);

  it('the whole turn comes back as one changeset with the commands it ran; one Accept all writes every file', async () => {
    const { page, folder } = vsc();
    mkdirSync(path.join(folder, '.warden'), { recursive: true });
    writeFileSync(path.join(folder, '.warden', 'policy.json'), JSON.stringify({ defaults: { command: 'allow' } }));
    const greetPath = path.join(folder, 'src', 'greet.js');
    const original = readFileSync(greetPath, 'utf8');

    await runCommand(page, 'Warden: Start Agent Session');
    await submitQuickInput(page, 'document greet.js and add a farewell module, the whole turn');

    const review = await findFrame(page, 'button[data-action="acceptTurn"]', 120_000);
    const turn = review.locator('section[data-turn-key]').first();
    await turn.locator('.turn-commands summary', { hasText: '3 commands ran in this turn' }).waitFor({ state: 'visible', timeout: 30_000 });
    // The turn's files come from the end-of-turn scan, after its last command ran: wait for the turn to end.
    await turn.locator('.session-group-heading', { hasNotText: 'still working' }).waitFor({ state: 'visible', timeout: 60_000 });
    await eventually('greet.js, farewell.js and NOTES.md in one turn', async () =>
      (await turn.locator('.file-group-item').count()) === 3 ? true : undefined,
    );
    assert.equal(readFileSync(greetPath, 'utf8'), original, 'nothing is written before the decision');
    await screenshot(page, 'review-turn');

    await turn.locator('button[data-action="acceptTurn"]').click();
    const header = /^\/\/ greet\.js: the greetings of the Warden demo\./;
    await eventually('the three files on disk', () =>
      existsSync(path.join(folder, 'NOTES.md')) &&
      existsSync(path.join(folder, 'src', 'farewell.js')) &&
      header.test(readFileSync(greetPath, 'utf8'))
        ? true
        : undefined,
    );
    assert.match(readFileSync(path.join(folder, 'NOTES.md'), 'utf8'), /in one turn/);
    await stopSessionIfRunning(page);
  });
});

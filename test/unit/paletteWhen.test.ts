import { strict as assert } from 'node:assert';
import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';

/**
 * Issue 22: the palette offers only what means something now. Commands that act on a running
 * session, a waiting or orphaned proposal, or the window's last session are hidden by `when`
 * clauses otherwise, and every context key those clauses use is one the extension sets.
 */
interface Manifest {
  contributes: { commands: Array<{ command: string }>; menus: { commandPalette: Array<{ command: string; when: string }> } };
}

const manifest = JSON.parse(readFileSync('package.json', 'utf8')) as Manifest;
const when = new Map(manifest.contributes.menus.commandPalette.map((entry) => [entry.command, entry.when]));

describe('the command palette (when clauses)', () => {
  it('hides the commands that need a session, a waiting or an orphaned proposal until there is one', () => {
    const needs: Record<string, RegExp> = {
      'warden.stopSession': /\bwarden\.sessionActive\b/,
      'warden.stopAgentNow': /\bwarden\.sessionActive\b/,
      'warden.acceptProposal': /\bwarden\.hasPending\b/,
      'warden.rejectProposal': /\bwarden\.hasPending\b/,
      'warden.openProposalDiff': /\bwarden\.hasPending\b/,
      'warden.answerQuestion': /\bwarden\.hasPending\b/,
      'warden.answerPermission': /\bwarden\.hasPending\b/,
      'warden.applyOrphanedEdit': /\bwarden\.hasOrphaned\b/,
      'warden.discardProposal': /\bwarden\.hasOrphaned\b/,
      'warden.commitApprovedChanges': /\bwarden\.hadSession\b/,
      'warden.rollbackToCheckpoint': /\bwarden\.hadSession\b/,
      'warden.returnToPreviousBranch': /\bwarden\.onSessionBranch\b/,
      'warden.acceptHunk': /^false$/,
      'warden.rejectHunk': /^false$/,
    };
    for (const [command, needed] of Object.entries(needs)) assert.match(when.get(command) ?? '(always shown)', needed, command);
  });

  it('every warden.* context key in a when clause is set by the extension', () => {
    const source = readdirSync('src/vscode', { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts'))
      .map((f) => readFileSync(path.join('src/vscode', f), 'utf8'))
      .join('\n');
    const keys = new Set(
      [
        ...manifest.contributes.menus.commandPalette
          .map((e) => e.when)
          .join(' ')
          .matchAll(/\bwarden\.[A-Za-z.]+/g),
      ].map((m) => m[0]),
    );
    assert.ok(keys.size >= 5, [...keys].join(', '));
    for (const key of keys) assert.ok(source.includes(`'${key}'`), `${key} is set (setContext) somewhere in src/vscode`);
  });
});

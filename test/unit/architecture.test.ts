import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? sourceFiles(full) : full.endsWith('.ts') ? [full] : [];
  });
}

describe('architecture', () => {
  it('nothing under src/core, src/shared or src/agents imports vscode', () => {
    const offenders = ['src/core', 'src/shared', 'src/agents']
      .flatMap(sourceFiles)
      .filter((file) => /from\s+['"]vscode['"]|require\(['"]vscode['"]\)/.test(readFileSync(file, 'utf8')));
    assert.deepEqual(offenders, []);
  });

  it('one gate: only src/core/session/gate mints proposals, waits for decisions and writes refused entries', () => {
    const gate = path.join('src', 'core', 'session', 'gate');
    const outside = sourceFiles('src').filter((file) => !file.startsWith(gate));
    const offenders = (pattern: RegExp): string[] => outside.filter((file) => pattern.test(readFileSync(file, 'utf8')));
    assert.deepEqual(offenders(/`p-\$\{randomUUID\(\)\}`/), [], 'proposal ids are minted by the gate only');
    assert.deepEqual(offenders(/type:\s*'refused'/), [], 'refused entries are written by the gate only (naming the rule as ruleId)');
    assert.deepEqual(offenders(/\.waitForDecision\(/).filter((f) => !f.endsWith(path.join('proposals', 'store.ts'))), [], 'waiting (and its timeout) is the gate\'s');
  });

  it('every contributed command has a title in the Warden category', () => {
    const manifest = JSON.parse(readFileSync('package.json', 'utf8')) as { contributes: { commands: Array<{ command: string; title: string; category: string }> } };
    for (const c of manifest.contributes.commands) {
      assert.match(c.command, /^warden\./);
      assert.equal(c.category, 'Warden');
      assert.ok(c.title.length > 0);
    }
  });

  it('every contributed command is registered in the source', () => {
    const manifest = JSON.parse(readFileSync('package.json', 'utf8')) as { contributes: { commands: Array<{ command: string }> } };
    const source = sourceFiles('src/vscode').map((f) => readFileSync(f, 'utf8')).join('\n');
    const missing = manifest.contributes.commands.filter((c) => !source.includes(`'${c.command}'`)).map((c) => c.command);
    assert.deepEqual(missing, []);
  });
});

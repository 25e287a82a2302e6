import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? sourceFiles(full) : full.endsWith('.ts') ? [full] : [];
  });
}

/**
 * The import graph of src/: every relative import, export-from, require and dynamic import,
 * as TypeScript's own pre-processor reads them. Type-only imports count too: a cycle through
 * types still ties two modules together (neither can move or be tested without the other).
 */
function importGraph(files: readonly string[]): Map<string, string[]> {
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const targets = importedFiles
      .filter((i) => i.fileName.startsWith('.'))
      .map((i) => path.join(path.dirname(file), i.fileName.replace(/\.js$/, '')))
      .map((base) => [`${base}.ts`, path.join(base, 'index.ts')].find((candidate) => known.has(candidate)))
      .filter((target): target is string => target !== undefined);
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

/** Each cycle as `a -> b -> a`: one per strongly connected component (Tarjan), walked from its first file. */
function importCycles(graph: Map<string, string[]>): string[] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const components: string[][] = [];
  const visit = (file: string): void => {
    index.set(file, index.size);
    low.set(file, index.get(file)!);
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(file, Math.min(low.get(file)!, low.get(next)!));
      } else if (stack.includes(next)) {
        low.set(file, Math.min(low.get(file)!, index.get(next)!));
      }
    }
    if (low.get(file) !== index.get(file)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      component.push(member);
    } while (member !== file);
    if (component.length > 1 || graph.get(file)?.includes(file)) components.push(component);
  };
  for (const file of [...graph.keys()].sort()) if (!index.has(file)) visit(file);
  return components.map((component) => cyclePath(graph, new Set(component)));
}

/** One concrete loop through a strongly connected component (breadth first, so it is a shortest one). */
function cyclePath(graph: Map<string, string[]>, component: Set<string>): string {
  const start = [...component].sort()[0]!;
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const file = queue.shift()!;
    for (const next of graph.get(file) ?? []) {
      if (!component.has(next)) continue;
      if (next === start) {
        const loop = [start];
        for (let at = file; at !== start; at = previous.get(at)!) loop.splice(1, 0, at);
        return [...loop, start].join(' -> ');
      }
      if (!previous.has(next)) {
        previous.set(next, file);
        queue.push(next);
      }
    }
  }
  return [...component].join(' <-> ');
}

describe('architecture', () => {
  it('nothing under src/core, src/shared or src/agents imports vscode', () => {
    const offenders = ['src/core', 'src/shared', 'src/agents']
      .flatMap(sourceFiles)
      .filter((file) => /from\s+['"]vscode['"]|require\(['"]vscode['"]\)/.test(readFileSync(file, 'utf8')));
    assert.deepEqual(offenders, []);
  });

  it('one gate: only src/core/session/gate mints proposals, waits for decisions, writes refused entries and records applied writes', () => {
    const gate = path.join('src', 'core', 'session', 'gate');
    const outside = sourceFiles('src').filter((file) => !file.startsWith(gate));
    const offenders = (pattern: RegExp): string[] => outside.filter((file) => pattern.test(readFileSync(file, 'utf8')));
    assert.deepEqual(offenders(/`p-\$\{randomUUID\(\)\}`/), [], 'proposal ids are minted by the gate only');
    assert.deepEqual(offenders(/type:\s*'refused'/), [], 'refused entries are written by the gate only (naming the rule as ruleId)');
    assert.deepEqual(
      offenders(/\.waitForDecision\(/).filter((f) => !f.endsWith(path.join('proposals', 'store.ts'))),
      [],
      "waiting (and its timeout) is the gate's",
    );
    // Every write to the real workspace (an orphan's "Apply anyway" too) is the gate's apply: stale check, reviewed bytes, audit.
    assert.deepEqual(offenders(/type:\s*'edit\.(applied|mismatch)'/), [], "applying (and auditing it) is the gate's");
  });

  it('every contributed command has a title in the Warden category', () => {
    const manifest = JSON.parse(readFileSync('package.json', 'utf8')) as {
      contributes: { commands: Array<{ command: string; title: string; category: string }> };
    };
    for (const c of manifest.contributes.commands) {
      assert.match(c.command, /^warden\./);
      assert.equal(c.category, 'Warden');
      assert.ok(c.title.length > 0);
    }
  });

  it('every contributed command is registered in the source', () => {
    const manifest = JSON.parse(readFileSync('package.json', 'utf8')) as { contributes: { commands: Array<{ command: string }> } };
    const source = sourceFiles('src/vscode')
      .map((f) => readFileSync(f, 'utf8'))
      .join('\n');
    const missing = manifest.contributes.commands.filter((c) => !source.includes(`'${c.command}'`)).map((c) => c.command);
    assert.deepEqual(missing, []);
  });

  it('src/ has no import cycles (type-only imports included)', () => {
    const files = sourceFiles('src').filter((file) => !file.endsWith('.d.ts'));
    const graph = importGraph(files);
    assert.ok(
      (graph.get(path.join('src', 'features.ts')) ?? []).length > 5,
      'the import scan sees the imports (features.ts holds the wiring)',
    );
    assert.deepEqual(importCycles(graph), []);
  });

  it('the cycle check finds a cycle and names its files in order', () => {
    const graph = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts', 'd.ts']],
      ['d.ts', []],
      ['e.ts', ['e.ts']],
    ]);
    assert.deepEqual(importCycles(graph).sort(), ['a.ts -> b.ts -> c.ts -> a.ts', 'e.ts -> e.ts']);
  });

  it('one session assembly: in src/, only session/assembly.ts starts a session, and only session/auditSecrets.ts configures audit redaction', () => {
    const callers = (call: string, except: string): string[] =>
      sourceFiles('src')
        .filter((file) => !file.startsWith(except) && readFileSync(file, 'utf8').includes(call))
        .map((file) => file.split(path.sep).join('/'));
    assert.deepEqual(callers('AgentSession.start(', path.join('src', 'core', 'supervisor.ts')), ['src/core/session/assembly.ts']);
    assert.deepEqual(callers('configureAuditRedaction(', path.join('src', 'core', 'audit')), ['src/core/session/auditSecrets.ts']);
  });
});

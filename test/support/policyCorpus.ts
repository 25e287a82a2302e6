import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

/**
 * Every command line of the unit tier's policy corpora (bypass, boundary, analysis tests), read
 * from the test files: the first string of each `[line, decision…]` row, and analyzeShell('…')
 * arguments. Shared by the shell parser benchmark and the policy index test.
 */
export function corpusLines(): string[] {
  const files = ['policy.test.ts', 'policyBoundary.test.ts', 'shellFastPath.test.ts'].map((f) => path.join(__dirname, '..', 'unit', f));
  const lines = new Set<string>();
  const single = String.raw`'((?:[^'\\]|\\.)*)'`;
  const double = String.raw`"((?:[^"\\]|\\.)*)"`;
  const patterns = [
    new RegExp(String.raw`\[\s*(?:${single}|${double}),\s*'(?:allow|ask|deny)'`, 'g'),
    new RegExp(String.raw`(?:analyzeShell|names|verdict\([A-Za-z]+,|cmd\([a-z]+,)\(?\s*(?:${single}|${double})\s*\)`, 'g'),
  ];
  for (const file of files) {
    if (!existsSync(file)) continue;
    const source = readFileSync(file, 'utf8');
    for (const pattern of patterns)
      for (const m of source.matchAll(pattern)) {
        const raw = m[1] ?? m[2]!;
        // Undo the TypeScript string escapes the corpora use (\\, \', \", \n).
        lines.add(raw.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c)));
      }
  }
  return [...lines];
}

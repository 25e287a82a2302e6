/**
 * The diff engine (what the Review panel shows) vs `git diff --no-index` on the same files:
 * a 20,000-line file with 200 scattered edits.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { unifiedDiff } from '../src/core/proposals/diff';
import { type BenchFigure, medianMs } from './lib';

export async function run(): Promise<BenchFigure[]> {
  const lines = Array.from({ length: 20_000 }, (_, i) => `const value${i} = compute(${i}, "line ${i}");`);
  const edited = [...lines];
  for (let i = 0; i < 200; i++) edited[(i * 9973) % lines.length] = `const value${i} = changed(${i}); // edit ${i}`;
  const oldText = `${lines.join('\n')}\n`;
  const newText = `${edited.join('\n')}\n`;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'warden-bench-diff-'));
  try {
    writeFileSync(path.join(dir, 'a.js'), oldText);
    writeFileSync(path.join(dir, 'b.js'), newText);
    const gitDiff = (): void => {
      try {
        execFileSync('git', ['diff', '--no-index', '--no-color', 'a.js', 'b.js'], { cwd: dir, maxBuffer: 64 * 1024 * 1024 });
      } catch (error) {
        // git diff exits 1 when the files differ, which is the point.
        if ((error as { status?: number }).status !== 1) throw error;
      }
    };
    const warden = await medianMs(7, () => unifiedDiff('a.js', oldText, newText));
    const reference = await medianMs(7, gitDiff);
    return [
      { figure: 'diff 20k lines, 200 edits', unit: 'ms', warden, reference, referenceLabel: 'git diff --no-index', target: 'ratio <= 10' },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

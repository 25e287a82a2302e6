/**
 * What failed in a tier, for the summary: mocha's "N failing" block (titles and the first lines
 * of each error), else the lines the other runners mark as failed, each with the error printed
 * under it (the lines indented deeper than it, stack frames left out). The summary is the end of
 * the output, which is the part a CI report keeps when it keeps only the tail.
 */
export function failureDigest(output: string, maxLines = 40): string[] {
  const lines = output.split('\n');
  const failingAt = lines.findIndex((line) => /^\s*\d+ failing\s*$/.test(line));
  const isFrame = (line: string): boolean => /^\s+at /.test(line);
  const picked = failingAt >= 0 ? lines.slice(failingAt).filter((line) => line.trim() !== '' && !isFrame(line)) : runnerFailures(lines);
  const shown = picked.slice(0, maxLines).map((line) => `  ${line.trimEnd()}`);
  if (picked.length > maxLines) shown.push(`  … ${picked.length - maxLines} more lines in the tier's output above`);
  return shown;
}

/** Each line a runner marks as failed, with its error; a runner that prints a failure twice (as it happens, then in its report) gets it once. */
function runnerFailures(lines: string[]): string[] {
  const blocks = new Set<string>();
  lines.forEach((line, i) => {
    if (/✗ FAIL|^✘|^\s*✖/.test(line)) blocks.add([line.trim(), ...detailAfter(lines, i).map((d) => `    ${d.trim()}`)].join('\n'));
  });
  return [...blocks].flatMap((block) => block.split('\n').map((l) => `  ${l}`));
}

/** The lines right after `lines[at]` indented deeper than it (its error), up to a few, frames left out. */
function detailAfter(lines: string[], at: number, max = 6): string[] {
  const indent = (line: string): number => line.length - line.trimStart().length;
  const own = indent(lines[at] ?? '');
  const detail: string[] = [];
  for (let i = at + 1; i < lines.length && detail.length < max; i++) {
    const line = lines[i] ?? '';
    if (line.trim() === '' || indent(line) <= own) break;
    if (!/^\s+at /.test(line)) detail.push(line);
  }
  return detail;
}

/**
 * What failed in a tier, for the summary: mocha's "N failing" block (titles and the first lines
 * of each error), else the lines the other runners mark as failed. The summary is the end of
 * the output, which is the part a CI report keeps when it keeps only the tail.
 */
export function failureDigest(output: string, maxLines = 40): string[] {
  const lines = output.split('\n');
  const failingAt = lines.findIndex((line) => /^\s*\d+ failing\s*$/.test(line));
  const picked =
    failingAt >= 0
      ? lines.slice(failingAt).filter((line) => line.trim() !== '' && !/^\s+at /.test(line))
      : lines.filter((line) => /✗ FAIL|^✘|^\s*✖/.test(line));
  const shown = picked.slice(0, maxLines).map((line) => `  ${line.trimEnd()}`);
  if (picked.length > maxLines) shown.push(`  … ${picked.length - maxLines} more lines in the tier's output above`);
  return shown;
}

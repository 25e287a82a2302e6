/** Parsing the git output audit blame reads (pure, for tests). */

export interface AddedLine {
  line: number;
  text: string;
}

/** The added lines per file of a `git diff -U0` (paths as git prints them with --relative). */
export function parseAddedLines(diff: string): Map<string, AddedLine[]> {
  const files = new Map<string, AddedLine[]>();
  let current: AddedLine[] | undefined;
  let next = 0;
  for (const raw of diff.split('\n')) {
    if (raw.startsWith('diff --git ')) current = undefined;
    else if (raw.startsWith('+++ ')) {
      const name = unquote(raw.slice(4));
      if (name === '/dev/null') current = undefined;
      else {
        const file = name.replace(/^b\//, '');
        current = files.get(file) ?? [];
        files.set(file, current);
      }
    } else if (raw.startsWith('@@ ')) {
      const m = /^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@/.exec(raw);
      next = m ? Number(m[1]) : 0;
    } else if (current && raw.startsWith('+')) current.push({ line: next++, text: raw.slice(1).replace(/\r$/, '') });
    else if (current && raw.startsWith(' ')) next++;
  }
  return files;
}

function unquote(name: string): string {
  const trimmed = name.replace(/\t$/, '');
  if (!trimmed.startsWith('"')) return trimmed;
  try {
    return JSON.parse(trimmed) as string;
  } catch {
    return trimmed.slice(1, -1);
  }
}

/** `git blame --porcelain` output: the commit and text of each line of the result. */
export function parseBlamePorcelain(text: string): Array<{ line: number; commit: string; text: string }> {
  const out: Array<{ line: number; commit: string; text: string }> = [];
  let commit = '';
  let line = 0;
  for (const raw of text.split('\n')) {
    const header = /^([0-9a-f]{40,64}) \d+ (\d+)(?: \d+)?$/.exec(raw);
    if (header) {
      commit = header[1] ?? '';
      line = Number(header[2]);
    } else if (raw.startsWith('\t')) out.push({ line, commit, text: raw.slice(1).replace(/\r$/, '') });
  }
  return out;
}

/** Line numbers as `-L a,b` spans for `git blame`. */
export function toSpans(lines: number[]): Array<[number, number]> {
  const spans: Array<[number, number]> = [];
  for (const n of [...lines].sort((a, b) => a - b)) {
    const last = spans[spans.length - 1];
    if (last && n === last[1] + 1) last[1] = n;
    else spans.push([n, n]);
  }
  return spans;
}

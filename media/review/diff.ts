/** The unified diff of a proposal, parsed for the panel's table (pure: no DOM). */
export interface DiffRow {
  kind: 'meta' | 'hunk' | 'add' | 'del' | 'ctx' | 'note';
  text: string;
  oldLine?: number;
  newLine?: number;
}

export interface ParsedDiff {
  rows: DiffRow[];
  added: number;
  removed: number;
  newFile: boolean;
  deletedFile: boolean;
}

/** Parses a unified diff, using the hunk line counts so a removed line "-- x" is not taken for a header. */
export function parseUnifiedDiff(diff: string): ParsedDiff {
  const lines = diff.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const parsed: ParsedDiff = { rows: [], added: 0, removed: 0, newFile: false, deletedFile: false };
  let oldLeft = 0;
  let newLeft = 0;
  let oldLine = 0;
  let newLine = 0;
  for (const line of lines) {
    if (line.startsWith('\\')) {
      parsed.rows.push({ kind: 'note', text: line.slice(1).trim() });
      continue;
    }
    if (oldLeft > 0 || newLeft > 0) {
      const sign = line.charAt(0);
      if (sign === '+' && newLeft > 0) {
        parsed.rows.push({ kind: 'add', text: line.slice(1), newLine: newLine++ });
        newLeft--;
        parsed.added++;
        continue;
      }
      if (sign === '-' && oldLeft > 0) {
        parsed.rows.push({ kind: 'del', text: line.slice(1), oldLine: oldLine++ });
        oldLeft--;
        parsed.removed++;
        continue;
      }
      if (sign === ' ' || line === '') {
        parsed.rows.push({ kind: 'ctx', text: line.slice(1), oldLine: oldLine++, newLine: newLine++ });
        oldLeft = Math.max(0, oldLeft - 1);
        newLeft = Math.max(0, newLeft - 1);
        continue;
      }
      // Malformed hunk: stop counting and show the rest as it is.
      oldLeft = 0;
      newLeft = 0;
    }
    const hunk = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/.exec(line);
    if (hunk) {
      oldLine = Number(hunk[1]);
      oldLeft = hunk[2] === undefined ? 1 : Number(hunk[2]);
      newLine = Number(hunk[3]);
      newLeft = hunk[4] === undefined ? 1 : Number(hunk[4]);
      parsed.rows.push({ kind: 'hunk', text: line });
      continue;
    }
    if (line.startsWith('--- ')) {
      if (line.slice(4).trim() === '/dev/null') parsed.newFile = true;
      continue; // the path is shown above the diff
    }
    if (line.startsWith('+++ ')) {
      if (line.slice(4).trim() === '/dev/null') parsed.deletedFile = true;
      continue;
    }
    if (/^={3,}$/.test(line) || line.startsWith('Index: ')) continue;
    parsed.rows.push({ kind: 'meta', text: line });
  }
  return parsed;
}

/** Rows shown before "Show all" (the extension's diff editor always shows everything). */
export const DIFF_ROW_LIMIT = 600;

/** The rows the table shows: everything but blank meta lines. */
export function bodyRows(diff: ParsedDiff): DiffRow[] {
  return diff.rows.filter((row) => row.kind !== 'meta' || row.text.trim() !== '');
}

export function hunkCount(rows: DiffRow[]): number {
  return rows.filter((row) => row.kind === 'hunk').length;
}

const cache = new Map<string, ParsedDiff>();
/** Parsed once per diff text (re-renders and key presses ask again); a small cache of recent diffs. */
export function parsedDiff(diff: string): ParsedDiff {
  let parsed = cache.get(diff);
  if (!parsed) {
    parsed = parseUnifiedDiff(diff);
    if (cache.size >= 2000) cache.delete(cache.keys().next().value as string);
    cache.set(diff, parsed);
  }
  return parsed;
}

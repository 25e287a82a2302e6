/**
 * Agents describe an edit as `{ oldText, newText }` in different shapes: the whole file, a
 * fragment of it (a hunk: `oldText` is only the lines that change), or a new file (`oldText`
 * null). Warden always shows and applies a whole-file change against the file as it is now,
 * so each shape is placed in the current file first; a fragment that cannot be placed
 * exactly once is reported, never guessed.
 */
export type PlacedDiff = { ok: true; shape: 'whole' | 'fragment' | 'create'; newText: string } | { ok: false; reason: string };

export function placeAgentDiff(current: string | null, diff: { oldText?: string | null; newText: string }): PlacedDiff {
  const oldText = diff.oldText ?? null;
  if (oldText === null) {
    // A new file; if it exists by now, the change replaces it and the diff shows that.
    return { ok: true, shape: current === null ? 'create' : 'whole', newText: diff.newText };
  }
  if (current === null) return { ok: false, reason: 'the agent edits a file that does not exist in the workspace' };
  if (oldText === current) return { ok: true, shape: 'whole', newText: diff.newText };
  const placed = placeFragment(current, oldText, diff.newText);
  if (placed !== undefined) return placed;
  // Agents often normalise line endings; try the fragment with the file's CRLF endings.
  if (current.includes('\r\n') && !oldText.includes('\r\n')) {
    const crlf = placeFragment(current, oldText.replace(/\n/g, '\r\n'), diff.newText.replace(/\n/g, '\r\n'));
    if (crlf?.ok) return crlf;
  }
  return {
    ok: false,
    reason: 'the text the agent replaces is not in the current file (the file changed, or the agent saw another version)',
  };
}

function placeFragment(current: string, oldText: string, newText: string): PlacedDiff | undefined {
  if (oldText === '') return { ok: false, reason: 'the agent sent an empty fragment, which could be anywhere in the file' };
  const first = current.indexOf(oldText);
  if (first < 0) return undefined;
  const count = countOccurrences(current, oldText);
  if (count > 1)
    return { ok: false, reason: `the text the agent replaces occurs ${count} times in the current file, so where it goes is ambiguous` };
  return { ok: true, shape: 'fragment', newText: current.slice(0, first) + newText + current.slice(first + oldText.length) };
}

function countOccurrences(text: string, fragment: string): number {
  let count = 0;
  for (let at = text.indexOf(fragment); at >= 0; at = text.indexOf(fragment, at + 1)) count++;
  return count;
}

import { structuredPatch } from 'diff';

/**
 * An edit proposal split into hunks, so a reviewer can accept some and reject others before
 * anything is written. Hunks come from jsdiff's structuredPatch with 3 lines of context (the
 * same split the displayed diff uses), so hunk N in the panel, in the editor's CodeLens and
 * here are the same hunk. Ids are `h<index>`: stable for a given (oldText, newText) pair; a
 * re-diff (the file changed) makes new pairs, so callers pin a decision to the proposal's
 * newHash (see `checkHunkDecision`).
 */

export interface EditHunk {
  /** `h<index>`, e.g. "h0". */
  id: string;
  /** 0-based position among the proposal's hunks. */
  index: number;
  /** 1-based, as in a unified diff header. */
  oldStart: number;
  oldLines: number;
  newStart: number;
  newLines: number;
  /** Unified-diff lines: ' ', '-', '+' prefixed, and '\' markers for a missing final newline. */
  lines: string[];
}

export const HUNK_CONTEXT = 3;

export function hunkId(index: number): string {
  return `h${index}`;
}

/** The hunks of an edit; a create (oldText null) is one hunk adding every line. */
export function splitHunks(oldText: string | null, newText: string): EditHunk[] {
  return structuredPatch('a', 'b', oldText ?? '', newText, undefined, undefined, { context: HUNK_CONTEXT }).hunks.map((h, index) => ({
    id: hunkId(index),
    index,
    oldStart: h.oldStart,
    oldLines: h.oldLines,
    newStart: h.newStart,
    newLines: h.newLines,
    lines: h.lines,
  }));
}

/**
 * The file's text when only the accepted hunks are applied. Bytes are copied from oldText and
 * newText by line (terminators kept), so CRLF, a missing final newline and unchanged regions
 * come out exactly as they were. Accepting every hunk gives newText; accepting none gives
 * oldText (or '' for a create). Unknown ids are an error: a decision never silently drops.
 */
export function applySelectedHunks(oldText: string | null, newText: string, acceptedHunkIds: readonly string[]): string {
  const hunks = splitHunks(oldText, newText);
  const known = new Set(hunks.map((h) => h.id));
  const unknown = acceptedHunkIds.filter((id) => !known.has(id));
  if (unknown.length > 0) throw new UnknownHunkError(unknown, hunks.length);
  const accepted = new Set(acceptedHunkIds);
  const oldLines = splitKeepingEnds(oldText ?? '');
  const newLines = splitKeepingEnds(newText);
  const out: string[] = [];
  let oldIndex = 0;
  for (const hunk of hunks) {
    const oldFrom = hunk.oldLines > 0 ? hunk.oldStart - 1 : Math.min(hunk.oldStart, oldLines.length);
    const newFrom = hunk.newLines > 0 ? hunk.newStart - 1 : 0;
    // Lines between hunks are the same on both sides: take them from the old text.
    out.push(...oldLines.slice(oldIndex, oldFrom));
    if (accepted.has(hunk.id)) out.push(...newLines.slice(newFrom, newFrom + hunk.newLines));
    else out.push(...oldLines.slice(oldFrom, oldFrom + hunk.oldLines));
    oldIndex = oldFrom + hunk.oldLines;
  }
  out.push(...oldLines.slice(oldIndex));
  return out.join('');
}

export class UnknownHunkError extends Error {
  constructor(
    readonly ids: string[],
    count: number,
  ) {
    super(`The proposal has no hunk ${ids.join(', ')} (it has ${count}); it may have been re-diffed: look again`);
  }
}

/** A reviewer's per-hunk choice, by hunk index. */
export interface HunkChoice {
  accepted: number[];
  rejected: number[];
}

/**
 * Checks a per-hunk decision against the proposal's hunks: every hunk decided exactly once.
 * Returns a problem to show the reviewer, or undefined when the decision is complete.
 */
export function hunkChoiceProblem(hunkCount: number, choice: HunkChoice): string | undefined {
  const all = [...choice.accepted, ...choice.rejected];
  if (all.some((i) => !Number.isInteger(i) || i < 0 || i >= hunkCount))
    return `A hunk number is out of range (the proposal has ${hunkCount} hunks)`;
  if (new Set(all).size !== all.length) return 'A hunk was both accepted and rejected';
  if (all.length !== hunkCount) return `Decide every hunk first (${all.length} of ${hunkCount} decided)`;
  return undefined;
}

/** "hunks 1 and 3" (1-based, as a reviewer reads them). */
export function describeHunks(indexes: readonly number[]): string {
  const names = [...indexes].sort((a, b) => a - b).map((i) => String(i + 1));
  if (names.length === 0) return 'no hunks';
  if (names.length === 1) return `hunk ${names[0]}`;
  return `hunks ${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

function splitKeepingEnds(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

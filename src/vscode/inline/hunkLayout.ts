import type { Proposal } from '../../core/proposals/model';
import { isTextEdit, rebaseEdit } from '../../core/proposals/rebase';

/**
 * Where a proposal's hunks sit in a document as the user sees it now (unsaved text
 * included). Pure (no `vscode` import) so it is unit-tested; the editor adapters turn it
 * into CodeLenses, decorations and hovers.
 */

/** A hunk as the core splits it: an id and unified-diff lines (' ', '-', '+' prefixed). */
export interface LayoutHunk {
  id: string;
  oldStart: number;
  oldLines: number;
  lines: readonly string[];
}

export interface PlacedHunk {
  id: string;
  /** 0-based document line the hunk's lenses sit above (its first changed line). */
  anchorLine: number;
  /** 0-based document lines the proposal removes or replaces. */
  removed: number[];
  /** Lines the proposal adds, inserted before a 0-based document line. */
  insertions: Array<{ beforeLine: number; lines: string[] }>;
  /** First and last 0-based document lines of the hunk, context included (for hovers). */
  firstLine: number;
  lastLine: number;
  /** The hunk as unified diff text, for the hover. */
  patch: string;
}

export type DocumentLayout =
  | { kind: 'placed'; proposalId: string; hunks: PlacedHunk[]; rediffed: boolean }
  /** The document changed where the proposal changes it: nothing can be placed (the proposal will go stale). */
  | { kind: 'conflict'; proposalId: string; reason: string };

/** The edit sides a layout needs (an edit proposal, or a permission request carrying one). */
export function editSidesOf(proposal: Proposal): { path: string; oldText: string | null; newText: string } | undefined {
  if (proposal.kind === 'edit') return isTextEdit(proposal) ? proposal : undefined;
  if (proposal.kind === 'permission' && proposal.edit) return proposal.edit;
  return undefined;
}

/**
 * Lays a proposal out over the document's current text. When the text differs from what the
 * proposal saw, the proposal is re-diffed on the fly (the same rebase the store applies a
 * moment later), so lenses never point at the wrong lines.
 */
export function layoutProposal(
  proposal: Proposal,
  documentText: string,
  hunksOf: (oldText: string, newText: string) => readonly LayoutHunk[],
): DocumentLayout | undefined {
  const sides = editSidesOf(proposal);
  if (!sides || sides.oldText === null) return undefined;
  const outcome = rebaseEdit(sides, documentText);
  if (outcome.kind === 'conflict') return { kind: 'conflict', proposalId: proposal.id, reason: outcome.reason };
  const oldText = outcome.kind === 'rebased' ? outcome.oldText : sides.oldText;
  const newText = outcome.kind === 'rebased' ? outcome.newText : sides.newText;
  const lineCount = documentText.split('\n').length;
  return {
    kind: 'placed',
    proposalId: proposal.id,
    hunks: hunksOf(oldText, newText).map((h) => placeHunk(h, lineCount)),
    rediffed: outcome.kind === 'rebased',
  };
}

export function placeHunk(hunk: LayoutHunk, lineCount: number): PlacedHunk {
  const clamp = (line: number): number => Math.max(0, Math.min(line, lineCount - 1));
  const removed: number[] = [];
  const insertions: PlacedHunk['insertions'] = [];
  // 1-based; for a pure insertion jsdiff's oldStart is the line the insertion goes before.
  let oldLine = hunk.oldStart;
  let firstChange: number | undefined;
  for (const line of hunk.lines) {
    const mark = line[0];
    const text = line.slice(1);
    if (mark === ' ') {
      oldLine++;
    } else if (mark === '-') {
      removed.push(oldLine - 1);
      firstChange ??= oldLine - 1;
      oldLine++;
    } else if (mark === '+') {
      const beforeLine = oldLine - 1;
      firstChange ??= beforeLine;
      const last = insertions[insertions.length - 1];
      if (last && last.beforeLine === beforeLine) last.lines.push(text);
      else insertions.push({ beforeLine, lines: [text] });
    }
  }
  const touched = [...removed, ...insertions.map((i) => i.beforeLine)];
  return {
    id: hunk.id,
    anchorLine: clamp(firstChange ?? hunk.oldStart - 1),
    removed: removed.map(clamp),
    insertions: insertions.map((i) => ({ beforeLine: Math.max(0, Math.min(i.beforeLine, lineCount)), lines: i.lines })),
    firstLine: clamp(Math.min(hunk.oldStart - 1, ...touched)),
    lastLine: clamp(Math.max(hunk.oldStart - 1 + hunk.oldLines - 1, ...touched, firstChange ?? 0)),
    patch: hunk.lines.filter((l) => !l.startsWith('\\')).join('\n'),
  };
}

/** The most ghost text shown after a line; the hover holds the whole insertion. */
export const GHOST_TEXT_MAX = 400;

/**
 * Every added line as ghost text on one line (a decoration cannot break lines): each line
 * trimmed, joined by ` ⏎ `, blank lines kept as markers; clipped only past GHOST_TEXT_MAX.
 */
export function ghostText(lines: readonly string[]): string {
  const joined = lines.map((l) => l.trim()).join(' ⏎ ');
  return joined.length <= GHOST_TEXT_MAX ? joined : `${joined.slice(0, GHOST_TEXT_MAX - 1)}…`;
}

import { splitHunks } from '../../core/proposals/hunks';
import type { LayoutHunk } from './hunkLayout';

/** The hunks of an edit, as the lenses show them: the core's split, so lens hunk N is panel hunk N. */
export function hunksOf(oldText: string, newText: string): LayoutHunk[] {
  return splitHunks(oldText, newText);
}

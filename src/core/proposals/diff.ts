import { createTwoFilesPatch } from 'diff';

/**
 * Unified diff of a proposed edit, in git's a/ b/ style. A create diffs against /dev/null
 * so the reviewer sees at a glance that the file is new.
 */
export function unifiedDiff(path: string, oldText: string | null, newText: string): string {
  const oldName = oldText === null ? '/dev/null' : `a/${path}`;
  return createTwoFilesPatch(oldName, `b/${path}`, oldText ?? '', newText, undefined, undefined, { context: 3 });
}

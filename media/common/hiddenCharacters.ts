/**
 * Control, bidirectional, zero-width and tag characters: rendered as visible markers, so
 * what the reviewer reads is what the bytes say (no Trojan Source tricks). Tab and newline
 * stay as they are; CR is marked, but quietly (CRLF files have one on every line).
 */
export const HIDDEN_CHARACTERS =
  // Control characters and lone combining marks are exactly what this class is for.
  // eslint-disable-next-line no-control-regex, no-misleading-character-class
  /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u00AD\u034F\u061C\u115F\u1160\u17B4\u17B5\u180B-\u180F\u200B-\u200F\u2028-\u202E\u2060-\u206F\u3164\uFEFF\uFFA0\uFFF9-\uFFFB]|[\u{E0000}-\u{E007F}]/gu;

const CHARACTER_NAMES = new Map<number, string>([
  [0x0d, 'carriage return'],
  [0x1b, 'escape'],
  [0x200b, 'zero width space'],
  [0x200c, 'zero width non-joiner'],
  [0x200d, 'zero width joiner'],
  [0x200e, 'left-to-right mark'],
  [0x200f, 'right-to-left mark'],
  [0x202a, 'left-to-right embedding'],
  [0x202b, 'right-to-left embedding'],
  [0x202c, 'pop directional formatting'],
  [0x202d, 'left-to-right override'],
  [0x202e, 'right-to-left override'],
  [0x2066, 'left-to-right isolate'],
  [0x2067, 'right-to-left isolate'],
  [0x2068, 'first strong isolate'],
  [0x2069, 'pop directional isolate'],
  [0xfeff, 'zero width no-break space'],
]);

export function codePointLabel(codePoint: number): string {
  return `U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}`;
}

export type TextPiece = { text: string } | { marker: string; title: string; cr: boolean };

/** Splits agent text into plain runs and markers for the characters a reader cannot see. */
export function splitHidden(text: string): TextPiece[] {
  const pieces: TextPiece[] = [];
  let last = 0;
  for (const match of text.matchAll(HIDDEN_CHARACTERS)) {
    const index = match.index;
    if (index > last) pieces.push({ text: text.slice(last, index) });
    const codePoint = match[0].codePointAt(0) ?? 0;
    const cr = codePoint === 0x0d;
    const name = CHARACTER_NAMES.get(codePoint);
    pieces.push({
      marker: cr ? '␍' : codePointLabel(codePoint),
      title: `Invisible character ${codePointLabel(codePoint)}${name ? ` (${name})` : ''}`,
      cr,
    });
    last = index + match[0].length;
  }
  if (last < text.length) pieces.push({ text: text.slice(last) });
  return pieces;
}

/** Whether the text has a hidden character worth a warning (a CR alone is not). */
export function hasHiddenCharacters(text: string): boolean {
  for (const match of text.matchAll(HIDDEN_CHARACTERS)) if (match[0] !== '\r') return true;
  return false;
}

/** Answers for objects searched whole: the views' data is immutable (a change is a new object), and a long conversation is searched on every render. */
const searched = new WeakMap<object, boolean>();
const MAX_DEPTH = 12;

/** Whether any string anywhere in a value (a proposal, a feed entry) has a hidden character. */
export function containsHiddenCharacters(value: unknown): boolean {
  return search(value, 0).found;
}

/** `whole`: the search reached every string below (it was not cut off by the depth limit), so the answer can be kept. */
function search(value: unknown, depth: number): { found: boolean; whole: boolean } {
  if (typeof value === 'string') return { found: hasHiddenCharacters(value), whole: true };
  if (typeof value !== 'object' || value === null) return { found: false, whole: true };
  const known = searched.get(value);
  if (known !== undefined) return { found: known, whole: true };
  if (depth > MAX_DEPTH) return { found: false, whole: false };
  let whole = true;
  for (const item of Array.isArray(value) ? (value as unknown[]) : Object.values(value)) {
    const result = search(item, depth + 1);
    if (result.found) {
      searched.set(value, true);
      return { found: true, whole: true };
    }
    whole &&= result.whole;
  }
  if (whole) searched.set(value, false);
  return { found: false, whole };
}

/**
 * A byte-level reading of one audit line in the exact form the writer produces (`serializeEntry`:
 * fixed key order, no whitespace), so verify does not build a million objects to read two fields.
 * The envelope is checked as the schema checks it (v, seq, time by the schema's own pattern,
 * sessionId, actor, a non-empty type, prev); `data` only for its braces: its bytes are covered by
 * the hash the next line carries, and the line that has no next line is parsed fully (see
 * verify.ts). Anything else (another key order, whitespace, escapes in the time, a CR before the
 * newline) returns undefined, and verify falls back to the full parse of every line.
 */

/** Where `prev`'s 64 hex characters start, counted back from the end of a canonical line: `…"prev":"<hex>"}`. */
export const PREV_FROM_END = 66;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

const bytes = (text: string): Uint8Array => Buffer.from(text, 'latin1');
const HEAD = bytes('{"v":1,"seq":');
const TIME = bytes(',"time":"');
const SESSION = bytes('","sessionId":');
const ACTOR = bytes(',"actor":{"kind":"');
const KIND_ID = [bytes('agent","id":'), bytes('human","id":'), bytes('policy","id":'), bytes('warden","id":')];
const NAME = bytes(',"name":');
const EMAIL = bytes(',"email":');
const TYPE = bytes('},"type":');
const DATA = bytes(',"data":');
const PREV = bytes(',"prev":"');

/** Index after `lit` when it is at `i`, else -1. */
function literal(buf: Uint8Array, i: number, end: number, lit: Uint8Array): number {
  if (i < 0 || i + lit.length > end) return -1;
  for (let k = 0; k < lit.length; k++) if (buf[i + k] !== lit[k]) return -1;
  return i + lit.length;
}

/** Index after a JSON string starting at `i` (its opening quote), else -1. */
function string(buf: Uint8Array, i: number, end: number): number {
  if (i < 0 || buf[i] !== QUOTE) return -1;
  for (let j = i + 1; j < end; j++) {
    const c = buf[j] as number;
    if (c === QUOTE) return j + 1;
    if (c < 0x20) return -1;
    if (c === BACKSLASH) {
      const e = buf[++j];
      if (e === 0x75) {
        // \uXXXX
        for (let k = 1; k <= 4; k++) if (!isHex(buf[j + k] ?? 0)) return -1;
        j += 4;
      } else if (e !== QUOTE && e !== BACKSLASH && e !== 0x2f && e !== 0x62 && e !== 0x66 && e !== 0x6e && e !== 0x72 && e !== 0x74) {
        return -1;
      }
    }
  }
  return -1;
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}

const isDigit = (c: number | undefined): boolean => c !== undefined && c >= 0x30 && c <= 0x39;

/**
 * Reads `buf[start, end)` (one line, without its newline) as a canonical audit entry: its seq (its
 * prev is the 64 characters PREV_FROM_END bytes before the end, not checked here: the caller
 * compares them with the hash it expects), or undefined when the line is not in the writer's exact form or `timePattern` (the
 * schema's own) rejects its time.
 */
export function scanCanonicalLine(buf: Buffer, start: number, end: number, timePattern: RegExp): number | undefined {
  let i = literal(buf, start, end, HEAD);
  if (i < 0) return undefined;
  // seq: a positive integer without leading zeros, small enough to be exact.
  const seqStart = i;
  if (!(buf[i] !== 0x30 && isDigit(buf[i]))) return undefined;
  let seq = 0;
  for (; i < end && isDigit(buf[i]); i++) seq = seq * 10 + (buf[i] as number) - 0x30;
  if (i - seqStart > 15) return undefined;
  i = literal(buf, i, end, TIME);
  if (i < 0) return undefined;
  const timeStart = i;
  while (i < end && buf[i] !== QUOTE && buf[i] !== BACKSLASH && (buf[i] as number) >= 0x20) i++;
  if (!timePattern.test(buf.toString('latin1', timeStart, i))) return undefined;
  i = string(buf, literal(buf, i, end, SESSION), end);
  i = literal(buf, i, end, ACTOR);
  if (i < 0) return undefined;
  let afterKind = -1;
  for (const kindId of KIND_ID) if ((afterKind = literal(buf, i, end, kindId)) >= 0) break;
  i = string(buf, afterKind, end);
  if (i < 0) return undefined;
  if (buf[i + 2] === 0x6e) i = string(buf, literal(buf, i, end, NAME), end);
  if (i >= 0 && buf[i + 2] === 0x65) i = string(buf, literal(buf, i, end, EMAIL), end);
  const typeStart = literal(buf, i, end, TYPE);
  i = string(buf, typeStart, end);
  if (i < 0 || i - typeStart <= 2) return undefined; // type must not be empty
  // `data`: an object, closed right before the fixed-size `prev` at the end of the line.
  i = literal(buf, i, end, DATA);
  const prevAt = end - 75;
  if (i < 0 || i >= prevAt || buf[i] !== 0x7b || buf[prevAt - 1] !== 0x7d) return undefined;
  i = literal(buf, prevAt, end, PREV);
  // prev's 64 characters are left to the caller, who compares them with the hash it expects.
  return i < 0 || buf[end - 2] !== QUOTE || buf[end - 1] !== 0x7d ? undefined : seq;
}

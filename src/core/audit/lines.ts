import { createReadStream, promises as fs } from 'node:fs';

export interface Line {
  /** 1-based line number within the segment. */
  number: number;
  bytes: Buffer;
  /** False for a final piece with no "\n" after it. */
  terminated: boolean;
  /** Byte offset of the line's first byte in the file. */
  offset: number;
}

/**
 * Splits a file into lines as exact bytes (hashes are over bytes, not decoded text), one
 * batch per read chunk: callers loop over a batch synchronously, which on a million-line log
 * is much cheaper than one await per line.
 */
export async function* readLineBatches(file: string): AsyncGenerator<Line[]> {
  let pending: Buffer[] = [];
  let number = 0;
  let position = 0;
  let lineStart = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) {
    const batch: Line[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(0x0a); nl >= 0; nl = chunk.indexOf(0x0a, start)) {
      const piece = chunk.subarray(start, nl);
      const bytes = pending.length === 0 ? piece : Buffer.concat([...pending, piece]);
      batch.push({ number: ++number, bytes, terminated: true, offset: lineStart });
      pending = [];
      start = nl + 1;
      lineStart = position + start;
    }
    if (start < chunk.length) pending.push(chunk.subarray(start));
    position += chunk.length;
    if (batch.length > 0) yield batch;
  }
  if (pending.length > 0) yield [{ number: number + 1, bytes: Buffer.concat(pending), terminated: false, offset: lineStart }];
}

/** The same lines one at a time. */
export async function* readLines(file: string): AsyncGenerator<Line> {
  for await (const batch of readLineBatches(file)) yield* batch;
}

/** Block size for forEachLine: large reads, one buffer reused for the whole file. */
export const LINE_BLOCK_BYTES = 2 * 1024 * 1024;

/**
 * Visits a line of a block: bytes `buf[start, end)` (no newline) and, for the one-line lookahead,
 * the next line's `buf[nextStart, nextEnd)` (nextStart -1: there is none). An end below zero,
 * `-(end) - 1`, marks a final piece with no newline after it. `buf` is only valid during the call.
 */
export type LineVisitor<T> = (buf: Buffer, start: number, end: number, nextStart: number, nextEnd: number, number: number) => T | undefined;

/**
 * Blocks of LINE_BLOCK_BYTES kept for the next file: a team's log is a thousand small files read
 * a few at a time, and a fresh 2 MiB block for each is gigabytes of allocation for the collector.
 * They are let go when the last reader ends, so an idle extension host holds none.
 */
const spareBlocks: Buffer[] = [];
const MAX_SPARE_BLOCKS = 8;
let activeReaders = 0;

/**
 * Calls `visit` for every line of a file, in order, until it returns something (which is
 * returned). Reads large blocks into one buffer (grown only for a line longer than it), so
 * memory stays constant and no line is copied; a line split across two reads is kept whole.
 */
export async function forEachLine<T>(file: string, visit: LineVisitor<T>): Promise<T | undefined> {
  return keepingLineBlocks(() => visitLines(file, visit));
}

/** How many spare blocks are held now (for tests: none once no reader is left). */
export function heldLineBlocks(): number {
  return spareBlocks.length;
}

/** Runs `work` with the spare blocks kept until it ends: a caller reading many files in turn keeps them between files. */
export async function keepingLineBlocks<T>(work: () => Promise<T>): Promise<T> {
  activeReaders++;
  try {
    return await work();
  } finally {
    if (--activeReaders === 0) spareBlocks.length = 0;
  }
}

async function visitLines<T>(file: string, visit: LineVisitor<T>): Promise<T | undefined> {
  const handle = await fs.open(file, 'r');
  let buf = spareBlocks.pop() ?? Buffer.allocUnsafe(LINE_BLOCK_BYTES);
  try {
    let filled = 0;
    let number = 0;
    for (;;) {
      if (filled === buf.length) {
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, filled);
        buf = bigger;
      }
      const { bytesRead } = await handle.read(buf, filled, buf.length - filled, null);
      const eof = bytesRead === 0;
      filled += bytesRead;
      const view = buf.subarray(0, filled);
      let start = 0;
      for (let nl = view.indexOf(0x0a); nl >= 0;) {
        const nextNl = view.indexOf(0x0a, nl + 1);
        // Its successor is not whole yet: check this line after the next read.
        if (nextNl < 0 && !eof) break;
        const nextStart = nl + 1;
        const hasNext = nextNl >= 0 || nextStart < filled;
        const result = visit(view, start, nl, hasNext ? nextStart : -1, nextNl >= 0 ? nextNl : -filled - 1, ++number);
        if (result !== undefined) return result;
        start = nextStart;
        nl = nextNl;
      }
      if (eof) return start < filled ? visit(view, start, -filled - 1, -1, 0, ++number) : undefined;
      buf.copy(buf, 0, start, filled);
      filled -= start;
    }
  } finally {
    // A grown block is dropped; a standard one is kept (the visitor's view of it ended with its call).
    if (buf.length === LINE_BLOCK_BYTES && spareBlocks.length < MAX_SPARE_BLOCKS) spareBlocks.push(buf);
    await handle.close();
  }
}

import { createReadStream } from 'node:fs';

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

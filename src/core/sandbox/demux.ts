import type { Writable } from 'node:stream';

const HEADER_BYTES = 8;
const STDOUT = 1;

/**
 * Splits Docker's multiplexed attach stream (frames of an 8-byte header — stream type, three
 * zero bytes, a big-endian length — then that many bytes) into stdout and stderr, as
 * `docker-modem`'s `demuxStream` does, in linear time. That one copies the rest of its buffer
 * after every frame and recurses once per frame, so a chunk holding hundreds of small frames
 * (an agent streaming one JSON line per write) costs time quadratic in the chunk and held the
 * extension host's event loop for hundreds of milliseconds (issue 21). Here frames are cut out
 * of the chunk with `subarray` (no copy), and chunks are joined only when a frame spans them.
 * Stream types other than stdout (stdin, stderr) go to `stderr`, and a header that is not a
 * frame (a TTY stream, or one out of step) sends everything from there on to `stdout` as it is.
 */
export function demuxDockerStream(source: NodeJS.ReadableStream, stdout: Writable, stderr: Writable): void {
  /** Bytes received and not yet written: parts of one frame not yet complete. */
  let held: Buffer[] = [];
  let heldBytes = 0;
  /** The frame being read, once its header is in. */
  let frame: { type: number; length: number } | undefined;

  const onData = (chunk: Buffer): void => {
    held.push(chunk);
    heldBytes += chunk.length;
    const need = (): number => (frame ? frame.length : HEADER_BYTES);
    if (heldBytes < need()) return;
    let buffer = held.length === 1 ? chunk : Buffer.concat(held, heldBytes);
    let offset = 0;
    for (;;) {
      if (!frame) {
        if (buffer.length - offset < HEADER_BYTES) break;
        const type = buffer.readUInt8(offset);
        if (type > 2) {
          stdout.write(buffer.subarray(offset));
          buffer = Buffer.alloc(0);
          offset = 0;
          source.removeListener('data', onData);
          source.on('data', (more: Buffer) => stdout.write(more));
          break;
        }
        frame = { type, length: buffer.readUInt32BE(offset + 4) };
        offset += HEADER_BYTES;
      }
      if (buffer.length - offset < frame.length) break;
      if (frame.length > 0) (frame.type === STDOUT ? stdout : stderr).write(buffer.subarray(offset, offset + frame.length));
      offset += frame.length;
      frame = undefined;
    }
    const rest = buffer.subarray(offset);
    held = rest.length > 0 ? [rest] : [];
    heldBytes = rest.length;
  };
  source.on('data', onData);
}

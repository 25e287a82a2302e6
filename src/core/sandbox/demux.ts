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
 *
 * Backpressure: while `stdout` is full (its reader, the agent's protocol stream, is behind) the
 * source is paused, so what the process writes waits in the engine and the kernel's pipe (and the
 * process blocks) instead of piling up in the extension host's heap without bound: an agent that
 * writes faster than Warden reads (issue 21's stream of 10,000 updates, or a runaway one) had all
 * of its unread output held there. A `stdout` destroyed or ended (its reader gave up) never
 * holds the source: what comes after is dropped, as before. stderr never pauses it (nobody may
 * be reading it).
 */
export function demuxDockerStream(source: NodeJS.ReadableStream, stdout: Writable, stderr: Writable): void {
  /** Bytes received and not yet written: parts of one frame not yet complete. */
  let held: Buffer[] = [];
  let heldBytes = 0;
  /** The frame being read, once its header is in. */
  let frame: { type: number; length: number } | undefined;

  const resume = (): void => {
    stdout.removeListener('drain', resume);
    stdout.removeListener('close', resume);
    source.resume();
  };
  /** Writes to stdout; pauses the source until it drains when it is full. */
  const toStdout = (bytes: Buffer): void => {
    if (stdout.write(bytes) || stdout.destroyed || stdout.writableEnded || source.isPaused()) return;
    source.pause();
    stdout.once('drain', resume);
    stdout.once('close', resume);
  };

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
          toStdout(buffer.subarray(offset));
          buffer = Buffer.alloc(0);
          offset = 0;
          source.removeListener('data', onData);
          source.on('data', toStdout);
          break;
        }
        frame = { type, length: buffer.readUInt32BE(offset + 4) };
        offset += HEADER_BYTES;
      }
      if (buffer.length - offset < frame.length) break;
      if (frame.length > 0) {
        const payload = buffer.subarray(offset, offset + frame.length);
        if (frame.type === STDOUT) toStdout(payload);
        else stderr.write(payload);
      }
      offset += frame.length;
      frame = undefined;
    }
    const rest = buffer.subarray(offset);
    held = rest.length > 0 ? [rest] : [];
    heldBytes = rest.length;
  };
  source.on('data', onData);
}

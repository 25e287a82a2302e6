import type { Readable } from 'node:stream';

/**
 * A Node readable as a web ReadableStream of bytes, for the ACP SDK. Node 20's `Readable.toWeb`
 * can enqueue a chunk the stream had already emitted after the web side was cancelled (the
 * SDK cancels its input when an agent's line is over the size limit), which throws
 * ERR_INVALID_STATE as an uncaught exception in the extension host. Here nothing reaches the
 * controller once the web side is closed, cancelled or errored; a cancel destroys the source.
 * Backpressure: the source is paused while a chunk waits unread.
 */
export function readableToWeb(source: Readable): ReadableStream<Uint8Array> {
  let finished = false;
  let controllerRef: ReadableStreamDefaultController<Uint8Array> | undefined;
  const finish = (end: (controller: ReadableStreamDefaultController<Uint8Array>) => void): void => {
    if (finished || !controllerRef) return;
    finished = true;
    end(controllerRef);
  };
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        controllerRef = controller;
        source.pause();
        source.on('data', (chunk: Buffer | string) => {
          if (finished) return;
          const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
          controller.enqueue(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
          if ((controller.desiredSize ?? 0) <= 0) source.pause();
        });
        source.once('end', () => finish((c) => c.close()));
        source.once('error', (error: Error) => finish((c) => c.error(error)));
        // Destroyed without an error or an end (the process went away): what was read is all there is.
        source.once('close', () => finish((c) => c.close()));
      },
      pull() {
        if (!finished) source.resume();
      },
      cancel() {
        finished = true;
        source.destroy();
      },
    },
    { highWaterMark: 1 },
  );
}

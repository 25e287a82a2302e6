/** How long stream work may run back to back before the event loop gets a turn. */
export const SLICE_MS = 8;

/**
 * Chunks and messages already read are handed on in microtasks, so without a pause a pipe
 * holding thousands of `session/update` lines (an agent streaming, or a process that was off
 * the CPU for a while) is parsed and handled as one task that holds the extension host's event
 * loop for hundreds of milliseconds (issue 21: timers, IPC to the webviews, other extensions
 * wait). After `sliceMs` of that, the next read waits for `setImmediate`: timers and I/O run,
 * then the stream goes on, in order. One slice can be shared by the stages of one pipeline.
 */
export class TimeSlice {
  private started = performance.now();

  constructor(private readonly sliceMs = SLICE_MS) {}

  async yieldIfDue(): Promise<void> {
    if (performance.now() - this.started < this.sliceMs) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.started = performance.now();
  }
}

/** The same stream, read through `slice`: each read first gives the event loop its turn when the slice is used up. */
export function sliced<T>(stream: ReadableStream<T>, slice: TimeSlice): ReadableStream<T> {
  const reader = stream.getReader();
  return new ReadableStream<T>(
    {
      async pull(controller) {
        await slice.yieldIfDue();
        const next = await reader.read();
        if (next.done) controller.close();
        else controller.enqueue(next.value);
      },
      cancel: (reason) => reader.cancel(reason),
    },
    { highWaterMark: 0 },
  );
}

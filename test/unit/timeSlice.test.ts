import { strict as assert } from 'node:assert';
import { sliced, TimeSlice } from '../../src/core/util/timeSlice';

/** Issue 21: a flood of buffered lines is read in slices, so timers and I/O get turns in between. */
describe('TimeSlice (stream reading that takes turns with the event loop)', () => {
  const buffered = (count: number): ReadableStream<number> =>
    new ReadableStream<number>({
      start(controller) {
        for (let i = 0; i < count; i++) controller.enqueue(i);
        controller.close();
      },
    });

  /** Reads everything, spending about `busyMs` of the thread on each item, and notes when a timer set at the start fired. */
  async function readAll(stream: ReadableStream<number>, busyMs: number): Promise<{ items: number[]; timerAt: number | undefined }> {
    let timerAt: number | undefined;
    const items: number[] = [];
    setTimeout(() => (timerAt = items.length), 0);
    const reader = stream.getReader();
    for (;;) {
      const next = await reader.read();
      if (next.done) break;
      const until = performance.now() + busyMs;
      while (performance.now() < until);
      items.push(next.value);
    }
    return { items, timerAt };
  }

  it('without slicing, a buffered stream is read in one task: a timer waits for the end', async () => {
    const { items, timerAt } = await readAll(buffered(200), 0.2);
    assert.equal(items.length, 200);
    assert.equal(timerAt, undefined, 'the timer had not fired when the last item was read');
  });

  it('read through a slice, a timer fires while the stream is read, and every item comes in order', async () => {
    const { items, timerAt } = await readAll(sliced(buffered(200), new TimeSlice(2)), 0.2);
    assert.deepEqual(
      items,
      Array.from({ length: 200 }, (_, i) => i),
    );
    assert.ok(timerAt !== undefined && timerAt < 200, `the timer fired after ${timerAt} of 200 items`);
  });

  it('an error of the stream underneath reaches the reader', async () => {
    const failing = new ReadableStream<number>({
      pull(controller) {
        controller.error(new Error('pipe broke'));
      },
    });
    await assert.rejects(sliced(failing, new TimeSlice()).getReader().read(), /pipe broke/);
  });
});

import { strict as assert } from 'node:assert';
import { LeadingThrottle } from '../../src/core/util/throttle';

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('LeadingThrottle (the Review panel batching its state messages)', () => {
  it('flushes a lone change without waiting for the interval', async () => {
    let flushes = 0;
    const throttle = new LeadingThrottle(10_000, () => flushes++);
    throttle.schedule();
    assert.equal(flushes, 0, 'not synchronously: changes made in the same tick go out together');
    await tick();
    assert.equal(flushes, 1);
    throttle.cancel();
  });

  it('batches changes made in the same tick into one flush', async () => {
    let flushes = 0;
    const throttle = new LeadingThrottle(10_000, () => flushes++);
    throttle.schedule();
    throttle.schedule();
    throttle.schedule();
    await tick();
    assert.equal(flushes, 1);
    throttle.cancel();
  });

  it('batches a burst after a flush into one flush at the end of the interval', async () => {
    let now = 0;
    let flushes = 0;
    const throttle = new LeadingThrottle(
      30,
      () => flushes++,
      () => now,
    );
    throttle.schedule();
    await tick();
    assert.equal(flushes, 1);
    now = 5;
    throttle.schedule();
    throttle.schedule();
    await tick();
    assert.equal(flushes, 1, 'within the interval: waits');
    await sleep(60);
    assert.equal(flushes, 2, 'one flush for the whole burst');
    now = 100;
    throttle.schedule();
    await tick();
    assert.equal(flushes, 3, 'quiet again: at once');
    throttle.cancel();
  });

  it('a flush by other means (a full refresh) drops the pending one, and cancel drops a queued one', async () => {
    let flushes = 0;
    const throttle = new LeadingThrottle(20, () => flushes++);
    throttle.schedule();
    throttle.cancel();
    await tick();
    assert.equal(flushes, 0);
    throttle.flushed();
    throttle.schedule();
    await sleep(50);
    assert.equal(flushes, 1, 'scheduled after the refresh: flushed once the interval ends');
  });

  it('stretches the interval after a slow flush so flushes take at most a fifth of the time (issue 21)', async () => {
    let now = 0;
    let flushes = 0;
    const throttle = new LeadingThrottle(
      10,
      () => {
        flushes++;
        now += 40; // a snapshot that takes 40 ms to serialize
      },
      () => now,
    );
    throttle.schedule();
    await tick();
    assert.equal(flushes, 1);
    now = 100; // 100 ms after the slow flush started: past the 10 ms interval, within 5 x 40 ms
    throttle.schedule();
    await tick();
    assert.equal(flushes, 1, 'waits for the stretched interval');
    throttle.cancel();
    now = 200; // 5 x 40 ms after the flush started
    throttle.schedule();
    await tick();
    assert.equal(flushes, 2, 'then flushes at once again');
    throttle.cancel();
  });
});

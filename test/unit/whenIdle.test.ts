import { strict as assert } from 'node:assert';
import { whenIdle } from '../../src/core/util/whenIdle';

/** Issue 21: the Docker client is preloaded when the window is idle, in a task of its own, once. */
describe('whenIdle (work deferred to a quiet event loop)', () => {
  it('runs the work once, later, in a task of its own', async () => {
    let runs = 0;
    whenIdle(() => runs++);
    assert.equal(runs, 0, 'not in the caller’s task');
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (runs > 0) {
          clearInterval(poll);
          resolve();
        }
      }, 50);
    });
    await new Promise((resolve) => setTimeout(resolve, 1200));
    assert.equal(runs, 1);
  });

  it('does not run the work once cancelled', async () => {
    let runs = 0;
    const cancel = whenIdle(() => runs++);
    await new Promise((resolve) => setTimeout(resolve, 600));
    cancel();
    await new Promise((resolve) => setTimeout(resolve, 1200));
    assert.equal(runs, 0);
  });
});

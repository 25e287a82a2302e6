import { strict as assert } from 'node:assert';
import { PassThrough } from 'node:stream';
import { readableToWeb } from '../../src/core/util/webStreams';

/** The agent's stdout as the ACP SDK reads it: in order, paused when unread, and never an uncaught error after a cancel. */
describe('readableToWeb (a Node stream for the ACP SDK)', () => {
  const text = (chunks: Uint8Array[]): string => Buffer.concat(chunks).toString('utf8');

  async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array[]> {
    const chunks: Uint8Array[] = [];
    const reader = stream.getReader();
    for (;;) {
      const next = await reader.read();
      if (next.done) return chunks;
      chunks.push(next.value);
    }
  }

  it('hands on every chunk in order and ends when the source ends', async () => {
    const source = new PassThrough();
    const web = readableToWeb(source);
    source.write('{"a":1}\n');
    source.write('{"b":2}\n');
    source.end('{"c":3}\n');
    assert.equal(text(await readAll(web)), '{"a":1}\n{"b":2}\n{"c":3}\n');
  });

  it('pauses the source while a chunk waits unread (backpressure)', async () => {
    const source = new PassThrough();
    const web = readableToWeb(source);
    const reader = web.getReader();
    source.write('one');
    assert.equal(text([(await reader.read()).value!]), 'one');
    source.write('two');
    source.write('three');
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(source.isPaused(), true, 'nothing is read ahead of the reader beyond one chunk');
    assert.equal(text([(await reader.read()).value!]), 'two');
  });

  it('a cancel while the source still has data destroys it, and no late chunk throws (Node 20 toWeb: ERR_INVALID_STATE)', async () => {
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown): void => void uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    try {
      const source = new PassThrough();
      const web = readableToWeb(source);
      const reader = web.getReader();
      source.write('x'.repeat(1024));
      await reader.read();
      for (let i = 0; i < 50; i++) source.write('y'.repeat(1024));
      await reader.cancel(new Error('line over the size limit'));
      source.emit('data', Buffer.from('late'));
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(source.destroyed, true);
      assert.deepEqual(uncaught, []);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });

  it('an error of the source reaches the reader; a source destroyed without one ends the stream', async () => {
    const failing = new PassThrough();
    const web = readableToWeb(failing);
    failing.destroy(new Error('pipe broke'));
    await assert.rejects(web.getReader().read(), /pipe broke/);

    const gone = new PassThrough();
    const ended = readableToWeb(gone);
    gone.write('last');
    const reader = ended.getReader();
    assert.equal(text([(await reader.read()).value!]), 'last');
    gone.destroy();
    assert.equal((await reader.read()).done, true);
  });
});

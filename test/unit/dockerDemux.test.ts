import { strict as assert } from 'node:assert';
import { PassThrough, Writable } from 'node:stream';
import Modem from 'docker-modem';
import { demuxDockerStream } from '../../src/core/sandbox/demux';

/** Docker's attach framing: type, three zero bytes, big-endian length, payload. */
function frame(type: number, payload: string): Buffer {
  const body = Buffer.from(payload);
  const header = Buffer.alloc(8);
  header.writeUInt8(type, 0);
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}

function collect(): { sink: Writable; text: () => string } {
  const parts: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      parts.push(Buffer.from(chunk));
      callback();
    },
  });
  return { sink, text: () => Buffer.concat(parts).toString() };
}

/** Feeds `bytes` in chunks of `size` to a demuxer and returns what reached stdout and stderr. */
function run(
  demux: (source: PassThrough, out: Writable, err: Writable) => void,
  bytes: Buffer,
  size: number,
): { out: string; err: string } {
  const source = new PassThrough();
  const out = collect();
  const err = collect();
  demux(source, out.sink, err.sink);
  for (let i = 0; i < bytes.length; i += size) source.emit('data', bytes.subarray(i, i + size));
  return { out: out.text(), err: err.text() };
}

const ours = (s: PassThrough, o: Writable, e: Writable): void => demuxDockerStream(s, o, e);
const modem = (s: PassThrough, o: Writable, e: Writable): void => new Modem().demuxStream(s, o, e);

describe('demuxDockerStream (the agent stream from docker exec, issue 21)', () => {
  const lines = Array.from({ length: 300 }, (_, i) => `{"jsonrpc":"2.0","method":"session/update","params":{"n":${i}}}\n`);
  const stream = Buffer.concat([
    ...lines.map((line, i) => frame(i % 17 === 0 ? 2 : 1, line)),
    frame(1, ''),
    frame(0, 'stdin echo'),
    frame(1, 'x'.repeat(20_000)),
  ]);

  for (const size of [1, 7, 8, 9, 150, 4096, 65536, stream.length])
    it(`splits stdout and stderr as docker-modem does, in chunks of ${size} bytes`, () => {
      assert.deepEqual(run(ours, stream, size), run(modem, stream, size));
    });

  it('a stream that is not framed (a TTY) goes to stdout as it is, from the first bad header on', () => {
    const bytes = Buffer.concat([frame(1, 'framed\n'), Buffer.from('plain text from a tty\n'), Buffer.from('more\n')]);
    const result = run(ours, bytes, 5);
    assert.equal(result.out, 'framed\nplain text from a tty\nmore\n');
    assert.deepEqual(result, run(modem, bytes, 5));
  });

  describe('backpressure: a full stdout pauses the source (issue 21)', () => {
    const many = Buffer.concat(Array.from({ length: 2000 }, (_, i) => frame(1, `{"n":${i}}\n`)));

    it('pauses the source while stdout is full, resumes it as stdout is read, and loses nothing', async () => {
      const source = new PassThrough();
      const stdout = new PassThrough({ highWaterMark: 1024 });
      demuxDockerStream(source, stdout, collect().sink);
      source.emit('data', many.subarray(0, 8192));
      assert.equal(source.isPaused(), true, 'paused once stdout held more than its high-water mark');
      const read: Buffer[] = [];
      stdout.on('data', (chunk: Buffer) => read.push(chunk));
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(source.isPaused(), false, 'resumed once stdout drained');
      source.emit('data', many.subarray(8192));
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(Buffer.concat(read).toString(), Array.from({ length: 2000 }, (_, i) => `{"n":${i}}\n`).join(''));
    });

    it('a destroyed stdout (its reader gave up) never holds the source', async () => {
      const source = new PassThrough();
      const stdout = new PassThrough({ highWaterMark: 1024 });
      demuxDockerStream(source, stdout, collect().sink);
      source.emit('data', many.subarray(0, 8192));
      assert.equal(source.isPaused(), true);
      stdout.destroy();
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(source.isPaused(), false, 'resumed when stdout closed');
      source.emit('data', many.subarray(8192));
      assert.equal(source.isPaused(), false, 'what comes after is dropped, not held');
    });

    it('stderr never pauses the source (nobody may be reading it)', () => {
      const source = new PassThrough();
      const stderr = new PassThrough({ highWaterMark: 16 });
      demuxDockerStream(source, collect().sink, stderr);
      source.emit('data', Buffer.concat(Array.from({ length: 50 }, () => frame(2, 'warning: something\n'))));
      assert.equal(source.isPaused(), false);
    });
  });
});

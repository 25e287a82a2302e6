import { strict as assert } from 'node:assert';
import { Readable } from 'node:stream';
import { PullProgress } from '../../src/core/sandbox/image';
import { readProgress, type ProgressLine } from '../../src/core/sandbox/progress';

// What the engine streams for `docker pull` (recorded shape): one JSON object per line, each layer on its own.
const RECORDED_PULL = [
  { status: 'Pulling from library/node', id: '20' },
  { status: 'Pulling fs layer', progressDetail: {}, id: 'aaa' },
  { status: 'Pulling fs layer', progressDetail: {}, id: 'bbb' },
  { status: 'Downloading', progressDetail: { current: 1048576, total: 4194304 }, progress: '[=====>   ]', id: 'aaa' },
  { status: 'Downloading', progressDetail: { current: 2097152, total: 2097152 }, id: 'bbb' },
  { status: 'Download complete', progressDetail: {}, id: 'bbb' },
  { status: 'Pull complete', progressDetail: {}, id: 'bbb' },
  { status: 'Downloading', progressDetail: { current: 4194304, total: 4194304 }, id: 'aaa' },
  { status: 'Pull complete', progressDetail: {}, id: 'aaa' },
  { status: 'Digest: sha256:0123' },
  { status: 'Status: Downloaded newer image for node:20' },
];

describe('pull progress (per layer)', () => {
  it('sums the layers of a recorded pull into one line and a fraction, ignoring non-layer lines', async () => {
    // Split mid-line, the way chunks arrive from the socket.
    const text = RECORDED_PULL.map((l) => JSON.stringify(l)).join('\r\n');
    const chunks = [text.slice(0, 77), text.slice(77, 300), text.slice(300)];
    const lines: ProgressLine[] = [];
    await readProgress(Readable.from(chunks), (line) => lines.push(line));
    assert.equal(lines.length, RECORDED_PULL.length);
    const progress = new PullProgress();
    const reports = lines.map((line) => progress.update(line)).filter((r) => r !== undefined);
    assert.deepEqual(
      reports.map((r) => r.message),
      [
        '0 of 1 layers',
        '0 of 2 layers',
        '0 of 2 layers, 1.0 of 4.0 MB',
        '0 of 2 layers, 3.0 of 6.0 MB',
        '0 of 2 layers, 3.0 of 6.0 MB',
        '1 of 2 layers, 3.0 of 6.0 MB',
        '1 of 2 layers, 6.0 of 6.0 MB',
        '2 of 2 layers, 6.0 of 6.0 MB',
      ],
    );
    assert.deepEqual(
      reports.map((r) => r.fraction),
      [undefined, undefined, 0.25, 0.5, 0.5, 0.5, 1, 1],
    );
  });
});

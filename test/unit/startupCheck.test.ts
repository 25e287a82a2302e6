import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import type Dockerode from 'dockerode';
import { holdLease } from '../../src/core/sandbox/lease';
import {
  REPORT_BEGIN,
  REPORT_BYTE_LIMIT,
  REPORT_END,
  STARTUP_REPORT_SCRIPT,
  StartupReportError,
  StartupReportReader,
  type ProbeResult,
} from '../../src/core/sandbox/startupCheck';

/** Docker's attach framing: type, three zero bytes, big-endian length, payload. */
function frame(type: number, payload: string | Buffer): Buffer {
  const body = Buffer.from(payload);
  const header = Buffer.alloc(8);
  header.writeUInt8(type, 0);
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}

/** Feeds `text` to a reader in chunks of `size` bytes. */
function feed(reader: StartupReportReader, text: string | Buffer, size: number): void {
  const bytes = Buffer.from(text);
  for (let i = 0; i < bytes.length; i += size) reader.write(bytes.subarray(i, i + size));
}

async function failure(result: Promise<ProbeResult>): Promise<StartupReportError> {
  try {
    await result;
  } catch (error) {
    assert.ok(error instanceof StartupReportError, String(error));
    return error;
  }
  assert.fail('the report was accepted');
}

/** A container whose attach is a local duplex (no engine): what the lease reads is fed by the test. */
function fakeContainer(socket: PassThrough): Dockerode.Container {
  return { id: 'f'.repeat(64), attach: () => Promise.resolve(socket) } as unknown as Dockerode.Container;
}

describe("PID 1's startup check, read over the lease (issue 21)", () => {
  it('the report PID 1 prints (run by a real /bin/sh) is read whole in any chunking, and nothing after it reaches stdout', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'warden-startup-check-'));
    try {
      await fs.writeFile(path.join(dir, 'a'), '');
      await fs.writeFile(path.join(dir, '.hidden'), '');
      const script = `${STARTUP_REPORT_SCRIPT}; echo this-must-not-show`;
      const { stdout } = await promisify(execFile)('/bin/sh', ['-c', script, 'warden-sandbox', dir, path.join(dir, 'missing')]);
      assert.doesNotMatch(stdout, /this-must-not-show/);
      for (const size of [1, 3, 7, stdout.length]) {
        const reader = new StartupReportReader();
        feed(reader, stdout, size);
        const report = await reader.result;
        assert.equal(report.exitCode, 0);
        const uid = process.getuid?.() ?? 0;
        assert.equal(report.lines[0], `uid ${uid} ${uid} ${uid} ${uid}`);
        assert.ok(report.lines.includes(`readable ${dir}`), report.text);
        assert.ok(report.lines.includes(`entries 2 ${dir}`), report.text);
        assert.ok(report.lines.includes(`entries 0 ${path.join(dir, 'missing')}`), report.text);
      }
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('output that does not open with the report is refused at once, shown escaped', async () => {
    const reader = new StartupReportReader();
    feed(reader, 'hello from the image\u001b[2J\n', 64);
    const error = await failure(reader.result);
    assert.equal(error.kind, 'malformed');
    assert.match(error.message, /something other than the startup check: "hello from the image\\u001b\[2J\\n"/);
  });

  it('an end line without a status is refused; a status is carried to the check', async () => {
    const bad = new StartupReportReader();
    feed(bad, `${REPORT_BEGIN}\nuid 1 1 1 1\n${REPORT_END} oops\n`, 5);
    assert.equal((await failure(bad.result)).kind, 'malformed');
    const failed = new StartupReportReader();
    feed(failed, `${REPORT_BEGIN}\nsh: can't open /proc/self/status\n${REPORT_END} 2\n`, 64);
    assert.deepEqual(await failed.result, {
      exitCode: 2,
      lines: ["sh: can't open /proc/self/status"],
      text: "sh: can't open /proc/self/status",
    });
  });

  it('a flood without an end is refused once it passes the limit, and what follows is dropped', async () => {
    const reader = new StartupReportReader();
    reader.write(Buffer.from(`${REPORT_BEGIN}\n`));
    const line = Buffer.from(`${'x'.repeat(1023)}\n`);
    for (let i = 0; i < 1024; i++) reader.write(line); // 1 MiB
    const error = await failure(reader.result);
    assert.equal(error.kind, 'malformed');
    assert.match(error.message, new RegExp(`more than ${REPORT_BYTE_LIMIT / 1024} KiB`));
    assert.ok(error.message.length < 1000, 'the message shows only the start of it');
  });

  it('a stream that ends before the end line is "ended", with what was printed', async () => {
    const empty = new StartupReportReader();
    empty.ended();
    assert.match((await failure(empty.result)).message, /ended without reporting the startup check/);
    const cut = new StartupReportReader();
    feed(cut, `${REPORT_BEGIN}\nuid 1000 1000 1000 1000\n`, 9);
    cut.ended();
    const error = await failure(cut.result);
    assert.equal(error.kind, 'ended');
    assert.match(error.message, /before finishing the startup check; it printed: .*uid 1000/);
  });

  it('the lease reads the report from the attach stream (stdout frames only) and keeps the connection', async () => {
    const socket = new PassThrough();
    const lease = await holdLease(fakeContainer(socket));
    socket.write(frame(2, 'stderr is not the report\n'));
    socket.write(frame(1, `${REPORT_BEGIN}\nuid 1000 1000 1000 1000\n`));
    socket.write(frame(1, `${REPORT_END} 0\nlater output is dropped\n`));
    assert.deepEqual((await lease.startupReport(5_000)).lines, ['uid 1000 1000 1000 1000']);
    assert.equal(socket.destroyed, false, 'the lease is still held');
    assert.equal(lease.held, true);
    lease.release();
    await lease.closed;
    assert.equal(lease.held, false, 'a closed lease says so at once (a report followed by the end of PID 1 is no sandbox)');
  });

  it('the lease fails the report when nothing arrives in time, or when the stream ends first', async () => {
    const silent = new PassThrough();
    const waiting = await holdLease(fakeContainer(silent));
    const late = await failure(waiting.startupReport(50));
    assert.equal(late.kind, 'timeout');
    assert.match(late.message, /did not report the startup check within 0.05 s/);
    waiting.release();

    const ending = new PassThrough();
    const lease = await holdLease(fakeContainer(ending));
    const pending = lease.startupReport(60_000);
    ending.end();
    assert.equal((await failure(pending)).kind, 'ended');
  });
});

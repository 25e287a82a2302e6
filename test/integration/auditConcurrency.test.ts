import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { queryAuditRows, verifyAuditLog } from '../../src/core/audit';

const WRITER = path.resolve(__dirname, '../fixtures/audit-writer.ts');

function runWriter(root: string, count: number, tag: string): Promise<{ code: number | null; stderr: string }> {
  // 256 KiB segments: the run also rotates segments many times under contention.
  const child = spawn(process.execPath, ['--import', 'tsx', WRITER, root, String(count), tag, String(256 * 1024), '0'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

describe('audit log: two processes writing 5,000 entries each (fsync on every append)', function () {
  this.timeout(300_000);
  let root: string;
  before(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'warden-audit-10k-'));
  });
  after(async () => {
    await fs.rm(root, { recursive: true, force: true });
  });

  it('leaves one valid chain of 10,000 entries, each writer complete and in its own order', async () => {
    const results = await Promise.all(['a', 'b'].map((tag) => runWriter(root, 5000, tag)));
    for (const result of results) assert.equal(result.code, 0, result.stderr);

    const report = await verifyAuditLog(root);
    assert.equal(report.ok, true, JSON.stringify(report.firstBreak));
    assert.equal(report.entries, 10_000);
    assert.equal(report.headSeq, 10_000);
    assert.ok(report.segments > 1);

    const next = { a: 0, b: 0 };
    let switches = 0;
    let lastTag = '';
    for await (const { entry } of queryAuditRows(root)) {
      const { tag, i } = entry.data as { tag: 'a' | 'b'; i: number };
      assert.equal(i, next[tag], `writer ${tag}'s entries are all there, in order`);
      next[tag]++;
      if (tag !== lastTag) switches++;
      lastTag = tag;
    }
    assert.deepEqual(next, { a: 5000, b: 5000 });
    assert.ok(switches > 2, 'the two writers really interleaved (entries, never bytes)');
    await assert.rejects(fs.access(path.join(root, '.warden/audit/sessions/shared/audit.lock')), 'no lock is left behind');
  });
});

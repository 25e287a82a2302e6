import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AuditLog, AuditLogCorruptError, listSegments, repairAuditLog, verifyAuditLog } from '../../src/core/audit';
import { lockReleased } from '../support/auditLock';

const WRITER = path.resolve(__dirname, '../fixtures/audit-writer.ts');

function startWriter(
  root: string,
  count: number,
  tag: string,
  maxSegmentBytes = 0,
  payloadBytes = 0,
  env: NodeJS.ProcessEnv = {},
): ChildProcess {
  const args = ['--import', 'tsx', WRITER, root, String(count), tag, maxSegmentBytes ? String(maxSegmentBytes) : '', String(payloadBytes)];
  return spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
}

const LOCK = '.warden/audit/sessions/shared/audit.lock';

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ code, signal, stderr }));
  });
}

function ready(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve());
    child.on('exit', () => reject(new Error('writer exited before its first append')));
  });
}

/** Runs git in the workspace (real git), collecting its output and exit code. */
function runGit(cwd: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn('git', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  return exited(child).then(({ code, stderr }) => ({ code, stdout, stderr }));
}

/** Every line of every segment, parsed (verify has already checked they parse). */
async function allEntries(root: string): Promise<Array<{ seq: number; data: { tag: string; i: number } }>> {
  const out = [];
  for (const segment of await listSegments(path.join(root, '.warden/audit/sessions/shared'))) {
    const text = await fs.readFile(segment.path, 'utf8');
    for (const line of text.split('\n').filter(Boolean)) out.push(JSON.parse(line) as { seq: number; data: { tag: string; i: number } });
  }
  return out;
}

describe('audit log across processes', function () {
  // About the chain, not the event catalog: the writers append synthetic events.
  const schemaCheck = process.env.WARDEN_AUDIT_SCHEMA_CHECK;
  before(() => (process.env.WARDEN_AUDIT_SCHEMA_CHECK = 'off'));
  after(() =>
    schemaCheck === undefined ? delete process.env.WARDEN_AUDIT_SCHEMA_CHECK : (process.env.WARDEN_AUDIT_SCHEMA_CHECK = schemaCheck),
  );
  this.timeout(60_000);
  let root: string;
  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'warden-audit-mp-'));
  });
  afterEach(async () => {
    await fs.rm(root, { recursive: true, force: true });
  });

  it('two processes appending 500 each leave one valid chain of 1000 entries', async () => {
    const writers = ['a', 'b'].map((tag) => startWriter(root, 500, tag, 32 * 1024));
    const results = await Promise.all(writers.map(exited));
    for (const result of results) assert.equal(result.code, 0, result.stderr);

    const report = await verifyAuditLog(root);
    assert.equal(report.ok, true, JSON.stringify(report.firstBreak));
    assert.equal(report.entries, 1000);
    assert.ok(report.segments > 1, 'the run also rotates segments under contention');

    const entries = await allEntries(root);
    assert.equal(entries.length, 1000, 'no interleaved or split lines');
    for (const tag of ['a', 'b']) {
      const mine = entries.filter((e) => e.data.tag === tag).map((e) => e.data.i);
      assert.deepEqual(
        mine,
        Array.from({ length: 500 }, (_, i) => i),
        `writer ${tag}'s entries are all there, in order`,
      );
    }
    await assert.rejects(fs.access(path.join(root, LOCK)), 'no lock is left behind');
  });

  describe('a writer keeps the lock a moment after its append', () => {
    const shared = (tag: string, i: number) => ({
      sessionId: 'shared',
      actor: { kind: 'agent' as const, id: tag },
      type: 'test.write',
      data: { tag, i },
    });

    it('keeps it for a next append, then releases it when idle', async () => {
      const log = AuditLog.forWorkspace(root);
      await log.append(shared('me', 0));
      assert.ok(existsSync(path.join(root, LOCK)), 'the lock is kept right after the append');
      await log.append(shared('me', 1));
      await lockReleased(path.join(root, LOCK));
      const report = await verifyAuditLog(root);
      assert.equal(report.ok, true, JSON.stringify(report.firstBreak));
      assert.equal(report.entries, 2);
    });

    it('hands it to another process that waits, while this one keeps appending; the chain stays valid', async () => {
      const log = AuditLog.forWorkspace(root);
      await log.append(shared('me', 0));
      assert.ok(existsSync(path.join(root, LOCK)), 'this process keeps the lock when the other starts');
      const other = startWriter(root, 20, 'other');
      const done = exited(other);
      let finished = false;
      void done.then(() => (finished = true));
      // Append back to back (each picks up the kept lock) until the other writer is done.
      let mine = 1;
      while (!finished && mine < 100_000) await log.append(shared('me', mine++));
      const result = await done;
      assert.equal(result.code, 0, `the other writer got the lock while this one kept appending: ${result.stderr}`);
      await log.append(shared('me', mine++));

      const report = await verifyAuditLog(root);
      assert.equal(report.ok, true, JSON.stringify(report.firstBreak));
      const entries = await allEntries(root);
      assert.equal(entries.length, mine + 20);
      assert.deepEqual(
        entries.map((e) => e.seq),
        entries.map((_, i) => i + 1),
      );
      const other20 = entries.filter((e) => e.data.tag === 'other').map((e) => e.data.i);
      assert.deepEqual(
        other20,
        Array.from({ length: 20 }, (_, i) => i),
        "the other writer's entries are all there, in order",
      );
      const lastOther = entries.map((e) => e.data.tag).lastIndexOf('other');
      assert.ok(
        entries.slice(lastOther).some((e) => e.data.tag === 'me'),
        'this process appended after the other one, reading its head anew',
      );
      await lockReleased(path.join(root, LOCK));
    });

    it('git commands run while a writer appends neither fail nor stage the lock (a lock file here broke `git add -A`)', async () => {
      const git = (...args: string[]) => runGit(root, args);
      await git('init', '-q');
      const log = AuditLog.forWorkspace(root);
      await log.append(shared('me', 0));
      let appending = true;
      let appended = 1;
      const writer = (async () => {
        // Appends a few milliseconds apart: the lock is kept between them most of the time.
        while (appending) {
          await log.append(shared('me', appended++));
          await new Promise((resolve) => setTimeout(resolve, 1 + (appended % 3)));
        }
      })();
      try {
        for (let i = 0; i < 40; i++) {
          const added = await git('add', '-A');
          assert.equal(added.code, 0, `git add -A failed while the writer appended: ${added.stderr}`);
          const status = await git('status', '--porcelain', '--untracked-files=all');
          assert.equal(status.code, 0, status.stderr);
          assert.doesNotMatch(status.stdout, /audit\.lock/, 'git never sees the lock');
        }
      } finally {
        appending = false;
        await writer;
      }
      const staged = await git('ls-files');
      assert.doesNotMatch(staged.stdout, /audit\.lock/, 'the lock was never staged');
      assert.match(staged.stdout, /audit-000001\.jsonl/, 'the log itself was staged');
      const report = await verifyAuditLog(root);
      assert.equal(report.ok, true, JSON.stringify(report.firstBreak));
      assert.equal(report.entries, appended);
      await lockReleased(path.join(root, LOCK));
    });

    it('a writer killed while it keeps the lock leaves it to be broken by the next writer', async () => {
      const writer = startWriter(root, 2, 'killed', 0, 0, { AUDIT_WRITER_EXIT: 'sigkill' });
      assert.equal((await exited(writer)).signal, 'SIGKILL');
      assert.ok(existsSync(path.join(root, LOCK)), 'the dead writer still had its lock');

      const entry = await AuditLog.forWorkspace(root, { lockTimeoutMs: 5000 }).append(shared('me', 0));
      assert.equal(entry.seq, 3, "the chain continues after the dead writer's entries");
      const report = await verifyAuditLog(root);
      assert.equal(report.ok, true, JSON.stringify(report.firstBreak));
      assert.equal(report.entries, 3);
      await lockReleased(path.join(root, LOCK));
    });
  });

  for (const payloadBytes of [0, 256 * 1024]) {
    it(`a writer killed with SIGKILL mid-run leaves a log that verifies or ends in a reported torn line (${payloadBytes} byte payloads)`, async () => {
      const writer = startWriter(root, 1_000_000, 'killed', 1024 * 1024, payloadBytes);
      const done = exited(writer);
      await ready(writer);
      await new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 200));
      writer.kill('SIGKILL');
      assert.equal((await done).signal, 'SIGKILL');

      const report = await verifyAuditLog(root);
      assert.ok(report.entries >= 1);
      // A writer killed between creating the lock and writing its pid leaves an empty lock: only its age shows it is stale.
      const log = AuditLog.forWorkspace(root, { maxSegmentBytes: 1024 * 1024, lockTimeoutMs: 5000, staleLockMs: 1000 });
      if (report.ok) {
        // The dead writer's lock, if any, is recovered and the chain continues.
        const entry = await log.append({ sessionId: 'shared', actor: { kind: 'warden', id: 'warden' }, type: 'after.kill', data: {} });
        assert.equal(entry.seq, report.entries + 1);
        assert.equal((await verifyAuditLog(root)).ok, true);
      } else {
        const segments = await listSegments(path.join(root, '.warden/audit/sessions/shared'));
        const last = segments[segments.length - 1];
        assert.ok(last);
        const lineCount = (await fs.readFile(last.path, 'utf8')).split('\n').length;
        assert.equal(report.firstBreak?.file, path.relative(root, last.path));
        assert.equal(report.firstBreak?.line, lineCount, 'only the last line is broken');
        assert.match(report.firstBreak?.reason ?? '', /torn write\?/);
        await assert.rejects(
          log.append({ sessionId: 'shared', actor: { kind: 'warden', id: 'warden' }, type: 'after.kill', data: {} }),
          AuditLogCorruptError,
        );

        // Repair cuts the torn line into a side file, records that it did, and the chain continues.
        const repair = await repairAuditLog(root);
        assert.equal(repair.repaired, true, repair.message);
        assert.equal(repair.after.ok, true, JSON.stringify(repair.after.firstBreak));
        assert.equal(repair.after.entries, report.entries + 1, 'every complete entry is kept, plus audit.repaired');
        const saved = await fs.readFile(path.join(root, repair.torn?.savedTo ?? 'missing'));
        assert.equal(saved.length, repair.torn?.bytes);
        assert.ok(saved.length > 0 && !saved.includes(0x0a), 'the side file holds exactly the torn bytes');
        const entry = await log.append({ sessionId: 'shared', actor: { kind: 'warden', id: 'warden' }, type: 'after.kill', data: {} });
        assert.equal(entry.seq, report.entries + 2);
        assert.equal((await verifyAuditLog(root)).ok, true);
      }
    });
  }
});

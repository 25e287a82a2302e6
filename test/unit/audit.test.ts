import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  AuditLockTimeoutError,
  AuditLog,
  AuditLogCorruptError,
  configureAuditRedaction,
  formatVerifyReport,
  GENESIS_PREV,
  redactSecrets,
  RedactionConfigError,
  verifyAuditLog,
  type AuditEventInput,
} from '../../src/core/audit';
import { sha256Hex } from '../../src/core/util/hash';
import { lockReleased } from '../support/auditLock';

/** Every test event is of session s1, so they all land in its chain. */
const CHAIN = '.warden/audit/sessions/s1';
const SEG1 = `${CHAIN}/audit-000001.jsonl`;

function event(i: number, data: Record<string, unknown> = {}): AuditEventInput {
  return { sessionId: 's1', actor: { kind: 'warden', id: 'warden' }, type: 'test.event', data: { i, ...data } };
}

async function tempWorkspace(): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), 'warden-audit-'));
}

async function appendMany(log: AuditLog, count: number, data: Record<string, unknown> = {}): Promise<void> {
  for (let i = 1; i <= count; i++) await log.append(event(i, data));
}

async function readLines(root: string, file = SEG1): Promise<string[]> {
  const text = await fs.readFile(path.join(root, file), 'utf8');
  return text.split('\n').slice(0, -1);
}

async function writeLines(root: string, lines: string[], file = SEG1): Promise<void> {
  await fs.writeFile(path.join(root, file), lines.map((l) => `${l}\n`).join(''));
}

/** Rewrites one line's data keeping the key order, as an attacker editing the file would. */
function editData(line: string, patch: Record<string, unknown>): string {
  const entry = JSON.parse(line) as { data: Record<string, unknown> };
  entry.data = { ...entry.data, ...patch };
  return JSON.stringify(entry);
}

describe('audit log', () => {
  // These tests are about the chain, not the event catalog: they write synthetic events.
  const schemaCheck = process.env.WARDEN_AUDIT_SCHEMA_CHECK;
  before(() => (process.env.WARDEN_AUDIT_SCHEMA_CHECK = 'off'));
  after(() =>
    schemaCheck === undefined ? delete process.env.WARDEN_AUDIT_SCHEMA_CHECK : (process.env.WARDEN_AUDIT_SCHEMA_CHECK = schemaCheck),
  );
  let root: string;
  beforeEach(async () => {
    root = await tempWorkspace();
  });
  afterEach(async () => {
    await fs.rm(root, { recursive: true, force: true });
  });

  it('treats a missing or empty log as ok with 0 entries', async () => {
    assert.deepEqual(await verifyAuditLog(root), { ok: true, entries: 0, segments: 0, head: null, headSeq: 0, chains: [] });
    await fs.mkdir(path.join(root, CHAIN), { recursive: true });
    await fs.writeFile(path.join(root, SEG1), '');
    const report = await verifyAuditLog(root);
    assert.equal(report.ok, true);
    assert.equal(report.entries, 0);
    assert.match(formatVerifyReport(report), /empty/);
  });

  it('builds a hash chain with stable key order that verifies', async () => {
    const log = AuditLog.forWorkspace(root);
    const first = await log.append(event(1));
    assert.equal(first.seq, 1);
    assert.equal(first.prev, GENESIS_PREV);
    await appendMany(log, 4);
    const lines = await readLines(root);
    assert.equal(lines.length, 5);
    lines.forEach((line, i) => {
      const entry = JSON.parse(line) as Record<string, unknown>;
      assert.deepEqual(Object.keys(entry), ['v', 'seq', 'time', 'sessionId', 'actor', 'type', 'data', 'prev']);
      assert.equal(entry.seq, i + 1);
      assert.equal(entry.prev, i === 0 ? GENESIS_PREV : sha256Hex(lines[i - 1] ?? ''));
    });
    const report = await verifyAuditLog(root);
    const head = sha256Hex(lines[4] ?? '');
    assert.deepEqual(report, {
      ok: true,
      entries: 5,
      segments: 1,
      head,
      headSeq: 5,
      chains: [{ chain: 's1', ok: true, entries: 5, segments: 1, head, headSeq: 5 }],
    });
    assert.match(formatVerifyReport(report), /verified: 5 entries in 1 segment/);
  });

  it('serializes concurrent appends within a process, across instances', async () => {
    const a = AuditLog.forWorkspace(root);
    const b = AuditLog.forWorkspace(root);
    const entries = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).append(event(i))));
    assert.deepEqual(
      entries.map((e) => e.seq).sort((x, y) => x - y),
      Array.from({ length: 40 }, (_, i) => i + 1),
    );
    const report = await verifyAuditLog(root);
    assert.equal(report.ok, true);
    assert.equal(report.entries, 40);
  });

  it('appends in the order they were called, the first to an idle chain included', async () => {
    const log = AuditLog.forWorkspace(root);
    const calls = Array.from({ length: 12 }, (_, i) => log.append(event(i)));
    const entries = await Promise.all(calls);
    assert.deepEqual(
      entries.map((e) => e.seq),
      Array.from({ length: 12 }, (_, i) => i + 1),
    );
    assert.deepEqual(
      entries.map((e) => e.data.i),
      Array.from({ length: 12 }, (_, i) => i),
    );
    // And again once the queue has drained: the chain is idle, the head kept.
    const again = await Promise.all([log.append(event(12)), log.append(event(13))]);
    assert.deepEqual(
      again.map((e) => [e.seq, e.data.i]),
      [
        [13, 12],
        [14, 13],
      ],
    );
    assert.equal((await verifyAuditLog(root)).ok, true);
  });

  describe('tampering', () => {
    beforeEach(async () => {
      await appendMany(AuditLog.forWorkspace(root), 6);
    });

    it('detects an edited entry at the next line', async () => {
      const lines = await readLines(root);
      lines[3] = editData(lines[3] ?? '', { i: 99 });
      await writeLines(root, lines);
      const report = await verifyAuditLog(root);
      assert.equal(report.ok, false);
      assert.deepEqual(report.firstBreak, {
        chain: 's1',
        file: SEG1,
        line: 5,
        seq: 5,
        reason: 'entry was modified: prev of line 5 does not match the hash of line 4',
      });
      assert.equal(report.entries, 4);
      assert.match(formatVerifyReport(report), /broken at \.warden\/audit\/sessions\/s1\/audit-000001\.jsonl:5, seq 5: entry was modified/);
    });

    it('detects a deleted entry', async () => {
      const lines = await readLines(root);
      lines.splice(3, 1);
      await writeLines(root, lines);
      const report = await verifyAuditLog(root);
      assert.deepEqual(report.firstBreak, {
        chain: 's1',
        file: SEG1,
        line: 4,
        seq: 5,
        reason: 'seq jumps from 3 to 5: an entry was deleted',
      });
    });

    it('detects a deleted first entry', async () => {
      const lines = await readLines(root);
      await writeLines(root, lines.slice(1));
      const report = await verifyAuditLog(root);
      assert.equal(report.firstBreak?.line, 1);
      assert.match(report.firstBreak?.reason ?? '', /first entry has seq 2, expected 1/);
    });

    it('detects two reordered entries', async () => {
      const lines = await readLines(root);
      [lines[2], lines[3]] = [lines[3] ?? '', lines[2] ?? ''];
      await writeLines(root, lines);
      const report = await verifyAuditLog(root);
      assert.equal(report.firstBreak?.line, 3);
      assert.equal(report.firstBreak?.seq, 4);
      assert.match(report.firstBreak?.reason ?? '', /out of order: line 3 has seq 4 before line 4 with seq 3/);
    });

    it('detects a change to any field, not only data', async () => {
      const lines = await readLines(root);
      lines[1] = (lines[1] ?? '').replace('"type":"test.event"', '"type":"test.forged"');
      await writeLines(root, lines);
      const report = await verifyAuditLog(root);
      assert.equal(report.firstBreak?.line, 3);
    });

    it('reports a torn last line, and append refuses until it is dealt with', async () => {
      // Another writer tore the line: it held the lock, so this process had let go of it.
      await lockReleased(path.join(root, CHAIN, 'audit.lock'));
      const file = path.join(root, SEG1);
      const { size } = await fs.stat(file);
      await fs.truncate(file, size - 10);
      const torn = await fs.readFile(file);
      const report = await verifyAuditLog(root);
      assert.deepEqual(report.firstBreak, { chain: 's1', file: SEG1, line: 6, reason: 'line 6 is not valid JSON (torn write?)' });
      assert.equal(report.entries, 5);

      await assert.rejects(AuditLog.forWorkspace(root).append(event(7)), (error: unknown) => {
        assert.ok(error instanceof AuditLogCorruptError);
        assert.match(error.message, /last line is incomplete \(torn write\?\).*Verify Audit Log/);
        return true;
      });
      assert.deepEqual(await fs.readFile(file), torn, 'the torn line is neither dropped nor overwritten');
    });

    it('reports a last line that lost only its newline', async () => {
      // Another writer tore the line: it held the lock, so this process had let go of it.
      await lockReleased(path.join(root, CHAIN, 'audit.lock'));
      const file = path.join(root, SEG1);
      const { size } = await fs.stat(file);
      await fs.truncate(file, size - 1);
      const report = await verifyAuditLog(root);
      assert.equal(report.firstBreak?.line, 6);
      assert.match(report.firstBreak?.reason ?? '', /no trailing newline \(torn write\?\)/);
      await assert.rejects(AuditLog.forWorkspace(root).append(event(7)), AuditLogCorruptError);
    });

    it('reports garbage in the middle as corruption, not a torn write', async () => {
      const lines = await readLines(root);
      lines[2] = '{"v":1,"seq":3,';
      await writeLines(root, lines);
      const report = await verifyAuditLog(root);
      assert.deepEqual(report.firstBreak, { chain: 's1', file: SEG1, line: 3, reason: 'line 3 is not valid JSON (corrupted)' });
    });

    it('reports a line that is JSON but not an audit entry', async () => {
      const lines = await readLines(root);
      lines[1] = (lines[1] ?? '').replace('"v":1', '"v":2');
      await writeLines(root, lines);
      const report = await verifyAuditLog(root);
      assert.equal(report.firstBreak?.line, 2);
      assert.match(report.firstBreak?.reason ?? '', /line 2 is not a valid audit entry: v:/);
    });
  });

  describe('segments', () => {
    const options = { maxSegmentBytes: 1024 };

    it('rotates past the size limit and chains across segments', async () => {
      await appendMany(AuditLog.forWorkspace(root, options), 30, { pad: 'p'.repeat(150) });
      const names = (await fs.readdir(path.join(root, CHAIN))).filter((n) => n.endsWith('.jsonl')).sort();
      assert.ok(names.length >= 4, `expected several segments, got ${names.join(', ')}`);
      for (const name of names) assert.ok((await fs.stat(path.join(root, CHAIN, name))).size <= 1024);
      const seg1 = await readLines(root);
      const seg2 = await readLines(root, `${CHAIN}/audit-000002.jsonl`);
      const firstOf2 = JSON.parse(seg2[0] ?? '') as { seq: number; prev: string };
      assert.equal(firstOf2.seq, seg1.length + 1);
      assert.equal(firstOf2.prev, sha256Hex(seg1[seg1.length - 1] ?? ''));
      const report = await verifyAuditLog(root);
      assert.equal(report.ok, true);
      assert.equal(report.entries, 30);
      assert.equal(report.segments, names.length);
    });

    it('detects a deleted middle segment', async () => {
      await appendMany(AuditLog.forWorkspace(root, options), 30, { pad: 'p'.repeat(150) });
      await fs.rm(path.join(root, `${CHAIN}/audit-000002.jsonl`));
      const report = await verifyAuditLog(root);
      assert.equal(report.ok, false);
      assert.equal(report.firstBreak?.file, `${CHAIN}/audit-000003.jsonl`);
      assert.equal(report.firstBreak?.line, 1);
      assert.match(report.firstBreak?.reason ?? '', /segment audit-000002\.jsonl is missing/);
    });

    it('names the previous segment when a cross-segment link breaks', async () => {
      await appendMany(AuditLog.forWorkspace(root, options), 10, { pad: 'p'.repeat(150) });
      const lines = await readLines(root);
      lines[lines.length - 1] = editData(lines[lines.length - 1] ?? '', { pad: 'forged' });
      await writeLines(root, lines);
      const report = await verifyAuditLog(root);
      assert.equal(report.firstBreak?.file, `${CHAIN}/audit-000002.jsonl`);
      assert.equal(report.firstBreak?.line, 1);
      assert.match(
        report.firstBreak?.reason ?? '',
        new RegExp(`hash of the last line \\(${lines.length}\\) of \\.warden/audit/sessions/s1/audit-000001\\.jsonl`),
      );
    });

    it('appends into an empty segment left by a writer that died, chained to the one before', async () => {
      const log = AuditLog.forWorkspace(root, options);
      await appendMany(log, 3);
      // The writer that died held the lock, so this process had let go of it.
      await lockReleased(path.join(root, CHAIN, 'audit.lock'));
      await fs.writeFile(path.join(root, `${CHAIN}/audit-000002.jsonl`), '');
      const entry = await log.append(event(4));
      assert.equal(entry.seq, 4);
      assert.equal((await readLines(root, `${CHAIN}/audit-000002.jsonl`)).length, 1);
      assert.equal((await verifyAuditLog(root)).ok, true);
    });

    it('finds the tail of entries larger than the tail read chunk', async () => {
      const log = AuditLog.forWorkspace(root);
      await appendMany(log, 3, { big: 'b'.repeat(200_000) });
      await log.append(event(4));
      const report = await verifyAuditLog(root);
      assert.equal(report.ok, true);
      assert.equal(report.entries, 4);
    });
  });

  describe('lock', () => {
    const lockPath = (): string => path.join(root, CHAIN, 'audit.lock');
    /** A lock as this Warden takes it (a folder naming its holder), or as an older Warden did (a file of JSON). */
    const lockKinds = {
      'a lock folder': async (holder: { pid: number; time: number }): Promise<void> => {
        const host = Buffer.from(os.hostname(), 'utf8').toString('base64url');
        await fs.mkdir(path.join(lockPath(), `${holder.pid}.${holder.time}.0123456789abcdef.${host}`), { recursive: true });
      },
      "an older Warden's lock file": async (holder: { pid: number; time: number }): Promise<void> => {
        await fs.mkdir(path.dirname(lockPath()), { recursive: true });
        const time = new Date(holder.time).toISOString();
        await fs.writeFile(lockPath(), JSON.stringify({ pid: holder.pid, host: os.hostname(), time, token: 't' }));
      },
    };

    for (const [kind, writeLock] of Object.entries(lockKinds)) {
      describe(kind, () => {
        it('breaks a lock left by a dead process', async () => {
          const dead = spawnSync(process.execPath, ['-e', '']).pid;
          await writeLock({ pid: dead, time: Date.now() });
          await AuditLog.forWorkspace(root, { lockTimeoutMs: 2000 }).append(event(1));
          assert.equal((await verifyAuditLog(root)).entries, 1);
          await lockReleased(lockPath());
        });

        it('breaks a lock older than the stale bound even if its pid is alive', async () => {
          await writeLock({ pid: process.pid, time: Date.now() - 60_000 });
          await AuditLog.forWorkspace(root, { lockTimeoutMs: 2000, staleLockMs: 5000 }).append(event(1));
          assert.equal((await verifyAuditLog(root)).entries, 1);
        });

        it('gives up with a clear error when a live holder keeps the lock', async () => {
          await writeLock({ pid: process.pid, time: Date.now() });
          await assert.rejects(AuditLog.forWorkspace(root, { lockTimeoutMs: 150 }).append(event(1)), (error: unknown) => {
            assert.ok(error instanceof AuditLockTimeoutError);
            assert.match(error.message, new RegExp(`held by pid ${process.pid} on ${os.hostname()} since .*delete that lock`));
            return true;
          });
          assert.equal((await verifyAuditLog(root)).entries, 0);
        });
      });
    }

    it('takes a lock folder left empty by a holder that died between removing its name and the folder', async () => {
      await fs.mkdir(lockPath(), { recursive: true });
      await AuditLog.forWorkspace(root, { lockTimeoutMs: 5000, staleLockMs: 500 }).append(event(1));
      assert.equal((await verifyAuditLog(root)).entries, 1);
      await lockReleased(lockPath());
    });

    it('holds the lock as a folder with only its holder inside, which git never adds', async () => {
      const log = AuditLog.forWorkspace(root);
      await log.append(event(1));
      const inside = await fs.readdir(lockPath(), { withFileTypes: true });
      assert.equal(inside.length, 1);
      assert.ok(inside[0]!.isDirectory(), 'the holder is an empty folder');
      assert.match(inside[0]!.name, new RegExp(`^${process.pid}\\.\\d+\\.[0-9a-f]+\\.`));
      assert.deepEqual(await fs.readdir(path.join(lockPath(), inside[0]!.name)), []);
      await lockReleased(lockPath());
    });
  });

  describe('redactSecrets', () => {
    it('masks common secret shapes and keeps the rest', () => {
      const pem = '-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----';
      const input = {
        openai: 'key sk-proj-abcdefghijklmnop1234 end',
        github: ['ghp_ABCDEFGHIJKLMNOPQRSTuvwxyz0123456789'],
        nested: { aws: 'AKIAIOSFODNN7EXAMPLE', pem: `before\n${pem}\nafter` },
        header: 'Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.abc',
        curl: 'curl -H "Authorization: token abc123def456" https://x',
        password: 'hunter2',
        hash: 'a'.repeat(64),
        prose: 'the bearer of bad news; Basic setup; token count 42',
        n: 3,
        ok: true,
      };
      assert.deepEqual(redactSecrets(input), {
        openai: 'key [REDACTED:api-key] end',
        github: ['[REDACTED:github-token]'],
        nested: { aws: '[REDACTED:aws-key]', pem: 'before\n[REDACTED:private-key]\nafter' },
        header: 'Authorization: Bearer [REDACTED:auth]',
        curl: 'curl -H "Authorization: token [REDACTED:auth]" https://x',
        password: '[REDACTED]',
        hash: 'a'.repeat(64),
        prose: 'the bearer of bad news; Basic setup; token count 42',
        n: 3,
        ok: true,
      });
      assert.equal(redactSecrets('Bearer abcdefghijklmnop0123'), 'Bearer [REDACTED:auth]');
    });

    it('makes awkward values JSON-safe instead of throwing', () => {
      const cyclic: Record<string, unknown> = {
        big: 10n,
        when: new Date('2026-01-02T03:04:05Z'),
        err: new Error('sk-abcdefghijklmnopqrstu leaked'),
      };
      cyclic.self = cyclic;
      assert.deepEqual(redactSecrets(cyclic), {
        big: '10',
        when: '2026-01-02T03:04:05.000Z',
        err: { name: 'Error', message: '[REDACTED:api-key] leaked' },
        self: '[Circular]',
      });
    });

    it('is applied to data before it is written', async () => {
      const secret = 'ghp_ABCDEFGHIJKLMNOPQRSTuvwxyz0123456789';
      const entry = await AuditLog.forWorkspace(root).append(event(1, { env: { GITHUB_TOKEN: secret } }));
      assert.deepEqual(entry.data, { i: 1, env: { GITHUB_TOKEN: '[REDACTED:github-token]' } });
      assert.ok(!(await fs.readFile(path.join(root, SEG1), 'utf8')).includes(secret));
      assert.equal((await verifyAuditLog(root)).ok, true);
    });

    describe('configured secrets', () => {
      afterEach(() => configureAuditRedaction({}));

      it('masks configured literal values and patterns everywhere in the data, longest value first', async () => {
        configureAuditRedaction({ values: ['hunter2-corp', 'hunter2-corp-extended', 'abc'], patterns: ['corp-[0-9a-f]{8}'] });
        const entry = await AuditLog.forWorkspace(root).append(
          event(1, { command: 'deploy --pass hunter2-corp-extended', out: ['token hunter2-corp', 'id corp-deadbeef'], note: 'abc stays' }),
        );
        assert.deepEqual(entry.data, {
          i: 1,
          command: 'deploy --pass [REDACTED:configured]',
          out: ['token [REDACTED:configured]', 'id [REDACTED:configured]'],
          note: 'abc stays',
        });
        assert.ok(!(await fs.readFile(path.join(root, SEG1), 'utf8')).includes('hunter2'));
      });

      it('a log can carry its own configuration instead of the process one', async () => {
        const entry = await AuditLog.forWorkspace(root, { redact: { values: ['only-this-log'] } }).append(
          event(1, { text: 'only-this-log' }),
        );
        assert.equal(entry.data.text, '[REDACTED:configured]');
        assert.equal(redactSecrets({ text: 'only-this-log' }).text, 'only-this-log');
      });

      it('rejects a pattern that is not a regular expression or matches nothing but emptiness, keeping the old one', () => {
        configureAuditRedaction({ values: ['keep-me-secret'] });
        assert.throws(() => configureAuditRedaction({ patterns: ['(unclosed'] }), RedactionConfigError);
        assert.throws(() => configureAuditRedaction({ patterns: ['x*'] }), /matches the empty string/);
        assert.equal(redactSecrets({ s: 'keep-me-secret' }).s, '[REDACTED:configured]');
      });
    });
  });
});

import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { verifyAuditLog, type AuditEntry } from '../../src/core/audit';
import { listChains } from '../../src/core/audit/chains';
import { LINE_BLOCK_BYTES } from '../../src/core/audit/lines';
import { GENESIS_PREV, serializeEntry } from '../../src/core/audit/segments';
import { fullyVerifyChain } from '../../src/core/audit/verify';
import { sha256Hex } from '../../src/core/util/hash';

/**
 * Verify's quick pass (block reads, a byte scan of each line's envelope) must say exactly what
 * the full check says: same verdict, same counts and head, same first break and reason. Each
 * case writes one chain and compares the two.
 */

const CHAIN_DIR = '.warden/audit/sessions/s1';
const SEG1 = `${CHAIN_DIR}/audit-000001.jsonl`;

/** Canonical lines of a valid chain, one per data object, as the writer would write them. */
function chainLines(datas: Array<Record<string, unknown>>): string[] {
  let prev = GENESIS_PREV;
  return datas.map((data, i) => {
    const entry: AuditEntry = {
      v: 1,
      seq: i + 1,
      time: new Date(Date.parse('2026-12-06T10:00:00.000Z') + i * 1000).toISOString(),
      sessionId: 's1',
      actor: i % 2 ? { kind: 'human', id: 'ana@example.com', name: 'Ana', email: 'ana@example.com' } : { kind: 'agent', id: 'demo' },
      type: 'test.entry',
      data,
      prev,
    };
    const line = serializeEntry(entry);
    prev = sha256Hex(line);
    return line;
  });
}

describe('audit verify: the quick pass agrees with the full check', function () {
  // Several chains of a few MiB each, written and verified twice.
  this.timeout(60_000);
  let root: string;
  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'warden-verify-quick-'));
    await fs.mkdir(path.join(root, CHAIN_DIR), { recursive: true });
  });
  afterEach(async () => {
    await fs.rm(root, { recursive: true, force: true });
  });

  const write = (content: string | Buffer): Promise<void> => fs.writeFile(path.join(root, SEG1), content);

  /** verifyAuditLog's report of the one chain, after checking the full check says the same. */
  async function bothAgree(): Promise<Awaited<ReturnType<typeof fullyVerifyChain>>> {
    const [chain] = await listChains(root);
    assert.ok(chain);
    const full = await fullyVerifyChain(root, chain);
    const report = await verifyAuditLog(root);
    assert.deepEqual(report.chains[0], full, 'the quick pass and the full check report the same');
    return full;
  }

  /** A chain of ~3 KiB lines long enough to cross several read blocks. */
  const across = (count = Math.ceil((2.5 * LINE_BLOCK_BYTES) / 3000)): string[] =>
    chainLines(Array.from({ length: count }, (_, i) => ({ i, text: `${'x'.repeat(2900 + (i % 97))}` })));

  it('checks lines split across block boundaries, and a line longer than a block', async () => {
    const lines = across();
    const huge = chainLines([...lines.map((l) => (JSON.parse(l) as AuditEntry).data), { big: 'b'.repeat(LINE_BLOCK_BYTES + 12345) }]);
    await write(`${huge.join('\n')}\n`);
    const report = await bothAgree();
    assert.equal(report.ok, true);
    assert.equal(report.entries, huge.length);
    assert.equal(report.head, sha256Hex(huge[huge.length - 1] ?? ''));
  });

  it('finds a changed line right after a block boundary, with the full check reason', async () => {
    const lines = across();
    const text = `${lines.join('\n')}\n`;
    // The first line that starts after the first block boundary.
    let offset = 0;
    const index = lines.findIndex((line) => (offset += line.length + 1) > LINE_BLOCK_BYTES) + 1;
    lines[index] = (lines[index] ?? '').replace('"i":', '"i": ');
    assert.notEqual(`${lines.join('\n')}\n`, text);
    await write(`${lines.join('\n')}\n`);
    const report = await bothAgree();
    assert.equal(report.ok, false);
    assert.equal(report.firstBreak?.line, index + 2);
    assert.match(report.firstBreak?.reason ?? '', /entry was modified/);
  });

  it('keeps multibyte UTF-8 characters split by a block boundary whole', async () => {
    // Lines of 3-byte and 4-byte characters, so some character straddles the boundary.
    const lines = chainLines(
      Array.from({ length: Math.ceil((1.5 * LINE_BLOCK_BYTES) / 4000) }, (_, i) => ({ i, text: `é€😀${'€'.repeat(1000 + (i % 7))}` })),
    );
    const bytes = Buffer.from(`${lines.join('\n')}\n`, 'utf8');
    const at = bytes[LINE_BLOCK_BYTES] ?? 0;
    assert.ok(at >= 0x80 && at < 0xc0, 'a continuation byte sits right at the block boundary');
    await write(bytes);
    const report = await bothAgree();
    assert.equal(report.ok, true);
    assert.equal(report.entries, lines.length);
  });

  it('reports CRLF line ends (a checkout that converted them) as the full check does', async () => {
    const lines = chainLines([{ a: 1 }, { b: 2 }, { c: 3 }]);
    await write(`${lines.join('\r\n')}\r\n`);
    const report = await bothAgree();
    assert.equal(report.ok, false);
    assert.equal(report.firstBreak?.line, 2);
  });

  it('reports a final line without a newline as a torn write', async () => {
    const lines = chainLines([{ a: 1 }, { b: 2 }, { c: 3 }]);
    await write(lines.join('\n'));
    const report = await bothAgree();
    assert.equal(report.ok, false);
    assert.equal(report.firstBreak?.line, 3);
    assert.match(report.firstBreak?.reason ?? '', /no trailing newline \(torn write\?\)/);
  });

  it('parses the last line fully: a valid chain whose last entry is not a valid entry is broken', async () => {
    const datas = [{ a: 1 }, { b: 2 }];
    const lines = chainLines(datas);
    // The same last line with an envelope the scan accepts but data that is not JSON.
    lines[1] = (lines[1] ?? '').replace('"data":{"b":2}', '"data":{"b":2,}');
    await write(`${lines.join('\n')}\n`);
    const report = await bothAgree();
    assert.equal(report.ok, false);
    assert.equal(report.firstBreak?.line, 2);
    assert.match(report.firstBreak?.reason ?? '', /not valid JSON/);
  });

  it('accepts a valid entry in another key order or with whitespace, through the full check', async () => {
    const [first] = chainLines([{ a: 1 }]);
    const entry = JSON.parse(first ?? '') as AuditEntry;
    const reordered = JSON.stringify(
      { prev: entry.prev, seq: 1, v: 1, time: entry.time, sessionId: 's1', actor: entry.actor, type: entry.type, data: entry.data },
      null,
      0,
    ).replace(':1,', ': 1,');
    const second = serializeEntry({ ...entry, seq: 2, data: { b: 2 }, prev: sha256Hex(reordered) });
    await write(`${reordered}\n${second}\n`);
    const report = await bothAgree();
    assert.equal(report.ok, true);
    assert.equal(report.entries, 2);
  });

  it('reports an empty log and an empty line as the full check does', async () => {
    await write('');
    assert.equal((await bothAgree()).ok, true);
    const lines = chainLines([{ a: 1 }, { b: 2 }]);
    await write(`${lines[0]}\n\n${lines[1]}\n`);
    const report = await bothAgree();
    assert.equal(report.firstBreak?.line, 2);
    assert.match(report.firstBreak?.reason ?? '', /empty/);
  });
});

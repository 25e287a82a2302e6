import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { forEachLine, heldLineBlocks, keepingLineBlocks, LINE_BLOCK_BYTES } from '../../src/core/audit/lines';

/**
 * forEachLine reuses its read blocks from file to file (a team's log is a thousand small files):
 * no file may see another's bytes, whatever order, size or overlap the reads come in.
 */

/** Every line of a file as forEachLine hands it over: text, and whether a newline ended it. */
async function linesOf(file: string): Promise<Array<{ text: string; terminated: boolean; next: string | undefined }>> {
  const seen: Array<{ text: string; terminated: boolean; next: string | undefined }> = [];
  await forEachLine(file, (buf, start, end, nextStart, nextEnd) => {
    const terminated = end >= 0;
    const next = nextStart < 0 ? undefined : buf.toString('utf8', nextStart, nextEnd >= 0 ? nextEnd : -nextEnd - 1);
    seen.push({ text: buf.toString('utf8', start, terminated ? end : -end - 1), terminated, next });
    return undefined;
  });
  return seen;
}

function expected(lines: string[], lastTerminated: boolean): Array<{ text: string; terminated: boolean; next: string | undefined }> {
  return lines.map((text, i) => ({ text, terminated: i < lines.length - 1 || lastTerminated, next: lines[i + 1] }));
}

describe('audit line reading (forEachLine) with reused blocks', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'warden-lines-'));
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('a short file read after a long one sees only its own lines', async () => {
    const long = Array.from({ length: 20_000 }, (_, i) => `long line ${i} ${'x'.repeat(80)}`);
    const short = ['one', 'two'];
    await fs.writeFile(path.join(dir, 'long'), `${long.join('\n')}\n`);
    await fs.writeFile(path.join(dir, 'short'), `${short.join('\n')}\n`);
    await fs.writeFile(path.join(dir, 'torn'), 'whole\ntorn');
    assert.deepEqual(await linesOf(path.join(dir, 'long')), expected(long, true));
    assert.deepEqual(await linesOf(path.join(dir, 'short')), expected(short, true));
    assert.deepEqual(await linesOf(path.join(dir, 'torn')), expected(['whole', 'torn'], false));
    assert.deepEqual(await linesOf(path.join(dir, 'short')), expected(short, true));
  });

  it('a line longer than a block is read whole, and the files after it are unaffected', async () => {
    const huge = 'h'.repeat(LINE_BLOCK_BYTES + 12_345);
    await fs.writeFile(path.join(dir, 'huge'), `a\n${huge}\nz\n`);
    await fs.writeFile(path.join(dir, 'small'), 'b\nc\n');
    assert.deepEqual(await linesOf(path.join(dir, 'huge')), expected(['a', huge, 'z'], true));
    assert.deepEqual(await linesOf(path.join(dir, 'small')), expected(['b', 'c'], true));
  });

  it('many files read at once each get their own lines, and a visitor that stops early frees its block', async () => {
    const files = Array.from({ length: 24 }, (_, f) => Array.from({ length: 50 + f * 97 }, (_, i) => `file ${f} line ${i}`));
    await Promise.all(files.map((lines, f) => fs.writeFile(path.join(dir, `f${f}`), `${lines.join('\n')}\n`)));
    const stopped = await forEachLine(path.join(dir, 'f3'), (buf, start, end) =>
      buf.toString('utf8', start, end) === 'file 3 line 7' ? 'found' : undefined,
    );
    assert.equal(stopped, 'found');
    const read = await Promise.all(files.map((_, f) => linesOf(path.join(dir, `f${f}`))));
    read.forEach((lines, f) => assert.deepEqual(lines, expected(files[f] ?? [], true), `file ${f}`));
  });

  it('keeps blocks between the files of one pass and none once the pass is over', async () => {
    await fs.writeFile(path.join(dir, 'a'), 'a\n');
    await fs.writeFile(path.join(dir, 'b'), 'b\n');
    await keepingLineBlocks(async () => {
      await linesOf(path.join(dir, 'a'));
      assert.equal(heldLineBlocks(), 1, 'the block of the first file waits for the next');
      await linesOf(path.join(dir, 'b'));
      assert.equal(heldLineBlocks(), 1, 'the second file reused it');
    });
    assert.equal(heldLineBlocks(), 0, 'nothing is held once no reader is left');
    await linesOf(path.join(dir, 'a'));
    assert.equal(heldLineBlocks(), 0, 'a lone read holds nothing after it');
  });
});

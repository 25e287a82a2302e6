import { strict as assert } from 'node:assert';
import { applySelectedHunks, describeHunks, hunkChoiceProblem, splitHunks, UnknownHunkError } from '../../src/core/proposals/hunks';

const lines = (n: number, eol = '\n'): string => Array.from({ length: n }, (_, i) => `line ${i + 1}${eol}`).join('');

/** 30 lines with changes at lines 3 and 25: two hunks far apart. */
const OLD = lines(30);
const NEW = OLD.replace('line 3\n', 'LINE THREE\n').replace('line 25\n', 'LINE 25\nadded after 25\n');

describe('hunks of an edit proposal', () => {
  it('splits an edit into hunks with ids h<index> and 1-based ranges', () => {
    const hunks = splitHunks(OLD, NEW);
    assert.deepEqual(
      hunks.map((h) => [h.id, h.index, h.oldStart, h.oldLines, h.newStart, h.newLines]),
      [
        ['h0', 0, 1, 6, 1, 6],
        ['h1', 1, 22, 7, 22, 8],
      ],
    );
  });

  it('accepting every hunk gives the new text, none gives the old text', () => {
    assert.equal(applySelectedHunks(OLD, NEW, ['h0', 'h1']), NEW);
    assert.equal(applySelectedHunks(OLD, NEW, []), OLD);
  });

  it('accepting hunk 1 and rejecting hunk 2 writes only hunk 1', () => {
    const text = applySelectedHunks(OLD, NEW, ['h0']);
    assert.ok(text.includes('LINE THREE\n'));
    assert.ok(text.includes('line 25\n') && !text.includes('added after 25'));
    assert.equal(text, OLD.replace('line 3\n', 'LINE THREE\n'));
    assert.equal(applySelectedHunks(OLD, NEW, ['h1']), OLD.replace('line 25\n', 'LINE 25\nadded after 25\n'));
  });

  it('changes six unchanged lines apart are one hunk; seven apart are two adjacent hunks', () => {
    const near = OLD.replace('line 10\n', 'ten\n').replace('line 15\n', 'fifteen\n');
    assert.equal(splitHunks(OLD, near).length, 1);
    const apart = OLD.replace('line 10\n', 'ten\n').replace('line 18\n', 'eighteen\n');
    const hunks = splitHunks(OLD, apart);
    assert.equal(hunks.length, 2, 'adjacent hunks whose contexts touch but do not overlap stay two');
    assert.equal(applySelectedHunks(OLD, apart, ['h1']), OLD.replace('line 18\n', 'eighteen\n'));
    assert.equal(applySelectedHunks(OLD, apart, ['h0']), OLD.replace('line 10\n', 'ten\n'));
  });

  it('keeps a missing final newline on either side', () => {
    const oldText = `${lines(20)}last`;
    const newText = `${lines(20).replace('line 2\n', 'two\n')}last, changed`;
    assert.equal(splitHunks(oldText, newText).length, 2);
    assert.equal(applySelectedHunks(oldText, newText, ['h0']), `${lines(20).replace('line 2\n', 'two\n')}last`);
    assert.equal(applySelectedHunks(oldText, newText, ['h1']), `${lines(20)}last, changed`);
    // Adding a final newline is a change of the last line.
    assert.equal(applySelectedHunks('a\nb', 'a\nb\n', ['h0']), 'a\nb\n');
    assert.equal(applySelectedHunks('a\nb', 'a\nb\n', []), 'a\nb');
  });

  it('keeps CRLF line endings byte for byte', () => {
    const oldText = lines(30, '\r\n');
    const newText = oldText.replace('line 2\r\n', 'two\r\n').replace('line 28\r\n', 'twenty-eight\r\n');
    assert.equal(applySelectedHunks(oldText, newText, ['h1']), oldText.replace('line 28\r\n', 'twenty-eight\r\n'));
    assert.equal(applySelectedHunks(oldText, newText, ['h0', 'h1']), newText);
  });

  it('a create is one hunk: accepted writes the file, rejected leaves it empty', () => {
    const hunks = splitHunks(null, 'x\ny\n');
    assert.equal(hunks.length, 1);
    assert.equal(applySelectedHunks(null, 'x\ny\n', ['h0']), 'x\ny\n');
    assert.equal(applySelectedHunks(null, 'x\ny\n', []), '');
  });

  it('emptying a file (every line deleted) is one hunk', () => {
    assert.equal(splitHunks('a\nb\n', '').length, 1);
    assert.equal(applySelectedHunks('a\nb\n', '', ['h0']), '');
    assert.equal(applySelectedHunks('a\nb\n', '', []), 'a\nb\n');
  });

  it('pure insertions and deletions in the middle come out exact', () => {
    const inserted = OLD.replace('line 15\n', 'line 15\nnew A\nnew B\n').replace('line 2\n', '');
    assert.equal(applySelectedHunks(OLD, inserted, ['h1']), OLD.replace('line 15\n', 'line 15\nnew A\nnew B\n'));
    assert.equal(applySelectedHunks(OLD, inserted, ['h0']), OLD.replace('line 2\n', ''));
  });

  it('an unknown hunk id is an error, never silently dropped', () => {
    assert.throws(() => applySelectedHunks(OLD, NEW, ['h0', 'h7']), UnknownHunkError);
  });

  it('a hunk choice must decide every hunk exactly once', () => {
    assert.equal(hunkChoiceProblem(2, { accepted: [0], rejected: [1] }), undefined);
    assert.match(hunkChoiceProblem(2, { accepted: [0], rejected: [] }) ?? '', /Decide every hunk/);
    assert.match(hunkChoiceProblem(2, { accepted: [0], rejected: [0, 1] }) ?? '', /both accepted and rejected/);
    assert.match(hunkChoiceProblem(2, { accepted: [2], rejected: [0] }) ?? '', /out of range/);
    assert.equal(describeHunks([2, 0]), 'hunks 1 and 3');
    assert.equal(describeHunks([1]), 'hunk 2');
  });
});

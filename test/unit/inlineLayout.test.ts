import { strict as assert } from 'node:assert';
import type { EditProposal } from '../../src/core/proposals/model';
import { applySelectedHunks } from '../../src/core/proposals/hunks';
import { hunksOf } from '../../src/vscode/inline/hunkDecisions';
import { GHOST_TEXT_MAX, ghostText, layoutProposal } from '../../src/vscode/inline/hunkLayout';
import { sha256Hex } from '../../src/core/util/hash';

const base = `${Array.from({ length: 20 }, (_, i) => `line ${i + 1}`).join('\n')}\n`;
const proposed = `header\n${base.replace('line 10\n', 'line ten\n')}footer\n`;

function edit(oldText: string, newText: string): EditProposal {
  return {
    kind: 'edit',
    id: 'p1',
    sessionId: 's',
    createdAt: '',
    state: 'pending',
    title: 'Edit a',
    origin: 'fs/write_text_file',
    path: 'a',
    oldText,
    newText,
    baseHash: sha256Hex(oldText),
    newHash: sha256Hex(newText),
    diff: '',
  };
}

describe('Inline review layout and per-hunk application', () => {
  it('places each hunk at its first changed line: insertions, replacements, removals', () => {
    const layout = layoutProposal(edit(base, proposed), base, hunksOf);
    assert.ok(layout?.kind === 'placed');
    assert.deepEqual(
      layout.hunks.map((h) => [h.id, h.anchorLine, h.removed, h.insertions]),
      [
        ['h0', 0, [], [{ beforeLine: 0, lines: ['header'] }]],
        ['h1', 9, [9], [{ beforeLine: 10, lines: ['line ten'] }]],
        ['h2', 20, [], [{ beforeLine: 20, lines: ['footer'] }]],
      ],
    );
    assert.match(layout.hunks[1]?.patch ?? '', /^-line 10$/m);
  });

  it('follows text typed above the hunks (re-diffed on the fly), and reports a conflict on a changed hunk line', () => {
    const typed = `typed\n${base}`;
    const moved = layoutProposal(edit(base, proposed), typed, hunksOf);
    assert.ok(moved?.kind === 'placed' && moved.rediffed);
    assert.deepEqual(
      moved.hunks.map((h) => h.anchorLine),
      [1, 10, 21],
      'an insertion at the end sits above the empty last line',
    );
    const conflict = layoutProposal(edit(base, proposed), base.replace('line 10\n', 'line 10 (mine)\n'), hunksOf);
    assert.equal(conflict?.kind, 'conflict');
  });

  it('applies exactly the chosen hunks', () => {
    assert.equal(applySelectedHunks(base, proposed, ['h1']), base.replace('line 10\n', 'line ten\n'));
    assert.equal(applySelectedHunks(base, proposed, ['h0', 'h2']), `header\n${base}footer\n`);
    assert.equal(applySelectedHunks(base, proposed, ['h0', 'h1', 'h2']), proposed);
    assert.equal(applySelectedHunks(base, proposed, []), base);
  });
});

describe('ghost text of added lines', () => {
  it('shows every added line (joined, trimmed), not one line and a count', () => {
    assert.equal(
      ghostText(['function farewell(name) {', "  return 'Bye, ' + name;", '}']),
      "function farewell(name) { ⏎ return 'Bye, ' + name; ⏎ }",
    );
  });

  it('keeps blank lines as markers and clips only a very long insertion', () => {
    assert.equal(ghostText(['a', '', 'b']), 'a ⏎  ⏎ b');
    const long = ghostText(Array.from({ length: 200 }, (_, i) => `line ${i}`));
    assert.equal(long.length, GHOST_TEXT_MAX);
    assert.ok(long.endsWith('…'));
  });
});

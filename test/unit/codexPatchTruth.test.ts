import { strict as assert } from 'node:assert';
import type { EditProposal } from '../../src/core/proposals/model';
import { codexMisinformed, declinedButWrittenNote, landedFile, landedNote } from '../../src/core/session/codexPatchTruth';

const proposal = { id: 'p-1', path: 'src/a.js', newText: 'a\nB\nc\n' };
const applied = (text: string, change?: { kind: 'edited'; summary: string }) =>
  ({ kind: 'applied', proposal: {} as EditProposal, text, change, rediffed: false }) as const;

describe('Codex patches: what Codex is told about what Warden wrote', () => {
  it('a file written as Codex wrote it is news only read-only (its own apply could not write there)', () => {
    const file = landedFile(proposal, applied('a\nB\nc\n'))!;
    assert.equal(file.summary, undefined);
    assert.equal(codexMisinformed(file, 'copy'), false);
    assert.equal(landedNote(file, 'copy'), undefined);
    assert.equal(
      landedNote(file, 'readonly'),
      'src/a.js was written by Warden as you wrote it; your workspace is read-only, so your own apply could not write it and may have reported a failure, but the file already holds your change.',
    );
  });

  it("a file written with the reviewer's changes says how, with the diff from Codex's version to what was written", () => {
    const file = landedFile(
      proposal,
      applied('a\nX\nc\n', { kind: 'edited', summary: 'the reviewer edited your change to src/a.js before applying it' }),
    )!;
    const note = landedNote(file, 'copy')!;
    assert.match(
      note,
      /^src\/a\.js was written by Warden with the reviewer's changes \(the reviewer edited .*\); your copy now holds what was written\./,
    );
    assert.match(note, /-B\n\+X/);
    assert.doesNotMatch(note, /={10}/, 'no separator line from the diff library');
  });

  it('a change re-applied onto a file that had changed meanwhile is a change too', () => {
    const file = landedFile(proposal, applied('z\na\nB\nc\n'))!;
    assert.match(file.summary ?? '', /re-applied onto it as it is now/);
    assert.ok(codexMisinformed(file, 'copy'));
  });

  it('an outcome that was not applied is no landed file; a file written before a decline is told as such', () => {
    assert.equal(landedFile(proposal, { kind: 'stale', proposalId: 'p-1', detail: 'changed' }), undefined);
    const file = landedFile(proposal, applied('a\nB\nc\n'))!;
    assert.match(
      declinedButWrittenNote(file, 'NOTES.md changed'),
      /^src\/a\.js was written by Warden as you wrote it, although your patch was answered as declined: .*\(NOTES\.md changed\)/,
    );
  });
});

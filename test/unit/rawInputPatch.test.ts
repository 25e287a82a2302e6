import { strict as assert } from 'node:assert';
import { applyRawPatch, rawInputPatch } from '../../src/core/session/rawInputPatch';

// The shape GitHub Copilot CLI 1.0.102 sends in an edit permission's rawInput (recorded from the real agent).
const GREET = "function greet(name) {\n  return 'Hello, ' + name;\n}\n\nmodule.exports = { greet };\n";
const PATCH =
  '\ndiff --git a/workspaces/w/src/greet.js b/workspaces/w/src/greet.js\nindex 0000000..0000000 100644\n' +
  '--- a/workspaces/w/src/greet.js\n+++ b/workspaces/w/src/greet.js\n@@ -1,5 +1,5 @@\n function greet(name) {\n' +
  "-  return 'Hello, ' + name;\n+  return 'Hello, ' + name + '!';\n }\n \n module.exports = { greet };\n";

describe('edits an agent sends only as a unified diff in rawInput (Copilot CLI)', () => {
  it('reads { fileName, diff } and places the patch in the current file exactly', () => {
    const raw = rawInputPatch({ fileName: '/workspaces/w/src/greet.js', diff: PATCH });
    assert.deepEqual(raw, { path: '/workspaces/w/src/greet.js', patch: PATCH });
    assert.deepEqual(applyRawPatch(GREET, raw.patch), { ok: true, newText: GREET.replace('name;', "name + '!';") });
  });

  it('a patch that does not match the current file is not placed (never applied with fuzz)', () => {
    const outcome = applyRawPatch('something else entirely\n', PATCH);
    assert.equal(outcome.ok, false);
  });

  it('anything else in rawInput is not an edit: a command, a missing diff, text that is not a diff, several files', () => {
    assert.equal(rawInputPatch({ command: 'ls' }), undefined);
    assert.equal(rawInputPatch({ fileName: 'a.txt' }), undefined);
    assert.equal(rawInputPatch({ fileName: 'a.txt', diff: 'just some words' }), undefined);
    assert.equal(rawInputPatch(undefined), undefined);
    assert.equal(rawInputPatch({ fileName: 'a.txt', diff: PATCH + PATCH.replace(/greet\.js/g, 'other.js') }), undefined);
  });
});

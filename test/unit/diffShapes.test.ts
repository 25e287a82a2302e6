import { strict as assert } from 'node:assert';
import { wholeFileAfter } from '../../src/core/proposals/diffShapes';

const FILE = "function greet(name) {\n  return 'Hello, ' + name;\n}\n\nmodule.exports = { greet };\n";

describe('diff content shapes: every shape becomes the whole new file', () => {
  it('a whole file (Gemini CLI) is taken as is', () => {
    const after = FILE.replace('name;', "name + '!';");
    assert.equal(wholeFileAfter(FILE, FILE, after), after);
  });

  it('a hunk fragment (codex-acp) is put back into the current file', () => {
    const oldFragment = "function greet(name) {\n  return 'Hello, ' + name;\n}\n";
    const newFragment = "function greet(name) {\n  return 'Hello, ' + name + '!';\n}\n";
    assert.equal(wholeFileAfter(FILE, oldFragment, newFragment), FILE.replace('name;', "name + '!';"));
  });

  it('a fragment with $ patterns is placed literally', () => {
    assert.equal(wholeFileAfter('a\nb\nc\n', 'b\n', "$&$'\n"), "a\n$&$'\nc\n");
  });

  it('a create, or no old side, is the new text', () => {
    assert.equal(wholeFileAfter(null, null, 'x\n'), 'x\n');
    assert.equal(wholeFileAfter(FILE, undefined, 'x\n'), 'x\n');
    assert.equal(wholeFileAfter(FILE, null, 'x\n'), 'x\n');
  });

  it('a fragment that is absent or ambiguous is not guessed at', () => {
    assert.equal(wholeFileAfter(FILE, 'not in the file', 'y'), 'y');
    assert.equal(wholeFileAfter('a\na\n', 'a\n', 'b\n'), 'b\n');
  });
});

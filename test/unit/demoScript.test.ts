import { strict as assert } from 'node:assert';
import * as vm from 'node:vm';
import { planFor } from '../../src/agents/demo/script';

const greet = 'function greet(name) {\n  return `Hello, ${name}!`;\n}\n\nmodule.exports = { greet };\n';

describe('demo agent script', () => {
  it('on the sample workspace: asks to edit greet.js, creates a test, runs the tests', () => {
    const steps = planFor('add a farewell', { path: 'src/greet.js', content: greet });
    assert.deepEqual(
      steps.map((s) => s.kind),
      ['edit-with-permission', 'write', 'command'],
    );
    const edit = steps[0];
    assert.ok(edit?.kind === 'edit-with-permission');
    assert.match(edit.newText, /function farewell\(name\)/);
    assert.match(edit.newText, /module\.exports = \{ greet, farewell \};/);
    const run = steps[2];
    assert.ok(run?.kind === 'command');
    assert.deepEqual([run.command, ...run.args], ['node', '--test', 'test/']);
  });

  it('the edited greet.js and the created test really pass together', async () => {
    const steps = planFor('x', { path: 'src/greet.js', content: greet });
    const edit = steps[0];
    const test = steps[1];
    assert.ok(edit?.kind === 'edit-with-permission' && test?.kind === 'write');
    const mod = { exports: {} as Record<string, (n: string) => string> };
    vm.runInNewContext(edit.newText, { module: mod });
    assert.equal(mod.exports.farewell?.('Ada'), 'Goodbye, Ada!');
    assert.match(test.newText, /require\('\.\.\/src\/greet\.js'\)/);
  });

  it('"document" the sample: one write with a header and a footer, nothing else changed', () => {
    const steps = planFor('Document greet.js', { path: 'src/greet.js', content: greet });
    assert.deepEqual(
      steps.map((s) => s.kind),
      ['write'],
    );
    const write = steps[0];
    assert.ok(write?.kind === 'write' && write.path === 'src/greet.js');
    assert.ok(write.newText.startsWith('// greet.js:'));
    assert.ok(write.newText.includes(greet));
    assert.ok(write.newText.endsWith('// End of greet.js.\n'));
  });

  it('on any other workspace: notes in README, a new NOTES.md, ls', () => {
    const steps = planFor('tidy up', { path: 'README.md', content: '# X\n' });
    assert.deepEqual(
      steps.map((s) => s.kind),
      ['edit-with-permission', 'write', 'command'],
    );
    assert.ok(steps[0]?.kind === 'edit-with-permission' && steps[0].newText.includes('Asked: tidy up'));
  });
});

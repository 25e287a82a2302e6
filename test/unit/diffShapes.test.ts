import { strict as assert } from 'node:assert';
import { placeAgentDiff } from '../../src/core/proposals/diffContent';
import type { PermissionProposal } from '../../src/core/proposals/model';
import { autoDecide, CONTAINER, protocolRig } from '../support/protocolRig';

const FILE = 'const a = 1;\nconst b = 2;\nconst c = 3;\n';

describe('agent diff shapes are placed against the current file', () => {
  it('whole file: oldText equals the current file', () => {
    assert.deepEqual(placeAgentDiff(FILE, { oldText: FILE, newText: 'x\n' }), { ok: true, shape: 'whole', newText: 'x\n' });
  });

  it('hunk fragment: oldText is only part of the file, the rest is kept around it', () => {
    const placed = placeAgentDiff(FILE, { oldText: 'const b = 2;\n', newText: 'const b = 20;\nconst bb = 21;\n' });
    assert.deepEqual(placed, { ok: true, shape: 'fragment', newText: 'const a = 1;\nconst b = 20;\nconst bb = 21;\nconst c = 3;\n' });
  });

  it('a fragment written with LF endings is placed in a CRLF file', () => {
    const crlf = FILE.replace(/\n/g, '\r\n');
    const placed = placeAgentDiff(crlf, { oldText: 'const b = 2;\n', newText: 'const b = 20;\n' });
    assert.deepEqual(placed, { ok: true, shape: 'fragment', newText: 'const a = 1;\r\nconst b = 20;\r\nconst c = 3;\r\n' });
  });

  it('new file: oldText null and no file yet is a create; an existing file is replaced whole', () => {
    assert.deepEqual(placeAgentDiff(null, { oldText: null, newText: 'new\n' }), { ok: true, shape: 'create', newText: 'new\n' });
    assert.deepEqual(placeAgentDiff(null, { newText: 'new\n' }), { ok: true, shape: 'create', newText: 'new\n' });
    assert.deepEqual(placeAgentDiff(FILE, { oldText: null, newText: 'new\n' }), { ok: true, shape: 'whole', newText: 'new\n' });
  });

  it('a hunk fragment as codex-acp sends it (a function with context) is put back into the current file', () => {
    const greet = "function greet(name) {\n  return 'Hello, ' + name;\n}\n\nmodule.exports = { greet };\n";
    const oldFragment = "function greet(name) {\n  return 'Hello, ' + name;\n}\n";
    const newFragment = "function greet(name) {\n  return 'Hello, ' + name + '!';\n}\n";
    assert.deepEqual(placeAgentDiff(greet, { oldText: oldFragment, newText: newFragment }), {
      ok: true,
      shape: 'fragment',
      newText: greet.replace('name;', "name + '!';"),
    });
  });

  it('a fragment with $ patterns is placed literally', () => {
    assert.deepEqual(placeAgentDiff('a\nb\nc\n', { oldText: 'b\n', newText: "$&$'\n" }), {
      ok: true,
      shape: 'fragment',
      newText: "a\n$&$'\nc\n",
    });
  });

  it('a fragment that is not in the file, appears twice, or is empty cannot be placed, and says why', () => {
    const missing = placeAgentDiff(FILE, { oldText: 'const z = 9;\n', newText: '' });
    assert.equal(missing.ok, false);
    assert.match((missing as { reason: string }).reason, /not in the current file/);
    const twice = placeAgentDiff('x\ny\nx\n', { oldText: 'x\n', newText: 'z\n' });
    assert.match((twice as { reason: string }).reason, /occurs 2 times/);
    assert.match((placeAgentDiff(FILE, { oldText: '', newText: 'q' }) as { reason: string }).reason, /empty fragment/);
    assert.match((placeAgentDiff(null, { oldText: 'a', newText: 'b' }) as { reason: string }).reason, /does not exist/);
  });

  describe('in a permission request', () => {
    const options = [
      { optionId: 'yes', name: 'Allow', kind: 'allow_once' as const },
      { optionId: 'no', name: 'Reject', kind: 'reject_once' as const },
    ];
    const ask = (oldText: string | null, newText: string) => ({
      sessionId: 'x',
      toolCall: {
        toolCallId: 't',
        kind: 'edit' as const,
        title: 'Edit src/a.js',
        content: [{ type: 'diff' as const, path: `${CONTAINER}/src/a.js`, oldText, newText }],
      },
      options,
    });

    it('a hunk fragment is shown as a whole-file diff against the current file, and the approved write is the placed text', async () => {
      const rig = protocolRig({ files: { 'src/a.js': FILE } });
      const decider = autoDecide(rig.store, () => ({ verdict: 'approve' }));
      const response = await rig.handlers.requestPermission(ask('const b = 2;\n', 'const b = 20;\n'));
      assert.deepEqual(response.outcome, { outcome: 'selected', optionId: 'yes' });
      const p = rig.store.all()[0] as PermissionProposal;
      assert.equal(p.edit?.shape, 'fragment');
      assert.equal(p.edit?.newText, 'const a = 1;\nconst b = 20;\nconst c = 3;\n');
      assert.match(p.edit.diff, /^ const a = 1;\n-const b = 2;\n\+const b = 20;\n const c = 3;$/m);
      // The agent then writes the whole placed file: granted by the permission, applied.
      await rig.handlers.writeTextFile({
        sessionId: 'x',
        path: `${CONTAINER}/src/a.js`,
        content: 'const a = 1;\nconst b = 20;\nconst c = 3;\n',
      });
      assert.equal(rig.disk.get('src/a.js'), 'const a = 1;\nconst b = 20;\nconst c = 3;\n');
      decider.dispose();
    });

    it('a fragment that cannot be located is shown as unlocated and approving it grants no write', async () => {
      const rig = protocolRig({ files: { 'src/a.js': FILE } });
      const decider = autoDecide(rig.store, (p) => ({ verdict: p.kind === 'permission' ? 'approve' : 'reject' }));
      await rig.handlers.requestPermission(ask('const q = 0;\n', 'const q = 1;\n'));
      const p = rig.store.all()[0] as PermissionProposal;
      assert.match(p.edit?.unlocated ?? '', /could not place this change/);
      // A write of the agent's bytes is not covered by the approval: it is a new proposal, which the reviewer rejects here.
      await assert.rejects(
        rig.handlers.writeTextFile({ sessionId: 'x', path: `${CONTAINER}/src/a.js`, content: 'const q = 1;\n' }),
        /rejected/,
      );
      assert.deepEqual(rig.writes, []);
      decider.dispose();
    });

    it('a new file (oldText null) is a create diff against /dev/null', async () => {
      const rig = protocolRig();
      const decider = autoDecide(rig.store, () => ({ verdict: 'approve' }));
      await rig.handlers.requestPermission(ask(null, 'hello\n'));
      const p = rig.store.all()[0] as PermissionProposal;
      assert.equal(p.edit?.shape, 'create');
      assert.equal(p.edit?.oldText, null);
      assert.match(p.edit.diff, /--- \/dev\/null/);
      decider.dispose();
    });
  });
});

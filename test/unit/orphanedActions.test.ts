import { strict as assert } from 'node:assert';
import { unifiedDiff } from '../../src/core/proposals/diff';
import type { CommandProposal, EditProposal, Reviewer } from '../../src/core/proposals/model';
import { applyOrphanedEdit, discardOrphaned, OrphanActionError } from '../../src/core/session/gate/orphans';
import { ProposalStore } from '../../src/core/proposals/store';
import { sha256Hex } from '../../src/core/util/hash';
import type { WorkspaceFiles } from '../../src/core/workspace/files';

const ada: Reviewer = { kind: 'human', name: 'Ada', source: 'test' };
const base = `${Array.from({ length: 10 }, (_, i) => `l${i}`).join('\n')}\n`;
const proposed = base.replace('l1\n', 'L1\n');

function setup(current: string) {
  const store = new ProposalStore();
  const state = { text: current, writes: [] as string[] };
  const files: WorkspaceFiles = {
    read: async () => state.text,
    write: async (_p, text) => {
      state.writes.push(text);
      state.text = text;
      return { diskHash: sha256Hex(text) };
    },
  };
  const audit: string[] = [];
  const deps = { store, files, record: async (_s: string, e: { type: string }) => audit.push(e.type) };
  const edit: EditProposal = {
    kind: 'edit',
    id: 'e1',
    sessionId: 's',
    createdAt: '',
    state: 'orphaned',
    title: 'Edit a',
    origin: 'fs/write_text_file',
    path: 'a',
    oldText: base,
    newText: proposed,
    baseHash: sha256Hex(base),
    newHash: sha256Hex(proposed),
    diff: unifiedDiff('a', base, proposed),
  };
  const command: CommandProposal = {
    kind: 'command',
    id: 'c1',
    sessionId: 's',
    createdAt: '',
    state: 'orphaned',
    title: 'Run rm',
    origin: 'terminal/create',
    argv: ['rm'],
    commandLine: 'rm',
    cwd: '/',
    env: {},
  };
  store.add(edit);
  store.add(command);
  return { store, state, deps, audit };
}

describe('What a human may do with an orphaned proposal', () => {
  it('"Apply anyway" writes an orphaned edit re-diffed onto the current text and audits it', async () => {
    const { store, state, deps, audit } = setup(`${base}mine\n`);
    const applied = await applyOrphanedEdit(deps, 'e1', ada);
    assert.equal(applied.state, 'applied');
    assert.deepEqual(state.writes, [`${proposed}mine\n`]);
    assert.deepEqual(audit, ['decision', 'proposal.rediffed', 'edit.applied']);
    assert.equal(store.get('e1')?.decision?.reviewer.name, 'Ada');
  });

  it('"Apply anyway" on a conflicting file marks it stale and writes nothing', async () => {
    const { store, state, deps } = setup(base.replace('l1\n', 'mine\n'));
    await assert.rejects(applyOrphanedEdit(deps, 'e1', ada), OrphanActionError);
    assert.deepEqual(state.writes, []);
    assert.equal(store.get('e1')?.state, 'stale');
  });

  it('a delete, a link or binary content found in the sandbox copy is never "applied anyway" (it carries no text to write)', async () => {
    for (const sandboxChange of [
      { change: 'delete', binary: false },
      { change: 'symlink', binary: false, linkTarget: '/etc/passwd' },
      { change: 'modify', binary: true, size: 9 },
    ] as const) {
      const { store, state, deps } = setup(base);
      store.add({ ...(store.get('e1') as EditProposal), id: 'sc', origin: 'sandbox/change', newText: '', newHash: '', sandboxChange });
      await assert.rejects(applyOrphanedEdit(deps, 'sc', ada), /found in the sandbox copy/);
      assert.deepEqual(state.writes, []);
    }
  });

  it('a command never runs without its agent: it can only be discarded', async () => {
    const { store, deps } = setup(base);
    await assert.rejects(applyOrphanedEdit(deps, 'c1', ada), /commands never run without it/);
    assert.equal((await discardOrphaned(deps, 'c1', ada)).state, 'rejected');
    assert.equal(store.get('c1')?.decision?.verdict, 'reject');
    await assert.rejects(discardOrphaned(deps, 'c1', ada), /not orphaned/);
  });
});

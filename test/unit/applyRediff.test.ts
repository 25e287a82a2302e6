import { strict as assert } from 'node:assert';
import type { Decision } from '../../src/core/proposals/model';
import type { WorkspaceFiles } from '../../src/core/workspace/files';
import { sha256Hex } from '../../src/core/util/hash';
import { handlerRig } from '../support/handlers';

const approve: Decision = {
  verdict: 'approve',
  reviewer: { kind: 'human', name: 'Ada', source: 'test' },
  decidedAt: '2026-01-01T00:00:00Z',
};
const base = `${Array.from({ length: 12 }, (_, i) => `line ${i + 1}`).join('\n')}\n`;
const proposed = base.replace('line 2\n', 'line two\n');

/** A file the test can change between the proposal and its approval (the user typing meanwhile). */
function liveFile(initial: string) {
  const state = { text: initial, writes: [] as string[] };
  const files: WorkspaceFiles = {
    read: async (p) => (p === 'src/a.js' ? state.text : null),
    write: async (_p, text) => {
      state.writes.push(text);
      state.text = text;
      return { diskHash: sha256Hex(text) };
    },
  };
  return { state, files };
}

async function pendingId(store: ReturnType<typeof handlerRig>['store']): Promise<string> {
  for (;;) {
    const p = store.pending()[0];
    if (p) return p.id;
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('Applying an approved edit whose file changed after the review', () => {
  it('carries the reviewed change onto the new text when it fits exactly, and audits proposal.rediffed', async () => {
    const { state, files } = liveFile(base);
    const { h, store, audit } = handlerRig({ deps: { files } });
    const write = h.writeTextFile({ sessionId: 'x', path: '/workspaces/demo/src/a.js', content: proposed });
    const id = await pendingId(store);
    state.text = `${base}line 13 typed by the user\n`;
    store.decide(id, approve);
    await write;
    assert.deepEqual(state.writes, [`${proposed}line 13 typed by the user\n`], "the user's line and the reviewed change, both");
    assert.equal(store.get(id)?.state, 'applied');
    assert.deepEqual(
      audit.map((e) => e.type).filter((t) => t.startsWith('proposal.') || t.startsWith('edit.')),
      ['proposal.rediffed', 'edit.applied'],
    );
  });

  it('never writes when the change no longer fits: the proposal is stale', async () => {
    const { state, files } = liveFile(base);
    const { h, store, audit } = handlerRig({ deps: { files } });
    const write = h.writeTextFile({ sessionId: 'x', path: '/workspaces/demo/src/a.js', content: proposed });
    const id = await pendingId(store);
    state.text = base.replace('line 2\n', 'line 2 edited by the user\n');
    store.decide(id, approve);
    await assert.rejects(write, /changed since the proposal was made/);
    assert.deepEqual(state.writes, []);
    assert.equal(store.get(id)?.state, 'stale');
    assert.ok(audit.some((e) => e.type === 'edit.stale'));
  });
});

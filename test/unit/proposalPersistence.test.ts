import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadSessions, ORPHANED_ON_LOAD, ProposalPersistence, saveSession, sessionFile } from '../../src/core/proposals/persistence';
import { ProposalStore } from '../../src/core/proposals/store';
import type { CommandProposal, EditProposal, Proposal } from '../../src/core/proposals/model';
import { sha256Hex } from '../../src/core/util/hash';

function edit(id: string, state: Proposal['state'] = 'pending', sessionId = 's-1'): EditProposal {
  return {
    kind: 'edit',
    id,
    sessionId,
    createdAt: '2026-01-01T00:00:00Z',
    state,
    title: 'Edit a.txt',
    origin: 'fs/write_text_file',
    path: 'a.txt',
    oldText: 'a\n',
    newText: 'b\n',
    baseHash: sha256Hex('a\n'),
    newHash: sha256Hex('b\n'),
    diff: '-a\n+b\n',
  };
}
function command(id: string, state: Proposal['state'] = 'pending'): CommandProposal {
  return {
    kind: 'command',
    id,
    sessionId: 's-1',
    createdAt: '2026-01-01T00:00:01Z',
    state,
    title: 'Run ls',
    origin: 'terminal/create',
    argv: ['ls'],
    commandLine: 'ls',
    cwd: '/w',
    env: {},
  };
}

describe('Proposal persistence: undecided proposals survive a reload', () => {
  let root: string;
  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'warden-persist-'));
  });
  afterEach(async () => {
    await fs.rm(root, { recursive: true, force: true });
  });

  it('round-trips pending proposals; they come back orphaned, applied ones are not kept', async () => {
    await saveSession(root, 's-1', [edit('p1'), command('p2'), edit('p3', 'applied'), edit('p4', 'pending', 's-2')]);
    const raw = JSON.parse(await fs.readFile(sessionFile(root, 's-1'), 'utf8')) as { proposals: Proposal[] };
    assert.deepEqual(
      raw.proposals.map((p) => p.id),
      ['p1', 'p2'],
      "only this session's undecided proposals are written",
    );
    const loaded = await loadSessions(root);
    assert.deepEqual(loaded.corrupt, []);
    assert.deepEqual(
      loaded.proposals.map((p) => [p.id, p.state, p.stateDetail]),
      [
        ['p1', 'orphaned', ORPHANED_ON_LOAD],
        ['p2', 'orphaned', ORPHANED_ON_LOAD],
      ],
    );
    const p1 = loaded.proposals[0];
    assert.ok(p1?.kind === 'edit' && p1.newText === 'b\n' && p1.diff === '-a\n+b\n', 'the diff stays reviewable');
  });

  it('git-ignores the proposals folder through .warden/.gitignore, keeping what the file already says', async () => {
    await fs.mkdir(path.join(root, '.warden'), { recursive: true });
    await fs.writeFile(path.join(root, '.warden', '.gitignore'), 'cache/');
    await saveSession(root, 's-1', [edit('p1')]);
    await saveSession(root, 's-1', [edit('p1')]);
    assert.equal(await fs.readFile(path.join(root, '.warden', '.gitignore'), 'utf8'), 'cache/\nproposals/\n');
  });

  it('removes the session file when nothing is left to review, and leaves no temp files', async () => {
    await saveSession(root, 's-1', [edit('p1')]);
    await saveSession(root, 's-1', [edit('p1', 'rejected')]);
    assert.deepEqual(await fs.readdir(path.join(root, '.warden', 'proposals')), []);
  });

  it('moves a corrupt or invalid file aside with a clear error and still loads the good ones', async () => {
    await saveSession(root, 's-1', [edit('p1')]);
    const dir = path.join(root, '.warden', 'proposals');
    await fs.writeFile(path.join(dir, 'broken.json'), '{"version":1,');
    await fs.writeFile(
      path.join(dir, 'invalid.json'),
      JSON.stringify({ version: 1, sessionId: 's-9', savedAt: 'x', proposals: [{ kind: 'edit', id: 7 }] }),
    );
    const loaded = await loadSessions(root, () => new Date('2026-02-03T04:05:06Z'));
    assert.deepEqual(
      loaded.proposals.map((p) => p.id),
      ['p1'],
    );
    assert.equal(loaded.corrupt.length, 2);
    assert.match(loaded.corrupt[0]?.error ?? '', /not JSON/);
    assert.match(loaded.corrupt[1]?.error ?? '', /invalid at proposals\.0\./);
    const names = (await fs.readdir(dir)).sort();
    assert.deepEqual(names, ['broken.json.corrupt-2026-02-03T04-05-06-000Z', 'invalid.json.corrupt-2026-02-03T04-05-06-000Z', 's-1.json']);
    assert.equal(await fs.readFile(path.join(dir, names[0]!), 'utf8'), '{"version":1,', 'the bytes are kept as they were');
  });

  it('a session id cannot escape the proposals folder', () => {
    assert.equal(path.dirname(sessionFile(root, '../../etc/passwd')), path.join(root, '.warden', 'proposals'));
  });

  it('ProposalPersistence mirrors store changes to disk and loads them back into a fresh store as orphaned', async () => {
    const errors: unknown[] = [];
    const store = new ProposalStore();
    const persistence = new ProposalPersistence({ store, rootFor: () => root, onError: (e) => errors.push(e), delayMs: 1 });
    store.add(edit('p1'));
    store.add(command('p2'));
    await persistence.flush();
    store.orphanSession('s-1', 'Session ended: the extension was deactivated');
    await persistence.flush();
    persistence.dispose();

    const fresh = new ProposalStore();
    const again = new ProposalPersistence({ store: fresh, rootFor: () => root, onError: (e) => errors.push(e), delayMs: 1 });
    const loaded = await again.load(root);
    assert.equal(loaded.proposals.length, 2);
    assert.deepEqual(
      fresh.all().map((p) => p.state),
      ['orphaned', 'orphaned'],
    );
    assert.equal(fresh.pending().length, 0, 'nothing loaded is pending: no session can apply it');
    fresh.setState('p2', 'rejected', 'Discarded by the reviewer');
    await again.flush();
    const left = await loadSessions(root);
    assert.deepEqual(
      left.proposals.map((p) => p.id),
      ['p1'],
    );
    again.dispose();
    assert.deepEqual(errors, []);
  });
});

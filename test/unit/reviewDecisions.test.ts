import { strict as assert } from 'node:assert';
import { decisionFor, ReviewChoiceError } from '../../src/core/proposals/decisions';
import type { CommandProposal, EditProposal, PermissionProposal, Proposal, Reviewer } from '../../src/core/proposals/model';
import type { RunningCommand } from '../../src/core/sandbox/types';
import { sha256Hex } from '../../src/core/util/hash';
import { AgentNotes, withNotes } from '../../src/core/session/agentNotes';
import { handlerRig } from '../support/handlers';
import { ProposalStore } from '../../src/core/proposals/store';
import { ProposalGate } from '../../src/core/session/gate';
import { HunkChoices } from '../../src/core/proposals/hunkChoices';

const reviewer: Reviewer = { kind: 'human', name: 'Ada', source: 'test' };
const lines = (n: number): string => Array.from({ length: n }, (_, i) => `line ${i + 1}\n`).join('');
const OLD = lines(30);
const NEW = OLD.replace('line 3\n', 'LINE THREE\n').replace('line 25\n', 'LINE 25\n');

/** Handlers over an in-memory workspace that really records writes and commands. */
function rig(policyText?: string) {
  const disk = new Map<string, string>([['src/a.txt', OLD]]);
  const ran: string[][] = [];
  const notes = new AgentNotes();
  const { h, store, audit } = handlerRig({
    ...(policyText === undefined ? {} : { policyText }),
    deps: {
      notes,
      files: {
        read: async (p) => disk.get(p) ?? null,
        write: async (p, text) => {
          disk.set(p, text);
          return { diskHash: sha256Hex(text) };
        },
      },
      sandbox: {
        ...sandbox(),
        runCommand: async (argv: string[]) => {
          ran.push(argv);
          return fakeRunning();
        },
      },
    },
  });
  return { h, store, audit, disk, ran, notes };
}

function sandbox() {
  return {
    containerId: 'c',
    workspaceFolder: '/workspaces/demo',
    agentsFolder: '/opt/warden/agents',
    image: 'img',
    execAgent: async () => {
      throw new Error('not used');
    },
    runCommand: async () => fakeRunning(),
    stop: async () => undefined,
  };
}

function fakeRunning(): RunningCommand {
  return {
    exited: Promise.resolve({ exitCode: 0, signal: null }),
    output: () => ({ text: '', truncated: false }),
    kill: async () => undefined,
  };
}

async function pendingProposal<P>(store: ReturnType<typeof rig>['store']): Promise<P> {
  // Bounded by time, not ticks: the first proposal of a run waits on cold module loads and fs calls.
  const deadline = Date.now() + 5000;
  while (store.pending().length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  const proposal = store.pending()[0];
  assert.ok(proposal, 'a proposal is pending');
  return proposal as P;
}

describe('per-hunk and edited decisions', () => {
  it('accept hunk 1, reject hunk 2: only hunk 1 is written, audited with the hunks and the new hash, and the agent is told the truth (a success that says what changed, and a note for its next instruction)', async () => {
    const { h, store, audit, disk, notes } = rig();
    const write = h.writeTextFile({ sessionId: 'x', path: '/workspaces/demo/src/a.txt', content: NEW });
    const proposal = await pendingProposal<EditProposal>(store);
    store.decide(proposal.id, decisionFor(proposal, { kind: 'hunks', accepted: [0], rejected: [1], newHash: proposal.newHash }, reviewer));
    const result = await write;
    assert.deepEqual(result._meta, {
      warden: {
        appliedWithChanges: {
          path: 'src/a.txt',
          kind: 'hunks',
          summary: (result._meta as { warden: { appliedWithChanges: { summary: string } } }).warden.appliedWithChanges.summary,
          proposalId: proposal.id,
        },
      },
    });
    assert.match(JSON.stringify(result._meta), /the reviewer accepted hunk 1 and rejected hunk 2/);
    const told = notes.take();
    assert.equal(told.length, 1);
    assert.match(told[0]!, /^src\/a.txt was written with the reviewer's changes \(the reviewer accepted hunk 1 and rejected hunk 2/);
    assert.match(withNotes('next task', told), /^\[Warden\] .*Read these files again.*\n- src\/a.txt was written.*\n\nnext task$/s);
    assert.deepEqual(notes.take(), [], 'a note is told once');
    const expected = OLD.replace('line 3\n', 'LINE THREE\n');
    assert.equal(disk.get('src/a.txt'), expected);
    const done = store.get(proposal.id) as EditProposal;
    assert.equal(done.state, 'applied');
    assert.equal(done.appliedHash, sha256Hex(expected));
    const applied = audit.find((e) => e.type === 'edit.applied');
    assert.deepEqual(applied?.data.hunks, { accepted: [0], rejected: [1] });
    assert.equal(applied?.data.reviewedHash, sha256Hex(expected));
    assert.deepEqual(audit.find((e) => e.type === 'decision')?.data.hunks, { accepted: [0], rejected: [1] });
  });

  it('edited content is what is written and audited (edited: true, its hash), and the agent is told', async () => {
    const { h, store, audit, disk, notes } = rig();
    const write = h.writeTextFile({ sessionId: 'x', path: '/workspaces/demo/src/a.txt', content: NEW });
    const proposal = await pendingProposal<EditProposal>(store);
    const edited = `${NEW}reviewer's line\n`;
    store.decide(proposal.id, decisionFor(proposal, { kind: 'editedText', text: edited }, reviewer));
    assert.match(JSON.stringify((await write)._meta), /the reviewer edited your change to src\/a.txt/);
    assert.match(notes.take()[0] ?? '', /the reviewer edited your change to src\/a.txt/);
    assert.equal(disk.get('src/a.txt'), edited);
    const applied = audit.find((e) => e.type === 'edit.applied');
    assert.equal(applied?.data.edited, true);
    assert.equal(applied?.data.reviewedHash, sha256Hex(edited));
    assert.equal(applied?.data.proposedHash, sha256Hex(NEW));
    assert.match(String(audit.find((e) => e.type === 'decision')?.data.editedDiff), /\+reviewer's line/);
  });

  it("a permission's edit accepted with the reviewer's text: the write that follows carries it (born approved with the edit, told as applied with changes)", async () => {
    const { h, store, disk, notes } = rig();
    const permission = h.requestPermission({
      sessionId: 'x',
      toolCall: {
        toolCallId: 't1',
        kind: 'edit',
        title: 'Edit a.txt',
        content: [{ type: 'diff', path: '/workspaces/demo/src/a.txt', oldText: OLD, newText: NEW }],
      },
      options: [
        { optionId: 'yes', name: 'Yes', kind: 'allow_once' },
        { optionId: 'no', name: 'No', kind: 'reject_once' },
      ],
    });
    const asked = await pendingProposal<PermissionProposal>(store);
    const edited = `${NEW}reviewer's line\n`;
    store.decide(asked.id, decisionFor(asked, { kind: 'editedText', text: edited, newHash: asked.edit!.newHash }, reviewer));
    assert.deepEqual((await permission).outcome, { outcome: 'selected', optionId: 'yes' });
    const result = await h.writeTextFile({ sessionId: 'x', path: '/workspaces/demo/src/a.txt', content: NEW });
    assert.match(JSON.stringify(result._meta), /the reviewer edited your change to src\/a.txt/);
    assert.equal(disk.get('src/a.txt'), edited);
    const write = store.all().find((p) => p.kind === 'edit')!;
    assert.deepEqual([write.state, write.decision?.editedText, write.decision?.reviewer.source], ['applied', edited, 'earlier approval']);
    assert.deepEqual(
      write.decision?.grantedBy,
      { proposalId: asked.id, title: 'Edit a.txt', approvedBy: 'Ada' },
      'the history names the approval',
    );
    assert.ok(write.kind === 'edit' && write.appliedDiff?.includes("+reviewer's line"), 'the history can show what was written');
    assert.equal(notes.take().length, 1);
  });

  it("a permission's hunks chosen one by one (as the panel does): the permission is accepted with those hunks and the write carries only them", async () => {
    const { h, store, disk } = rig();
    const permission = h.requestPermission({
      sessionId: 'x',
      toolCall: {
        toolCallId: 't2',
        kind: 'edit',
        title: 'Edit a.txt',
        content: [{ type: 'diff', path: '/workspaces/demo/src/a.txt', oldText: OLD, newText: NEW }],
      },
      options: [
        { optionId: 'yes', name: 'Yes', kind: 'allow_once' },
        { optionId: 'no', name: 'No', kind: 'reject_once' },
      ],
    });
    const asked = await pendingProposal<PermissionProposal>(store);
    const hunks = new HunkChoices({
      store,
      review: async (id, choice) => void store.decide(id, decisionFor(store.get(id)!, choice, reviewer)),
    });
    await hunks.choose(asked.id, 'h0', 'approve', asked.edit!.newHash);
    assert.deepEqual(hunks.choicesOf(store.get(asked.id)!), { h0: 'approve' }, 'the panel sees the choice so far');
    assert.equal(store.get(asked.id)?.state, 'pending');
    await hunks.choose(asked.id, 'h1', 'reject', asked.edit!.newHash);
    assert.deepEqual(store.get(asked.id)?.decision?.hunks, { accepted: [0], rejected: [1] });
    assert.deepEqual((await permission).outcome, { outcome: 'selected', optionId: 'yes' });
    const result = await h.writeTextFile({ sessionId: 'x', path: '/workspaces/demo/src/a.txt', content: NEW });
    assert.match(JSON.stringify(result._meta), /accepted hunk 1 and rejected hunk 2/);
    assert.equal(disk.get('src/a.txt'), OLD.replace('line 3\n', 'LINE THREE\n'), 'only the accepted hunk is written');
  });

  it('hunk choices on a permission are pinned to the diff seen, and refused on a permission without an editable edit', async () => {
    const store = new ProposalStore();
    const base = {
      kind: 'permission' as const,
      id: 'perm',
      sessionId: 's',
      createdAt: 'now',
      state: 'pending' as const,
      origin: 'session/request_permission',
      title: 'Edit a.txt',
      toolKind: 'edit',
      options: [],
    };
    store.add({ ...base, edit: { path: 'src/a.txt', oldText: OLD, newText: NEW, newHash: sha256Hex(NEW), diff: '' } });
    store.add({ ...base, id: 'cmd', title: 'Run it', toolKind: 'execute', commandLine: 'make' });
    const hunks = new HunkChoices({ store, review: async () => undefined });
    await assert.rejects(hunks.choose('perm', 'h0', 'approve', sha256Hex('older')), /re-diffed since you looked at it/);
    await assert.rejects(hunks.choose('cmd', 'h0', 'approve'), /has no hunks to decide one by one/);
  });

  it('a permission accepted with changes does not decide a write against another base: a human decides it again', async () => {
    const store = new ProposalStore();
    const gate = new ProposalGate({
      sessionId: 's',
      store,
      files: { read: async () => OLD, write: async (_p, text) => ({ diskHash: sha256Hex(text) }) },
      record: async () => undefined,
      agentActor: () => ({ kind: 'agent', id: 'a' }),
    });
    const asked = await gate.propose<PermissionProposal>({
      kind: 'permission',
      origin: 'session/request_permission',
      title: 'Edit a.txt',
      toolKind: 'edit',
      options: [],
      edit: { path: 'src/a.txt', oldText: OLD, newText: NEW, newHash: sha256Hex(NEW), diff: '' },
    });
    store.decide(asked.id, decisionFor(asked, { kind: 'hunks', accepted: [0], rejected: [1], newHash: sha256Hex(NEW) }, reviewer));
    const edit = (oldText: string) => ({
      kind: 'edit' as const,
      origin: 'sandbox/change',
      title: 'Edit src/a.txt',
      path: 'src/a.txt',
      oldText,
      newText: NEW,
      baseHash: sha256Hex(oldText),
      newHash: sha256Hex(NEW),
      diff: '',
    });
    const same = await gate.propose<EditProposal>(edit(OLD), { grantedBy: asked.id });
    assert.deepEqual([same.state, same.decision?.hunks], ['approved', { accepted: [0], rejected: [1] }]);
    const other = await gate.propose<EditProposal>(edit(`${OLD}more\n`), { grantedBy: asked.id });
    assert.equal(other.state, 'pending', 'the hunks were chosen against another file: never applied blind');
  });

  it('a hunk decision made against an older diff is refused (re-diffed since)', () => {
    const proposal = {
      kind: 'edit',
      id: 'p',
      state: 'pending',
      origin: 'fs/write_text_file',
      title: 'Edit a',
      newHash: 'now',
      oldText: OLD,
      newText: NEW,
      path: 'a',
    } as EditProposal;
    assert.throws(
      () => decisionFor(proposal, { kind: 'hunks', accepted: [0], rejected: [1], newHash: 'before' }, reviewer),
      ReviewChoiceError,
    );
    assert.equal(
      decisionFor({ ...proposal, newHash: 'now' }, { kind: 'hunks', accepted: [], rejected: [0, 1], newHash: 'now' }, reviewer).verdict,
      'reject',
    );
    const all = decisionFor(proposal, { kind: 'hunks', accepted: [0, 1], rejected: [], newHash: 'now' }, reviewer);
    assert.equal(all.verdict, 'approve');
    assert.equal(all.hunks, undefined, 'accepting every hunk is a plain approve');
  });

  it("an edited command runs instead of the agent's, is checked by the policy again, and the agent is told", async () => {
    const { h, store, audit, ran } = rig(
      // The team asks for every command (not the default): the edit path needs an ask.
      '{"defaults": {"command": "ask"}, "commands": [{"id": "no-curl", "match": "curl *", "decision": "deny", "reason": "no network"}]}',
    );
    const created = h.createTerminal({ sessionId: 'x', command: 'npm test' });
    const proposal = await pendingProposal<CommandProposal>(store);
    store.decide(proposal.id, decisionFor(proposal, { kind: 'editedCommand', commandLine: 'npm test -- --grep greet' }, reviewer));
    const response = await created;
    assert.deepEqual(ran, [['sh', '-c', 'npm test -- --grep greet']]);
    assert.deepEqual(response._meta, { warden: { editedCommand: 'npm test -- --grep greet', proposedCommandLine: 'npm test' } });
    const edited = audit.find((e) => e.type === 'command.edited');
    assert.equal(edited?.data.commandLine, 'npm test -- --grep greet');
    assert.equal((store.get(proposal.id) as CommandProposal).proposedCommandLine, 'npm test');
    const output = await h.terminalOutput({ sessionId: 'x', terminalId: response.terminalId });
    assert.match(
      output.output,
      /^\[warden\] The reviewer edited your command before it ran\.\n\[warden\] You asked for: npm test\n\[warden\] It ran instead: npm test -- --grep greet\n/,
      'the agent reads it in the output',
    );
  });

  it('an edited command the policy denies is refused naming the rule, and nothing runs', async () => {
    const { h, store, audit, ran } = rig(
      // The team asks for every command (not the default): the edit path needs an ask.
      '{"defaults": {"command": "ask"}, "commands": [{"id": "no-curl", "match": "curl *", "decision": "deny", "reason": "no network"}]}',
    );
    const created = h.createTerminal({ sessionId: 'x', command: 'npm test' });
    const proposal = await pendingProposal<CommandProposal>(store);
    store.decide(proposal.id, decisionFor(proposal, { kind: 'editedCommand', commandLine: 'curl http://example.com' }, reviewer));
    await assert.rejects(
      created,
      /edited the command npm test to curl http:\/\/example.com, and the edited command was denied by policy rule no-curl: .*no network/,
    );
    assert.deepEqual(ran, []);
    assert.equal(store.get(proposal.id)?.state, 'failed');
    assert.equal(audit.find((e) => e.type === 'refused')?.data.ruleId, 'no-curl');
  });
});

describe('a session that ends while the agent waits for a decision', () => {
  it('a write is refused saying no decision was made and nothing was applied (not a bare "Internal error"); a permission request is answered "cancelled"', async () => {
    const { h, store, disk } = rig();
    const write = h.writeTextFile({ sessionId: 'x', path: '/workspaces/demo/src/a.txt', content: NEW });
    const proposal = await pendingProposal<EditProposal>(store);
    store.orphanSession(proposal.sessionId, 'kill switch pulled');
    await assert.rejects(write, (error: Error & { code?: number; data?: { orphaned?: boolean } }) => {
      assert.equal(error.code, -32000);
      assert.match(error.message, /^No decision was made \(kill switch pulled\); nothing was applied or run\.$/);
      assert.equal(error.data?.orphaned, true);
      return true;
    });
    assert.equal(disk.get('src/a.txt'), OLD, 'nothing was written');

    const asked = h.requestPermission({
      sessionId: 'x',
      toolCall: { toolCallId: 't1', title: 'Fetch something', kind: 'fetch' },
      options: [
        { optionId: 'ok', name: 'Allow', kind: 'allow_once' },
        { optionId: 'no', name: 'Reject', kind: 'reject_once' },
      ],
    });
    const permission = await pendingProposal<Proposal>(store);
    store.orphanSession(permission.sessionId, 'stopped by the user');
    assert.deepEqual(await asked, { outcome: { outcome: 'cancelled' } });
  });
});

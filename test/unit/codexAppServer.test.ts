import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { CodexAppServerConnection } from '../../src/core/agent/codex/appServerConnection';
import type { CommandProposal, EditProposal, QuestionProposal } from '../../src/core/proposals/model';
import { AgentNotes } from '../../src/core/session/agentNotes';
import { CodexApprovals } from '../../src/core/session/codexApprovals';
import { autoDecide, CONTAINER, protocolRig, spawnAgent } from '../support/protocolRig';

const FAKE = path.resolve(__dirname, '../fixtures/agents/fake-codex-app-server.mjs');
const FILES = { 'src/a.js': 'first\nold line\nlast\n' };

/** The scripted app-server as a real process, driven through Warden's real connection and approvals. */
async function run(options: {
  scenario?: string;
  decide: Parameters<typeof autoDecide>[1];
  decisionTimeoutMs?: number;
  policyText?: string;
  /** A private copy: what Warden writes into it (afterWrite) is collected here. */
  copyWrites?: Array<[string, string]>;
}) {
  const rig = protocolRig({
    files: FILES,
    ...(options.decisionTimeoutMs ? { decisionTimeoutMs: options.decisionTimeoutMs } : {}),
    ...(options.policyText ? { policyText: options.policyText } : {}),
  });
  rig.deps.notes = new AgentNotes();
  const copyWrites = options.copyWrites;
  if (copyWrites) {
    rig.deps.sandbox = { ...rig.deps.sandbox, copyHostPath: '/host/copy' };
    rig.deps.afterWrite = async (p, text) => void copyWrites.push([p, text]);
  }
  const agent = spawnAgent(FAKE, { FAKE_CODEX_SCENARIO: options.scenario ?? 'normal', FAKE_CODEX_FILE: `${CONTAINER}/src/a.js` });
  const connection = new CodexAppServerConnection(agent, new CodexApprovals(rig.deps));
  const decider = autoDecide(rig.store, options.decide);
  const info = await connection.open({ cwd: CONTAINER });
  return { rig, agent, connection, info, decider };
}

describe('Codex app-server: a scripted app-server process through the real client and approvals', function () {
  this.timeout(30_000);

  it("a command approval is a command proposal with Codex's cwd; the patch is one edit per file against the current file; approved means accept and applied", async () => {
    const { rig, agent, connection, info, decider } = await run({ decide: () => ({ verdict: 'approve' }) });
    try {
      assert.equal(info.protocol, 'codex-app-server');
      assert.equal(info.agentSessionId, 'thread-1');
      assert.equal(info.agentName, 'fake-codex');
      const stop = await connection.prompt('run the tests and patch a.js');
      assert.equal(stop, 'end_turn');
      const message = rig.events
        .filter((e) => e.type === 'agent-message')
        .map((e) => (e as { text: string }).text)
        .join('');
      const [decisions, ...steered] = message.split('\nsteer: ');
      assert.equal(decisions, 'command=accept patch=accept');
      // Read-only, Codex's own apply cannot write: it learns in its turn that Warden wrote the files.
      assert.equal(steered.length, 1);
      assert.match(steered[0]!, /^\[Warden\] About the patch you just applied/);
      assert.match(steered[0]!, /- src\/a\.js was written by Warden as you wrote it; your workspace is read-only/);
      assert.match(steered[0]!, /- NOTES\.md was written by Warden as you wrote it/);

      const command = rig.store.all().find((p): p is CommandProposal => p.kind === 'command')!;
      assert.equal(command.commandLine, 'npm test');
      assert.equal(command.cwd, CONTAINER);
      assert.equal(command.origin, 'item/commandExecution/requestApproval');
      assert.equal(command.state, 'applied', 'item/completed recorded the result Codex reported');
      assert.equal(command.result?.exitCode, 0);

      const edits = rig.store.all().filter((p): p is EditProposal => p.kind === 'edit');
      assert.deepEqual(
        edits.map((e) => [e.path, e.state]),
        [
          ['src/a.js', 'applied'],
          ['NOTES.md', 'applied'],
        ],
      );
      assert.equal(edits[0]!.oldText, FILES['src/a.js']);
      assert.equal(edits[0]!.newText, 'first\nnew line\nlast\n');
      assert.match(edits[0]!.diff, /-old line\n\+new line/);
      assert.equal(edits[1]!.oldText, null);
      assert.equal(rig.disk.get('src/a.js'), 'first\nnew line\nlast\n');
      assert.equal(rig.disk.get('NOTES.md'), '# Notes\n');
      assert.ok(
        rig.events.some((e) => e.type === 'plan'),
        'the plan reached the session view',
      );
      assert.ok(rig.events.some((e) => e.type === 'tool-call' && e.kind === 'edit' && e.content?.some((c) => c.type === 'diff')));
      assert.ok(rig.audit.some((a) => a.type === 'command.result' && a.data.ranBy === 'codex'));
    } finally {
      decider.dispose();
      connection.close();
      await agent.kill();
    }
  });

  it('a patch accepted with edited text is answered accept, and Codex is told in its turn (turn/steer) what was written, with the diff against its version', async () => {
    const edited = 'first\nreviewer line\nlast\n';
    const { rig, agent, connection, decider } = await run({
      decide: (p) => (p.kind === 'edit' && p.path === 'src/a.js' ? { verdict: 'approve', editedText: edited } : { verdict: 'approve' }),
    });
    try {
      await connection.prompt('go');
      const message = agentMessage(rig.events);
      assert.match(message, /^command=accept patch=accept\n/, 'accept: the write happened (decline would say "rejected by user")');
      assert.equal(rig.disk.get('src/a.js'), edited);
      assert.match(
        message,
        /src\/a\.js was written by Warden with the reviewer's changes \(the reviewer edited your change to src\/a\.js before applying it\); your workspace is read-only/,
      );
      assert.match(message, /-new line\n\+reviewer line/, "the reviewer's changes to Codex's version");
      const told = rig.audit.find((a) => a.type === 'agent.told');
      assert.equal(told?.data.via, 'turn/steer');
      assert.equal((told?.data.notes as string[]).length, 2);
      assert.equal(rig.deps.notes?.size, 0, 'told in the turn: nothing left for the next instruction');
      assert.ok(rig.events.some((e) => e.type === 'tool-call' && e.toolCallId === 'patch-1' && e.status === 'completed'));
    } finally {
      decider.dispose();
      connection.close();
      await agent.kill();
    }
  });

  it('when the turn cannot take the message (turn/steer refused), Codex reads it with its next instruction', async () => {
    const { rig, agent, connection, decider } = await run({
      scenario: 'no-steer',
      decide: (p) => (p.kind === 'edit' && p.path === 'src/a.js' ? { verdict: 'approve', editedText: 'edited\n' } : { verdict: 'approve' }),
    });
    try {
      await connection.prompt('go');
      assert.equal(agentMessage(rig.events), 'command=accept patch=accept');
      const notes = rig.deps.notes?.take() ?? [];
      assert.equal(notes.length, 2);
      assert.match(notes[0]!, /^src\/a\.js was written by Warden with the reviewer's changes/);
      assert.ok(!rig.audit.some((a) => a.type === 'agent.told'));
    } finally {
      decider.dispose();
      connection.close();
      await agent.kill();
    }
  });

  it('in a private copy, a patch accepted as it is tells Codex nothing more; one accepted with changes is told, and the copy gets what was written once Codex applied its own', async () => {
    const plain: Array<[string, string]> = [];
    const first = await run({ decide: () => ({ verdict: 'approve' }), copyWrites: plain });
    try {
      await first.connection.prompt('go');
      assert.equal(
        agentMessage(first.rig.events),
        'command=accept patch=accept',
        'Codex applied its own version in the copy: its result is true',
      );
      assert.deepEqual(plain, []);
    } finally {
      first.decider.dispose();
      first.connection.close();
      await first.agent.kill();
    }

    const copyWrites: Array<[string, string]> = [];
    const { rig, agent, connection, decider } = await run({
      decide: (p) => (p.kind === 'edit' && p.path === 'src/a.js' ? { verdict: 'approve', editedText: 'edited\n' } : { verdict: 'approve' }),
      copyWrites,
    });
    try {
      await connection.prompt('go');
      const message = agentMessage(rig.events);
      assert.match(message, /src\/a\.js was written by Warden with the reviewer's changes .*; your copy now holds what was written\./);
      assert.doesNotMatch(message, /NOTES\.md/, 'the file written as Codex wrote it needs no word');
      assert.deepEqual(copyWrites, [['src/a.js', 'edited\n']], "the copy holds what was written, not Codex's version");
    } finally {
      decider.dispose();
      connection.close();
      await agent.kill();
    }
  });

  it('rejected proposals are declined to Codex and nothing is written', async () => {
    const { rig, agent, connection, decider } = await run({ decide: () => ({ verdict: 'reject' }) });
    try {
      await connection.prompt('go');
      const message = rig.events
        .filter((e) => e.type === 'agent-message')
        .map((e) => (e as { text: string }).text)
        .join('');
      assert.equal(message, 'command=decline patch=decline');
      assert.deepEqual(rig.writes, []);
      assert.ok(rig.store.all().every((p) => p.state === 'rejected'));
    } finally {
      decider.dispose();
      connection.close();
      await agent.kill();
    }
  });

  it("a decline carries no reason, so the reviewer's reasons reach Codex with its next instruction", async () => {
    const { rig, agent, connection, decider } = await run({ decide: (p) => ({ verdict: 'reject', reason: `no ${p.kind}` }) });
    const notes = new AgentNotes();
    rig.deps.notes = notes;
    try {
      await connection.prompt('go');
      const told = notes.take();
      assert.match(told[0] ?? '', /^Your command .* was rejected by the reviewer: no command$/);
      assert.ok(told.includes('Your change to src/a.js was rejected by the reviewer: no edit'), told.join('\n'));
    } finally {
      decider.dispose();
      connection.close();
      await agent.kill();
    }
  });

  it('one rejected file of a patch declines the whole patch: the approved file is not applied', async () => {
    const { rig, agent, connection, decider } = await run({
      decide: (p) => ({ verdict: p.kind === 'edit' && p.path === 'NOTES.md' ? 'reject' : 'approve' }),
    });
    try {
      await connection.prompt('go');
      const message = rig.events
        .filter((e) => e.type === 'agent-message')
        .map((e) => (e as { text: string }).text)
        .join('');
      assert.equal(message, 'command=accept patch=decline');
      assert.deepEqual(rig.writes, []);
      const a = rig.store.all().find((p) => p.kind === 'edit' && p.path === 'src/a.js')!;
      assert.equal(a.state, 'failed');
      assert.match(a.stateDetail ?? '', /whole or not at all/);
    } finally {
      decider.dispose();
      connection.close();
      await agent.kill();
    }
  });

  it('a patch over a file the policy withholds from the sandbox is declined naming the rule (Codex never saw it), nothing is written', async () => {
    const { rig, agent, connection, decider } = await run({
      decide: () => ({ verdict: 'approve' }),
      policyText: '{"paths": [{"id": "no-a", "paths": "src/a.js", "actions": ["read"], "decision": "deny"}]}',
    });
    try {
      await connection.prompt('go');
      const message = rig.events
        .filter((e) => e.type === 'agent-message')
        .map((e) => (e as { text: string }).text)
        .join('');
      assert.match(message, /patch=decline/);
      assert.deepEqual(rig.writes, []);
      assert.ok(!rig.store.all().some((p) => p.kind === 'edit' && p.path === 'src/a.js'), 'never proposed: its diff would show the file');
      assert.ok(rig.events.some((e) => e.type === 'notice' && /withheld from the sandbox by policy rule no-a/.test(e.text)));
    } finally {
      decider.dispose();
      connection.close();
      await agent.kill();
    }
  });

  it('item/tool/requestUserInput becomes a question proposal; the typed answer goes back', async () => {
    const { rig, agent, connection, decider } = await run({
      scenario: 'ask',
      decide: (p) => (p.kind === 'question' ? { verdict: 'approve', answer: 'src/a.js please' } : { verdict: 'reject' }),
    });
    try {
      await connection.prompt('go');
      const question = rig.store.all().find((p): p is QuestionProposal => p.kind === 'question')!;
      assert.equal(question.question, 'Target: Which file?');
      assert.equal(question.answer, 'src/a.js please');
      const message = rig.events
        .filter((e) => e.type === 'agent-message')
        .map((e) => (e as { text: string }).text)
        .join('');
      assert.match(message, /^answer=src\/a\.js please command=decline/);
    } finally {
      decider.dispose();
      connection.close();
      await agent.kill();
    }
  });

  it('nobody deciding in time declines (a timeout never accepts)', async () => {
    const { rig, agent, connection, decider } = await run({ decide: () => undefined, decisionTimeoutMs: 50 });
    try {
      await connection.prompt('go');
      const message = rig.events
        .filter((e) => e.type === 'agent-message')
        .map((e) => (e as { text: string }).text)
        .join('');
      assert.equal(message, 'command=decline patch=decline');
      assert.deepEqual(rig.writes, []);
      for (const p of rig.store.all()) assert.equal(p.decision?.reviewer.source, 'decision timeout');
    } finally {
      decider.dispose();
      connection.close();
      await agent.kill();
    }
  });

  it('an app-server that exits in the middle of an approval fails the turn; the pending proposal is orphaned, never approved', async () => {
    const { rig, agent, connection, decider } = await run({ scenario: 'exit-mid-approval', decide: () => undefined });
    try {
      await assert.rejects(connection.prompt('go'), /closed/);
      rig.store.orphanSession('s-proto', 'Session ended: the agent exited');
      const command = rig.store.all().find((p) => p.kind === 'command');
      assert.equal(command?.state, 'orphaned');
      assert.deepEqual(rig.writes, []);
    } finally {
      decider.dispose();
      connection.close();
      await agent.kill();
    }
  });

  it('a file change approval for a patch Warden was never shown is declined and audited', async () => {
    const { rig, agent, connection, decider } = await run({ scenario: 'hang-on-approval', decide: () => ({ verdict: 'approve' }) });
    try {
      const turn = connection.prompt('go');
      await new Promise<void>((resolve) => {
        const check = (): void => void (rig.audit.some((a) => a.type === 'refused') && resolve());
        const timer = setInterval(check, 10);
        void turn.catch(() => undefined).finally(() => clearInterval(timer));
        check();
      });
      assert.equal(rig.store.all().length, 0);
      await connection.cancel();
      assert.equal(await turn, 'cancelled');
    } finally {
      decider.dispose();
      connection.close();
      await agent.kill();
    }
  });
});

function agentMessage(events: ReturnType<typeof protocolRig>['events']): string {
  return events
    .filter((e) => e.type === 'agent-message')
    .map((e) => (e as { text: string }).text)
    .join('');
}

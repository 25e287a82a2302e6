import { strict as assert } from 'node:assert';
import * as acp from '@agentclientprotocol/sdk';
import { AcpAgentConnection, ASK_HUMAN_METHOD } from '../../src/core/agent/acpConnection';
import { SessionFeed } from '../../src/core/session/sessionFeed';
import { autoDecide, CONTAINER, protocolRig } from '../support/protocolRig';
import { connectAgentApp, inMemoryAgentProcess } from '../support/inMemoryAgent';

/** A scripted ACP agent (the SDK's agent side) that can load sessions and asks the human through Warden's extension. */
function fakeAgent(options: { loadSession: boolean }) {
  const seen: { loaded?: string; capabilities?: acp.ClientCapabilities } = {};
  const app = acp
    .agent({ name: 'fake' })
    .onRequest(acp.methods.agent.initialize, ({ params }) => {
      seen.capabilities = params.clientCapabilities;
      return {
        protocolVersion: acp.PROTOCOL_VERSION,
        agentCapabilities: { loadSession: options.loadSession },
        agentInfo: { name: 'fake-acp', version: '1' },
        authMethods: [],
      };
    })
    .onRequest(acp.methods.agent.session.new, () => ({ sessionId: 'new-1' }))
    .onRequest(acp.methods.agent.session.load, async ({ params, client }) => {
      seen.loaded = params.sessionId;
      await client.notify('session/update', {
        sessionId: params.sessionId,
        update: { sessionUpdate: 'agent_message_chunk', content: { type: 'text', text: 'replayed history' } },
      });
      return {};
    })
    .onRequest(acp.methods.agent.session.prompt, async ({ params, client }) => {
      const sessionId = params.sessionId;
      const update = (u: acp.SessionUpdate) => client.notify('session/update', { sessionId, update: u });
      await update({ sessionUpdate: 'agent_thought_chunk', content: { type: 'text', text: 'thinking <b>hard</b>' } });
      await update({ sessionUpdate: 'available_commands_update', availableCommands: [{ name: 'test', description: 'run tests' }] });
      await update({ sessionUpdate: 'current_mode_update', currentModeId: 'code' });
      await update({
        sessionUpdate: 'tool_call',
        toolCallId: 't1',
        title: 'Edit a.js',
        kind: 'edit',
        status: 'pending',
        content: [{ type: 'diff', path: `${CONTAINER}/src/a.js`, oldText: 'b\n', newText: 'B\n' }],
      });
      await update({ sessionUpdate: 'tool_call_update', toolCallId: 't1', status: 'completed' });
      const { answer } = await client.request<{ answer: string }>(ASK_HUMAN_METHOD, {
        sessionId,
        question: 'Which name?',
        choices: ['x', 'y'],
      });
      await update({ sessionUpdate: 'agent_message_chunk', content: { type: 'text', text: `answer was ${answer}` } });
      return { stopReason: 'end_turn' };
    });
  return { app, seen };
}

describe('ACP connection: initialize, session/new or session/load, prompt turns, updates, ask_human', () => {
  it('advertises honest capabilities, resumes with session/load when the agent supports it, and streams every update kind', async () => {
    const rig = protocolRig({ files: { 'src/a.js': 'a\nb\nc\n' } });
    const pipes = inMemoryAgentProcess();
    const { app, seen } = fakeAgent({ loadSession: true });
    connectAgentApp(app, pipes);
    const connection = new AcpAgentConnection(pipes.process, rig.handlers);
    const decider = autoDecide(rig.store, (p) => (p.kind === 'question' ? { verdict: 'approve', answer: 'y' } : undefined));
    try {
      const info = await connection.open({ cwd: CONTAINER, resumeSessionId: 'old-1' });
      assert.deepEqual([info.resumed, info.canResume, info.agentSessionId, info.agentName], [true, true, 'old-1', 'fake-acp']);
      assert.equal(seen.loaded, 'old-1');
      assert.deepEqual(seen.capabilities?.fs, { readTextFile: true, writeTextFile: true });
      assert.equal(seen.capabilities?.terminal, true);
      assert.deepEqual(seen.capabilities?._meta, { warden: { askHuman: ASK_HUMAN_METHOD } });

      assert.equal(await connection.prompt('go'), 'end_turn');
      await new Promise((resolve) => setImmediate(resolve));
      const types = rig.events.map((e) => e.type);
      for (const t of ['agent-message', 'thought', 'commands', 'mode', 'tool-call'])
        assert.ok(types.includes(t as never), `${t} reached the session view`);
      const tool = rig.events.find((e) => e.type === 'tool-call' && e.content);
      assert.ok(tool?.type === 'tool-call');
      const diff = tool.content?.[0];
      assert.ok(diff?.type === 'diff');
      assert.match(diff.diff, /-b\n\+B/);
      const question = rig.store.all().find((p) => p.kind === 'question');
      assert.equal(question?.state, 'applied');
      assert.ok(rig.events.some((e) => e.type === 'agent-message' && e.text === 'answer was y'));
      // The feed joins the tool call's updates into one entry.
      const feed = new SessionFeed();
      for (const e of rig.events) feed.push(e);
      const tools = feed.all().filter((e) => e.type === 'tool-call');
      assert.equal(tools.length, 1);
      assert.equal(tools[0]!.type === 'tool-call' && tools[0]!.status, 'completed');
      assert.ok(tools[0]!.type === 'tool-call' && tools[0]!.content?.length, 'the diff survives the status update');
    } finally {
      decider.dispose();
      connection.close();
    }
  });

  it('starts a new session with session/new; resuming an agent without loadSession fails with a clear error', async () => {
    const rig = protocolRig();
    const pipes = inMemoryAgentProcess();
    connectAgentApp(fakeAgent({ loadSession: false }).app, pipes);
    const connection = new AcpAgentConnection(pipes.process, rig.handlers);
    await assert.rejects(connection.open({ cwd: CONTAINER, resumeSessionId: 'old-1' }), /does not support resuming sessions/);
    connection.close();

    const pipes2 = inMemoryAgentProcess();
    connectAgentApp(fakeAgent({ loadSession: false }).app, pipes2);
    const fresh = new AcpAgentConnection(pipes2.process, protocolRig().handlers);
    const info = await fresh.open({ cwd: CONTAINER });
    assert.deepEqual([info.resumed, info.canResume, info.agentSessionId], [false, false, 'new-1']);
    fresh.close();
  });
});

describe('SessionFeed', () => {
  it('joins message chunks, keeps one plan, and stays bounded under a flood', () => {
    const feed = new SessionFeed();
    feed.push({ type: 'agent-message', text: 'Hel' });
    feed.push({ type: 'agent-message', text: 'lo' });
    feed.push({ type: 'plan', entries: [{ content: 'a', status: 'pending' }] });
    feed.push({ type: 'plan', entries: [{ content: 'a', status: 'completed' }] });
    const all = feed.all();
    assert.deepEqual(
      all.map((e) => e.type),
      ['agent-message', 'plan'],
    );
    assert.equal(all[0]!.type === 'agent-message' && all[0]!.text, 'Hello');
    for (let i = 0; i < 5000; i++) feed.push({ type: 'tool-call', toolCallId: `t${i}`, title: `x${i}`, status: 'pending', kind: 'read' });
    assert.equal(feed.all().length, 400);
    for (let i = 0; i < 100; i++) feed.push({ type: 'agent-message', text: 'x'.repeat(10_000) });
    const last = feed.all().at(-1)!;
    assert.ok(last.type === 'agent-message' && last.text.length < 40_000, 'joined text is clipped');
  });

  it('keeps the first 32 KiB of a long message and counts every character after it, in any chunks', () => {
    const text = Array.from({ length: 9000 }, (_, i) => `word${i} `).join('');
    for (const size of [1, 7, 1000, 40_000, text.length]) {
      const feed = new SessionFeed();
      feed.push({ type: 'thought', text: 'before' });
      for (let at = 0; at < text.length; at += size) feed.push({ type: 'agent-message', text: text.slice(at, at + size) });
      const entries = feed.all();
      assert.equal(entries.length, 2, `chunks of ${size} join into one entry`);
      const message = entries[1]!;
      const expected = `${text.slice(0, 32 * 1024)}\n… (${text.length - 32 * 1024} more characters not shown)`;
      assert.ok(message.type === 'agent-message' && message.text === expected, `chunks of ${size}: kept and counted`);
    }
  });
});

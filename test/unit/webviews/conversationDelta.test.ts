import { strict as assert } from 'node:assert';
import { FEED_LIMIT, SessionFeed } from '../../../src/core/session/sessionFeed';
import type { SessionEvent } from '../../../src/core/session/sessionEvents';
import { parseExtensionMessage, type ExtensionMessage } from '../../../src/shared/reviewProtocol';
import { Conversation, type ConversationSource } from '../../../src/vscode/conversation';
import { initialState, restoreUi, type ReviewState } from '../../../media/review/state';
import { update } from '../../../media/review/update';
import { openPanel } from './reviewFixtures';

/**
 * Issue 21: the Warden panel's conversation comes whole when its document loads and as a
 * `conversationDelta` (the feed entries added or changed, the seqs it holds) after that. The host
 * side is the real Conversation over a real SessionFeed; the webview side the panel's pure
 * reducer. The feed it ends with must equal what a full message shows.
 */
class Host {
  feed = new SessionFeed();
  private readonly conversation: Conversation;
  constructor() {
    const source: ConversationSource = {
      summary: () => null,
      feedChanges: (since) => this.feed.changes(since),
      queued: () => [],
      onDidChange: () => ({ dispose: () => undefined }),
      onDidReturnInstruction: () => ({ dispose: () => undefined }),
      instruct: () => 'sent',
      activeSession: undefined,
      cancel: () => Promise.resolve(),
      answer: () => Promise.resolve(),
    };
    this.conversation = new Conversation({ source, start: () => Promise.resolve(undefined) }, () => undefined, { error: () => undefined });
  }

  message(full: boolean): ExtensionMessage {
    return this.conversation.snapshot(full);
  }
}

const fresh = (): ReviewState => initialState(restoreUi(undefined));

function receive(state: ReviewState, message: ExtensionMessage): { state: ReviewState; effects: unknown[] } {
  const parsed = parseExtensionMessage(JSON.parse(JSON.stringify(message)));
  assert.ok(parsed.ok, parsed.ok ? '' : parsed.error);
  const step = update(state, { type: 'message', message: parsed.message });
  return { state: step.state, effects: step.effects ?? [] };
}

/** The mix a streaming agent sends: message and thought chunks, tool calls and their updates, a plan now and then. */
function event(i: number): SessionEvent {
  const kind = i % 12;
  if (kind < 5) return { type: 'agent-message', text: `word ${i} ` };
  if (kind < 7) return { type: 'thought', text: `thinking ${i} ` };
  if (kind === 7) return { type: 'tool-call', toolCallId: `call-${i % 50}`, title: `Read f${i}`, kind: 'read', status: 'in_progress' };
  if (kind === 8)
    return { type: 'tool-call', toolCallId: `call-${(i - 1) % 50}`, title: `Read f${i - 1}`, kind: 'read', status: 'completed' };
  if (kind === 9) return { type: 'plan', entries: [{ content: `step ${i}`, status: 'pending' }] };
  return { type: 'notice', level: 'info', text: `notice ${i}` };
}

const texts = (state: ReviewState): string[] => state.conversation.entries.map((e) => ('text' in e ? e.text : e.type));

describe('Warden panel conversation: deltas after the first full message (issue 21)', () => {
  it('a stream applied as deltas ends with the feed a full message shows, past the feed limit', () => {
    const host = new Host();
    let { state } = receive(fresh(), host.message(true));
    let sent = 0;
    for (let i = 0; i < FEED_LIMIT * 4; i++) {
      host.feed.push(event(i));
      if (i === 100) host.feed.instruction('and the tests too', 2);
      if (i % 7 === 0) {
        const delta = host.message(false);
        if (delta.type === 'conversationDelta') sent += delta.entries.length;
        ({ state } = receive(state, delta));
      }
    }
    ({ state } = receive(state, host.message(false)));
    const full = new Host();
    full.feed = host.feed;
    assert.deepEqual(state.conversation.entries, receive(fresh(), full.message(true)).state.conversation.entries);
    assert.equal(state.conversation.entries.length, FEED_LIMIT);
    assert.ok(sent < FEED_LIMIT * 4, `a delta carries what changed, not every entry (${sent} entries sent in all)`);
  });

  it('an entry that did not change keeps its object; the growing message entry travels alone', () => {
    const host = new Host();
    host.feed.instruction('say hello', 1);
    host.feed.push({ type: 'agent-message', text: 'Hello' });
    let { state } = receive(fresh(), host.message(true));
    const instruction = state.conversation.entries[0];
    host.feed.push({ type: 'agent-message', text: ', world' });
    const delta = host.message(false);
    assert.equal(delta.type === 'conversationDelta' && delta.entries.length, 1);
    ({ state } = receive(state, delta));
    assert.equal(state.conversation.entries[0], instruction);
    assert.deepEqual(texts(state), ['say hello', 'Hello, world']);
  });

  it('a new session (a new feed) replaces the old entries', () => {
    const host = new Host();
    host.feed.push({ type: 'agent-message', text: 'old session' });
    let { state } = receive(fresh(), host.message(true));
    host.feed = new SessionFeed();
    host.feed.push({ type: 'notice', level: 'info', text: 'new session' });
    ({ state } = receive(state, host.message(false)));
    assert.deepEqual(texts(state), ['new session']);
  });

  it('a delta that follows another message than the one held is dropped, and the panel asks for a full state once', () => {
    const host = new Host();
    let { state } = receive(fresh(), host.message(true));
    host.feed.push({ type: 'agent-message', text: 'lost' });
    host.message(false);
    host.feed.push({ type: 'notice', level: 'info', text: 'next' });
    let step = receive(state, host.message(false));
    assert.deepEqual(step.effects, [{ type: 'post', message: { type: 'ready' } }]);
    step = receive(step.state, host.message(false));
    assert.deepEqual(step.effects, [], 'asked already');
    ({ state } = receive(step.state, host.message(true)));
    assert.deepEqual(texts(state), ['lost', 'next']);
  });

  it('the mounted panel draws what deltas add', async () => {
    const panel = openPanel();
    try {
      panel.state([]);
      const session = { id: 's-1', state: 'prompting' as const, agent: 'Demo agent', protocol: 'acp' as const, pendingReviews: 0 };
      const message = { at: 'x', type: 'agent-message' as const };
      panel.send({ type: 'conversation', session, entries: [{ seq: 1, ...message, text: 'Hello' }], queued: [], rev: 1 });
      panel.send({
        type: 'conversationDelta',
        base: 1,
        rev: 2,
        session,
        entries: [{ seq: 1, ...message, text: 'Hello there' }],
        seqs: [1],
        queued: [],
      });
      panel.send({
        type: 'conversationDelta',
        base: 2,
        rev: 3,
        session,
        entries: [{ seq: 2, at: 'x', type: 'thought', text: 'Next' }],
        seqs: [1, 2],
        queued: [],
      });
      const text = panel.root.textContent ?? '';
      assert.ok(text.includes('Hello there'), text.slice(0, 400));
      assert.ok(text.includes('Next'), text.slice(0, 400));
    } finally {
      await panel.close();
    }
  });
});

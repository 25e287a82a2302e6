import { strict as assert } from 'node:assert';
import { FEED_LIMIT, SessionFeed } from '../../../src/core/session/sessionFeed';
import type { SessionEvent } from '../../../src/core/session/sessionEvents';
import { parseSessionExtensionMessage, type SessionExtensionMessage } from '../../../src/shared/sessionProtocol';
import { initialSessionState, update, type SessionState } from '../../../media/session/update';
import { startSessionView } from '../../../media/session/main';
import { fakeWebview } from './dom';

/**
 * Issue 21: the Session view gets a full `state` when its document loads and a `delta` (the
 * feed entries added or changed, the seqs it holds) after that. The host side is SessionView's
 * bookkeeping over a real SessionFeed; the webview side its pure reducer. The feed it ends with
 * must equal a full snapshot's.
 */
class Host {
  private rev = 0;
  private version = 0;
  constructor(public feed: SessionFeed) {}

  message(full: boolean): SessionExtensionMessage {
    const changes = this.feed.changes(full ? 0 : this.version);
    this.version = changes.version;
    const base = this.rev++;
    const common = { session: null, questions: [] };
    if (full) return { type: 'state', ...common, entries: changes.changed, rev: this.rev };
    return { type: 'delta', ...common, base, rev: this.rev, entries: changes.changed, seqs: changes.seqs };
  }
}

function receive(state: SessionState, message: SessionExtensionMessage): { state: SessionState; effects: unknown[] } {
  const parsed = parseSessionExtensionMessage(JSON.parse(JSON.stringify(message)));
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

const entriesOf = (state: SessionState): unknown => state.snapshot?.entries;

describe('Session webview: deltas after the first snapshot (issue 21)', () => {
  it('a stream applied as deltas ends with the feed a full snapshot shows, past the feed limit', () => {
    const feed = new SessionFeed();
    const host = new Host(feed);
    let { state } = receive(initialSessionState, host.message(true));
    let sent = 0;
    for (let i = 0; i < FEED_LIMIT * 4; i++) {
      feed.push(event(i));
      if (i % 7 === 0) {
        const delta = host.message(false);
        if (delta.type === 'delta') sent += delta.entries.length;
        ({ state } = receive(state, delta));
      }
    }
    ({ state } = receive(state, host.message(false)));
    const full = receive(initialSessionState, new Host(feed).message(true)).state;
    assert.deepEqual(entriesOf(state), entriesOf(full));
    assert.equal(state.snapshot?.entries.length, FEED_LIMIT);
    assert.ok(sent < FEED_LIMIT * 4, `a delta carries what changed, not every entry (${sent} entries sent in all)`);
  });

  it('an entry that did not change keeps its object; the growing message entry travels alone', () => {
    const feed = new SessionFeed();
    const host = new Host(feed);
    feed.push({ type: 'notice', level: 'info', text: 'started' });
    feed.push({ type: 'agent-message', text: 'Hello' });
    let { state } = receive(initialSessionState, host.message(true));
    const notice = state.snapshot?.entries[0];
    feed.push({ type: 'agent-message', text: ', world' });
    const delta = host.message(false);
    assert.equal(delta.type === 'delta' && delta.entries.length, 1);
    ({ state } = receive(state, delta));
    assert.equal(state.snapshot?.entries[0], notice);
    assert.deepEqual(
      state.snapshot?.entries.map((e) => ('text' in e ? e.text : '')),
      ['started', 'Hello, world'],
    );
  });

  it('a new session (a new feed) replaces the old entries', () => {
    const host = new Host(new SessionFeed());
    host.feed.push({ type: 'agent-message', text: 'old session' });
    let { state } = receive(initialSessionState, host.message(true));
    host.feed = new SessionFeed();
    host.feed.push({ type: 'notice', level: 'info', text: 'new session' });
    ({ state } = receive(state, host.message(false)));
    assert.deepEqual(
      state.snapshot?.entries.map((e) => ('text' in e ? e.text : '')),
      ['new session'],
    );
  });

  it('a delta that follows another state than the one held is dropped, and the view asks for a full state once', () => {
    const feed = new SessionFeed();
    const host = new Host(feed);
    let { state } = receive(initialSessionState, host.message(true));
    feed.push({ type: 'agent-message', text: 'lost' });
    host.message(false);
    feed.push({ type: 'notice', level: 'info', text: 'next' });
    let step = receive(state, host.message(false));
    assert.deepEqual(step.effects, [{ type: 'post', message: { type: 'ready' } }]);
    step = receive(step.state, host.message(false));
    assert.deepEqual(step.effects, [], 'asked already');
    ({ state } = receive(step.state, host.message(true)));
    assert.equal(state.snapshot?.entries.length, 2);
  });

  it('the mounted view draws what deltas add', async () => {
    const web = fakeWebview();
    startSessionView(web.root);
    const send = (message: unknown): void => void web.window.dispatchEvent(new web.window.MessageEvent('message', { data: message }));
    send({ type: 'state', session: null, entries: [{ seq: 1, at: 'x', type: 'agent-message', text: 'Hello' }], questions: [], rev: 1 });
    send({
      type: 'delta',
      base: 1,
      rev: 2,
      session: null,
      entries: [{ seq: 1, at: 'x', type: 'agent-message', text: 'Hello there' }],
      seqs: [1],
      questions: [],
    });
    send({
      type: 'delta',
      base: 2,
      rev: 3,
      session: null,
      entries: [{ seq: 2, at: 'x', type: 'thought', text: 'Next' }],
      seqs: [1, 2],
      questions: [],
    });
    assert.ok(web.root.textContent?.includes('Hello there'));
    assert.ok(web.root.textContent?.includes('Next'));
    await web.close();
  });
});

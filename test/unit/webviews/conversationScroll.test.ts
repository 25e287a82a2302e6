import { strict as assert } from 'node:assert';
import type { FeedEntryView, SessionSummary } from '../../../src/shared/conversationProtocol';
import { at, oneHunkEdit, openPanel, type PanelHarness } from './reviewFixtures';

/**
 * The conversation follows the agent (issue 22): new rows scroll into view while the reader is at
 * the bottom; scrolled up, it stays put and offers "Jump to latest (N new)"; the focus is never
 * taken from the instruction box or a reason box. happy-dom has no layout, so the feed's scroll
 * metrics are stubbed: 20 px a row in a 100 px high region.
 */

const ROW = 20;
const HEIGHT = 100;

const session = (id = 's-1'): SessionSummary => ({ id, state: 'prompting', agent: 'Demo agent', protocol: 'acp', pendingReviews: 0 });
const says = (n: number, text = `message ${n}`): FeedEntryView => ({ seq: n, at: at(n), type: 'agent-message', text });
const upTo = (n: number): FeedEntryView[] => Array.from({ length: n }, (_, i) => says(i + 1));

describe('Warden panel webview (happy-dom): the conversation follows the agent', () => {
  let panel: PanelHarness;
  afterEach(async () => panel?.close());

  const send = (entries: FeedEntryView[], id = 's-1'): void =>
    panel.send({ type: 'conversation', session: session(id), entries, queued: [] });
  const feed = (): HTMLOListElement => panel.root.querySelector<HTMLOListElement>('ol.feed')!;
  const jump = (): HTMLButtonElement | null => panel.root.querySelector<HTMLButtonElement>('button[data-action="jumpToLatest"]');
  const bottom = (): number => Math.max(0, feed().children.length * ROW - HEIGHT);
  /** Preact re-renders a component that changed its own mind (a scroll) in a microtask. */
  const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

  /** Gives the feed a layout: its height from its rows, a settable, clamped scroll position. */
  function layOut(): void {
    const element = feed();
    let top = 0;
    Object.defineProperty(element, 'scrollHeight', { configurable: true, get: () => element.children.length * ROW });
    Object.defineProperty(element, 'clientHeight', { configurable: true, get: () => HEIGHT });
    Object.defineProperty(element, 'scrollTop', {
      configurable: true,
      get: () => top,
      set: (value: number) => (top = Math.min(Math.max(0, value), bottom())),
    });
  }
  async function scrollTo(top: number): Promise<void> {
    feed().scrollTop = top;
    feed().dispatchEvent(new panel.window.Event('scroll') as unknown as Event);
    await settle();
  }
  function open(entries: FeedEntryView[]): void {
    panel = openPanel();
    panel.state([]);
    send(entries);
    layOut();
  }

  it('new messages, tool calls and proposals scroll into view while the reader is at the bottom; the instruction box keeps the focus', () => {
    open(upTo(3));
    const box = panel.root.querySelector<HTMLTextAreaElement>('form.instruction-box textarea')!;
    box.focus();
    send(upTo(8));
    assert.equal(feed().scrollTop, bottom(), 'at the newest message');
    send([
      ...upTo(8),
      { seq: 9, at: at(9), type: 'tool-call', title: 'read src/a.js', status: 'completed', kind: 'read', content: [], locations: [] },
    ]);
    assert.equal(feed().scrollTop, bottom(), 'at the newest tool call');
    panel.state([oneHunkEdit(20)]);
    assert.ok(panel.root.querySelector('li[data-conv-proposal-id="p-20"]'), 'the proposal is in the feed');
    assert.equal(feed().scrollTop, bottom(), 'at the newest proposal');
    assert.equal(jump(), null, 'no jump control while following');
    assert.equal(panel.document.activeElement, box, 'the focus stayed in the instruction box');
  });

  it('scrolled up, the feed stays put and counts what arrived; Jump to latest goes down and follows again', async () => {
    open(upTo(10));
    await scrollTo(bottom());
    await scrollTo(40);
    assert.equal(jump()?.textContent?.trim(), 'Jump to latest', 'offered as soon as the reader leaves the bottom');
    send(upTo(12));
    panel.state([oneHunkEdit(20)]);
    assert.equal(feed().scrollTop, 40, 'the reader stays where they are');
    assert.equal(jump()?.textContent?.trim(), 'Jump to latest (3 new)', 'two messages and a proposal arrived');
    // A message streaming more text into a row already there is no new row.
    send([...upTo(11), says(12, 'message 12, longer now')]);
    assert.equal(jump()?.textContent?.trim(), 'Jump to latest (3 new)');

    panel.click(jump()!);
    assert.equal(feed().scrollTop, bottom());
    await settle();
    assert.equal(jump(), null);
    assert.equal(panel.document.activeElement, feed(), 'the focus goes to the feed, not lost to the page');
    send(upTo(14));
    assert.equal(feed().scrollTop, bottom(), 'following again');
  });

  it('scrolling back to the bottom by hand follows again', async () => {
    open(upTo(10));
    await scrollTo(0);
    send(upTo(11));
    assert.equal(feed().scrollTop, 0);
    await scrollTo(bottom());
    assert.equal(jump(), null);
    send(upTo(13));
    assert.equal(feed().scrollTop, bottom());
  });

  it('an open reason box keeps the focus while the agent goes on', () => {
    open(upTo(5));
    panel.state([oneHunkEdit(20)]);
    panel.click(panel.root.querySelector('li[data-conv-proposal-id="p-20"] button[data-action="inlineReject"]')!);
    const reason = panel.card('p-20').querySelector<HTMLInputElement>('input.reject-reason-input')!;
    assert.equal(panel.document.activeElement, reason);
    send(upTo(9));
    assert.equal(feed().scrollTop, bottom(), 'the feed followed');
    assert.equal(panel.document.activeElement, reason, 'the reason box kept the focus');
  });

  it('typing an answer in the feed holds it still (the field stays in view) and offers the jump instead', async () => {
    open(upTo(6));
    panel.state([
      { kind: 'question', id: 'q-7', sessionId: 's-1', createdAt: at(7), state: 'pending', title: 'Q', origin: 'x', question: 'Tabs?' },
    ]);
    const answer = panel.root.querySelector<HTMLTextAreaElement>('li[data-conv-proposal-id="q-7"] textarea')!;
    answer.focus();
    const where = feed().scrollTop;
    send(upTo(9));
    assert.equal(feed().scrollTop, where, 'not scrolled away from the field being typed in');
    await settle();
    assert.equal(jump()?.textContent?.trim(), 'Jump to latest (3 new)');
    assert.equal(panel.document.activeElement, answer);
  });

  it('a new session starts at its bottom, following', async () => {
    open(upTo(10));
    await scrollTo(0);
    send(upTo(10), 's-2');
    await settle();
    assert.equal(feed().scrollTop, bottom());
    assert.equal(jump(), null);
  });
});

import { strict as assert } from 'node:assert';
import type { QuestionProposal } from '../../../src/core/proposals/model';
import type { FeedEntryView, SessionSummary } from '../../../src/shared/conversationProtocol';
import { conversationItems } from '../../../media/review/conversationUpdate';
import { toProposalView } from '../../../src/shared/reviewProtocol';
import { XSS_CORPUS } from '../../support/xssCorpus';
import { at, command, oneHunkEdit, openPanel, type PanelHarness } from './reviewFixtures';

const session = (state: SessionSummary['state'] = 'ready'): SessionSummary => ({
  id: 's-1',
  state,
  agent: 'Demo agent',
  protocol: 'acp',
  pendingReviews: 1,
});

const question = (n: number, fields: Partial<QuestionProposal> = {}): QuestionProposal => ({
  kind: 'question',
  id: `q-${n}`,
  sessionId: 's-1',
  createdAt: at(n),
  state: 'pending',
  title: 'A question',
  origin: 'x',
  question: 'Tabs or spaces?',
  choices: ['tabs', 'spaces'],
  ...fields,
});

describe('Warden panel webview (happy-dom): the conversation and the instruction box', () => {
  let panel: PanelHarness;
  afterEach(async () => panel?.close());

  const conversation = (entries: FeedEntryView[], state: SessionSummary['state'] | null = 'ready', queued: string[] = []): void =>
    panel.send({ type: 'conversation', session: state === null ? null : session(state), entries, queued });
  const box = (): HTMLTextAreaElement => panel.root.querySelector<HTMLTextAreaElement>('form.instruction-box textarea')!;
  const sendButton = (): HTMLButtonElement => panel.root.querySelector<HTMLButtonElement>('button[data-action="sendPrompt"]')!;
  const type = (area: HTMLTextAreaElement, text: string): void => {
    area.value = text;
    area.dispatchEvent(new panel.window.Event('input', { bubbles: true }) as unknown as Event);
  };
  /** What the feed shows, in order: "you:", "agent:", "proposal:<id>"... */
  const feedOrder = (): string[] =>
    [...panel.root.querySelectorAll<HTMLElement>('ol.feed > li')].map((li) =>
      li.dataset.convProposalId !== undefined
        ? `proposal:${li.dataset.convProposalId}`
        : `${li.classList.contains('user-message') ? 'you' : li.classList.contains('agent-message') ? 'agent' : [...li.classList].at(-1)}:${li.querySelector('.text')?.textContent ?? ''}`,
    );

  it('a message stream interleaving agent text and proposals renders in order, each proposal where it arose', () => {
    panel = openPanel();
    const edit = oneHunkEdit(3);
    const run = command(6);
    panel.state([run, edit]);
    conversation([
      { seq: 1, at: at(1), type: 'user-message', text: 'add a farewell', turn: 1 },
      { seq: 2, at: at(2), type: 'agent-message', text: 'I will edit one.js' },
      { seq: 3, at: at(4), type: 'agent-message', text: 'Now the tests' },
      { seq: 4, at: at(7), type: 'agent-message', text: 'Done.' },
    ]);
    assert.deepEqual(feedOrder(), [
      'you:add a farewell',
      'agent:I will edit one.js',
      'proposal:p-3',
      'agent:Now the tests',
      'proposal:c-6',
      'agent:Done.',
    ]);
    // More text streams in: the order holds, and unchanged rows stay the same elements.
    const kept = panel.root.querySelector('li[data-conv-proposal-id="p-3"]');
    conversation([
      { seq: 1, at: at(1), type: 'user-message', text: 'add a farewell', turn: 1 },
      { seq: 2, at: at(2), type: 'agent-message', text: 'I will edit one.js' },
      { seq: 3, at: at(4), type: 'agent-message', text: 'Now the tests' },
      { seq: 4, at: at(7), type: 'agent-message', text: 'Done. All green.' },
      { seq: 5, at: at(8), type: 'user-message', text: 'and a README line', turn: 2 },
    ]);
    assert.equal(feedOrder().at(-2), 'agent:Done. All green.');
    assert.equal(feedOrder().at(-1), 'you:and a README line');
    assert.equal(panel.root.querySelector('li[data-conv-proposal-id="p-3"]'), kept);
    // Proposals of other sessions stay out of this conversation.
    assert.deepEqual(conversationItems([], [toProposalView({ ...oneHunkEdit(1), sessionId: 's-2' })], 's-1'), []);
  });

  it('inline Accept decides the proposal; Review opens its full card in the queue and moves the focus there', () => {
    panel = openPanel();
    panel.state([oneHunkEdit(3)]);
    conversation([{ seq: 1, at: at(1), type: 'agent-message', text: 'editing' }]);
    const inline = panel.root.querySelector<HTMLElement>('li[data-conv-proposal-id="p-3"]')!;
    panel.click(inline.querySelector('button[data-action="showCard"]')!);
    assert.equal(panel.root.ownerDocument.activeElement, panel.card('p-3'), 'the full card has the focus');
    panel.click(inline.querySelector('button[data-action="inlineApprove"]')!);
    assert.deepEqual(panel.last('decide'), { type: 'decide', proposalId: 'p-3', verdict: 'approve' });
    assert.equal(inline.querySelector<HTMLButtonElement>('button[data-action="inlineApprove"]')!.disabled, true, 'busy until the snapshot');
    assert.equal(panel.button('p-3', 'approve').disabled, true, 'the full card shows the same');
    panel.state([{ ...oneHunkEdit(3), state: 'applied' }]);
    assert.equal(panel.root.querySelector('li[data-conv-proposal-id="p-3"] button[data-action="inlineApprove"]'), null);
    assert.equal(panel.root.querySelector('li[data-conv-proposal-id="p-3"] .state-pill')?.textContent, 'Applied');
  });

  it('inline Reject opens the reason box on the full card (focused there); Enter rejects with the reason typed', () => {
    panel = openPanel();
    panel.state([oneHunkEdit(4)]);
    conversation([{ seq: 1, at: at(1), type: 'agent-message', text: 'editing' }]);
    const inline = panel.root.querySelector<HTMLElement>('li[data-conv-proposal-id="p-4"]')!;
    panel.click(inline.querySelector('button[data-action="inlineReject"]')!);
    assert.equal(panel.last('decide'), undefined, 'nothing is decided before the box is confirmed');
    const field = panel.card('p-4').querySelector<HTMLInputElement>('input.reject-reason-input');
    assert.ok(field, 'the reason box is open on the full card');
    assert.equal(panel.root.ownerDocument.activeElement, field, 'and has the focus');
    field.value = 'not in this file';
    field.dispatchEvent(new panel.window.Event('input', { bubbles: true }) as unknown as Event);
    field.dispatchEvent(new panel.window.KeyboardEvent('keydown', { key: 'Enter', bubbles: true, cancelable: true }) as unknown as Event);
    assert.deepEqual(panel.last('decide'), { type: 'decide', proposalId: 'p-4', verdict: 'reject', reason: 'not in this file' });
  });

  it('the box sends to the running session and clears only once the extension says it went out', () => {
    panel = openPanel();
    panel.state([]);
    conversation([], 'ready');
    type(box(), 'Add a test');
    panel.click(sendButton());
    assert.deepEqual(panel.last('prompt'), { type: 'prompt', id: 1, text: 'Add a test' });
    assert.equal(box().value, 'Add a test', 'the text stays while it is on its way');
    assert.equal(box().readOnly, true);
    panel.click(sendButton());
    assert.equal(panel.posted.filter((m) => m.type === 'prompt').length, 1, 'one request at a time');
    panel.send({ type: 'promptResult', id: 1, outcome: 'sent' });
    assert.equal(box().value, '');
    assert.equal(box().readOnly, false);
    // While the agent works, an instruction is queued and shown as such.
    conversation([], 'prompting');
    type(box(), 'then update the README');
    box().dispatchEvent(new panel.window.KeyboardEvent('keydown', { key: 'Enter', bubbles: true, cancelable: true }) as unknown as Event);
    assert.deepEqual(panel.last('prompt'), { type: 'prompt', id: 2, text: 'then update the README' });
    panel.send({ type: 'promptResult', id: 2, outcome: 'queued' });
    conversation([], 'prompting', ['then update the README']);
    assert.equal(box().value, '');
    assert.match(panel.root.querySelector('.box-note')?.textContent ?? '', /Queued/);
    assert.match(panel.root.querySelector('li.queued')?.textContent ?? '', /then update the README/);
    panel.click(panel.root.querySelector('button[data-action="cancelTurn"]')!);
    assert.deepEqual(panel.last('cancelTurn'), { type: 'cancelTurn' });
  });

  it('a failed send keeps the text in the box and says why; a returned instruction comes back into the box', () => {
    panel = openPanel();
    panel.state([]);
    conversation([], null);
    assert.equal(sendButton().textContent, 'Start', 'without a session the box starts one');
    type(box(), 'Refactor greet.js');
    panel.click(sendButton());
    panel.send({ type: 'promptResult', id: 1, outcome: 'cancelled' });
    assert.equal(box().value, 'Refactor greet.js', 'no session started (cancelled at a question on the way): the text stays');
    assert.match(panel.root.querySelector('.box-note')?.textContent ?? '', /still here/);
    panel.click(sendButton());
    panel.send({ type: 'promptResult', id: 2, outcome: 'failed', message: 'Docker is not running' });
    assert.equal(box().value, 'Refactor greet.js');
    assert.match(panel.root.querySelector('.box-error')?.textContent ?? '', /Docker is not running.*still here/);
    // An answer about an older request changes nothing.
    panel.send({ type: 'promptResult', id: 99, outcome: 'sent' });
    assert.equal(box().value, 'Refactor greet.js');
    // Typing while a request is out is impossible (read-only); a late "sent" for text since edited keeps the new text.
    panel.click(sendButton());
    panel.send({ type: 'promptResult', id: 3, outcome: 'started' });
    assert.equal(box().value, '');
    type(box(), 'something new');
    panel.send({ type: 'promptReturned', text: 'then update the README', reason: 'the session ended' });
    assert.equal(box().value, 'something new\n\nthen update the README', 'offered back after what is typed');
    assert.match(panel.root.querySelector('.box-error')?.textContent ?? '', /session ended/);
    // The box survives the panel being hidden (a new document restores it).
    const saved = panel.saved() as { prompt?: string } | undefined;
    assert.equal(saved?.prompt, 'something new\n\nthen update the README');
  });

  it('a question is answered where it arose (a choice fills the box) or declined', () => {
    panel = openPanel();
    panel.state([question(2)]);
    conversation([{ seq: 1, at: at(1), type: 'agent-message', text: 'one question' }]);
    const form = panel.root.querySelector<HTMLElement>('li[data-conv-proposal-id="q-2"] form.question')!;
    panel.click(form.querySelectorAll<HTMLButtonElement>('.choices button')[1]!);
    assert.equal(form.querySelector('textarea')!.value, 'spaces');
    panel.click(form.querySelector('button[data-action="answer"]')!);
    assert.deepEqual(panel.last('answer'), { type: 'answer', proposalId: 'q-2', answer: 'spaces' });
    panel.state([question(3)]);
    panel.click(panel.root.querySelector('li[data-conv-proposal-id="q-3"] button[data-action="decline"]')!);
    assert.deepEqual(panel.last('decide'), {
      type: 'decide',
      proposalId: 'q-3',
      verdict: 'reject',
      reason: 'the reviewer declined to answer',
    });
  });

  it('the XSS corpus in conversation text renders as text: no element or handler is added, hidden characters are marked', () => {
    panel = openPanel();
    panel.state([question(90, { question: XSS_CORPUS.join(' '), choices: XSS_CORPUS, title: XSS_CORPUS[0]! })]);
    panel.send({
      type: 'conversation',
      session: { ...session('prompting'), agent: XSS_CORPUS[0]!, agentSessionId: XSS_CORPUS[1]! },
      entries: XSS_CORPUS.flatMap((text, i): FeedEntryView[] => [
        { seq: 4 * i, at: at(i), type: 'user-message', text, turn: 1 },
        { seq: 4 * i + 1, at: at(i), type: 'agent-message', text },
        { seq: 4 * i + 2, at: at(i), type: 'plan', entries: [{ content: text, status: text }] },
        {
          seq: 4 * i + 3,
          at: at(i),
          type: 'tool-call',
          title: text,
          status: text,
          kind: text,
          content: [
            { type: 'text', text },
            { type: 'diff', path: text, diff: `+${text}` },
          ],
          locations: [text],
        },
      ]),
      queued: XSS_CORPUS,
    });
    const conversationRoot = panel.root.querySelector('section.conversation')!;
    assert.equal(conversationRoot.querySelectorAll('img, svg, iframe, object, embed, a, b, script, style').length, 0);
    const handlers = [...panel.root.querySelectorAll('*')].filter((e) => [...e.attributes].some((a) => a.name.startsWith('on')));
    assert.equal(handlers.length, 0);
    const text = conversationRoot.textContent ?? '';
    for (const hostile of XSS_CORPUS.map((t) => t.replace(/[\u202e\u202c]/g, '')))
      assert.ok(text.includes(hostile.slice(-20)), `shown as text: ${hostile}`);
    assert.ok([...conversationRoot.querySelectorAll('.hidden-char')].some((m) => m.textContent === 'U+202E'));
    assert.ok(conversationRoot.querySelector('.callout.warning[role="note"]'), 'the conversation warns about hidden characters');
  });

  it('without a session source the panel shows proposals only (no conversation, no box)', () => {
    panel = openPanel();
    panel.state([oneHunkEdit(1)]);
    assert.equal(panel.root.querySelector('section.conversation'), null);
    assert.equal(panel.root.querySelector('form.instruction-box'), null);
  });
});

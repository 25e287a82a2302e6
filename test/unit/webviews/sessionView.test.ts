import { strict as assert } from 'node:assert';
import { startSessionView } from '../../../media/session/main';
import type { SessionExtensionMessage } from '../../../src/shared/sessionProtocol';
import { XSS_CORPUS } from '../../support/xssCorpus';
import { fakeWebview, type FakeWebview } from './dom';

type Snapshot = Extract<SessionExtensionMessage, { type: 'state' }>;
const session = (state: 'ready' | 'prompting' | 'ended' = 'ready'): NonNullable<Snapshot['session']> => ({
  id: 's-1',
  state,
  agent: 'Demo agent',
  protocol: 'acp',
  pendingReviews: 2,
});

describe('Session webview (happy-dom)', () => {
  let web: FakeWebview;
  const send = (message: unknown): void => {
    web.window.dispatchEvent(new web.window.MessageEvent('message', { data: message }));
  };
  const $ = (selector: string): HTMLElement => web.root.querySelector<HTMLElement>(selector)!;
  const type = (area: HTMLTextAreaElement, text: string): void => {
    area.value = text;
    area.dispatchEvent(new web.window.Event('input', { bubbles: true }) as unknown as Event);
  };
  beforeEach(() => {
    web = fakeWebview();
    startSessionView(web.root);
  });
  afterEach(async () => web.close());

  it('says ready, shows "no session" without one, and the session with its feed', () => {
    assert.deepEqual(web.posted, [{ type: 'ready' }]);
    send({ type: 'state', session: null, entries: [], questions: [] });
    assert.equal($('h1').textContent, 'No agent session');
    send({
      type: 'state',
      session: session(),
      entries: [
        { seq: 1, at: 'x', type: 'agent-message', text: 'Hello' },
        { seq: 2, at: 'x', type: 'plan', entries: [{ content: 'Write tests', status: 'completed' }] },
        {
          seq: 3,
          at: 'x',
          type: 'tool-call',
          title: 'Edit a.js',
          status: 'completed',
          kind: 'edit',
          content: [{ type: 'diff', path: 'a.js', diff: '@@ -1 +1 @@\n-a\n+b' }],
        },
      ],
      questions: [],
    });
    assert.equal($('h1').textContent, 'Demo agent');
    assert.equal(web.root.querySelectorAll('.feed > li').length, 3);
    assert.equal($('.plan .step-completed').textContent, '✓ Write tests');
    assert.equal($('.diff .line.add').textContent, '+b\n');
    $('button.link').click();
    assert.deepEqual(web.posted.at(-1), { type: 'showReview' });
  });

  it('sends the next instruction when the agent is ready, keeps a draft across snapshots, and cancels a running turn', () => {
    send({ type: 'state', session: session('ready'), entries: [], questions: [] });
    const area = $('form.prompt textarea') as HTMLTextAreaElement;
    type(area, 'Add a test');
    send({ type: 'state', session: session('ready'), entries: [{ seq: 1, at: 'x', type: 'mode', modeId: 'code' }], questions: [] });
    assert.equal(($('form.prompt textarea') as HTMLTextAreaElement).value, 'Add a test', 'the draft survives');
    ($('form.prompt button[type="submit"]') as HTMLButtonElement).click();
    assert.deepEqual(web.posted.at(-1), { type: 'prompt', text: 'Add a test' });
    send({ type: 'state', session: session('prompting'), entries: [], questions: [] });
    assert.equal(($('form.prompt button[type="submit"]') as HTMLButtonElement).disabled, true);
    ($('form.prompt button.secondary') as HTMLButtonElement).click();
    assert.deepEqual(web.posted.at(-1), { type: 'cancel' });
  });

  it('answers a question (a choice fills the box), or declines it', () => {
    send({
      type: 'state',
      session: session(),
      entries: [],
      questions: [{ proposalId: 'q-1', question: 'Which?', choices: ['left', 'right'], createdAt: 'x' }],
    });
    ($('.choices button:nth-child(2)') as HTMLButtonElement).click();
    assert.equal(($('form.question textarea') as HTMLTextAreaElement).value, 'right');
    ($('form.question button[type="submit"]') as HTMLButtonElement).click();
    assert.deepEqual(web.posted.at(-1), { type: 'answer', proposalId: 'q-1', answer: 'right' });
    ($('form.question button[data-action="decline"]') as HTMLButtonElement).click();
    assert.deepEqual(web.posted.at(-1), { type: 'decline', proposalId: 'q-1' });
  });

  it('shows errors, and drops invalid messages', () => {
    send({ type: 'state', session: session(), entries: [], questions: [] });
    send({ type: 'error', message: 'agent crashed' });
    assert.equal($('#error').textContent, 'agent crashed');
    assert.equal($('#error').hidden, false);
    send({ type: 'state', session: { id: 1 } });
    assert.equal($('h1').textContent, 'Demo agent');
  });

  it('agent text is text: the XSS corpus adds no element, and hidden characters are marked with a warning', () => {
    send({
      type: 'state',
      session: { ...session(), agent: XSS_CORPUS[0]! },
      entries: XSS_CORPUS.map((text, i) => ({
        seq: i,
        at: 'x',
        type: 'tool-call',
        title: text,
        status: text,
        kind: text,
        content: [{ type: 'text', text }],
        locations: [text],
      })),
      questions: [{ proposalId: 'q', question: XSS_CORPUS.join(' '), choices: XSS_CORPUS, createdAt: 'x' }],
    });
    assert.equal(web.root.querySelectorAll('img, svg, iframe, a, b, script, style, details').length, 0);
    assert.equal([...web.root.querySelectorAll('*')].filter((e) => [...e.attributes].some((a) => a.name.startsWith('on'))).length, 0);
    assert.ok([...web.root.querySelectorAll('.hidden-char')].some((m) => m.textContent === 'U+202E'));
    assert.ok(web.root.querySelector('.callout.warning[role="note"]'));
  });
});

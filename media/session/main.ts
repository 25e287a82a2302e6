/**
 * The Session view's webview: what the agent does while it works, the questions waiting
 * for an answer, and a box for the next instruction. Everything the agent sent is put into
 * the page as text (textContent), never as HTML. Messages are validated with the shared zod
 * contract; an invalid one is dropped.
 */
import {
  parseSessionExtensionMessage,
  type FeedEntryView,
  type QuestionView,
  type SessionExtensionMessage,
  type SessionWebviewMessage,
} from '../../src/shared/sessionProtocol';

interface VsCodeApi {
  postMessage(message: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;
const vscode = acquireVsCodeApi();

function post(message: SessionWebviewMessage): void {
  vscode.postMessage(message);
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

const app = document.getElementById('app')!;
let lastError: string | undefined;
/** Answers being typed survive re-renders. */
const drafts = new Map<string, string>();
let promptDraft = '';

window.addEventListener('message', (event: MessageEvent<unknown>) => {
  const parsed = parseSessionExtensionMessage(event.data);
  if (!parsed.ok) return;
  render(parsed.message);
});

function render(message: SessionExtensionMessage): void {
  if (message.type === 'error') {
    lastError = message.message;
    const box = document.getElementById('error');
    if (box) {
      box.textContent = message.message;
      box.hidden = false;
    }
    return;
  }
  const atBottom = window.innerHeight + window.scrollY >= document.body.scrollHeight - 40;
  app.replaceChildren();
  app.removeAttribute('aria-busy');
  const session = message.session;
  const header = el('header', 'session-header');
  if (!session) {
    header.append(el('h1', undefined, 'No agent session'), el('p', 'muted', 'Start one with "Warden: Start Agent Session".'));
    app.appendChild(header);
  } else {
    header.append(el('h1', undefined, session.agent));
    const meta = el(
      'p',
      'muted',
      `${session.protocol} · ${session.state}${session.agentSessionId ? ` · agent session ${session.agentSessionId}` : ''}`,
    );
    header.appendChild(meta);
    if (session.pendingReviews > 0) {
      const review = el('button', 'link', `${session.pendingReviews} waiting for review`);
      review.addEventListener('click', () => post({ type: 'showReview' }));
      header.appendChild(review);
    }
    app.appendChild(header);
  }
  const error = el('div', 'callout error', lastError ?? '');
  error.id = 'error';
  error.setAttribute('role', 'alert');
  error.hidden = lastError === undefined;
  app.appendChild(error);

  if (message.questions.length > 0) app.appendChild(questions(message.questions));

  const feed = el('ol', 'feed');
  feed.setAttribute('aria-live', 'polite');
  for (const entry of message.entries) feed.appendChild(entryNode(entry));
  app.appendChild(feed);

  if (session && session.state !== 'ended') app.appendChild(promptBox(session.state === 'ready'));
  if (atBottom) window.scrollTo(0, document.body.scrollHeight);
}

function questions(list: QuestionView[]): HTMLElement {
  const section = el('section', 'questions');
  section.appendChild(el('h2', undefined, 'Needs your input'));
  for (const q of list) {
    const card = el('form', 'question');
    card.appendChild(el('p', 'question-text', q.question));
    const input = el('textarea');
    input.rows = 2;
    input.setAttribute('aria-label', 'Your answer');
    input.value = drafts.get(q.proposalId) ?? '';
    input.addEventListener('input', () => drafts.set(q.proposalId, input.value));
    if (q.choices) {
      const choices = el('div', 'choices');
      for (const choice of q.choices) {
        const b = el('button', 'secondary', choice);
        b.type = 'button';
        b.addEventListener('click', () => {
          input.value = choice;
          drafts.set(q.proposalId, choice);
        });
        choices.appendChild(b);
      }
      card.appendChild(choices);
    }
    const send = el('button', 'primary', 'Answer');
    send.type = 'submit';
    const decline = el('button', 'secondary', 'Decline to answer');
    decline.type = 'button';
    decline.addEventListener('click', () => post({ type: 'decline', proposalId: q.proposalId }));
    card.addEventListener('submit', (event) => {
      event.preventDefault();
      if (!input.value.trim()) return;
      drafts.delete(q.proposalId);
      post({ type: 'answer', proposalId: q.proposalId, answer: input.value });
    });
    card.append(input, send, decline);
    section.appendChild(card);
  }
  return section;
}

function entryNode(entry: FeedEntryView): HTMLElement {
  const item = el('li', `entry ${entry.type}`);
  switch (entry.type) {
    case 'agent-message':
      item.appendChild(el('div', 'text', entry.text));
      break;
    case 'thought': {
      const details = el('details');
      details.append(el('summary', undefined, 'Thinking'), el('div', 'text', entry.text));
      item.appendChild(details);
      break;
    }
    case 'tool-call': {
      const head = el('div', 'tool-head');
      head.append(
        el('span', `badge kind-${entry.kind}`, entry.kind),
        el('span', 'tool-title', entry.title),
        el('span', `status status-${entry.status}`, entry.status),
      );
      item.appendChild(head);
      if (entry.locations?.length) item.appendChild(el('div', 'muted', entry.locations.join(', ')));
      for (const c of entry.content ?? []) {
        if (c.type === 'text') item.appendChild(el('pre', 'output', c.text));
        else if (c.type === 'diff') item.appendChild(diff(c.path, c.diff));
        else item.appendChild(el('div', 'muted', `terminal ${c.terminalId}`));
      }
      break;
    }
    case 'plan': {
      item.appendChild(el('h2', undefined, 'Plan'));
      const list = el('ul', 'plan');
      for (const step of entry.entries)
        list.appendChild(
          el(
            'li',
            `step step-${step.status}`,
            `${step.status === 'completed' ? '✓' : step.status === 'in_progress' ? '▶' : '○'} ${step.content}`,
          ),
        );
      item.appendChild(list);
      break;
    }
    case 'commands':
      item.appendChild(el('div', 'muted', `Agent commands: ${entry.commands.map((c) => `/${c.name}`).join(' ')}`));
      break;
    case 'mode':
      item.appendChild(el('div', 'muted', `Mode: ${entry.modeId}`));
      break;
    case 'notice':
      item.classList.add(`notice-${entry.level}`);
      item.appendChild(el('div', 'text', entry.text));
      break;
    case 'ended':
      item.appendChild(el('div', 'muted', `Session ended: ${entry.reason}`));
      break;
  }
  return item;
}

function diff(path: string, text: string): HTMLElement {
  const box = el('div', 'diff');
  box.appendChild(el('div', 'diff-path', path));
  const pre = el('pre');
  for (const line of text.split('\n')) {
    const cls =
      line.startsWith('+') && !line.startsWith('+++')
        ? 'add'
        : line.startsWith('-') && !line.startsWith('---')
          ? 'del'
          : line.startsWith('@@')
            ? 'hunk'
            : 'ctx';
    pre.appendChild(el('span', `line ${cls}`, `${line}\n`));
  }
  box.appendChild(pre);
  return box;
}

function promptBox(ready: boolean): HTMLElement {
  const form = el('form', 'prompt');
  const input = el('textarea');
  input.rows = 3;
  input.placeholder = ready ? 'Next instruction for the agent' : 'The agent is working…';
  input.setAttribute('aria-label', 'Next instruction');
  input.value = promptDraft;
  input.addEventListener('input', () => (promptDraft = input.value));
  const send = el('button', 'primary', 'Send');
  send.type = 'submit';
  send.disabled = !ready;
  const cancel = el('button', 'secondary', 'Cancel turn');
  cancel.type = 'button';
  cancel.disabled = ready;
  cancel.addEventListener('click', () => post({ type: 'cancel' }));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!ready || !input.value.trim()) return;
    post({ type: 'prompt', text: input.value });
    promptDraft = '';
  });
  form.append(input, send, cancel);
  return form;
}

post({ type: 'ready' });

/** Proposals and a mounted Review panel for the webview unit tests. */
import type { CommandProposal, EditProposal, Proposal } from '../../../src/core/proposals/model';
import { toProposalView, type ExtensionMessage } from '../../../src/shared/reviewProtocol';
import { startReviewPanel, type ReviewPanelOptions } from '../../../media/review/main';
import type { ReviewAction, ReviewState } from '../../../media/review/state';
import type { Running } from '../../../media/common/program';
import { pendingEdit } from '../../support/proposals';
import { fakeWebview, type FakeWebview } from './dom';

export const at = (n: number): string => new Date(Date.UTC(2026, 11, 1, 12, 0, n)).toISOString();

/** An edit of a 30-line file with two hunks (first and last line changed). */
export function twoHunkEdit(n: number, fields: Partial<Pick<EditProposal, 'sessionId' | 'turn'>> = {}): EditProposal {
  const lines = Array.from({ length: 30 }, (_, i) => `line ${i + 1} of file ${n}`);
  const oldText = `${lines.join('\n')}\n`;
  const newText = `${[`// header ${n}`, ...lines.slice(0, 29), `line 30 changed in ${n}`].join('\n')}\n`;
  const edit = pendingEdit({
    id: `p-${n}`,
    sessionId: fields.sessionId ?? 's-1',
    createdAt: at(n),
    path: `src/file${n}.txt`,
    oldText,
    newText,
  });
  return fields.turn === undefined ? edit : { ...edit, turn: fields.turn };
}

export function oneHunkEdit(n: number): EditProposal {
  return pendingEdit({ id: `p-${n}`, sessionId: 's-1', createdAt: at(n), path: `src/one${n}.js`, oldText: 'a\n', newText: 'b\n' });
}

export function command(n: number, fields: Partial<CommandProposal> = {}): CommandProposal {
  return {
    kind: 'command',
    id: `c-${n}`,
    sessionId: 's-1',
    createdAt: at(n),
    state: 'pending',
    title: `Run npm test ${n}`,
    origin: 'terminal/create',
    argv: ['npm', 'test'],
    commandLine: 'npm test',
    cwd: '/workspace',
    env: {},
    ...fields,
  };
}

export interface PanelHarness extends FakeWebview {
  panel: Running<ReviewState, ReviewAction>;
  /** Delivers a message as VS Code does (a `message` event; validated by the panel). */
  send(message: ExtensionMessage | Record<string, unknown>): void;
  state(proposals: Proposal[], extra?: Record<string, unknown>): void;
  card(id: string): HTMLElement;
  button(id: string, action: string): HTMLButtonElement;
  click(element: Element): void;
  last(type: string): Record<string, unknown> | undefined;
}

/** A panel drawing each message at once (`batchMessages: false`), unless `options` say otherwise. */
export function openPanel(saved?: unknown, options: ReviewPanelOptions = {}): PanelHarness {
  const web = fakeWebview(saved);
  const panel = startReviewPanel(web.root, { observe: false, batchMessages: false, ...options });
  const harness: PanelHarness = {
    ...web,
    panel,
    send(message) {
      web.window.dispatchEvent(new web.window.MessageEvent('message', { data: JSON.parse(JSON.stringify(message)) as unknown }));
    },
    state(proposals, extra = {}) {
      harness.send({ type: 'state', proposals: proposals.map(toProposalView), ...extra });
    },
    card(id) {
      const card = [...web.root.querySelectorAll<HTMLElement>('article.card')].find((c) => c.dataset.proposalId === id);
      if (!card) throw new Error(`no card ${id}`);
      return card;
    },
    button(id, action) {
      const found = [...harness.card(id).querySelectorAll<HTMLButtonElement>('button[data-action]')].find(
        (b) => b.dataset.action === action,
      );
      if (!found) throw new Error(`no ${action} button on ${id}`);
      return found;
    },
    click(element) {
      (element as HTMLElement).click();
    },
    last(type) {
      return [...web.posted].reverse().find((m) => m.type === type);
    },
  };
  return harness;
}

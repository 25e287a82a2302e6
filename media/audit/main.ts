/**
 * The Audit panel's webview: a pure reducer (`update.ts`) and view (`view.tsx`) run by the shared
 * program loop. Messages from the extension are validated with the shared zod contract (an
 * invalid one is dropped); log text only ever enters the page as text, with hidden characters
 * marked. Only the filters are persisted with `setState`.
 */
import * as z from 'zod';
import { AuditFilters, parseAuditExtensionMessage, type AuditWebviewMessage } from '../../src/shared/auditProtocol';
import { mount, type Running } from '../common/program';
import { vscodeApi } from '../common/vscodeApi';
import { blameCounts } from './Blame';
import { initialAuditState, update, type AuditAction, type AuditEffect, type AuditState } from './update';
import { view } from './view';

const Persisted = z.object({ version: z.literal(1), filters: AuditFilters.catch({}) });

export function startAuditView(root: HTMLElement): Running<AuditState, AuditAction> {
  const api = vscodeApi();
  const post = (message: AuditWebviewMessage): void => api.postMessage(message);
  const win = root.ownerDocument.defaultView ?? window;
  const saved = Persisted.safeParse(api.getState());
  const filters = saved.success ? saved.data.filters : {};
  let timer: number | undefined;
  const run = (effect: AuditEffect): void => {
    switch (effect.type) {
      case 'post':
        post(effect.message);
        return;
      case 'save':
        api.setState({ version: 1, filters: effect.filters });
        return;
      case 'query':
        if (timer !== undefined) win.clearTimeout(timer);
        timer = win.setTimeout(() => {
          timer = undefined;
          post({ type: 'query', filters: effect.filters });
        }, effect.delayMs);
        return;
      case 'rendered': {
        const blame = running.state().blame;
        post({
          type: 'rendered',
          sessions: root.querySelectorAll('#sessions > li').length,
          rows: root.querySelectorAll('#entries > li').length,
          ...(blame.kind === 'shown' ? { blame: blameCounts(blame.result) } : {}),
        });
        return;
      }
      case 'scrollTo':
        root.ownerDocument.getElementById(effect.id)?.scrollIntoView?.({ block: 'start' });
        return;
    }
  };
  const running = mount<AuditState, AuditAction, AuditEffect>(root, { init: initialAuditState(filters), update, view, run });
  win.addEventListener('message', (event: MessageEvent<unknown>) => {
    const parsed = parseAuditExtensionMessage(event.data);
    if (!parsed.ok) {
      console.warn(`[warden audit] dropped an invalid message from the extension: ${parsed.error}`);
      return;
    }
    running.dispatch({ type: 'message', message: parsed.message });
  });
  post({ type: 'ready' });
  if (Object.keys(filters).length > 0) post({ type: 'query', filters });
  return running;
}

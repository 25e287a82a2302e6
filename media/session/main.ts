/**
 * The Session view's webview: what the agent does while it works, the questions waiting for an
 * answer, and a box for the next instruction. A pure reducer (`update.ts`) and view (`view.tsx`);
 * agent text only ever as text, with hidden characters marked. Messages are validated with the
 * shared zod contract; an invalid one is dropped.
 */
import { parseSessionExtensionMessage } from '../../src/shared/sessionProtocol';
import { mount, type Running } from '../common/program';
import { vscodeApi } from '../common/vscodeApi';
import { initialSessionState, update, type SessionAction, type SessionEffect, type SessionState } from './update';
import { view } from './view';

export function startSessionView(root: HTMLElement): Running<SessionState, SessionAction> {
  const api = vscodeApi();
  const win = root.ownerDocument.defaultView ?? window;
  const body = root.ownerDocument.body;
  let atBottom = true;
  const running = mount<SessionState, SessionAction, SessionEffect>(root, {
    init: initialSessionState,
    update,
    view,
    run: (effect) => api.postMessage(effect.message),
    // The feed follows the agent while the reader is at the bottom of the page.
    beforeRender: () => {
      atBottom = win.innerHeight + win.scrollY >= body.scrollHeight - 40;
    },
    afterRender: () => {
      if (atBottom) win.scrollTo(0, body.scrollHeight);
    },
  });
  win.addEventListener('message', (event: MessageEvent<unknown>) => {
    const parsed = parseSessionExtensionMessage(event.data);
    if (!parsed.ok) {
      console.warn(`[warden session] dropped an invalid message from the extension: ${parsed.error}`);
      return;
    }
    running.dispatch({ type: 'message', message: parsed.message });
  });
  api.postMessage({ type: 'ready' });
  return running;
}

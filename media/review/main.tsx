/* @jsxRuntime automatic @jsxImportSource preact */
/**
 * The Review panel's webview: wires the pure reducer (`update.ts`) and view (`view.tsx`) to the
 * page. Renders the proposals the extension sends (a full snapshot per `state` message, then
 * `delta`s; the messages of one frame are drawn together) and
 * posts the reviewer's decisions back; agent text is only ever text (see common/AgentText).
 * Only UI state (open cards, full diffs, scroll, unfinished edits) is kept with `setState`.
 * The contributed keybindings (j/k, a, r, e, Shift+A/R) arrive as `key` messages: the webview
 * knows what is selected, the extension decides what the keys are.
 */
import { parseExtensionMessage, type WebviewMessage } from '../../src/shared/reviewProtocol';
import { mount, type Running } from '../common/program';
import { trackTextFocus } from '../common/textFocus';
import { vscodeApi } from '../common/vscodeApi';
import { captureFocus, focusTarget, restoreFocus, type FocusMemo } from './focus';
import { initialState, persistUi, restoreUi, type ReviewAction, type ReviewEffect, type ReviewState } from './state';
import { addTimeTitle } from './time';
import { update } from './update';
import { view } from './view';

export interface ReviewPanelOptions {
  /** Tests: no IntersectionObserver in the DOM emulation, so far cards are filled only by the keys, toggles and `fill`. */
  observe?: boolean;
  /**
   * Messages from the extension are applied together once per frame (default): a proposal's
   * `delta` and the conversation's, or a burst while an agent streams, draw the page once.
   * `false` (tests): each message is drawn when its event handler returns.
   */
  batchMessages?: boolean;
}

/** A hidden webview gets no animation frames: messages wait at most this long. */
const BATCH_FALLBACK_MS = 100;

/** Starts the panel in `root` (the shell's `#app`); returns the running program (tests drive it). */
export function startReviewPanel(root: HTMLElement, options: ReviewPanelOptions = {}): Running<ReviewState, ReviewAction> {
  const api = vscodeApi();
  const post = (message: WebviewMessage): void => api.postMessage(message);
  const win = root.ownerDocument.defaultView ?? window;
  let focusMemo: FocusMemo | undefined;
  let restoredScroll = false;
  let saveTimer: ReturnType<typeof setTimeout> | undefined;
  const initial = initialState(restoreUi(api.getState()));
  const save = (): void => api.setState(persistUi(running.state().ui, win.scrollY));

  const observer =
    options.observe !== false && typeof IntersectionObserver === 'function'
      ? new IntersectionObserver(
          (entries) => {
            for (const entry of entries) {
              const id = entry.target instanceof HTMLElement ? entry.target.dataset.proposalId : undefined;
              if (entry.isIntersecting && id !== undefined) running.dispatch({ type: 'fill', proposalId: id });
            }
          },
          { rootMargin: '200% 0px' },
        )
      : undefined;

  const run = (effect: ReviewEffect): void => {
    switch (effect.type) {
      case 'post':
        post(effect.message);
        return;
      case 'save':
        save();
        return;
      case 'saveSoon':
        // Typing saves the draft at most every 300 ms.
        saveTimer ??= setTimeout(() => {
          saveTimer = undefined;
          save();
        }, 300);
        return;
      case 'focus':
        focusTarget(root, effect.target);
        return;
      case 'announce': {
        const live = root.querySelector('#live');
        if (!live) return;
        live.textContent = '';
        setTimeout(() => (live.textContent = effect.text), 50);
        return;
      }
    }
  };

  const running: Running<ReviewState, ReviewAction> = mount<ReviewState, ReviewAction, ReviewEffect>(root, {
    init: initial,
    update,
    view,
    run,
    beforeRender: () => {
      focusMemo = captureFocus(root);
    },
    afterRender: (state) => {
      restoreFocus(root, focusMemo);
      if (observer) {
        observer.disconnect();
        for (const body of root.querySelectorAll('article.card > .card-body[data-deferred]:not([hidden])'))
          if (body.parentElement) observer.observe(body.parentElement);
      }
      if (state.focusTurn !== undefined) {
        const key = state.focusTurn;
        const target = [...root.querySelectorAll<HTMLElement>('section[data-turn-key]')].find((t) => t.dataset.turnKey === key);
        running.dispatch({ type: 'turnShown' });
        if (target) {
          target.scrollIntoView({ block: 'start' });
          target.focus({ preventScroll: true });
          restoredScroll = true;
        }
      }
      if (!restoredScroll) {
        restoredScroll = true;
        if (state.ui.scrollY > 0) win.scrollTo(0, state.ui.scrollY);
      }
    },
  });

  const inbox: ReviewAction[] = [];
  let frame: number | undefined;
  let fallback: ReturnType<typeof setTimeout> | undefined;
  const flush = (): void => {
    if (frame !== undefined) win.cancelAnimationFrame(frame);
    clearTimeout(fallback);
    frame = fallback = undefined;
    running.dispatchAll(inbox.splice(0));
  };
  win.addEventListener('message', (event: MessageEvent<unknown>) => {
    const parsed = parseExtensionMessage(event.data);
    if (!parsed.ok) {
      console.warn(`[warden review] dropped an invalid message from the extension: ${parsed.error}`);
      return;
    }
    const action: ReviewAction = { type: 'message', message: parsed.message, focused: focusedKey(root) };
    if (options.batchMessages === false) return running.dispatch(action);
    inbox.push(action);
    // Drawn just before the next frame is painted, so a message costs no latency it would not have had.
    frame ??= win.requestAnimationFrame(flush);
    fallback ??= setTimeout(flush, BATCH_FALLBACK_MS);
  });
  let scrollQueued = false;
  win.addEventListener(
    'scroll',
    () => {
      if (scrollQueued || !restoredScroll) return;
      scrollQueued = true;
      win.requestAnimationFrame(() => {
        scrollQueued = false;
        save();
      });
    },
    { passive: true },
  );
  root.ownerDocument.addEventListener('mouseover', addTimeTitle);
  trackTextFocus((editing) => post({ type: 'textFocus', editing }), root.ownerDocument);
  post({ type: 'ready' });
  return running;
}

/** The key item the DOM focus is in: a hunk ("id#h1") or a card ("id"). */
function focusedKey(root: HTMLElement): string | undefined {
  const active = root.ownerDocument.activeElement;
  if (!(active instanceof HTMLElement) || !root.contains(active)) return undefined;
  const hunk = active.closest<HTMLElement>('tbody.hunk[data-proposal-id]');
  if (hunk) return `${hunk.dataset.proposalId ?? ''}#${hunk.dataset.hunkId ?? ''}`;
  return active.closest<HTMLElement>('article[data-proposal-id]')?.dataset.proposalId;
}

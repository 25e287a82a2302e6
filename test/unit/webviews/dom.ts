/**
 * A DOM emulation (happy-dom) for the webview tests: a fresh window per test, installed as the
 * globals Preact and the views use, with a fake `acquireVsCodeApi` recording what the webview posts.
 */
import { Window } from 'happy-dom';
import { installVsCodeApi } from '../../../media/common/vscodeApi';

export interface FakeWebview {
  window: Window;
  document: Document;
  root: HTMLElement;
  /** Everything the webview posted to the extension, in order. */
  posted: Array<Record<string, unknown> & { type: string }>;
  /** What the webview last saved with setState. */
  saved(): unknown;
  close(): Promise<void>;
}

const GLOBALS = [
  'window',
  'document',
  'navigator',
  'Node',
  'Element',
  'HTMLElement',
  'HTMLButtonElement',
  'HTMLInputElement',
  'HTMLTextAreaElement',
  'HTMLTimeElement',
  'HTMLSelectElement',
  'Event',
  'MouseEvent',
  'KeyboardEvent',
  'FocusEvent',
  'InputEvent',
  'MessageEvent',
  'requestAnimationFrame',
  'cancelAnimationFrame',
  'getComputedStyle',
] as const;

export function fakeWebview(state?: unknown): FakeWebview {
  const window = new Window({ url: 'https://webview.invalid/', width: 1200, height: 800 });
  const document = window.document as unknown as Document;
  document.body.innerHTML = '<main id="app" aria-busy="true"><p class="loading">Loading…</p></main>'; // the shell, as webviewHtml.ts serves it
  const globals = globalThis as unknown as Record<string, unknown>;
  const previous = new Map(GLOBALS.map((name) => [name, globals[name]]));
  for (const name of GLOBALS) {
    const value = (window as unknown as Record<string, unknown>)[name];
    globals[name] = typeof value === 'function' && /^[a-z]/.test(name) ? (value as (...a: unknown[]) => unknown).bind(window) : value;
  }
  globals.window = window;
  globals.document = document;
  const posted: FakeWebview['posted'] = [];
  let saved = state;
  installVsCodeApi({
    postMessage: (message) => posted.push(JSON.parse(JSON.stringify(message)) as FakeWebview['posted'][number]),
    getState: () => saved,
    setState: (value) => {
      saved = value;
    },
  });
  return {
    window,
    document,
    root: document.getElementById('app')!,
    posted,
    saved: () => saved,
    close: async () => {
      await window.happyDOM.abort();
      await window.happyDOM.close();
      for (const [name, value] of previous) globals[name] = value;
    },
  };
}

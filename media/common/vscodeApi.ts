/**
 * The webview side of VS Code: `acquireVsCodeApi()` may be called once per document, so every
 * panel gets it here. Tests install a fake with `installVsCodeApi` before mounting a view.
 */
export interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare global {
  // Provided by VS Code in every webview (and by the tests' fake).
  function acquireVsCodeApi(): VsCodeApi;
}

let api: VsCodeApi | undefined;

export function vscodeApi(): VsCodeApi {
  api ??= acquireVsCodeApi();
  return api;
}

/** Tests: the API every later `vscodeApi()` call returns. */
export function installVsCodeApi(fake: VsCodeApi): void {
  api = fake;
}

/** A typed `postMessage` for one panel's contract. */
export function poster<M>(): (message: M) => void {
  return (message) => vscodeApi().postMessage(message);
}

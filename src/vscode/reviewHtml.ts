import { createNonce, webviewContentSecurityPolicy, webviewShellHtml, type WebviewHtmlParams } from './webviewHtml';

/** The Review panel's HTML shell: the shared webview shell (strict CSP, one script by nonce). */
export type ReviewHtmlParams = WebviewHtmlParams;

export { createNonce, webviewContentSecurityPolicy as reviewContentSecurityPolicy };

export function reviewPanelHtml(params: ReviewHtmlParams): string {
  return webviewShellHtml({ ...params, title: 'Warden Review', loadingText: 'Loading proposals…' });
}

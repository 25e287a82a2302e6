import { createNonce, webviewShellHtml, type WebviewHtmlParams } from './webviewHtml';

/** The Audit panel's HTML shell: the same strict shell as the Review panel. */
export type AuditHtmlParams = WebviewHtmlParams;

export { createNonce };

export function auditPanelHtml(params: AuditHtmlParams): string {
  return webviewShellHtml({ ...params, title: 'Warden Audit Log', loadingText: 'Reading the audit log…' });
}

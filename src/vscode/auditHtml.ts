import { createNonce, reviewContentSecurityPolicy } from './reviewHtml';

/**
 * The Audit panel's HTML shell (no `vscode` import, unit-testable). Same policy as the Review
 * panel: nothing but one script by nonce and the stylesheet; all content is rendered by the
 * script with DOM APIs and `textContent`.
 */
export interface AuditHtmlParams {
  cspSource: string;
  nonce: string;
  scriptUri: string;
  styleUri: string;
}

export { createNonce };

const NONCE_PATTERN = /^[A-Za-z0-9+/]{16,}={0,2}$/;

export function auditPanelHtml(params: AuditHtmlParams): string {
  if (!NONCE_PATTERN.test(params.nonce)) throw new Error('The audit panel nonce must be base64 of at least 12 random bytes');
  if (/[;,\r\n]/.test(params.cspSource) || !params.cspSource.trim()) throw new Error(`Unexpected webview CSP source: ${params.cspSource}`);
  const csp = reviewContentSecurityPolicy(params.cspSource, params.nonce);
  return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <meta http-equiv="Content-Security-Policy" content="${escapeAttribute(csp)}">
  <meta name="viewport" content="width=device-width, initial-scale=1.0">
  <link rel="stylesheet" href="${escapeAttribute(params.styleUri)}">
  <title>Warden Audit Log</title>
</head>
<body>
  <main id="app" aria-busy="true">
    <p class="loading">Reading the audit log…</p>
  </main>
  <script nonce="${escapeAttribute(params.nonce)}" src="${escapeAttribute(params.scriptUri)}"></script>
</body>
</html>
`;
}

function escapeAttribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

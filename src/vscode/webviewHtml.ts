import { randomBytes } from 'node:crypto';

/**
 * The HTML shell every Warden webview uses, kept free of `vscode` so it can be unit tested.
 * All content is rendered by the script (DOM APIs and `textContent` only); the page allows
 * nothing but that one script, by nonce, and the stylesheet from the extension's media folder.
 */

export interface WebviewHtmlParams {
  /** `webview.cspSource`. */
  cspSource: string;
  /** A fresh value from `createNonce()` for every render of the HTML. */
  nonce: string;
  /** `webview.asWebviewUri(...)` of the panel's script, as a string. */
  scriptUri: string;
  /** `webview.asWebviewUri(...)` of the panel's stylesheet, as a string. */
  styleUri: string;
  /** Stylesheets loaded before it (e.g. the codicon font's), from the same media folder. */
  extraStyleUris?: string[];
}

/** 128 random bits from the OS CSPRNG, base64 (never Math.random). */
export function createNonce(): string {
  return randomBytes(16).toString('base64');
}

const NONCE_PATTERN = /^[A-Za-z0-9+/]{16,}={0,2}$/;

export function webviewContentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `style-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
    `img-src ${cspSource} data:`,
    `font-src ${cspSource}`,
  ].join('; ');
}

export function webviewShellHtml(params: WebviewHtmlParams & { title: string; loadingText: string }): string {
  if (!NONCE_PATTERN.test(params.nonce)) throw new Error(`The ${params.title} nonce must be base64 of at least 12 random bytes`);
  // A source list (e.g. `'self' https://*.vscode-cdn.net`); a ';' or ',' would smuggle in directives.
  if (/[;,\r\n]/.test(params.cspSource) || !params.cspSource.trim()) throw new Error(`Unexpected webview CSP source: ${params.cspSource}`);
  const csp = webviewContentSecurityPolicy(params.cspSource, params.nonce);
  return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <meta http-equiv="Content-Security-Policy" content="${escapeAttribute(csp)}">
  <meta name="viewport" content="width=device-width, initial-scale=1.0">
${(params.extraStyleUris ?? []).map((uri) => `  <link rel="stylesheet" href="${escapeAttribute(uri)}">\n`).join('')}  <link rel="stylesheet" href="${escapeAttribute(params.styleUri)}">
  <title>${escapeText(params.title)}</title>
</head>
<body>
  <main id="app" aria-busy="true">
    <p class="loading">${escapeText(params.loadingText)}</p>
  </main>
  <script nonce="${escapeAttribute(params.nonce)}" src="${escapeAttribute(params.scriptUri)}"></script>
</body>
</html>
`;
}

function escapeAttribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function escapeText(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

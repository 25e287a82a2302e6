/** Hostile agent text: each must render as text in every webview (e2e and unit tiers use the same corpus). */
export const XSS_CORPUS = [
  `<img src=x onerror="window.__xss='img'">`,
  `<script>window.__xss='script'</script>`,
  `"><svg onload="window.__xss='svg'">`,
  `'><iframe srcdoc="<script>parent.__xss='iframe'</script>">`,
  `</textarea><a href="javascript:window.__xss='href'">x</a>`,
  `<style>*{display:none}</style><b id="__xss">bold</b>`,
  `{{constructor.constructor('window.__xss=1')()}}`,
  `\u202eevil\u202c <details open ontoggle="window.__xss='details'">`,
];

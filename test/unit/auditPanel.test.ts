import { strict as assert } from 'node:assert';
import { auditEntrySchema, toAuditEntry } from '../../src/core/audit/verify';
import { parseAuditExtensionMessage, parseAuditWebviewMessage } from '../../src/shared/auditProtocol';
import { createNonce, webviewShellHtml, type WebviewHtmlParams } from '../../src/vscode/webviewHtml';

/** The Audit panel's shell, as WebviewPanelHost serves it. */
const auditPanelHtml = (params: WebviewHtmlParams): string =>
  webviewShellHtml({ ...params, title: 'Warden Audit Log', loadingText: 'Reading the audit log…' });

const GOOD = {
  v: 1,
  seq: 3,
  time: '2026-03-01T10:00:00.000Z',
  sessionId: 's',
  actor: { kind: 'human', id: 'a@b', name: 'A', email: 'a@b' },
  type: 'decision',
  data: { verdict: 'approve' },
  prev: 'a'.repeat(64),
};

describe('audit entry validation: the fast check agrees with the schema', () => {
  const variants: Array<[string, unknown]> = [
    ['a good entry', GOOD],
    ['an extra top-level key (the schema strips it)', { ...GOOD, extra: 1 }],
    ['an extra actor key', { ...GOOD, actor: { ...GOOD.actor, role: 'x' } }],
    ['a time with an offset', { ...GOOD, time: '2026-03-01T10:00:00+02:00' }],
    ['February 30th', { ...GOOD, time: '2026-02-30T10:00:00Z' }],
    ['a time without seconds', { ...GOOD, time: '2026-03-01T10:00Z' }],
    ['seq 0', { ...GOOD, seq: 0 }],
    ['seq 1.5', { ...GOOD, seq: 1.5 }],
    ['seq as a string', { ...GOOD, seq: '3' }],
    ['v 2', { ...GOOD, v: 2 }],
    ['an unknown actor kind', { ...GOOD, actor: { kind: 'root', id: 'x' } }],
    ['a null actor name', { ...GOOD, actor: { kind: 'agent', id: 'x', name: null } }],
    ['an empty type', { ...GOOD, type: '' }],
    ['data as an array', { ...GOOD, data: [] }],
    ['data null', { ...GOOD, data: null }],
    ['an uppercase prev', { ...GOOD, prev: 'A'.repeat(64) }],
    ['a short prev', { ...GOOD, prev: 'a'.repeat(63) }],
    ['no sessionId', { ...GOOD, sessionId: undefined }],
    ['an array', [GOOD]],
    ['null', null],
  ];
  for (const [name, value] of variants) {
    it(name, () => {
      assert.equal(toAuditEntry(value).ok, auditEntrySchema.safeParse(value).success);
    });
  }
});

describe('audit panel contract and HTML', () => {
  it('accepts the messages the webview sends, strictly', () => {
    assert.equal(parseAuditWebviewMessage({ type: 'ready' }).ok, true);
    assert.equal(parseAuditWebviewMessage({ type: 'query', filters: { decision: 'rejected', text: 'rm -rf' } }).ok, true);
    assert.equal(parseAuditWebviewMessage({ type: 'export', format: 'csv' }).ok, true);
    assert.equal(parseAuditWebviewMessage({ type: 'openDiff', seq: 6 }).ok, true);
  });

  it('drops anything else, without echoing the payload', () => {
    for (const bad of [
      { type: 'query', filters: { decision: 'everything' } },
      { type: 'query', filters: { unknown: 'x' } },
      { type: 'export', format: 'pdf' },
      { type: 'openDiff', seq: -1 },
      { type: 'openDiff', seq: 1, path: '/etc/passwd' },
      { type: 'runCommand', command: 'rm -rf /' },
      'ready',
    ]) {
      const parsed = parseAuditWebviewMessage(bad);
      assert.equal(parsed.ok, false, JSON.stringify(bad));
      if (!parsed.ok) assert.doesNotMatch(parsed.error, /rm -rf|passwd/);
    }
  });

  it('validates what the extension sends', () => {
    assert.equal(parseAuditExtensionMessage({ type: 'notice', message: 'ok' }).ok, true);
    assert.equal(parseAuditExtensionMessage({ type: 'state', rows: 'nope' }).ok, false);
  });

  it('renders a page that allows only its own script by nonce and its stylesheet', () => {
    const nonce = createNonce();
    const html = auditPanelHtml({
      cspSource: 'https://file+.vscode-resource.vscode-cdn.net',
      nonce,
      scriptUri: 'https://x/audit.js',
      styleUri: 'https://x/audit.css',
    });
    const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1] ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, new RegExp(`script-src 'nonce-${nonce.replace(/[+/]/g, '\\$&')}'`));
    assert.doesNotMatch(csp, /unsafe-(inline|eval)/);
    assert.equal((html.match(/<script /g) ?? []).length, 1);
  });

  it('refuses a weak nonce or a CSP source that smuggles in a directive', () => {
    assert.throws(() => auditPanelHtml({ cspSource: 'x', nonce: 'abc', scriptUri: 's', styleUri: 'c' }));
    assert.throws(() =>
      auditPanelHtml({ cspSource: "x; script-src 'unsafe-inline'", nonce: createNonce(), scriptUri: 's', styleUri: 'c' }),
    );
  });
});

import { strict as assert } from 'node:assert';
import type { CommandProposal, EditProposal, PermissionProposal } from '../../src/core/proposals/model';
import { parseExtensionMessage, parseWebviewMessage, toProposalView } from '../../src/shared/reviewProtocol';
import { createNonce, reviewContentSecurityPolicy, reviewPanelHtml } from '../../src/vscode/reviewHtml';

const hostile = '<img src=x onerror=alert(1)>';

const edit: EditProposal = {
  kind: 'edit',
  id: 'p-edit',
  sessionId: 's1',
  createdAt: '2026-01-01T00:00:00.000Z',
  state: 'pending',
  title: `Edit ${hostile}`,
  origin: 'fs/write_text_file',
  path: 'src/greet.js',
  oldText: 'a\n',
  newText: 'b\n',
  baseHash: 'h0',
  newHash: 'h1',
  diff: '--- a/src/greet.js\n+++ b/src/greet.js\n@@ -1,1 +1,1 @@\n-a\n+b\n',
};

const command: CommandProposal = {
  kind: 'command',
  id: 'p-cmd',
  sessionId: 's1',
  createdAt: '2026-01-01T00:00:01.000Z',
  state: 'applied',
  title: 'Run npm test',
  origin: 'terminal/create',
  argv: ['sh', '-c', 'npm test'],
  commandLine: 'npm test',
  cwd: '/workspace',
  env: {},
  decision: { verdict: 'approve', reviewer: { kind: 'human', name: 'Ada', source: 'git config' }, decidedAt: '2026-01-01T00:00:02.000Z' },
  result: { exitCode: 0, signal: null, outputExcerpt: 'ok', outputHash: 'h', truncated: false },
};

const permission: PermissionProposal = {
  kind: 'permission',
  id: 'p-perm',
  sessionId: 's1',
  createdAt: '2026-01-01T00:00:03.000Z',
  state: 'pending',
  title: 'Write src/a.js',
  origin: 'session/request_permission',
  toolKind: 'edit',
  options: [{ optionId: 'allow', name: 'Allow once', kind: 'allow_once' }],
  edit: { path: 'src/a.js', oldText: null, newText: 'x\n', newHash: 'h2', diff: '--- /dev/null\n+++ b/src/a.js\n@@ -0,0 +1,1 @@\n+x\n' },
};

/** What postMessage does to a value: a structured clone, here the JSON subset we send. */
function overTheWire(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value));
}

describe('review protocol: webview -> extension', () => {
  it('accepts ready, decide and openDiff', () => {
    for (const message of [
      { type: 'ready' },
      { type: 'decide', proposalId: 'p1', verdict: 'approve' },
      { type: 'decide', proposalId: 'p1', verdict: 'reject' },
      { type: 'openDiff', proposalId: 'p1' },
    ]) {
      const parsed = parseWebviewMessage(overTheWire(message));
      assert.ok(parsed.ok, `${JSON.stringify(message)} should parse`);
      assert.deepEqual(parsed.message, message);
    }
  });

  it("a reject may carry the reviewer's reason (decide, decideMany, decideTurn), up to 2000 characters", () => {
    for (const message of [
      { type: 'decide', proposalId: 'p1', verdict: 'reject', reason: 'use the helper in src/util.js' },
      { type: 'decideMany', proposalIds: ['p1', 'p2'], verdict: 'reject', scope: 'every proposal', reason: 'not now' },
      { type: 'decideTurn', sessionId: 's-1', turn: 2, verdict: 'reject', reason: 'x'.repeat(2000) },
    ]) {
      const parsed = parseWebviewMessage(overTheWire(message));
      assert.ok(parsed.ok, `${message.type} should parse`);
      assert.deepEqual(parsed.message, message);
    }
    for (const bad of [
      { type: 'decide', proposalId: 'p1', verdict: 'reject', reason: 'x'.repeat(2001) },
      { type: 'decide', proposalId: 'p1', verdict: 'reject', reason: 42 },
    ]) {
      assert.equal(parseWebviewMessage(overTheWire(bad)).ok, false, JSON.stringify(bad).slice(0, 80));
    }
  });

  it('turn review: decideTurn names a session and a turn; anything looser is dropped', () => {
    const message = { type: 'decideTurn', sessionId: 's-1', turn: 3, verdict: 'approve' };
    const parsed = parseWebviewMessage(overTheWire(message));
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.message, message);
    for (const bad of [
      { ...message, turn: -1 },
      { ...message, turn: 1.5 },
      { ...message, verdict: 'maybe' },
      { ...message, proposalIds: ['p1'] },
    ]) {
      assert.equal(parseWebviewMessage(overTheWire(bad)).ok, false, JSON.stringify(bad));
    }
  });

  it('drops anything else, with a reason that does not echo the payload', () => {
    const invalid: unknown[] = [
      undefined,
      null,
      'ready',
      42,
      [],
      {},
      { type: 'hello' },
      { type: 'decide', proposalId: 'p1' },
      { type: 'decide', proposalId: 'p1', verdict: 'accept' },
      { type: 'decide', proposalId: 'p1', verdict: 'APPROVE' },
      { type: 'decide', proposalId: '', verdict: 'approve' },
      { type: 'decide', proposalId: 'x'.repeat(201), verdict: 'approve' },
      { type: 'decide', proposalId: 7, verdict: 'approve' },
      { type: 'decide', proposalId: 'p1', verdict: 'approve', reviewer: { kind: 'policy' } },
      { type: 'openDiff' },
      { type: 'openDiff', proposalId: ['p1'] },
      { type: 'ready', extra: true },
      { type: 'state', proposals: [] },
      JSON.parse('{"type":"decide","proposalId":"p1","verdict":"approve","__proto__":{"verdict":"approve"}}'),
    ];
    for (const raw of invalid) {
      const parsed = parseWebviewMessage(raw);
      assert.equal(parsed.ok, false, `${JSON.stringify(raw)} should be dropped`);
      if (!parsed.ok) {
        assert.ok(parsed.error.length > 0 && parsed.error.length <= 501, 'a short reason for the log');
        assert.ok(!parsed.error.includes('xxxxxxxxxx'), 'the reason does not echo the payload');
      }
    }
  });
});

describe('review protocol: extension -> webview', () => {
  it('accepts a state snapshot of every proposal kind, as the panel sends it', () => {
    const message = { type: 'state', proposals: [edit, command, permission].map(toProposalView) };
    const parsed = parseExtensionMessage(overTheWire(message));
    assert.ok(parsed.ok);
    assert.equal(parsed.message.type, 'state');
    if (parsed.message.type !== 'state') return;
    assert.deepEqual(
      parsed.message.proposals.map((p) => p.id),
      ['p-edit', 'p-cmd', 'p-perm'],
    );
    assert.equal(parsed.message.proposals[0]?.title, `Edit ${hostile}`, 'agent text arrives as data, untouched');
  });

  it('sends the diff, not the full file texts', () => {
    const view = toProposalView(edit);
    assert.ok(view.kind === 'edit');
    assert.equal(view.diff, edit.diff);
    assert.ok(!('oldText' in view) && !('newText' in view));
    const permissionView = toProposalView(permission);
    assert.ok(permissionView.kind === 'permission' && permissionView.edit);
    assert.equal(permissionView.edit.diff, permission.edit?.diff);
    assert.ok(!('oldText' in permissionView.edit) && !('newText' in permissionView.edit));
    assert.deepEqual(toProposalView(command), command);
  });

  it('also accepts full model proposals (extra keys are stripped)', () => {
    const parsed = parseExtensionMessage({ type: 'state', proposals: [edit] });
    assert.ok(parsed.ok && parsed.message.type === 'state');
    assert.ok(!('newText' in (parsed.message.proposals[0] ?? {})));
  });

  it('accepts an error, with or without a proposal id', () => {
    assert.ok(parseExtensionMessage({ type: 'error', message: 'could not accept' }).ok);
    assert.ok(parseExtensionMessage({ type: 'error', message: 'could not accept', proposalId: 'p1' }).ok);
  });

  it('accepts "settled" (a bulk request is over: the panel stops showing those busy), with valid ids only', () => {
    assert.ok(parseExtensionMessage({ type: 'settled', proposalIds: ['p1', 'p2'] }).ok);
    assert.ok(!parseExtensionMessage({ type: 'settled', proposalIds: [''] }).ok);
    assert.ok(!parseExtensionMessage({ type: 'settled' }).ok);
  });

  it('drops a snapshot with any malformed proposal, and unknown messages', () => {
    const invalid: unknown[] = [
      null,
      { type: 'state' },
      { type: 'state', proposals: {} },
      { type: 'state', proposals: [{ ...edit, state: 'accepted' }] },
      { type: 'state', proposals: [{ ...edit, kind: 'script' }] },
      { type: 'state', proposals: [{ ...command, commandLine: undefined }] },
      { type: 'state', proposals: [toProposalView(edit), { ...permission, options: 'all' }] },
      { type: 'error' },
      { type: 'error', message: 3 },
      { type: 'decide', proposalId: 'p1', verdict: 'approve' },
      { type: 'eval', code: 'alert(1)' },
    ];
    for (const raw of invalid) assert.equal(parseExtensionMessage(raw).ok, false, `${JSON.stringify(raw)} should be dropped`);
  });
});

describe('review panel HTML', () => {
  const nonce = createNonce();
  const cspSource = 'https://*.vscode-cdn.net';
  const html = reviewPanelHtml({
    cspSource,
    nonce,
    scriptUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/dist/media/review.js',
    styleUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/dist/media/review.css',
  });
  const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]*)">/.exec(html)?.[1]?.replace(/&#39;|&apos;/g, "'") ?? '';
  const directives = new Map(
    csp
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .filter((parts) => parts[0])
      .map((parts) => [parts[0] ?? '', parts.slice(1)]),
  );

  it("has a CSP with default-src 'none' and nothing inline or eval", () => {
    assert.ok(csp, 'a CSP meta tag');
    assert.deepEqual(directives.get('default-src'), ["'none'"]);
    assert.deepEqual(directives.get('script-src'), [`'nonce-${nonce}'`]);
    assert.deepEqual(directives.get('style-src'), [cspSource]);
    assert.deepEqual(directives.get('img-src'), [cspSource, 'data:']);
    assert.deepEqual(directives.get('font-src'), [cspSource]);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|unsafe-hashes|\*(?!\.vscode-cdn)/);
    assert.equal(csp, reviewContentSecurityPolicy(cspSource, nonce));
  });

  it('loads exactly one script, by the nonce in the CSP, and no inline script or style', () => {
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    assert.equal(scripts.length, 1);
    const [, attributes = '', body = ''] = scripts[0] ?? [];
    assert.equal(/nonce="([^"]*)"/.exec(attributes)?.[1], nonce);
    assert.match(attributes, /src="[^"]*\/dist\/media\/review\.js"/);
    assert.equal(body.trim(), '', 'no inline code');
    assert.doesNotMatch(html, /<style\b|\sstyle=|\son\w+=/i);
    assert.match(html, /<link rel="stylesheet" href="[^"]*\/dist\/media\/review\.css">/);
  });

  it('uses a fresh 128-bit nonce each time', () => {
    const nonces = new Set(Array.from({ length: 50 }, () => createNonce()));
    assert.equal(nonces.size, 50);
    for (const n of nonces) assert.equal(Buffer.from(n, 'base64').length, 16);
  });

  it('refuses a nonce or CSP source that could break out of the policy', () => {
    const base = { cspSource, nonce, scriptUri: 'x', styleUri: 'y' };
    assert.throws(() => reviewPanelHtml({ ...base, nonce: 'short' }));
    assert.throws(() => reviewPanelHtml({ ...base, nonce: `${nonce}" onload="x` }));
    assert.throws(() => reviewPanelHtml({ ...base, cspSource: `${cspSource}; script-src 'unsafe-inline'` }));
    assert.doesNotThrow(() => reviewPanelHtml({ ...base, cspSource: `'self' ${cspSource}` }));
  });

  it('escapes the resource URIs it puts into attributes', () => {
    const page = reviewPanelHtml({ cspSource, nonce, scriptUri: 'https://x/a"><script>alert(1)</script>', styleUri: 'https://x/b.css' });
    assert.equal([...page.matchAll(/<script\b/g)].length, 1);
  });
});

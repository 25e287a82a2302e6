import { strict as assert } from 'node:assert';
import { redactString, SECRET_HINTS, SECRET_PATTERNS } from '../../src/core/audit/redact';

/** Every built-in pattern, run as before the hints: the result redactString must keep giving. */
function redactWithoutHints(text: string): string {
  let out = text;
  for (const { label, re, replace } of SECRET_PATTERNS) out = out.replace(re, replace ?? `[REDACTED:${label}]`);
  return out;
}

/** Secret shapes, near misses and ordinary text, in both cases, to build strings from. */
const PIECES = [
  'sk-proj-abcdefghijklmnop1234',
  'SK-ABCDEFGHIJKLMNOPQRST',
  'sk-short',
  'ghp_ABCDEFGHIJKLMNOPQRSTuvwxyz0123456789',
  'GHO_abcdefghijklmnopqrstuvwxyz',
  'github_pat_11ABCDEFG0123456789_abcdefghijklmnop',
  'AKIAIOSFODNN7EXAMPLE',
  'ASIAXXXXXXXXXXXXXXXX',
  'akiaiosfodnn7example',
  'xoxb-1234567890-abcdef',
  'XOXP-1234567890-ABCDEF',
  'AIzaSyA1234567890abcdefghijklmnopqrstuv',
  'aizasya1234567890abcdefghijklmnopqrstuv',
  'Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.abc',
  'authorization: token abc123def456',
  'AUTHORIZATION:basic dXNlcjpwYXNz',
  'Bearer abcdefghijklmnopqrstuvwxyz',
  'bearer of bad news',
  '-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----',
  '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk',
  '-----begin private key-----',
  'const b = 1;\n',
  'src/module1.ts',
  ' ',
  '"',
  '=',
  'a'.repeat(64),
];

/** A small deterministic generator, so a failure names a string that can be reproduced. */
function* strings(count: number): Generator<string> {
  let seed = 21;
  const next = (n: number): number => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed % n;
  };
  for (let i = 0; i < count; i++) {
    const parts: string[] = [];
    for (let j = 1 + next(4); j > 0; j--) parts.push(PIECES[next(PIECES.length)]!);
    yield parts.join(next(2) === 0 ? ' ' : '');
  }
}

describe('audit redaction hints', () => {
  it('every match of every built-in pattern is matched by its hint', () => {
    for (const text of strings(3000)) {
      for (const { label, re, hint } of SECRET_PATTERNS) {
        for (const match of text.matchAll(new RegExp(re.source, re.flags))) {
          assert.match(
            match[0],
            new RegExp(hint, 'i'),
            `the ${label} pattern matched ${JSON.stringify(match[0])}, which its hint does not`,
          );
        }
      }
    }
  });

  it('redacts exactly as running every pattern on every string did', () => {
    let redacted = 0;
    for (const text of strings(3000)) {
      const expected = redactWithoutHints(text);
      assert.equal(redactString(text, { values: [], patterns: [] }), expected, JSON.stringify(text));
      if (expected !== text) redacted++;
    }
    assert.ok(redacted > 1000, `the corpus exercises the patterns (${redacted} of 3000 strings redacted)`);
  });

  it('skips the patterns for text without any secret shape', () => {
    assert.equal(SECRET_HINTS.test('--- a/src/module1.ts\n+++ b/src/module1.ts\n@@ -1,3 +1,3 @@\n const a = 1;\n'), false);
  });
});

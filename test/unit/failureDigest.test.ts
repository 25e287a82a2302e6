import { strict as assert } from 'node:assert';
import { failureDigest } from '../../scripts/testing/failureDigest';

describe('the test summary names what failed (scripts/testing/failureDigest.ts)', () => {
  it("keeps mocha's failing block, titles and messages, without stack frames", () => {
    const output = [
      '  ✔ passes (3ms)',
      '  1) breaks',
      '',
      '  41 passing (3s)',
      '  1 failing',
      '',
      '  1) the suite',
      '       breaks:',
      '     AssertionError [ERR_ASSERTION]: expected 2, got 3',
      '      at Context.<anonymous> (test/x.test.ts:10:5)',
      '      at process.processImmediate (node:internal/timers:478:21)',
      '',
    ].join('\n');
    assert.deepEqual(failureDigest(output), [
      '    1 failing',
      '    1) the suite',
      '         breaks:',
      '       AssertionError [ERR_ASSERTION]: expected 2, got 3',
    ]);
  });

  it('keeps the lines the extension and package runners mark as failed', () => {
    const output = ['  ✓ pass  one  (3 ms)', '  ✗ FAIL  two: expected a diagnostic', '✔ build', '✘ the VSIX installs: exit 1'].join('\n');
    assert.deepEqual(failureDigest(output), ['    ✗ FAIL  two: expected a diagnostic', '    ✘ the VSIX installs: exit 1']);
  });

  it('cuts a long block and says where the rest is', () => {
    const output = ['  3 failing', ...Array.from({ length: 50 }, (_, i) => `  ${i + 1}) failure ${i + 1}`)].join('\n');
    const digest = failureDigest(output, 10);
    assert.equal(digest.length, 11);
    assert.match(digest[10] ?? '', /41 more lines in the tier's output above/);
  });

  it("brings the error printed under a runner's FAIL line, without its frames, once when the runner prints it twice", () => {
    const failure = [
      '  ✗ FAIL  Warden: a session records a verifiable log  (3140 ms)',
      "        Error: ENOENT: no such file or directory, scandir '/tmp/x/audit.lock/1.dm0'",
      '        \tat async auditEntries (test/extension/session.test.ts:27:18)',
    ];
    const output = [...failure, '  ✓ pass  Warden: the next one  (550 ms)', '', ...failure, 'extension: 1 passed, 1 failed'].join('\n');
    assert.deepEqual(failureDigest(output), [
      '    ✗ FAIL  Warden: a session records a verifiable log  (3140 ms)',
      "        Error: ENOENT: no such file or directory, scandir '/tmp/x/audit.lock/1.dm0'",
    ]);
  });
});

import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { simpleGit, type SimpleGit } from 'simple-git';
import {
  AuditLog,
  approvedEdits,
  attributeLines,
  auditBlame,
  fileAuditBlame,
  formatBlameLine,
  formatBlameText,
  parseAddedLines,
  parseBlamePorcelain,
  type AuditActor,
  type AuditBlame,
} from '../../src/core/audit';
import { unifiedDiff } from '../../src/core/proposals/diff';

/** Issue 19: audit blame, which sessions and approvals stand behind each changed line (real git, real log). */

const OLD =
  'function greet(name) {\n  return `Hello, ${name}!`;\n}\n\nfunction shout(name) {\n  return greet(name).toUpperCase();\n}\n\nmodule.exports = { greet, shout };\n';
const FAREWELL = '\nfunction farewell(name) {\n  return `Bye, ${name}!`;\n}\nmodule.exports.farewell = farewell;\n';
/** Two hunks: a header comment (rejected by the reviewer) and a farewell function (accepted). */
const PROPOSED = `// greetings\n${OLD}${FAREWELL}`;
const APPLIED = `${OLD}${FAREWELL}`;

const ada: AuditActor = { kind: 'human', id: 'ada@x.org', name: 'Ada', email: 'ada@x.org' };
const agent: AuditActor = { kind: 'agent', id: 'demo' };

describe('audit blame (issue 19; real git)', function () {
  // Real git processes: seconds on a loaded machine.
  this.timeout(60_000);
  let root: string;
  let git: SimpleGit;
  let seed: string;

  before(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'warden-blame-'));
    git = simpleGit(root);
    await git.init(['--initial-branch=main']);
    await git.addConfig('user.name', 'Ada');
    await git.addConfig('user.email', 'ada@x.org');
    await git.addConfig('commit.gpgsign', 'false');
    await fs.mkdir(path.join(root, 'src'));
    await fs.writeFile(path.join(root, 'src/greet.js'), OLD);
    await git.add(['-A']);
    await git.commit('initial');
    seed = (await git.revparse(['HEAD'])).trim();

    let t = Date.parse('2026-12-01T10:00:00Z');
    const log = AuditLog.forWorkspace(root, { schemaCheck: 'off', now: () => new Date((t += 1000)) });
    await log.append({
      sessionId: 's-1',
      actor: { kind: 'warden', id: 'warden' },
      type: 'session.starting',
      data: { reviewer: { kind: 'human', name: 'Ada', email: 'ada@x.org', source: 'git config' } },
    });
    await log.append({
      sessionId: 's-1',
      actor: agent,
      type: 'proposal',
      data: { proposalId: 'p-1', kind: 'edit', path: 'src/greet.js', diff: unifiedDiff('src/greet.js', OLD, PROPOSED) },
    });
    await log.append({
      sessionId: 's-1',
      actor: ada,
      type: 'decision',
      data: {
        proposalId: 'p-1',
        verdict: 'approve',
        reviewer: { kind: 'human', name: 'Ada', email: 'ada@x.org', source: 'git config' },
        reason: null,
        ruleId: 'review-src',
        hunks: { accepted: [1], rejected: [0] },
      },
    });
    await log.append({
      sessionId: 's-1',
      actor: { kind: 'warden', id: 'warden' },
      type: 'edit.applied',
      data: { proposalId: 'p-1', path: 'src/greet.js' },
    });
    // A rejected edit of the same file: its lines must never be blamed on it.
    await log.append({
      sessionId: 's-1',
      actor: agent,
      type: 'proposal',
      data: {
        proposalId: 'p-2',
        kind: 'edit',
        path: 'src/greet.js',
        diff: unifiedDiff('src/greet.js', APPLIED, `${APPLIED}// rejected\n`),
      },
    });
    await log.append({
      sessionId: 's-1',
      actor: ada,
      type: 'decision',
      data: { proposalId: 'p-2', verdict: 'reject', reviewer: { kind: 'human', name: 'Ada' }, reason: 'no' },
    });
    await fs.writeFile(path.join(root, 'src/greet.js'), `${APPLIED}// by hand\n`);
    await git.add(['-A']);
    await git.commit('Add farewell\n\nApproved-by: Ada <ada@x.org>\nWarden-Session: s-1');
  });

  after(async () => {
    await fs.rm(root, { recursive: true, force: true });
  });

  it('parses the added lines of a -U0 diff and the lines of a porcelain blame', () => {
    const diff = [
      'diff --git a/a.js b/a.js',
      '--- a/a.js',
      '+++ b/a.js',
      '@@ -1,0 +2,2 @@ x',
      '+one',
      '+two\r',
      'diff --git a/gone.js b/gone.js',
      '--- a/gone.js',
      '+++ /dev/null',
      '@@ -1 +0,0 @@',
      '-bye',
      'diff --git "a/sp ace.js" "b/sp ace.js"',
      '--- "a/sp ace.js"',
      '+++ "b/sp ace.js"',
      '@@ -3 +3 @@',
      '-old',
      '+new',
    ].join('\n');
    assert.deepEqual(Object.fromEntries(parseAddedLines(diff)), {
      'a.js': [
        { line: 2, text: 'one' },
        { line: 3, text: 'two' },
      ],
      'sp ace.js': [{ line: 3, text: 'new' }],
    });
    const sha = 'a'.repeat(40);
    const porcelain = `${sha} 1 1 2\nauthor Ada\nfilename a.js\n\tfirst\n${sha} 2 2\n\tsecond\n`;
    assert.deepEqual(parseBlamePorcelain(porcelain), [
      { line: 1, commit: sha, text: 'first' },
      { line: 2, commit: sha, text: 'second' },
    ]);
  });

  it('shows control and bidi characters of a blamed line as escapes (the file is untrusted text)', () => {
    assert.equal(
      formatBlameLine({ line: 7, text: 'ok\u202e//evil\u0007', commit: null, approval: null, linked: false }, new Map()),
      '    7 uncommitted no approved edit | ok\\u{202e}//evil\\u{7}',
    );
  });

  it('never blames a line on an approval made after its commit, nor on a lone brace alone', () => {
    const edit = {
      sessionId: 's-9',
      proposalId: 'p-9',
      path: 'a.js',
      approvedBy: 'Ada',
      ruleId: null,
      automatic: false,
      decidedAt: '2026-12-01T10:00:00.000Z',
      agent: null,
      developer: null,
      decision: { chain: 's-9', seq: 3, hash: 'h' },
      grantedBy: null,
      added: ['const x = 1;', '}'],
      applied: true,
    };
    const ids = new Map([[edit, 0]]);
    const lines = [
      { line: 1, text: 'const x = 1;', commit: 'old' },
      { line: 2, text: '}', commit: 'new' },
      { line: 3, text: 'const x = 1;', commit: 'new' },
    ];
    const at = (c: string | null): number | undefined => Date.parse(c === 'old' ? '2026-11-30T00:00:00Z' : '2026-12-02T00:00:00Z');
    const none = (): ReadonlySet<string> => new Set<string>();
    assert.deepEqual(
      attributeLines('a.js', lines, [edit], ids, none, at).map((l) => l.approval),
      [null, 0, 0],
      'the old line is older than the approval; the brace goes with the real line of its block',
    );
    assert.deepEqual(
      attributeLines('a.js', lines, [edit], ids, (c) => new Set(c === 'old' ? ['s-9'] : []), at).map((l) => [l.approval, l.linked]),
      [
        [0, true],
        [0, false],
        [0, false],
      ],
      'a commit that names the session is trusted whatever its date',
    );
    assert.deepEqual(
      attributeLines('a.js', [{ line: 1, text: '}', commit: 'new' }], [edit], ids, none, at).map((l) => l.approval),
      [null],
    );
  });

  it('an approved edit adds only the hunks the reviewer accepted; a rejected edit adds nothing', async () => {
    const edits = await approvedEdits(root);
    assert.deepEqual(
      edits.map((e) => [e.proposalId, e.approvedBy, e.ruleId, e.applied]),
      [['p-1', 'Ada <ada@x.org>', 'review-src', true]],
    );
    assert.ok(!edits[0]?.added.includes('// greetings'), 'the rejected hunk is not among the added lines');
    assert.ok(edits[0]?.added.includes('function farewell(name) {'));
  });

  const lineOf = (blame: AuditBlame, text: string) => blame.files[0]?.lines.find((l) => l.text === text);

  it('blames each line a commit added on the approved edit that added it, and the hand-written line on none', async () => {
    const blame = await auditBlame(root, 'HEAD');
    assert.equal(blame.files.length, 1, 'the audit log itself is not blamed');
    const file = blame.files[0]!;
    assert.equal(file.path, 'src/greet.js');
    const farewell = lineOf(blame, 'function farewell(name) {');
    assert.ok(farewell && farewell.approval !== null);
    const approval = blame.approvals.find((a) => a.id === farewell.approval);
    assert.equal(approval?.sessionId, 's-1');
    assert.equal(approval?.proposalId, 'p-1');
    assert.equal(approval?.approvedBy, 'Ada <ada@x.org>');
    assert.equal(approval?.ruleId, 'review-src');
    assert.equal(farewell.linked, true, 'the commit names session s-1 (trailer)');
    assert.equal(lineOf(blame, '// by hand')?.approval, null);
    assert.equal(file.attributed, 5, 'all but the hand-written line, the blank line included');
    assert.equal(file.lines.length, 6);
    assert.deepEqual(file.sessions, ['s-1']);
    assert.deepEqual(blame.commits[0]?.sessions, ['s-1']);
    const text = formatBlameText(blame);
    assert.match(text, /session s-1 approved by Ada <ada@x\.org> \(rule review-src\) \| function farewell\(name\) \{/);
    assert.match(text, /no approved edit \| \/\/ by hand/);
  });

  it('blames a range and every line of a file, uncommitted lines included', async () => {
    const range = await auditBlame(root, `${seed}..HEAD`);
    assert.equal(range.files[0]?.attributed, 5);
    await fs.appendFile(path.join(root, 'src/greet.js'), 'module.exports.farewell = farewell;\n');
    const file = await fileAuditBlame(root, 'src/greet.js');
    assert.equal(file.files[0]?.lines.length, APPLIED.split('\n').length + 1);
    const last = file.files[0]?.lines.at(-1);
    assert.equal(last?.commit, null, 'not committed yet');
    assert.notEqual(last?.approval, null, 'still matched by content');
    assert.equal(last?.linked, false);
    assert.equal(lineOf(file, 'function greet(name) {')?.approval, null, 'lines from before the session have no approval');
    await assert.rejects(auditBlame(root, 'no-such-branch'), /git could not read no-such-branch/);
  });
});

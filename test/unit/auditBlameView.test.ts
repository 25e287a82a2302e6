import { strict as assert } from 'node:assert';
import { cpSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { simpleGit } from 'simple-git';
import { auditBlame, defaultBlameTarget } from '../../src/core/audit';
import { parseAuditExtensionMessage } from '../../src/shared/auditProtocol';
import { toBlameView } from '../../src/vscode/auditBlameView';
import { HAND_WRITTEN, commitSampleSession, writeSampleAuditLog } from '../fixtures/auditSession';

/** Issue 19: the Audit panel's blame of a commit or branch (real git, the real log). */
describe('audit blame in the panel: ranges and the default target (issue 19; real git)', function () {
  this.timeout(60_000);
  let root: string;
  let initial: string;

  before(async () => {
    root = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'warden-blame-view-')), 'demo');
    cpSync(path.join(__dirname, '..', 'fixtures', 'workspaces', 'demo'), root, { recursive: true });
    await writeSampleAuditLog(root);
    ({ initial } = await commitSampleSession(root));
  });
  after(() => fs.rm(path.dirname(root), { recursive: true, force: true }));

  it('groups the changed lines into ranges by commit and approval, naming the session, and the unexplained ones', async () => {
    const view = toBlameView(await auditBlame(root, 'HEAD'));
    assert.equal(parseAuditExtensionMessage(view).ok, true, 'the contract accepts it');
    assert.deepEqual(
      view.files.map((f) => [f.path, f.lines, f.attributed, f.sessions]),
      [['src/greet.js', 7, 6, ['session-one']]],
    );
    const [explained, unexplained] = view.files[0]?.ranges ?? [];
    assert.deepEqual([explained?.start, explained?.end, explained?.linked, explained?.firstLine], [6, 11, true, '/** Says goodbye. */']);
    assert.deepEqual([unexplained?.start, unexplained?.end, unexplained?.approval, unexplained?.firstLine], [12, 12, null, HAND_WRITTEN]);
    const approval = view.approvals.find((a) => a.id === explained?.approval);
    assert.deepEqual(
      [approval?.sessionId, approval?.approvedBy, approval?.agent, approval?.automatic],
      ['session-one', 'Alice Lead <alice@example.com>', 'warden-demo-agent', false],
    );
    assert.deepEqual(
      view.commits.map((c) => c.sessions),
      [['session-one']],
    );
    const range = toBlameView(await auditBlame(root, `${initial}..HEAD`));
    assert.deepEqual(range.files[0]?.ranges, view.files[0]?.ranges);
  });

  it('keeps to the range limit and says how many ranges it left out', async () => {
    const view = toBlameView(await auditBlame(root, 'HEAD'), 1);
    assert.equal(view.files[0]?.ranges.length, 1);
    assert.equal(view.omittedRanges, 1);
  });

  it("defaults to HEAD on main, to the branch's own commits against main, and against its upstream when it has one", async () => {
    const git = simpleGit(root);
    assert.equal(await defaultBlameTarget(root), 'HEAD');
    await git.checkoutLocalBranch('feature');
    await fs.writeFile(path.join(root, 'src', 'more.js'), 'module.exports = 1;\n');
    await git.add(['-A']);
    await git.commit('more');
    assert.equal(await defaultBlameTarget(root), 'main..HEAD');
    await git.branch(['base', initial]);
    // A branch that tracks base, with nothing of its own yet: HEAD; with a commit: its own commits.
    await git.raw(['checkout', '-b', 'topic', '--track', 'base']);
    assert.equal(await defaultBlameTarget(root), 'HEAD');
    await fs.writeFile(path.join(root, 'src', 'topic.js'), 'module.exports = 2;\n');
    await git.add(['-A']);
    await git.commit('topic');
    assert.equal(await defaultBlameTarget(root), 'base..HEAD');
    await git.checkout('main');
  });
});

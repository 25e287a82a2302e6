import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BoundedText } from '../../src/core/util/boundedText';
import { hostPathProblem } from '../../src/core/workspace/containment';

describe('hostPathProblem: the host file system cannot lead out of the workspace', () => {
  let root: string;
  let ws: string;

  before(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'warden-containment-'));
    ws = path.join(root, 'ws');
    await fs.mkdir(path.join(ws, 'src', 'inner'), { recursive: true });
    await fs.mkdir(path.join(root, 'outside'));
    await fs.writeFile(path.join(root, 'outside', 'secret'), 'x');
    await fs.writeFile(path.join(ws, 'src', 'a.js'), 'a');
    await fs.symlink('../../outside', path.join(ws, 'src', 'out-dir'));
    await fs.symlink(path.join(root, 'outside', 'secret'), path.join(ws, 'src', 'out-file'));
    await fs.symlink('a.js', path.join(ws, 'src', 'in-file'));
    await fs.symlink('inner', path.join(ws, 'src', 'in-dir'));
    await fs.symlink('/nonexistent/target', path.join(ws, 'src', 'dangling'));
  });

  after(() => fs.rm(root, { recursive: true, force: true }));

  it('allows plain files, files not yet created, and symlinks that stay inside', async () => {
    for (const ok of ['src/a.js', 'src/new/deep/file.js', 'src/in-file', 'src/in-dir/x.js', 'README.md']) {
      assert.equal(await hostPathProblem(ws, ok), undefined, ok);
    }
  });

  it('refuses a symlinked folder or file that points outside, and a link to nowhere', async () => {
    assert.match(
      (await hostPathProblem(ws, 'src/out-dir/new.txt'))!,
      /^src\/out-dir is a symbolic link to .*outside, outside the workspace$/,
    );
    assert.match((await hostPathProblem(ws, 'src/out-file'))!, /^src\/out-file is a symbolic link to .*secret, outside the workspace$/);
    assert.match((await hostPathProblem(ws, 'src/dangling'))!, /does not exist/);
  });

  it('refuses a directory where a file is expected', async () => {
    assert.equal(await hostPathProblem(ws, 'src'), 'src is a directory, not a file');
    assert.equal(await hostPathProblem(ws, 'src/in-dir'), 'src/in-dir is a directory, not a file');
  });

  it('a workspace that is itself reached through a symlink still works', async () => {
    const alias = path.join(root, 'alias');
    await fs.symlink(ws, alias);
    assert.equal(await hostPathProblem(alias, 'src/a.js'), undefined);
    assert.match((await hostPathProblem(alias, 'src/out-file'))!, /outside the workspace/);
  });
});

describe('BoundedText: an agent message cannot grow without bound', () => {
  it('keeps short text whole', () => {
    const t = new BoundedText(8);
    t.append('abc');
    t.append('def');
    assert.equal(t.toString(), 'abcdef');
  });

  it('keeps the beginning and the end, and says how much it left out', () => {
    const t = new BoundedText(4);
    for (const chunk of ['ab', 'cdef', 'ghij', 'klmn']) t.append(chunk);
    assert.equal(t.toString(), 'abcd\n[… 6 characters not kept …]\nklmn');
  });

  it('gives the same text whatever the chunks, read at any point', () => {
    const text = Array.from({ length: 500 }, (_, i) => `chunk ${i}; `).join('');
    const whole = (upTo: number) =>
      upTo <= 64 ? text.slice(0, upTo) : `${text.slice(0, 32)}\n[… ${upTo - 64} characters not kept …]\n${text.slice(upTo - 32, upTo)}`;
    for (const size of [1, 3, 7, 32, 33, 100]) {
      const t = new BoundedText(32);
      for (let at = 0; at < text.length; at += size) {
        t.append(text.slice(at, at + size));
        const upTo = Math.min(text.length, at + size);
        if (at % (size * 7) === 0 || upTo === text.length) assert.equal(t.toString(), whole(upTo), `chunks of ${size}, after ${upTo}`);
      }
    }
  });
});

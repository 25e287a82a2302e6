import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { sandboxConfigHash, ownerContainerName, ownerFromName, withWorkspaceCopy } from '../../src/core/sandbox/reuse';
import { ManifestScanner, readNoFollow, syncCopy } from '../../src/core/sandbox/workspaceCopy';
import { decodeText } from '../../src/core/session/sandboxChanges';
import { sha256Hex } from '../../src/core/util/hash';

describe('workspace copy: manifests and sync (host side, no Docker)', () => {
  let real: string;
  let copy: string;
  let outside: string;

  beforeEach(async () => {
    real = await fs.mkdtemp(path.join(os.tmpdir(), 'warden-wc-real-'));
    copy = await fs.mkdtemp(path.join(os.tmpdir(), 'warden-wc-copy-'));
    outside = await fs.mkdtemp(path.join(os.tmpdir(), 'warden-wc-outside-'));
    await fs.mkdir(path.join(real, 'src'));
    await fs.writeFile(path.join(real, 'src/a.txt'), 'a\n');
    await fs.writeFile(path.join(real, 'README.md'), '# r\n');
    await fs.mkdir(path.join(real, '.git'));
    await fs.writeFile(path.join(real, '.git/HEAD'), 'ref: refs/heads/main\n');
    await fs.mkdir(path.join(real, '.warden/audit'), { recursive: true });
    await fs.writeFile(path.join(real, '.warden/audit/a.jsonl'), '{}\n');
    await fs.writeFile(path.join(outside, 'secret'), 'host secret\n');
  });

  afterEach(async () => {
    for (const dir of [real, copy, outside]) await fs.rm(dir, { recursive: true, force: true });
  });

  it('hashes files, records links as links (never followed), and leaves .git and the audit log out', async () => {
    await fs.symlink(path.join(outside, 'secret'), path.join(real, 'leak'));
    await fs.symlink(outside, path.join(real, 'leakdir'));
    const manifest = await new ManifestScanner(real).scan();
    assert.deepEqual([...manifest.entries.keys()].sort(), ['README.md', 'leak', 'leakdir', 'src/a.txt']);
    assert.deepEqual(manifest.entries.get('leak'), { type: 'symlink', target: path.join(outside, 'secret') });
    assert.equal(manifest.entries.get('leakdir')?.type, 'symlink', 'a link to a folder is not walked into');
    const a = manifest.entries.get('src/a.txt');
    assert.ok(a?.type === 'file' && a.hash === sha256Hex('a\n') && a.size === 2);
  });

  it('binary and large files get byte hashes; text detection refuses NUL and invalid UTF-8 and keeps a BOM', async () => {
    const binary = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 255]);
    const large = Buffer.alloc(5 * 1024 * 1024, 'x');
    await fs.writeFile(path.join(real, 'img.png'), binary);
    await fs.writeFile(path.join(real, 'big.txt'), large);
    const manifest = await new ManifestScanner(real).scan();
    assert.equal((manifest.entries.get('img.png') as { hash: string }).hash, sha256Hex(binary));
    assert.equal((manifest.entries.get('big.txt') as { hash: string }).hash, sha256Hex(large));
    assert.equal(decodeText(binary), undefined);
    assert.equal(decodeText(Buffer.from([0xc3, 0x28])), undefined);
    const bom = Buffer.from('\ufeffhi\n', 'utf8');
    assert.equal(sha256Hex(decodeText(bom)!), sha256Hex(bom));
  });

  it('a rescan sees a change with the same size and a file swapped for a link', async () => {
    const scanner = new ManifestScanner(real);
    await scanner.scan();
    await fs.writeFile(path.join(real, 'src/a.txt'), 'b\n');
    await fs.rm(path.join(real, 'README.md'));
    await fs.symlink('/etc/passwd', path.join(real, 'README.md'));
    const after = await scanner.scan();
    assert.equal((after.entries.get('src/a.txt') as { hash: string }).hash, sha256Hex('b\n'));
    assert.deepEqual(after.entries.get('README.md'), { type: 'symlink', target: '/etc/passwd' });
  });

  it('readNoFollow refuses a link, and a file reached through a folder swapped for a link', async () => {
    await fs.symlink(path.join(outside, 'secret'), path.join(copy, 'leak'));
    await assert.rejects(readNoFollow(copy, 'leak'));
    await fs.symlink(outside, path.join(copy, 'dir'));
    await assert.rejects(readNoFollow(copy, 'dir/secret'), /outside/);
    await assert.rejects(readNoFollow(copy, '../x'), /outside/);
    await fs.writeFile(path.join(copy, 'ok.txt'), 'fine');
    assert.equal((await readNoFollow(copy, 'ok.txt'))?.toString(), 'fine');
  });

  it('sync makes the copy equal to the workspace: stale files, folders and planted links go, nothing outside is touched', async () => {
    await fs.writeFile(path.join(copy, 'stray.txt'), 'left by an agent');
    await fs.mkdir(path.join(copy, 'junk/deep'), { recursive: true });
    await fs.symlink(path.join(outside, 'secret'), path.join(copy, 'README.md'));
    await fs.symlink(outside, path.join(copy, 'src'));
    await syncCopy(real, copy, 'world');
    const from = await new ManifestScanner(real).scan();
    const to = await new ManifestScanner(copy).scan();
    const content = (m: typeof from): string[] =>
      [...m.entries].map(([k, v]) => `${k} ${v.type === 'file' ? v.hash : `-> ${v.target}`}`).sort();
    assert.deepEqual(content(to), content(from));
    assert.deepEqual([...to.dirs].sort(), [...from.dirs].sort());
    assert.equal(
      await fs.readFile(path.join(outside, 'secret'), 'utf8'),
      'host secret\n',
      'writing the copy never followed a planted link',
    );
    assert.deepEqual(await fs.readdir(outside), ['secret']);
    await assert.rejects(fs.stat(path.join(copy, '.git')), 'the real .git is mounted over the copy, never copied');
    await assert.rejects(fs.stat(path.join(copy, '.warden/audit')));
  });

  it('the configuration hash ignores labels and names but not the spec, the image, devcontainer.json or the mode', () => {
    const spec = { Image: 'i', User: '1000:1000', Labels: { a: '1' }, HostConfig: { ReadonlyRootfs: true } };
    const base = { spec, imageId: 'sha256:1', devcontainerText: '{}', workspaceMode: 'copy' as const };
    const hash = sandboxConfigHash(base);
    assert.equal(sandboxConfigHash({ ...base, spec: { ...spec, Labels: { a: '2', session: 'x' } } }), hash);
    assert.notEqual(sandboxConfigHash({ ...base, spec: { ...spec, HostConfig: { ReadonlyRootfs: false } } }), hash);
    assert.notEqual(sandboxConfigHash({ ...base, imageId: 'sha256:2' }), hash);
    assert.notEqual(sandboxConfigHash({ ...base, devcontainerText: '{"postStartCommand":"x"}' }), hash);
    assert.notEqual(sandboxConfigHash({ ...base, workspaceMode: 'readonly' }), hash);
  });

  it('the owner in a container name is this process on this host; other names are not owners', () => {
    assert.deepEqual(ownerFromName(`/${ownerContainerName()}`), { sameHost: true, pid: process.pid });
    assert.equal(ownerFromName('/nice_turing'), undefined);
    assert.equal(ownerFromName('/warden-zzzzzzzz-1-abcdef'), undefined);
  });

  it('copy mode mounts the copy read-write where the workspace was, and the real .git read-only on top', () => {
    const spec = {
      HostConfig: {
        Mounts: [
          { Type: 'bind' as const, Source: real, Target: '/workspaces/w', ReadOnly: true },
          { Type: 'bind' as const, Source: '/agents', Target: '/opt/warden/agents', ReadOnly: true },
        ],
      },
    };
    const mounts = withWorkspaceCopy(spec, real, '/workspaces/w', copy).HostConfig?.Mounts ?? [];
    assert.deepEqual(mounts, [
      { Type: 'bind', Source: copy, Target: '/workspaces/w', ReadOnly: false },
      { Type: 'bind', Source: '/agents', Target: '/opt/warden/agents', ReadOnly: true },
      { Type: 'bind', Source: path.join(real, '.git'), Target: '/workspaces/w/.git', ReadOnly: true },
    ]);
  });
});

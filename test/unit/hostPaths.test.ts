import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { enginePath, isInsideOn, workspaceBasename } from '../../src/core/sandbox/hostPaths';
import { ManifestScanner } from '../../src/core/sandbox/workspaceCopy';

describe('host paths for the engine, Windows rules tested on Linux (issue 23)', () => {
  it('drive paths: separators, dot segments, drive-letter case, long-path prefix, trailing separator', () => {
    const cases: Array<[string, string]> = [
      ['C:\\Users\\me\\proj', 'C:\\Users\\me\\proj'],
      ['c:/Users/me/proj/', 'C:\\Users\\me\\proj'],
      ['C:\\Users\\me\\x\\..\\proj', 'C:\\Users\\me\\proj'],
      ['\\\\?\\D:\\very\\long\\path', 'D:\\very\\long\\path'],
      ['C:\\', 'C:\\'],
    ];
    for (const [input, source] of cases) assert.deepEqual(enginePath(input, 'win32'), { ok: true, kind: 'drive', source }, input);
  });

  it('WSL paths (\\\\wsl$ and \\\\wsl.localhost) become the Linux path in that distro; other UNC shares are refused with a reason', () => {
    assert.deepEqual(enginePath('\\\\wsl$\\Ubuntu\\home\\me\\proj', 'win32'), {
      ok: true,
      kind: 'wsl',
      distro: 'Ubuntu',
      source: '/home/me/proj',
    });
    assert.deepEqual(enginePath('\\\\wsl.localhost\\Debian\\srv\\a\\..\\b', 'win32'), {
      ok: true,
      kind: 'wsl',
      distro: 'Debian',
      source: '/srv/b',
    });
    assert.deepEqual(enginePath('//wsl$/Ubuntu/home/me', 'win32'), { ok: true, kind: 'wsl', distro: 'Ubuntu', source: '/home/me' });
    const share = enginePath('\\\\fileserver\\team\\proj', 'win32');
    assert.equal(share.ok, false);
    assert.match(share.ok ? '' : share.reason, /network share/);
    assert.equal(enginePath('proj\\src', 'win32').ok, false, 'relative');
    assert.equal(enginePath('\\proj', 'win32').ok, false, 'no drive');
    assert.equal(enginePath('C:\\a\0b', 'win32').ok, false, 'NUL');
  });

  it('POSIX paths stay as they are (normalised); relative ones are refused', () => {
    assert.deepEqual(enginePath('/Users/me/proj/', 'posix'), { ok: true, kind: 'posix', source: '/Users/me/proj' });
    assert.deepEqual(enginePath('/Users/me/x/../proj', 'posix'), { ok: true, kind: 'posix', source: '/Users/me/proj' });
    assert.equal(enginePath('proj', 'posix').ok, false);
  });

  it('the folder name under /workspaces comes from the host path on every platform', () => {
    assert.equal(workspaceBasename('C:\\Users\\me\\My Proj\\', 'win32'), 'My Proj');
    assert.equal(workspaceBasename('\\\\wsl$\\Ubuntu\\home\\me\\proj', 'win32'), 'proj');
    assert.equal(workspaceBasename('/home/me/proj/', 'posix'), 'proj');
  });

  it('containment on Windows ignores case and separator style, and never takes a sibling prefix for a child', () => {
    assert.equal(isInsideOn('C:\\Work', 'c:/work/src/a.ts', 'win32'), true);
    assert.equal(isInsideOn('C:\\Work', 'C:\\WORK', 'win32'), true);
    assert.equal(isInsideOn('C:\\Work', 'C:\\Work\\..\\Work2\\a', 'win32'), false);
    assert.equal(isInsideOn('C:\\Work', 'C:\\Work2', 'win32'), false);
    assert.equal(isInsideOn('C:\\Work', 'D:\\Work\\a', 'win32'), false, 'another drive');
    assert.equal(isInsideOn('C:\\Work', '\\\\wsl$\\Ubuntu\\Work', 'win32'), false, 'a drive path never contains a WSL path');
    assert.equal(isInsideOn('\\\\wsl$\\Ubuntu\\home\\me', '\\\\wsl.localhost\\ubuntu\\home\\me\\p', 'win32'), true);
    assert.equal(
      isInsideOn('\\\\wsl$\\Ubuntu\\home\\me', '\\\\wsl$\\Ubuntu\\home\\Me\\p', 'win32'),
      false,
      'Linux files inside WSL keep case',
    );
    assert.equal(isInsideOn('/Users/me', '/Users/Me/p', 'posix'), false, 'POSIX keeps case');
  });

  it('the copy manifest hashes bytes as they are: CRLF and LF versions of a file differ, so a line-ending change is a change', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'warden-crlf-'));
    try {
      await fs.writeFile(path.join(dir, 'a.txt'), 'one\r\ntwo\r\n');
      await fs.writeFile(path.join(dir, 'b.txt'), 'one\ntwo\n');
      const manifest = await new ManifestScanner(dir).scan();
      const a = manifest.entries.get('a.txt');
      const b = manifest.entries.get('b.txt');
      assert.ok(a?.type === 'file' && b?.type === 'file');
      assert.notEqual(a.hash, b.hash);
      assert.equal(a.size, 10);
      assert.deepEqual([...manifest.entries.keys()].sort(), ['a.txt', 'b.txt'], 'keys are POSIX relative paths');
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});

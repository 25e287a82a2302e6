import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AGENTS_FOLDER, planSandbox } from '../../src/core/sandbox/devcontainer';
import { STRICT_SANDBOX_POLICY } from '../../src/core/sandbox/hardeningPolicy';
import { enginePath, isInsideOn, workspaceBasename } from '../../src/core/sandbox/hostPaths';
import { withWorkspaceCopy } from '../../src/core/sandbox/reuse';
import { SandboxError } from '../../src/core/sandbox/types';
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

describe('the sandbox plan for a Windows host, built on Linux (issue 23)', () => {
  const base = {
    agentsHostPath: 'C:\\Users\\me\\.vscode\\extensions\\warden\\dist\\agents',
    sessionId: 's-win',
    image: 'x',
    hostPlatform: 'win32' as const,
    homeDir: 'C:\\Users\\me',
  };
  const refusal = (fn: () => unknown): SandboxError => {
    try {
      fn();
    } catch (error) {
      assert.ok(error instanceof SandboxError, String(error));
      return error;
    }
    return assert.fail('expected a SandboxError');
  };

  it('drive paths: the workspace and agents folder are bound in the form Docker Desktop takes, under /workspaces/<folder>', () => {
    const plan = planSandbox({ image: 'x' }, { ...base, workspaceHostPath: 'c:/Users/me/src/My App/' });
    assert.equal(plan.workspaceFolder, '/workspaces/My App');
    assert.deepEqual(plan.spec.HostConfig?.Mounts, [
      { Type: 'bind', Source: 'C:\\Users\\me\\src\\My App', Target: '/workspaces/My App', ReadOnly: true },
      { Type: 'bind', Source: 'C:\\Users\\me\\.vscode\\extensions\\warden\\dist\\agents', Target: AGENTS_FOLDER, ReadOnly: true },
    ]);
    // The label keeps the path as the host wrote it: it finds this workspace's kept sandboxes.
    assert.equal(plan.spec.Labels?.['dev.warden.workspace'], 'c:/Users/me/src/My App/');
  });

  it('a WSL workspace (\\\\wsl$\\Distro\\...) is bound by its Linux path in that distro', () => {
    const plan = planSandbox({ image: 'x' }, { ...base, workspaceHostPath: '\\\\wsl.localhost\\Ubuntu\\home\\me\\proj' });
    assert.equal(plan.workspaceFolder, '/workspaces/proj');
    assert.deepEqual(plan.spec.HostConfig?.Mounts?.[0], {
      Type: 'bind',
      Source: '/home/me/proj',
      Target: '/workspaces/proj',
      ReadOnly: true,
    });
  });

  it('a workspace on a network share, or a path without a drive, is refused before anything starts, saying why', () => {
    const share = refusal(() => planSandbox({ image: 'x' }, { ...base, workspaceHostPath: '\\\\fileserver\\team\\proj' }));
    assert.equal(share.code, 'config-invalid');
    assert.match(
      share.message,
      /cannot bind-mount the workspace \\\\fileserver\\team\\proj .*network share .*open a local copy.*Nothing was started/,
    );
    const posix = refusal(() => planSandbox({ image: 'x' }, { ...base, workspaceHostPath: '/home/me/proj' }));
    assert.match(posix.message, /not an absolute path with a drive letter/);
    const agents = refusal(() =>
      planSandbox({ image: 'x' }, { ...base, workspaceHostPath: 'C:\\w', agentsHostPath: '\\\\nas\\tools\\agents' }),
    );
    assert.match(agents.message, /Warden's agents folder \\\\nas\\tools\\agents/);
  });

  it('bind mounts the policy allows are translated; the home folder and credential stores stay refused whatever their case or separators', () => {
    const allowMounts = { ...STRICT_SANDBOX_POLICY, allowMounts: true };
    const plan = planSandbox(
      { image: 'x', mounts: ['type=bind,source=d:/data/cache,target=/cache'] },
      { ...base, workspaceHostPath: 'C:\\w', policy: allowMounts },
    );
    assert.deepEqual(plan.spec.HostConfig?.Mounts?.[2], { Type: 'bind', Source: 'D:\\data\\cache', Target: '/cache', ReadOnly: false });
    for (const source of ['c:/users/ME/.SSH', 'C:\\Users\\me', 'C:\\', 'C:/Users/me/.docker/config', '\\\\.\\pipe\\docker_engine']) {
      const refused = refusal(() =>
        planSandbox(
          { image: 'x', mounts: [`type=bind,source=${source},target=/x`] },
          { ...base, workspaceHostPath: 'C:\\w', policy: allowMounts },
        ),
      );
      assert.equal(refused.code, 'config-refused', source);
      assert.match(refused.message, /no policy can allow that/, source);
    }
    // A workspaceMount naming the workspace in another case is the workspace itself, not another folder.
    const same = planSandbox(
      { image: 'x', workspaceMount: 'source=c:\\W,target=/workspaces/w,type=bind' },
      { ...base, workspaceHostPath: 'C:\\w' },
    );
    assert.equal(same.spec.HostConfig?.Mounts?.[0]?.Source, 'C:\\w');
  });

  it("copy mode: the copy replaces the workspace's bind, and the real .git goes on top, all in the engine's form", () => {
    const plan = planSandbox({ image: 'x' }, { ...base, workspaceHostPath: 'C:\\w' });
    const mounts = withWorkspaceCopy(plan.spec, 'C:\\w', plan.workspaceFolder, 'c:/Users/me/AppData/Local/warden/copies/w-1', 'win32')
      .HostConfig?.Mounts;
    assert.deepEqual(mounts?.[0], {
      Type: 'bind',
      Source: 'C:\\Users\\me\\AppData\\Local\\warden\\copies\\w-1',
      Target: '/workspaces/w',
      ReadOnly: false,
    });
    assert.throws(
      () => withWorkspaceCopy(plan.spec, 'C:\\w', plan.workspaceFolder, '\\\\nas\\copies\\w-1', 'win32'),
      /cannot bind-mount the private copy .*warden\.sandbox\.copiesFolder/,
    );
  });
});

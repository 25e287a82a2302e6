import * as path from 'node:path';

/**
 * Host paths as a container engine needs them, for every host platform. Pure (path.win32 or
 * path.posix by the platform given, never the one Warden runs on), so the Windows rules are
 * unit-tested on Linux. Docker Desktop on Windows takes `C:\…` bind sources and translates
 * them itself; a WSL distro's files (`\\wsl$\Distro\…`, `\\wsl.localhost\Distro\…`) are the
 * Linux path inside that distro, which the engine sees when Warden runs there (WSL
 * integration); other UNC shares cannot be bind-mounted.
 */
export type HostPlatform = 'win32' | 'posix';

export type EnginePath =
  | { ok: true; kind: 'posix' | 'drive'; source: string }
  | { ok: true; kind: 'wsl'; distro: string; source: string }
  | { ok: false; reason: string };

export function enginePath(hostPath: string, platform: HostPlatform): EnginePath {
  if (hostPath.includes('\0')) return { ok: false, reason: 'the path contains a NUL byte' };
  if (platform === 'posix') {
    return path.posix.isAbsolute(hostPath)
      ? { ok: true, kind: 'posix', source: path.posix.normalize(hostPath).replace(/(.)\/$/, '$1') }
      : { ok: false, reason: `${hostPath} is not an absolute path` };
  }
  // Long-path prefixes name the same files: \\?\C:\x is C:\x, \\?\UNC\server\share is \\server\share.
  let p = hostPath.replace(/\//g, '\\');
  if (/^\\\\\?\\UNC\\/i.test(p)) p = `\\\\${p.slice(8)}`;
  else if (/^\\\\\?\\[A-Za-z]:/.test(p)) p = p.slice(4);
  const unc = /^\\\\([^\\]+)\\([^\\]+)(\\.*)?$/.exec(p);
  if (unc) {
    const [, server = '', share = '', rest = ''] = unc;
    if (/^wsl(\$|\.localhost)$/i.test(server)) {
      const linux = path.posix.normalize(`/${rest.split('\\').filter(Boolean).join('/')}`);
      return { ok: true, kind: 'wsl', distro: share, source: linux };
    }
    return {
      ok: false,
      reason: `${hostPath} is on a network share (\\\\${server}\\${share}), which a container engine cannot bind-mount; open a local copy`,
    };
  }
  if (!/^[A-Za-z]:\\/.test(p)) return { ok: false, reason: `${hostPath} is not an absolute path with a drive letter` };
  const normal = path.win32.normalize(p);
  // The drive letter in one case, no trailing separator (except the drive root).
  const source = `${normal.charAt(0).toUpperCase()}${normal.slice(1)}`.replace(/(.:\\.*?)\\+$/, '$1');
  return { ok: true, kind: 'drive', source };
}

/** The folder name the workspace gets under /workspaces in the container, for any host platform. */
export function workspaceBasename(hostPath: string, platform: HostPlatform): string {
  const translated = enginePath(hostPath, platform);
  const base =
    translated.ok && translated.kind === 'wsl'
      ? path.posix.basename(translated.source)
      : (platform === 'win32' ? path.win32 : path.posix).basename(hostPath.replace(/[\\/]+$/, ''));
  return base || 'workspace';
}

/**
 * Whether `candidate` is `root` or inside it, by the platform's rules: on Windows the
 * comparison ignores case (NTFS default) and treats / and \ alike, so `c:\Work\..\work\x`
 * is inside `C:\work`; `C:\work2` never is inside `C:\work`.
 */
export function isInsideOn(root: string, candidate: string, platform: HostPlatform): boolean {
  const a = enginePath(root, platform);
  const b = enginePath(candidate, platform);
  if (!a.ok || !b.ok || a.kind !== b.kind) return false;
  if (a.kind === 'wsl' && b.kind === 'wsl' && a.distro.toLowerCase() !== b.distro.toLowerCase()) return false;
  if (platform === 'posix' || a.kind === 'wsl') {
    const relative = path.posix.relative(a.source, b.source);
    return relative === '' || (!relative.startsWith('..') && !path.posix.isAbsolute(relative));
  }
  const relative = path.win32.relative(a.source.toLowerCase(), b.source.toLowerCase());
  return relative === '' || (!relative.startsWith('..') && !path.win32.isAbsolute(relative));
}

/** The platform Warden runs on, as the path rules see it. */
export function currentHostPlatform(): HostPlatform {
  return process.platform === 'win32' ? 'win32' : 'posix';
}

/** The path functions of a host platform (path.win32 on Windows, path.posix elsewhere), whatever Warden runs on. */
export function hostPathApi(platform: HostPlatform): path.PlatformPath {
  return platform === 'win32' ? path.win32 : path.posix;
}

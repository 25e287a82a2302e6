import { createHash } from 'node:crypto';
import { constants, existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { currentHostPlatform, isInsideOn } from './hostPaths';

/**
 * The private copy of a workspace ('copy' mode) on the host, and manifests (path -> content
 * hash) of a folder tree. Everything here works on the host side, where the agent has no say,
 * so nothing follows a symbolic link: links are recorded as links (their target as text), and
 * files are opened with O_NOFOLLOW and checked to still be inside the tree they were found in
 * (the agent could swap a folder for a link between the walk and the read).
 */

/** Workspace-relative paths the copy leaves out: `.git` is mounted read-only over the copy, the audit log stays Warden's. */
export const COPY_EXCLUDED = ['.git', '.warden/audit'] as const;

export type ManifestEntry = { type: 'file'; hash: string; size: number; mode: number } | { type: 'symlink'; target: string };

export interface Manifest {
  /** Files and links by workspace-relative POSIX path. */
  entries: Map<string, ManifestEntry>;
  /** Folders (for removing the ones that are gone). */
  dirs: Set<string>;
}

/** Where copies live: WARDEN_COPIES_DIR, else the user cache folder (outside every workspace). */
export function copiesRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.WARDEN_COPIES_DIR) return env.WARDEN_COPIES_DIR;
  const cache = env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : path.join(os.homedir(), '.cache');
  return path.join(cache, 'warden', 'copies');
}

/** A new, empty folder for a copy of `workspaceHostPath`. The parent is private to the user (0700). */
export async function createCopyFolder(workspaceHostPath: string): Promise<string> {
  const root = copiesRoot();
  await fs.mkdir(root, { recursive: true, mode: 0o700 });
  const folder = await fs.mkdtemp(path.join(root, `${path.basename(workspaceHostPath).replace(/[^A-Za-z0-9._-]/g, '_')}-`));
  await fs.chmod(folder, 0o755);
  return folder;
}

/** Removes a copy folder; refuses anything outside the copies root (the path comes from a container label). */
export async function removeCopyFolder(folder: string | undefined): Promise<void> {
  if (!folder || !isInside(copiesRoot(), folder)) return;
  await fs.rm(folder, { recursive: true, force: true });
}

function isExcluded(relative: string): boolean {
  return COPY_EXCLUDED.some((e) => relative === e || relative.startsWith(`${e}/`));
}

/** Strictly below root, by the host's rules (hostPaths.ts: on Windows without case, either separator). */
function isInside(root: string, candidate: string): boolean {
  const platform = currentHostPlatform();
  return isInsideOn(root, candidate, platform) && !isInsideOn(candidate, root, platform);
}

interface CachedHash {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  hash: string;
}

/** Walks a tree into a manifest; hashes are cached by (size, mtime, ctime, inode), so a rescan reads only what changed. */
export class ManifestScanner {
  private readonly cache = new Map<string, CachedHash>();

  /**
   * `skipNames`: folder names not walked at all (e.g. node_modules for change detection).
   * `leaveOut`: workspace-relative paths (files, links or folders) left out of the manifest:
   * what the policy withholds from the sandbox.
   */
  constructor(
    readonly root: string,
    private readonly skipNames: ReadonlySet<string> = new Set(),
    private readonly leaveOut: (relative: string) => boolean = () => false,
  ) {}

  async scan(): Promise<Manifest> {
    const manifest: Manifest = { entries: new Map(), dirs: new Set() };
    const seen = new Set<string>();
    const walk = async (relDir: string): Promise<void> => {
      let dirents;
      try {
        dirents = await fs.readdir(path.join(this.root, relDir), { withFileTypes: true });
      } catch {
        return; // vanished or swapped for a link meanwhile: the next scan sees it
      }
      for (const dirent of dirents) {
        const rel = relDir ? `${relDir}/${dirent.name}` : dirent.name;
        if (isExcluded(rel) || this.leaveOut(rel)) continue;
        const full = path.join(this.root, rel);
        // Dirent types come from lstat: a link to a folder is a link, never walked into.
        if (dirent.isDirectory()) {
          if (this.skipNames.has(dirent.name)) continue;
          manifest.dirs.add(rel);
          await walk(rel);
        } else if (dirent.isSymbolicLink()) {
          const target = await fs.readlink(full).catch(() => undefined);
          if (target !== undefined) manifest.entries.set(rel, { type: 'symlink', target });
        } else if (dirent.isFile()) {
          const entry = await this.fileEntry(rel).catch(() => undefined);
          if (entry) {
            manifest.entries.set(rel, entry);
            seen.add(rel);
          }
        }
        // FIFOs, sockets and devices are not content: never read, never proposed.
      }
    };
    await walk('');
    for (const key of this.cache.keys()) if (!seen.has(key)) this.cache.delete(key);
    return manifest;
  }

  private async fileEntry(rel: string): Promise<ManifestEntry | undefined> {
    const stat = await fs.lstat(path.join(this.root, rel));
    if (!stat.isFile()) return undefined;
    const cached = this.cache.get(rel);
    const mode = stat.mode & 0o777;
    if (
      cached &&
      cached.size === stat.size &&
      cached.mtimeMs === stat.mtimeMs &&
      cached.ctimeMs === stat.ctimeMs &&
      cached.ino === stat.ino
    ) {
      return { type: 'file', hash: cached.hash, size: stat.size, mode };
    }
    const hash = await hashNoFollow(this.root, rel);
    this.cache.set(rel, { size: stat.size, mtimeMs: stat.mtimeMs, ctimeMs: stat.ctimeMs, ino: stat.ino, hash });
    return { type: 'file', hash, size: stat.size, mode };
  }
}

/** Opens a regular file under root without following links, and checks where the opened file really is. */
async function openNoFollow(root: string, rel: string): Promise<fs.FileHandle> {
  const full = path.join(root, ...rel.split('/'));
  if (!isInside(root, full)) throw new Error(`${rel} is outside ${root}`);
  const handle = await fs.open(full, constants.O_RDONLY | constants.O_NOFOLLOW | (constants.O_NONBLOCK ?? 0));
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new Error(`${rel} is not a regular file`);
    // A parent folder swapped for a link after the walk would put the file elsewhere: ask the kernel where it is.
    const real = existsSync('/proc/self/fd') ? await fs.readlink(`/proc/self/fd/${handle.fd}`) : await fs.realpath(full);
    if (!isInside(await fs.realpath(root), real)) throw new Error(`${rel} resolves outside ${root}`);
    return handle;
  } catch (error) {
    await handle.close();
    throw error;
  }
}

export async function hashNoFollow(root: string, rel: string): Promise<string> {
  const handle = await openNoFollow(root, rel);
  try {
    const hash = createHash('sha256');
    for await (const chunk of handle.createReadStream({ autoClose: false })) hash.update(chunk as Buffer);
    return hash.digest('hex');
  } finally {
    await handle.close();
  }
}

/** The bytes of a regular file under root (never through a link); at most maxBytes, else undefined. */
export async function readNoFollow(root: string, rel: string, maxBytes = Number.MAX_SAFE_INTEGER): Promise<Buffer | undefined> {
  const handle = await openNoFollow(root, rel);
  try {
    if ((await handle.stat()).size > maxBytes) return undefined;
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

/** Who must be able to write the copy from inside the container. */
export type CopyAccess = { uid: number; gid: number } | 'world';

/**
 * Makes `copy` hold exactly what `real` holds (COPY_EXCLUDED aside): stale entries are removed
 * (links unlinked, never followed), missing or different ones copied. Run only while no
 * container uses the copy (before create or start), so the agent cannot race it.
 * `withheld`: paths the policy denies for reading, left out of the copy (and removed from a
 * reused copy that still holds them, e.g. made under an older policy).
 */
export async function syncCopy(
  real: string,
  copy: string,
  access: CopyAccess,
  withheld: (relative: string) => boolean = () => false,
): Promise<Manifest> {
  const [from, to] = await Promise.all([new ManifestScanner(real, new Set(), withheld).scan(), new ManifestScanner(copy).scan()]);
  for (const [rel, entry] of to.entries) {
    if (!sameEntry(entry, from.entries.get(rel))) await fs.rm(path.join(copy, rel), { force: true, recursive: true });
  }
  // Deepest first, so a folder is empty when its turn comes.
  for (const rel of [...to.dirs].sort((a, b) => b.length - a.length)) {
    if (!from.dirs.has(rel)) await fs.rm(path.join(copy, rel), { force: true, recursive: true });
  }
  for (const rel of from.dirs) await fs.mkdir(path.join(copy, rel), { recursive: true });
  for (const [rel, entry] of from.entries) {
    if (sameEntry(entry, to.entries.get(rel))) continue;
    const target = path.join(copy, rel);
    await fs.rm(target, { force: true, recursive: true });
    if (entry.type === 'symlink') await fs.symlink(entry.target, target);
    else await fs.copyFile(path.join(real, rel), target, constants.COPYFILE_EXCL);
  }
  await grantAccess(copy, access);
  return from;
}

function sameEntry(a: ManifestEntry | undefined, b: ManifestEntry | undefined): boolean {
  if (!a || !b || a.type !== b.type) return false;
  return a.type === 'file' ? b.type === 'file' && a.hash === b.hash : b.type === 'symlink' && a.target === b.target;
}

/** The access a host user can give: ownership when Warden runs as root, else group/other write bits. */
export function copyAccessFor(sandboxUser: string): CopyAccess {
  const numeric = /^(\d+):(\d+)$/.exec(sandboxUser);
  const uid = process.getuid?.();
  if (numeric && uid === 0) return { uid: Number(numeric[1]), gid: Number(numeric[2]) };
  if (numeric && uid === Number(numeric[1])) return { uid, gid: Number(numeric[2]) };
  return 'world';
}

async function grantAccess(copy: string, access: CopyAccess): Promise<void> {
  const visit = async (full: string): Promise<void> => {
    const stat = await fs.lstat(full);
    if (stat.isSymbolicLink()) {
      if (access !== 'world' && process.getuid?.() === 0) await fs.lchown(full, access.uid, access.gid);
      return;
    }
    if (access === 'world') await fs.chmod(full, stat.mode | (stat.isDirectory() ? 0o777 : 0o666));
    else if (process.getuid?.() === 0) await fs.lchown(full, access.uid, access.gid);
    if (stat.isDirectory()) for (const name of await fs.readdir(full)) await visit(path.join(full, name));
  };
  await visit(copy);
}

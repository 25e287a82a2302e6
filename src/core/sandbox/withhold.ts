import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type Dockerode from 'dockerode';
import { COPY_EXCLUDED, copiesRoot, hashNoFollow } from './workspaceCopy';

/**
 * Files coming in (DESIGN #7): a path the policy denies for reading never enters the sandbox.
 * In 'copy' mode it is left out of the private copy; in 'readonly' mode an empty, unreadable
 * file or folder is bind-mounted over it. The walk here runs on the host, never follows a
 * link, and finds what to withhold; the audit gets paths, hashes and sizes, never contents.
 */

/** The read rule that keeps a path out of the sandbox. */
export interface ReadDenial {
  ruleId: string;
  reason: string;
}

/** Whether a workspace-relative POSIX path is denied for reading (undefined: it may enter). */
export type ReadDenied = (relative: string) => ReadDenial | undefined;

export type WithheldEntry =
  | { path: string; kind: 'file'; sha256: string; size: number; ruleId: string }
  /** A link is withheld by its own path; its target is judged by its own path too. */
  | { path: string; kind: 'symlink'; ruleId: string };

/** A folder withheld whole: denied itself, and everything in it denied. (A type, not an interface: it is written into audit data.) */
export type WithheldFolder = {
  path: string;
  ruleId: string;
  /** Files and links inside (each is also in `entries`). */
  entries: number;
};

/** What one look at the workspace withheld. */
export interface Withholding {
  entries: WithheldEntry[];
  folders: WithheldFolder[];
}

export const NOTHING_WITHHELD: Withholding = { entries: [], folders: [] };

/** Whether a path is withheld by this plan: listed itself, or inside a withheld folder. */
export function withheldBy(withholding: Withholding, relative: string): string | undefined {
  const entry = withholding.entries.find((e) => e.path === relative);
  if (entry) return entry.ruleId;
  return withholding.folders.find((f) => relative === f.path || relative.startsWith(`${f.path}/`))?.ruleId;
}

/** A set view of a plan, for filters run once per path of a walk. */
export function withheldPaths(withholding: Withholding): (relative: string) => boolean {
  const files = new Set(withholding.entries.map((e) => e.path));
  const folders = withholding.folders.map((f) => f.path);
  return (relative) => files.has(relative) || folders.some((f) => relative === f || relative.startsWith(`${f}/`));
}

function isExcluded(relative: string): boolean {
  return COPY_EXCLUDED.some((e) => relative === e || relative.startsWith(`${e}/`));
}

/**
 * Walks the workspace and finds what the policy denies for reading: files and links by their
 * path, folders when the folder is denied and all it holds is too (an allowed file inside
 * keeps its folder, which is then walked file by file). `.git` and the audit log are Warden's.
 */
export async function planWithholding(root: string, denied: ReadDenied): Promise<Withholding> {
  const result: Withholding = { entries: [], folders: [] };
  /** Walks one folder; true when everything in it was withheld. */
  const walk = async (relDir: string): Promise<{ all: boolean; count: number; folders: WithheldFolder[] }> => {
    let dirents;
    try {
      dirents = await fs.readdir(path.join(root, relDir), { withFileTypes: true });
    } catch {
      return { all: false, count: 0, folders: [] };
    }
    let all = true;
    let count = 0;
    const folders: WithheldFolder[] = [];
    for (const dirent of dirents.sort((a, b) => a.name.localeCompare(b.name))) {
      const rel = relDir ? `${relDir}/${dirent.name}` : dirent.name;
      if (isExcluded(rel)) {
        all = false;
        continue;
      }
      if (dirent.isDirectory()) {
        const inner = await walk(rel);
        const denial = denied(rel);
        count += inner.count;
        if (inner.all && denial) folders.push({ path: rel, ruleId: denial.ruleId, entries: inner.count });
        else {
          folders.push(...inner.folders);
          all = false;
        }
        continue;
      }
      const denial = denied(rel);
      if (!denial) {
        all = false;
        continue;
      }
      if (dirent.isSymbolicLink()) {
        result.entries.push({ path: rel, kind: 'symlink', ruleId: denial.ruleId });
        count += 1;
      } else if (dirent.isFile()) {
        const stat = await fs.lstat(path.join(root, rel)).catch(() => undefined);
        const sha256 = await hashNoFollow(root, rel).catch(() => undefined);
        if (!stat || sha256 === undefined) continue; // gone meanwhile
        result.entries.push({ path: rel, kind: 'file', sha256, size: stat.size, ruleId: denial.ruleId });
        count += 1;
      }
      // FIFOs, sockets and devices hold no content: nothing to withhold.
    }
    return { all, count, folders };
  };
  result.folders = (await walk('')).folders;
  result.entries.sort((a, b) => a.path.localeCompare(b.path));
  return result;
}

/** Where the empty, unreadable mask sources live (one file, one folder, shared by every session). */
export interface MaskSources {
  file: string;
  folder: string;
}

/**
 * The empty file and folder mounted over withheld paths in read-only mode: mode 0000, so even
 * their owner gets "Permission denied" (the mounts are read-only, so nobody can chmod them).
 */
export async function ensureMaskSources(root = path.join(copiesRoot(), '.masks')): Promise<MaskSources> {
  await fs.mkdir(root, { recursive: true, mode: 0o700 });
  const file = path.join(root, 'empty-file');
  const folder = path.join(root, 'empty-folder');
  // A mask must be an empty regular file and an empty folder, whatever was left there.
  const fileStat = await fs.lstat(file).catch(() => undefined);
  if (fileStat && (!fileStat.isFile() || fileStat.size !== 0)) await fs.rm(file, { force: true });
  if (!fileStat || !fileStat.isFile() || fileStat.size !== 0) await fs.writeFile(file, '', { flag: 'wx', mode: 0o000 });
  const folderStat = await fs.lstat(folder).catch(() => undefined);
  if (folderStat && !folderStat.isDirectory()) await fs.rm(folder, { force: true });
  if (folderStat?.isDirectory()) {
    await fs.chmod(folder, 0o700);
    if ((await fs.readdir(folder)).length > 0) await fs.rm(folder, { recursive: true, force: true });
  }
  await fs.mkdir(folder, { recursive: true });
  await fs.chmod(file, 0o000);
  await fs.chmod(folder, 0o000);
  return { file, folder };
}

/**
 * Read-only bind mounts of the empty mask over each withheld path (folders whole; files outside
 * them one by one). Links are not masked: a mount over a link would land on its target.
 */
export function maskMounts(withholding: Withholding, workspaceFolder: string, sources: MaskSources): Dockerode.MountSettings[] {
  const folders = withholding.folders.map((f) => f.path);
  const inFolder = (rel: string): boolean => folders.some((f) => rel.startsWith(`${f}/`));
  return [
    ...withholding.folders.map((f) => ({
      Type: 'bind' as const,
      Source: sources.folder,
      Target: path.posix.join(workspaceFolder, f.path),
      ReadOnly: true,
    })),
    ...withholding.entries
      .filter((e) => e.kind === 'file' && !inFolder(e.path))
      .map((e) => ({ Type: 'bind' as const, Source: sources.file, Target: path.posix.join(workspaceFolder, e.path), ReadOnly: true })),
  ];
}

/** One line for the reviewer: how many paths were withheld, by which rule. */
export function withholdingSummary(withholding: Withholding): string | undefined {
  if (withholding.entries.length === 0 && withholding.folders.length === 0) return undefined;
  const byRule = new Map<string, number>();
  for (const e of withholding.entries) byRule.set(e.ruleId, (byRule.get(e.ruleId) ?? 0) + 1);
  for (const f of withholding.folders) if (f.entries === 0) byRule.set(f.ruleId, byRule.get(f.ruleId) ?? 0);
  const rules = [...byRule].map(([rule, n]) => `${n} by rule ${rule}`).join(', ');
  const folders = withholding.folders.length > 0 ? ` (${withholding.folders.length} folder(s) whole)` : '';
  return `${withholding.entries.length} file(s) the policy denies for reading were withheld from the sandbox${folders}: ${rules}`;
}

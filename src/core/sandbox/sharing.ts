import { promises as fs } from 'node:fs';

/**
 * Preflight for engines that see the host's files only through file sharing (Docker Desktop,
 * Colima, OrbStack, Rancher Desktop, a Podman machine, a remote engine): every folder Warden
 * bind-mounts must be visible to the engine at the same path. When one is not, the error
 * names it and says what to share, before any agent runs (nothing to lose yet).
 */
export interface NeededFolder {
  /** What it is, for the message: "the workspace", "Warden's agents folder", "the private copy". */
  role: string;
  hostPath: string;
  /** Where it appears in the container. */
  target: string;
  /** The setting that moves it, when it can move (the copy folder). */
  setting?: string;
}

/** Engine errors that mean a bind source is not visible to the engine (not shared, or not there). */
export function isMountNotVisible(message: string): boolean {
  return /bind source path does not exist|mounts denied|is not shared from the host|not known to docker|no such file or directory.*mount/i.test(
    message,
  );
}

/** Which needed folders look unshared: the host holds entries where the container sees an empty folder. */
export function invisibleFolders(
  needed: readonly NeededFolder[],
  hostEntries: ReadonlyMap<string, number>,
  insideEntries: ReadonlyMap<string, number>,
): NeededFolder[] {
  return needed.filter((f) => (hostEntries.get(f.hostPath) ?? 0) > 0 && insideEntries.get(f.target) === 0);
}

export async function countEntries(folder: string): Promise<number> {
  return (await fs.readdir(folder).catch(() => [])).length;
}

/** The actionable message: what the engine cannot see, and how to share it with each VM-backed engine. */
export function sharingAdvice(folders: readonly NeededFolder[], engine: string, detail?: string): string {
  const list = folders.map((f) => `${f.role} ${f.hostPath}`).join(', ');
  const movable = folders.filter((f) => f.setting);
  return [
    `The container engine (${engine}) cannot see ${list}: it runs in a VM or on another machine and sees only the folders shared with it.`,
    `Share ${folders.length > 1 ? 'these folders' : 'this folder'} (or a folder above ${folders.length > 1 ? 'them' : 'it'}) at the same path: ` +
      'Docker Desktop: Settings > Resources > File sharing; Colima: `colima start --mount PATH:w`; ' +
      'Podman: `podman machine init --volume PATH:PATH`; OrbStack and Rancher Desktop share your home folder by default.',
    ...movable.map((f) => `Or set \`${f.setting}\` to a folder you already share (${f.role} is created there).`),
    'Nothing was started and nothing was changed.',
    ...(detail ? [`(engine: ${detail})`] : []),
  ].join(' ');
}

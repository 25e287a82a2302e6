import { promises as fs } from 'node:fs';
import * as path from 'node:path';

/**
 * Why Warden must not read or write a workspace-relative path on the host, or undefined when
 * it may. The path mapper only checks the string; the host file system can still lead out:
 * a symlink in the workspace (committed, or unpacked from an archive) pointing at
 * `~/.ssh/id_rsa` would let `fs/read_text_file` read it, and a linked folder would let an
 * approved write land outside. Every existing component is checked, so the target and each
 * folder on the way must resolve inside the workspace; a link to nowhere is refused too.
 * A directory where a file is expected is refused here as well, with a clear reason.
 */
export async function hostPathProblem(root: string, relative: string): Promise<string | undefined> {
  const realRoot = await fs.realpath(root).catch(() => path.resolve(root)); // no root: nothing on disk to follow
  const parts = relative.split('/').filter(Boolean);
  let current = root;
  for (let i = 0; i < parts.length; i++) {
    current = path.join(current, parts[i]!);
    const shown = parts.slice(0, i + 1).join('/');
    const stat = await fs.lstat(current).catch(() => undefined);
    if (!stat) return undefined; // the rest does not exist yet: a create inside the workspace
    if (stat.isSymbolicLink()) {
      const target = await fs.realpath(current).catch(() => undefined);
      if (target === undefined)
        return `${shown} is a symbolic link to ${await fs.readlink(current).catch(() => '?')}, which does not exist`;
      const rel = path.relative(realRoot, target);
      if (rel.startsWith('..') || path.isAbsolute(rel)) return `${shown} is a symbolic link to ${target}, outside the workspace`;
    }
    if (
      i === parts.length - 1 &&
      (await fs.stat(current).then(
        (s) => s.isDirectory(),
        () => false,
      ))
    )
      return `${shown} is a directory, not a file`;
  }
  return undefined;
}

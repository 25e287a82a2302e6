import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { sha256Hex } from '../util/hash';

/**
 * How the session reads and writes the real workspace. The editor implementation reads
 * unsaved editor text and writes through an undoable WorkspaceEdit; this file's Node
 * implementation serves the CLI and tests.
 */
export interface WorkspaceFiles {
  /** Current text of a workspace file as the user sees it; null when it does not exist. */
  read(relativePath: string): Promise<string | null>;
  /** Writes exactly `text` (UTF-8) and returns the SHA-256 of the bytes now on disk. */
  write(relativePath: string, text: string): Promise<{ diskHash: string }>;
  /** Deletes a file (a rollback removing a file the agent created); optional for read-mostly implementations. */
  delete?(relativePath: string): Promise<void>;
}

export class NodeWorkspaceFiles implements WorkspaceFiles {
  constructor(private readonly root: string) {}

  async read(relativePath: string): Promise<string | null> {
    try {
      return await fs.readFile(this.resolve(relativePath), 'utf8');
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  async write(relativePath: string, text: string): Promise<{ diskHash: string }> {
    const target = this.resolve(relativePath);
    await fs.mkdir(path.dirname(target), { recursive: true });
    // Write a sibling temp file and rename, so a crash never leaves a half-written file.
    const temp = `${target}.warden-${process.pid}-${Date.now()}.tmp`;
    const handle = await fs.open(temp, 'w');
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temp, target);
    return { diskHash: sha256Hex(await fs.readFile(target)) };
  }

  async delete(relativePath: string): Promise<void> {
    await fs.rm(this.resolve(relativePath), { force: true });
  }

  private resolve(relativePath: string): string {
    const resolved = path.resolve(this.root, relativePath);
    const rel = path.relative(this.root, resolved);
    if (rel.startsWith('..') || path.isAbsolute(rel)) throw new Error(`${relativePath} is outside the workspace`);
    return resolved;
  }
}

export function isNotFound(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && error.code === 'ENOENT';
}

import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AuditEntry } from '../../src/core/audit/types';
import { listAllSegments } from '../../src/core/audit/chains';
import { readAuditLog } from '../../src/core/audit/query';
import { sha256Hex } from '../../src/core/util/hash';

const DEMO_WORKSPACE = path.resolve(__dirname, '..', 'fixtures', 'workspaces', 'demo');

/** A private copy of the demo workspace in a new temp folder (or at `target`), readable by the sandbox user. */
export async function copyDemoWorkspace(prefix: string, target?: string): Promise<string> {
  const dir = target ?? (await fs.mkdtemp(path.join(os.tmpdir(), prefix)));
  await fs.cp(DEMO_WORKSPACE, dir, { recursive: true });
  // mkdtemp makes a 0700 folder; the sandbox user (uid 1000) must be able to read the workspace.
  await fs.chmod(dir, 0o755);
  return dir;
}

/** Every file of a workspace with its hash, the audit log left out: "unchanged" means equal snapshots. */
export async function snapshot(dir: string): Promise<Record<string, string>> {
  const result: Record<string, string> = {};
  const walk = async (rel: string): Promise<void> => {
    for (const entry of await fs.readdir(path.join(dir, rel), { withFileTypes: true })) {
      const child = path.posix.join(rel, entry.name);
      if (child === '.warden/audit') continue;
      if (entry.isDirectory()) await walk(child);
      else if (entry.isSymbolicLink())
        result[child] = `symlink -> ${await fs.readlink(path.join(dir, child))}`; // never followed
      else result[child] = sha256Hex(await fs.readFile(path.join(dir, child)));
    }
  };
  await walk('');
  return result;
}

/**
 * All audit entries of a workspace, chain by chain, each chain in order; the chains in the order
 * they started (their first entry's time). Read by name alone, two sessions started in the same
 * second would come in the order of their random suffixes.
 */
export async function readAudit(workspace: string): Promise<AuditEntry[]> {
  const chains = new Map<string, AuditEntry[]>();
  for await (const record of readAuditLog(workspace)) {
    const entries = chains.get(record.chain) ?? [];
    if (entries.length === 0) chains.set(record.chain, entries);
    entries.push(record.entry);
  }
  // Array.prototype.sort is stable: chains that started in the same millisecond keep the name order.
  const started = (entries: AuditEntry[]): number => Date.parse(entries[0]?.time ?? '') || 0;
  return [...chains.values()].sort((a, b) => started(a) - started(b)).flat();
}

/**
 * The raw text of every segment of every chain (legacy, then sessions by name), for searching
 * the record for something that must or must not be there. Segments are found the way Warden
 * finds them: a recursive listing of the folder would also walk a writer's lock, which can
 * vanish mid-walk (ENOENT).
 */
export async function auditText(workspace: string): Promise<string> {
  const segments = await listAllSegments(workspace);
  return (await Promise.all(segments.map((s) => fs.readFile(s.path, 'utf8')))).join('');
}

/** The first segment of the first chain (by name): the file a tampering test edits. */
export async function firstAuditSegment(workspace: string): Promise<string> {
  const [first] = await listAllSegments(workspace);
  if (!first) throw new Error(`no audit segment in ${workspace}`);
  return first.path;
}

import { promises as fs } from 'node:fs';
import { listAllSegments } from '../audit/chains';
import type { AuditEntry } from '../audit/types';
import { sha256Hex } from '../util/hash';

/** An audit entry with its own hash: SHA-256 of its line bytes, as the chain computes it (the next entry's `prev`). */
export interface HashedEntry {
  entry: AuditEntry;
  hash: string;
  /** The chain it is in. */
  chain: string;
}

/**
 * The entries of one session, in log order, each with its chain hash. Lines that do not parse
 * are skipped here; callers that need an intact chain run verifyAuditLog first.
 */
export async function readSessionEntries(workspaceRoot: string, sessionId: string): Promise<HashedEntry[]> {
  const result: HashedEntry[] = [];
  for (const segment of await listAllSegments(workspaceRoot)) {
    const bytes = await fs.readFile(segment.path);
    let start = 0;
    for (let nl = bytes.indexOf(0x0a); nl >= 0; nl = bytes.indexOf(0x0a, start)) {
      const line = bytes.subarray(start, nl);
      start = nl + 1;
      let entry: AuditEntry;
      try {
        entry = JSON.parse(line.toString('utf8')) as AuditEntry;
      } catch {
        continue;
      }
      if (entry.sessionId === sessionId) result.push({ entry, hash: sha256Hex(line), chain: segment.chain });
    }
  }
  return result;
}

/** Session ids that appear in the log, most recent last. */
export async function listAuditSessions(workspaceRoot: string): Promise<string[]> {
  const seen = new Map<string, number>();
  let index = 0;
  for (const segment of await listAllSegments(workspaceRoot)) {
    for (const line of (await fs.readFile(segment.path, 'utf8')).split('\n')) {
      if (!line) continue;
      try {
        const entry = JSON.parse(line) as AuditEntry;
        seen.set(entry.sessionId, index++);
      } catch {
        // A torn or corrupt line: verify reports it.
      }
    }
  }
  return [...seen.entries()].sort((a, b) => a[1] - b[1]).map(([id]) => id);
}

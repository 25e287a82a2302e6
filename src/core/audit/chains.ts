import { randomBytes } from 'node:crypto';
import { promises as fs, type Dirent } from 'node:fs';
import * as path from 'node:path';
import { sha256Hex } from '../util/hash';
import { auditDir, listSegments, type Segment } from './segments';

/**
 * The log is a set of chains (DESIGN.md, invariant 8). Each chain is a directory of
 * hash-chained segments with its own `seq`, written by one session (or one writer), so two
 * developers never append to the same file and a git merge of their work is a union of files:
 *
 *   .warden/audit/audit-000001.jsonl …              the legacy single chain (read, never written)
 *   .warden/audit/sessions/<chain>/audit-000001.jsonl   one chain per session or writer
 *
 * A session's chain is named after its session id (Warden's ids carry the UTC second and
 * random bits, so two machines do not pick the same one); entries that belong to no session
 * go to a per-process writer chain `w-<date>-<random>`.
 */

export const SESSIONS_DIR = 'sessions';
/** The id of the chain made of the top-level segments (logs written before chains existed). */
export const LEGACY_CHAIN = 'legacy';

export interface Chain {
  /** `legacy`, or the directory name under `.warden/audit/sessions/`. */
  id: string;
  /** Absolute directory holding the chain's segments. */
  dir: string;
}

const SAFE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$/;
export const CHAIN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** The chain a session's entries go to. Ids that are not safe file names get a hash suffix. */
export function chainIdForSession(sessionId: string): string {
  if (SAFE.test(sessionId) && sessionId !== LEGACY_CHAIN && !sessionId.includes('..')) return sessionId;
  const base = sessionId
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .replace(/\.\.+/g, '.')
    .slice(0, 60);
  return `${base || 'session'}-${sha256Hex(sessionId).slice(0, 10)}`;
}

let writerChain: string | undefined;

/** This process's chain for entries of no session: random, so no other writer ever shares it. */
export function writerChainId(now: Date = new Date()): string {
  writerChain ??= `w-${now.toISOString().slice(0, 10).replace(/-/g, '')}-${randomBytes(8).toString('hex')}`;
  return writerChain;
}

export function chainDir(workspaceRoot: string, id: string): string {
  if (id === LEGACY_CHAIN) return auditDir(workspaceRoot);
  if (!CHAIN_ID.test(id) || id.includes('..')) throw new Error(`Not an audit chain id: ${id}`);
  return path.join(auditDir(workspaceRoot), SESSIONS_DIR, id);
}

/** Every chain present: the legacy one first (if it has segments), then session chains by name. */
export async function listChains(workspaceRoot: string): Promise<Chain[]> {
  const root = auditDir(workspaceRoot);
  const chains: Chain[] = [];
  if ((await listSegments(root)).length > 0) chains.push({ id: LEGACY_CHAIN, dir: root });
  let entries: Dirent[];
  try {
    entries = await fs.readdir(path.join(root, SESSIONS_DIR), { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return chains;
    throw error;
  }
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const name = entry.name;
    if (!CHAIN_ID.test(name) || name.includes('..')) continue;
    const dir = path.join(root, SESSIONS_DIR, name);
    // The listing says what most entries are; only a link (or an unknown type) costs a stat.
    const isDir =
      entry.isDirectory() || ((entry.isSymbolicLink() || isUnknown(entry)) && (await fs.stat(dir).catch(() => undefined))?.isDirectory());
    if (isDir) chains.push({ id: name, dir });
  }
  return chains;
}

function isUnknown(entry: Dirent): boolean {
  return (
    !entry.isFile() &&
    !entry.isDirectory() &&
    !entry.isSymbolicLink() &&
    !entry.isFIFO() &&
    !entry.isSocket() &&
    !entry.isBlockDevice() &&
    !entry.isCharacterDevice()
  );
}

/** One chain's segments, each tagged with its chain, for readers that walk the whole log. */
export async function listAllSegments(workspaceRoot: string): Promise<Array<Segment & { chain: string }>> {
  const out: Array<Segment & { chain: string }> = [];
  for (const chain of await listChains(workspaceRoot)) {
    for (const segment of await listSegments(chain.dir)) out.push({ ...segment, chain: chain.id });
  }
  return out;
}

import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { sha256Hex } from '../util/hash';
import { AuditLog, fsyncDir, readLastLine } from './auditLog';
import { chainDir, type Chain } from './chains';
import { listSegments } from './segments';
import type { AuditActor, ChainVerifyReport, VerifyReport } from './types';
import { verifyAuditLog, verifyChain } from './verify';

/**
 * Repair of the one break a crash can cause: a torn last line (a writer killed in the middle
 * of its write), in each chain that has one. Verify never modifies anything; repair is a
 * separate, explicit step that
 *
 * - only acts when the first break is the unterminated last line of the last segment (any
 *   other break may be tampering, and is left exactly as found for a human to investigate);
 * - copies the torn bytes to a side file next to the segment (`<segment>.torn-<time>`), so
 *   nothing is ever dropped silently;
 * - cuts the segment back to the end of the last complete line and appends an
 *   `audit.repaired` entry naming the side file and the torn bytes' SHA-256, all under the
 *   writers' lock.
 */

export interface TornTail {
  /** Segment file, relative to the workspace. */
  file: string;
  line: number;
  /** Byte offset where the torn line started (the segment's new size). */
  offset: number;
  bytes: number;
  sha256: string;
  /** Where the torn bytes were saved, relative to the workspace. */
  savedTo: string;
}

export interface RepairResult {
  repaired: boolean;
  /** Why nothing was changed, or what was done. */
  message: string;
  before: VerifyReport;
  after: VerifyReport;
  /** The first repaired tail (each repaired chain's is in `repairs`). */
  torn?: TornTail;
  repairs: TornTail[];
}

export interface RepairOptions {
  /** Who ran the repair (the `audit.repaired` entry's actor). Default: Warden. */
  actor?: AuditActor;
  now?: () => Date;
}

export async function repairAuditLog(workspaceRoot: string, options: RepairOptions = {}): Promise<RepairResult> {
  const before = await verifyAuditLog(workspaceRoot);
  if (before.ok) return { repaired: false, message: 'The audit log verifies; nothing to repair.', before, after: before, repairs: [] };
  const repairs: TornTail[] = [];
  const refusals: string[] = [];
  for (const broken of before.chains.filter((c) => !c.ok)) {
    const chain: Chain = { id: broken.chain, dir: chainDir(workspaceRoot, broken.chain) };
    const result = await repairChain(workspaceRoot, chain, options);
    if (typeof result === 'string') refusals.push(result);
    else repairs.push(result);
  }
  const after = await verifyAuditLog(workspaceRoot);
  const [first] = repairs;
  if (!first) return { repaired: false, message: refusals.join(' ') || 'Nothing was repaired.', before, after, repairs };
  const cut = repairs.map((t) => `a torn last line (${t.bytes} bytes) from ${t.file}:${t.line}, saved to ${t.savedTo}`).join('; ');
  return {
    repaired: true,
    message: `Cut ${cut}, and recorded an audit.repaired entry.${refusals.length ? ` Not repaired: ${refusals.join(' ')}` : ''}`,
    before,
    after,
    torn: first,
    repairs,
  };
}

/** Repairs one chain's torn tail, recording it in that chain; or says why not. */
async function repairChain(workspaceRoot: string, chain: Chain, options: RepairOptions): Promise<TornTail | string> {
  const now = options.now ?? (() => new Date());
  let torn: TornTail | undefined;
  let refusal: string | undefined;
  const log = AuditLog.forWorkspace(workspaceRoot, { now, chain: chain.id });
  try {
    await log.appendPrepared(async () => {
      // Re-check under the lock: another process may have repaired it meanwhile.
      const report = await verifyChain(workspaceRoot, chain);
      const found = await findTornTail(workspaceRoot, report, chain);
      if (typeof found === 'string') throw new NotRepairable(found);
      const segmentPath = path.join(workspaceRoot, found.file);
      const handle = await fs.open(segmentPath, 'r+');
      let cut: TornTail;
      try {
        const { size } = await handle.stat();
        const bytes = Buffer.alloc(size - found.offset);
        await handle.read(bytes, 0, bytes.length, found.offset);
        const stamp = now().toISOString().replace(/[:.]/g, '-');
        const side = `${segmentPath}.torn-${stamp}`;
        // Saved and synced before the segment is cut: a crash in between loses nothing.
        await fs.writeFile(side, bytes, { flag: 'wx' });
        const sideHandle = await fs.open(side, 'r');
        await sideHandle.sync().finally(() => sideHandle.close());
        await fsyncDir(path.dirname(side));
        await handle.truncate(found.offset);
        await handle.sync();
        cut = {
          file: found.file,
          line: found.line,
          offset: found.offset,
          bytes: bytes.length,
          sha256: sha256Hex(bytes),
          savedTo: path.relative(workspaceRoot, side).split(path.sep).join('/'),
        };
      } finally {
        await handle.close();
      }
      torn = cut;
      return {
        sessionId: 'audit',
        actor: options.actor ?? { kind: 'warden', id: 'warden' },
        type: 'audit.repaired',
        data: { ...cut, reason: 'torn last line (a writer stopped in the middle of a write)' },
      };
    }, chain.id);
  } catch (error) {
    if (!(error instanceof NotRepairable)) throw error;
    refusal = error.message;
  }
  return torn ?? refusal ?? 'Nothing was repaired.';
}

class NotRepairable extends Error {}

/** The torn tail to cut, or why the break is not one. */
async function findTornTail(
  workspaceRoot: string,
  report: ChainVerifyReport,
  chain: Chain,
): Promise<{ file: string; line: number; offset: number } | string> {
  if (report.ok) return `Chain ${chain.id} verifies now; nothing to repair.`;
  const b = report.firstBreak;
  if (!b) return `Chain ${chain.id} is broken but verify did not say where; nothing was changed.`;
  const segments = await listSegments(chain.dir);
  const last = [...segments].reverse().find((s) => path.relative(workspaceRoot, s.path).split(path.sep).join('/') === b.file);
  const lastNonEmpty = await lastNonEmptySegment(segments);
  const notTorn = `The break at ${b.file}:${b.line} (${b.reason}) is not a torn last line; repair only cuts a torn tail. Nothing was changed: investigate it (it may be tampering).`;
  if (!last || last !== lastNonEmpty) return notTorn;
  const tail = await readLastLine(last.path);
  if (!tail || tail.terminated) return notTorn;
  const { size } = await fs.stat(last.path);
  const offset = size - tail.line.length;
  // The break must be that very line: everything before it verified.
  const lineCount = await countLines(last.path, offset);
  if (lineCount + 1 !== b.line) return notTorn;
  return { file: b.file, line: b.line, offset };
}

async function lastNonEmptySegment<T extends { path: string }>(segments: T[]): Promise<T | undefined> {
  for (let i = segments.length - 1; i >= 0; i--) {
    const s = segments[i];
    if (s && (await fs.stat(s.path)).size > 0) return s;
  }
  return undefined;
}

async function countLines(file: string, end: number): Promise<number> {
  let count = 0;
  const handle = await fs.open(file, 'r');
  try {
    const buffer = Buffer.alloc(1024 * 1024);
    for (let position = 0; position < end;) {
      const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, end - position), position);
      if (bytesRead === 0) break;
      for (let i = buffer.indexOf(0x0a); i >= 0 && i < bytesRead; i = buffer.indexOf(0x0a, i + 1)) count++;
      position += bytesRead;
    }
  } finally {
    await handle.close();
  }
  return count;
}

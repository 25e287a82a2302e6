import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { applyPatch, parsePatch, reversePatch, type StructuredPatch } from 'diff';
import { sha256Hex } from '../util/hash';
import { findAuditEntry } from './query';

/**
 * The two sides of a recorded diff, for VS Code's diff editor. The log keeps the unified diff
 * (3 lines of context) and the hashes of both versions, not the whole files, so the sides are
 * rebuilt:
 *
 * - `full`: the file in the workspace is one of the two recorded versions (its hash is the
 *   proposal's `newHash` or `baseHash`), or the diff creates the file: the other side comes from
 *   applying the patch forwards or backwards, and both sides are checked against the recorded
 *   hashes;
 * - `excerpt`: otherwise (the file changed since), only the hunks, with a marker line where
 *   unrecorded lines were left out.
 */

export interface AuditDiffSides {
  seq: number;
  path: string;
  oldText: string;
  newText: string;
  completeness: 'full' | 'excerpt';
  /** A sentence for the diff editor title or a notification. */
  note: string;
}

export class AuditDiffError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuditDiffError';
  }
}

/** Reads entry `seq` (with `hash`, of any chain) and rebuilds its diff's sides (see above). */
export async function auditDiffSides(workspaceRoot: string, seq: number, hash?: string): Promise<AuditDiffSides> {
  const record = await findAuditEntry(workspaceRoot, seq, hash);
  if (!record) throw new AuditDiffError(`The audit log has no entry with seq ${seq}`);
  const data = record.entry.data;
  const diff = typeof data.diff === 'string' ? data.diff : undefined;
  const relPath = typeof data.path === 'string' ? data.path : undefined;
  if (!diff || !relPath) throw new AuditDiffError(`Entry ${seq} (${record.entry.type}) records no diff`);
  const baseHash = typeof data.baseHash === 'string' ? data.baseHash : null;
  const newHash = typeof data.newHash === 'string' ? data.newHash : null;
  const current = await readInside(workspaceRoot, relPath);
  return { seq, path: relPath, ...diffSides(diff, { current, baseHash, newHash }) };
}

/** Pure part, for tests: rebuilds the sides from the diff, the current file and the recorded hashes. */
export function diffSides(
  diff: string,
  known: { current: string | null; baseHash: string | null; newHash: string | null },
): Omit<AuditDiffSides, 'seq' | 'path'> {
  const patches = parsePatch(diff);
  const patch = patches[0];
  if (!patch || patches.length !== 1) throw new AuditDiffError('The recorded diff is not a single-file unified diff');
  const creates = patch.oldFileName === '/dev/null';
  const verified = (oldText: string | false, newText: string | false): { oldText: string; newText: string } | undefined => {
    if (oldText === false || newText === false) return undefined;
    if (known.newHash && sha256Hex(newText) !== known.newHash) return undefined;
    if (known.baseHash && sha256Hex(oldText) !== known.baseHash) return undefined;
    return { oldText, newText };
  };
  const { current } = known;
  const attempts: Array<[string, () => { oldText: string; newText: string } | undefined]> = [
    [
      'the workspace file is the proposed version',
      () =>
        current !== null && known.newHash && sha256Hex(current) === known.newHash
          ? verified(applyPatch(current, reversePatch(patch)), current)
          : undefined,
    ],
    [
      'the workspace file is the version the proposal was made against',
      () =>
        current !== null && known.baseHash && sha256Hex(current) === known.baseHash
          ? verified(current, applyPatch(current, patch))
          : undefined,
    ],
    ['the diff creates the file', () => (creates ? verified('', applyPatch('', patch)) : undefined)],
  ];
  for (const [why, attempt] of attempts) {
    const sides = attempt();
    if (sides) return { ...sides, completeness: 'full', note: `whole file (${why}; hashes match the audit entry)` };
  }
  return {
    ...excerptSides(patch),
    completeness: 'excerpt',
    note: 'recorded hunks only: the file has changed since, so unchanged lines outside the hunks are not shown',
  };
}

/** Hunks only; gaps between them become one marker line on both sides, so they align. */
function excerptSides(patch: StructuredPatch): { oldText: string; newText: string } {
  const oldLines: string[] = [];
  const newLines: string[] = [];
  let oldNext = 1;
  for (const hunk of patch.hunks) {
    if (hunk.oldStart > oldNext) {
      const marker = `⋯ lines ${oldNext}–${hunk.oldStart - 1} not recorded in the audit log ⋯`;
      oldLines.push(marker);
      newLines.push(marker);
    }
    for (const line of hunk.lines) {
      const sign = line.charAt(0);
      const text = line.slice(1);
      if (sign === ' ') {
        oldLines.push(text);
        newLines.push(text);
      } else if (sign === '-') oldLines.push(text);
      else if (sign === '+') newLines.push(text);
    }
    oldNext = hunk.oldStart + hunk.oldLines;
  }
  oldLines.push('⋯ rest of the file not recorded in the audit log ⋯');
  newLines.push('⋯ rest of the file not recorded in the audit log ⋯');
  return { oldText: `${oldLines.join('\n')}\n`, newText: `${newLines.join('\n')}\n` };
}

/** The file's text if `relPath` stays inside the workspace (the log is not trusted input). */
async function readInside(workspaceRoot: string, relPath: string): Promise<string | null> {
  const root = path.resolve(workspaceRoot);
  const full = path.resolve(root, relPath);
  const rel = path.relative(root, full);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) return null;
  try {
    const real = await fs.realpath(full);
    const realRel = path.relative(await fs.realpath(root), real);
    if (realRel.startsWith('..') || path.isAbsolute(realRel)) return null;
    return await fs.readFile(real, 'utf8');
  } catch {
    return null;
  }
}

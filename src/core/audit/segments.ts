import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { AuditEntry } from './types';

/** Where the log lives, relative to the workspace root. */
export const AUDIT_DIR = path.join('.warden', 'audit');

/** `prev` of the very first entry. */
export const GENESIS_PREV = '0'.repeat(64);

const SEGMENT_RE = /^audit-(\d{6,})\.jsonl$/;

export interface Segment {
  /** 1-based segment number, from the file name. */
  index: number;
  name: string;
  path: string;
}

export function auditDir(workspaceRoot: string): string {
  return path.join(workspaceRoot, AUDIT_DIR);
}

/** Zero-padded so names sort in order (up to 999999 segments; sorting is numeric anyway). */
export function segmentName(index: number): string {
  return `audit-${String(index).padStart(6, '0')}.jsonl`;
}

/** Segment files in log order; a missing directory is an empty log. */
export async function listSegments(dir: string): Promise<Segment[]> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const segments: Segment[] = [];
  for (const name of names) {
    const match = SEGMENT_RE.exec(name);
    if (match?.[1]) segments.push({ index: Number(match[1]), name, path: path.join(dir, name) });
  }
  return segments.sort((a, b) => a.index - b.index);
}

/** The exact line written for an entry: a fixed key order so the bytes (and hashes) are stable. */
export function serializeEntry(entry: AuditEntry): string {
  const { kind, id, name, email } = entry.actor;
  const ordered = {
    v: entry.v,
    seq: entry.seq,
    time: entry.time,
    sessionId: entry.sessionId,
    actor: { kind, id, name, email },
    type: entry.type,
    data: entry.data,
    prev: entry.prev,
  };
  return JSON.stringify(ordered);
}

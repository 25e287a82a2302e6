/**
 * The audit log's public surface. Entries are appended as hash-chained JSONL segments
 * under `<workspace>/.warden/audit/`.
 */

export interface AuditActor {
  /** agent: the agent's identity; human: a reviewer; policy: a rule; warden: Warden itself. */
  kind: 'agent' | 'human' | 'policy' | 'warden';
  id: string;
  name?: string;
  email?: string;
}

export interface AuditEventInput {
  sessionId: string;
  actor: AuditActor;
  /**
   * One of the catalog's types (src/core/audit/events.ts), e.g. instruction, proposal,
   * decision, edit.applied; `AuditEventOf<'decision'>` types an event with its data.
   * Kept a string here so older and future entries still read.
   */
  type: string;
  data: Record<string, unknown>;
}

export interface AuditEntry extends AuditEventInput {
  /** Schema version of the entry format. */
  v: 1;
  /** Position in the whole log (all segments), from 1. */
  seq: number;
  time: string;
  /** SHA-256 (hex) of the previous entry's line bytes; 64 zeros for the first entry. */
  prev: string;
}

export interface VerifyBreak {
  /** Segment file, relative to the workspace. */
  file: string;
  /** 1-based line within that file. */
  line: number;
  seq?: number;
  reason: string;
}

export interface VerifyReport {
  ok: boolean;
  entries: number;
  segments: number;
  /** Hash of the last good entry (the chain head). */
  head: string | null;
  /** `seq` of the chain head (0 for an empty log): with `head`, what an anchor records. */
  headSeq: number;
  firstBreak?: VerifyBreak;
}

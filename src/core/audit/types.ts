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
  /** Position in its chain (all the chain's segments), from 1. */
  seq: number;
  time: string;
  /** SHA-256 (hex) of the previous entry's line bytes; 64 zeros for the first entry. */
  prev: string;
}

export interface VerifyBreak {
  /** The chain it is in (`legacy` for the single chain of older logs). */
  chain?: string;
  /** Segment file, relative to the workspace. */
  file: string;
  /** 1-based line within that file. */
  line: number;
  seq?: number;
  reason: string;
}

/** One chain's result: each chain is checked on its own, so a break in one hides no other. */
export interface ChainVerifyReport {
  chain: string;
  ok: boolean;
  entries: number;
  segments: number;
  /** Hash of the last good entry (the chain head). */
  head: string | null;
  /** `seq` of the chain head (0 for an empty chain): with `head`, what an anchor records. */
  headSeq: number;
  firstBreak?: VerifyBreak;
}

export interface VerifyReport {
  /** Every chain verifies. */
  ok: boolean;
  /** Totals over all chains. */
  entries: number;
  segments: number;
  /** Head of the only chain when there is exactly one, else null (see `chains`). */
  head: string | null;
  headSeq: number;
  /** The first break of the first broken chain (each chain's own is in `chains`). */
  firstBreak?: VerifyBreak;
  chains: ChainVerifyReport[];
}

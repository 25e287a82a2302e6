import type { AuditActor } from '../../audit/types';
import type { RecordedEvent } from '../../audit/events';
import type { GitCommandVerdict } from '../../git/branchGuard';
import type { WriteScope } from '../../git/scope';
import type { EffectivePolicy, PolicyVerdict } from '../../policy';
import type { AppliedContent } from '../../proposals/decisions';
import type { Decision, Proposal } from '../../proposals/model';
import type { ProposalStore } from '../../proposals/store';
import type { WorkspaceFiles } from '../../workspace/files';

/** Default wait for a human decision; a timeout rejects. */
export const DEFAULT_DECISION_TIMEOUT_MS = 30 * 60 * 1000;

/** Approved changes applied together; a checkpoint is recorded before each batch. */
export interface ApplyBatch {
  proposalIds: string[];
  /** Workspace-relative paths the batch writes. */
  paths: string[];
}

/** What the gate needs, passed in once at construction. */
export interface GateDeps {
  sessionId: string;
  store: ProposalStore;
  files: WorkspaceFiles;
  record(event: RecordedEvent): Promise<unknown>;
  agentActor(): AuditActor;
  /** The effective team policy, evaluated before any human is asked; without it, everything asks. */
  policy?: () => EffectivePolicy;
  /** What the session may write; out-of-scope writes are refused before any proposal exists. */
  scope?: WriteScope;
  /** Verdict on command lines that run git (protected branches); a deny is refused before any proposal exists. */
  classifyCommand?(command: string | readonly string[]): Promise<GitCommandVerdict | null>;
  /** Runs before each applied batch: the checkpoint hook. */
  beforeApply?(batch: ApplyBatch): Promise<void>;
  /** How long a proposal may wait for a human before Warden rejects it (never approves). Default 30 minutes. */
  decisionTimeoutMs?: number;
  /** The agent turn under way (1-based), stamped on every proposal so turn review can group them. */
  turn?(): number | undefined;
}

/** A proposal's fields before the gate mints it (id, session, time and state are the gate's). */
export type ProposalFields<P extends Proposal> = Omit<P, 'id' | 'sessionId' | 'createdAt' | 'state' | 'turn'>;

/** How a proposal is born: decided at once (a grant, a scope refusal, the policy), orphaned, or pending. */
export interface Birth {
  /** The policy verdict (from `evaluate`); allow and deny decide at birth, ask waits for a human. */
  verdict?: PolicyVerdict | undefined;
  /** A permission approval (its proposal id) that already covers exactly this request. */
  grantedBy?: string | undefined;
  /** A decision made before the policy is asked (a session scope refusal). */
  decided?: Decision | undefined;
  /** Born orphaned with this detail (found when the session ended): never decided, never applied. */
  orphaned?: string | undefined;
}

/** A request refused before any proposal exists; the mapper tells the agent `message`. */
export interface GateRefusal {
  ruleId: string;
  reason: string;
  message: string;
}

/** What a `refused` audit entry holds: the rule as `ruleId` (when a rule refused), always a reason. */
export interface RefusedEntry {
  action: string;
  reason: string;
  ruleId?: string;
  /** Who refused: the policy (its rule) or Warden (default). */
  by?: 'policy' | 'warden';
  [key: string]: unknown;
}

export interface ApplyOptions {
  /** The target's current hash for the stale check; default the hash of the workspace text. */
  currentHash?: () => Promise<string | null>;
  /** Writes what is not text (a deletion, binary bytes): the hash on disk and the hash that was reviewed. */
  write?: () => Promise<{ diskHash: string | null; reviewedHash: string | null }>;
  /** Extra fields of the edit.applied / edit.mismatch entries (sandbox changes: their origin). */
  auditData?: Record<string, unknown>;
  /** Appended to the detail of a proposal that was not applied (e.g. the sandbox copy was restored). */
  notAppliedNote?: string;
}

/** How applying an approved edit ended; every outcome is already audited and set on the proposal. */
export type ApplyOutcome =
  | { kind: 'applied'; proposal: Proposal; text: string | null; change: AppliedContent['change']; rediffed: boolean }
  | { kind: 'stale' | 'failed' | 'mismatch'; proposalId: string; detail: string };

/** The reviewer's edited command after the second look: refused (naming the rule), or what will run. */
export type EditedCommandOutcome = { refused: GateRefusal } | { argv: string[]; commandLine: string };

/** The answer to a question for the human, or why there is none. */
export type AskOutcome = { answered: true; answer: string } | { answered: false; proposalId: string; message: string };

import * as z from 'zod';

/**
 * The proposal model. Everything an agent wants to change or run becomes a proposal;
 * nothing reaches the workspace or runs until a human (later: the policy) approves it.
 * Kept free of Node and `vscode` imports: the webview bundles these schemas too.
 */

export const ProposalState = z.enum([
  'pending', // waiting for a decision
  'approved', // decided, being applied or run
  'rejected', // the reviewer said no; the agent was told
  'applied', // an edit written to the workspace (bytes verified) or a command that ran
  'failed', // approved, but applying or running it failed
  'stale', // the target changed since the proposal was made; never applied blind
  'orphaned', // its agent or session is gone; reviewable, never applied
]);
export type ProposalState = z.infer<typeof ProposalState>;

export const Reviewer = z.object({
  /** 'human' decisions carry the reviewer's git identity or OS user. */
  kind: z.enum(['human', 'policy', 'warden']),
  name: z.string(),
  email: z.string().optional(),
  /** How the identity was found: git config, OS user, a policy rule id... */
  source: z.string(),
});
export type Reviewer = z.infer<typeof Reviewer>;

export const Decision = z.object({
  verdict: z.enum(['approve', 'reject']),
  reviewer: Reviewer,
  reason: z.string().optional(),
  decidedAt: z.string(),
  /** For a permission request: which of the agent's own options the reviewer picked. */
  optionId: z.string().optional(),
  /** For a question: the human's free-text answer (verdict approve = answered, reject = declined). */
  answer: z.string().optional(),
  /** An approve of some hunks of an edit only (indexes into `splitHunks`); the rejected ones are not written. */
  hunks: z
    .object({ accepted: z.array(z.number().int().min(0)), rejected: z.array(z.number().int().min(0)) })
    .strict()
    .optional(),
  /** The reviewer's edited content of an edit: these bytes are written instead of the agent's. */
  editedText: z.string().optional(),
  /** The reviewer's edited command line: this runs instead of the agent's, after the policy checks it again. */
  editedCommand: z.string().optional(),
  /** Decided by an earlier approval (reviewer kind warden): the permission request whose approval covers it. */
  grantedBy: z.object({ proposalId: z.string(), title: z.string(), approvedBy: z.string().optional() }).optional(),
});
export type Decision = z.infer<typeof Decision>;

/** What the team policy said about a proposal: shown by "Why?" in the Review panel and recorded in the audit. */
export const PolicyNote = z.object({
  decision: z.enum(['allow', 'ask', 'deny']),
  /** The rule that decided, e.g. "node-test", "builtin.protected-path" or "default". */
  ruleId: z.string(),
  reason: z.string(),
  labels: z.array(z.string()).optional(),
});
export type PolicyNote = z.infer<typeof PolicyNote>;

const ProposalBase = z.object({
  id: z.string(),
  sessionId: z.string(),
  createdAt: z.string(),
  state: ProposalState,
  /** One line saying what the agent wants, e.g. "Edit src/greet.js". */
  title: z.string(),
  /** The protocol request that produced it, e.g. "fs/write_text_file". */
  origin: z.string(),
  decision: Decision.optional(),
  /** Why it failed, went stale or was orphaned; shown to the reviewer. */
  stateDetail: z.string().optional(),
  /** The policy's verdict, when a policy was evaluated: allow and deny are born decided, ask waits for a human. */
  policy: PolicyNote.optional(),
  /** The agent turn (1-based, per session) during which it was proposed: turn review groups by it. */
  turn: z.number().int().min(1).optional(),
});

export const EditProposal = ProposalBase.extend({
  kind: z.literal('edit'),
  /** Workspace-relative path with forward slashes. */
  path: z.string(),
  /** Text of the file when the proposal was made; null when the file does not exist (a create). */
  oldText: z.string().nullable(),
  newText: z.string(),
  /** sha256 of the UTF-8 bytes of oldText (null for a create): the staleness check compares against it. */
  baseHash: z.string().nullable(),
  /** sha256 of the UTF-8 bytes of newText: what is applied must hash to this. */
  newHash: z.string(),
  /** Unified diff of oldText -> newText, for display and the audit log. */
  diff: z.string(),
  /**
   * Set for origin 'sandbox/change': what the agent did to this path in its private copy.
   * A delete or a symlink has newText '' and newHash ''; binary (or very large) content is
   * summarised in diff, newText is '' and newHash hashes the bytes.
   */
  sandboxChange: z
    .object({
      change: z.enum(['create', 'modify', 'delete', 'symlink']),
      binary: z.boolean(),
      size: z.number().optional(),
      linkTarget: z.string().optional(),
    })
    .optional(),
  /** sha256 of what was written, when it differs from newHash (some hunks rejected, or edited by the reviewer). */
  appliedHash: z.string().optional(),
  /** Unified diff of oldText -> what was written, when the reviewer edited it (the history shows what was written). */
  appliedDiff: z.string().optional(),
});
export type EditProposal = z.infer<typeof EditProposal>;

export const CommandProposal = ProposalBase.extend({
  kind: z.literal('command'),
  /** The argv that will run in the container, exactly. */
  argv: z.array(z.string()),
  /** The command line as a reviewer reads it (what the agent asked for). */
  commandLine: z.string(),
  /** Working directory inside the container. */
  cwd: z.string(),
  env: z.record(z.string(), z.string()),
  /** The agent's command line, when the reviewer edited it (commandLine and argv are then what ran). */
  proposedCommandLine: z.string().optional(),
  result: z
    .object({
      exitCode: z.number().nullable(),
      signal: z.string().nullable(),
      outputExcerpt: z.string(),
      outputHash: z.string(),
      truncated: z.boolean(),
    })
    .optional(),
});
export type CommandProposal = z.infer<typeof CommandProposal>;

export const PermissionOptionView = z.object({
  optionId: z.string(),
  name: z.string(),
  kind: z.string(),
});

export const PermissionProposal = ProposalBase.extend({
  kind: z.literal('permission'),
  /** The ACP tool kind: edit, execute, delete, fetch, ... */
  toolKind: z.string(),
  options: z.array(PermissionOptionView),
  /** For edit-kind requests that carry a diff: the edit being asked about. */
  edit: z
    .object({
      path: z.string(),
      oldText: z.string().nullable(),
      newText: z.string(),
      newHash: z.string(),
      diff: z.string(),
      /** How the agent's diff was placed in the current file: whole file, a located fragment, a new file. */
      shape: z.enum(['whole', 'fragment', 'create']).optional(),
      /** Set when the agent's fragment could not be located uniquely: shown, never applied. */
      unlocated: z.string().optional(),
    })
    .optional(),
  /** For execute-kind requests: the command as the agent described it. */
  commandLine: z.string().optional(),
  /** The option the agent was sent, once decided. */
  chosenOptionId: z.string().optional(),
});
export type PermissionProposal = z.infer<typeof PermissionProposal>;

/** The agent asks the human something ("needs your input"); the answer is free text. */
export const QuestionProposal = ProposalBase.extend({
  kind: z.literal('question'),
  question: z.string(),
  /** Answers the agent suggested; the human may type anything else. */
  choices: z.array(z.string()).optional(),
  /** The answer sent back, once answered. */
  answer: z.string().optional(),
});
export type QuestionProposal = z.infer<typeof QuestionProposal>;

/**
 * A request to a host that is not on the policy's network allow-list: the egress proxy holds
 * it until this is decided (approve: it goes through, still only to public addresses).
 */
export const NetworkProposal = ProposalBase.extend({
  kind: z.literal('network'),
  host: z.string(),
  port: z.number().int(),
  /** CONNECT (a tunnel, e.g. HTTPS) or the plain HTTP method. */
  method: z.string(),
  /** The command that made it: the running command execution(s) of the session, or "unknown". */
  command: z.string(),
  /** Who made it, as the proxy credential says: the agent, an approved command, or neither. */
  requestedBy: z.enum(['agent', 'command', 'unattributed']),
});
export type NetworkProposal = z.infer<typeof NetworkProposal>;

export const Proposal = z.discriminatedUnion('kind', [
  EditProposal,
  CommandProposal,
  PermissionProposal,
  QuestionProposal,
  NetworkProposal,
]);
export type Proposal = z.infer<typeof Proposal>;
export type ProposalKind = Proposal['kind'];

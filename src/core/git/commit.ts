import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { AuditLog } from '../audit/auditLog';
import { formatChainAnchor } from '../audit/anchor';
import { verifyAuditLog } from '../audit/verify';
import { sha256Hex } from '../util/hash';
import { readSessionEntries, type HashedEntry } from './auditTrail';
import { assertWritableBranch, DEFAULT_PROTECTED_BRANCHES } from './branchGuard';
import { formatIdentity, GitRepo, type GitIdentity } from './repo';

/** The agent's identity when `warden.agent.identity` is not set. */
export const DEFAULT_AGENT_IDENTITY: GitIdentity = { name: 'Warden Agent', email: 'agent@warden.invalid' };

export interface CommitApprovedOptions {
  workspaceRoot: string;
  sessionId: string;
  /** Author of the commit: the agent's service identity. */
  agent: GitIdentity;
  /** Committer: the human who approves the commit (git config identity). */
  committer: GitIdentity;
  protectedBranches?: readonly string[];
}

export interface CommitResult {
  commit: string;
  branch: string;
  paths: string[];
  approvers: string[];
  /** Hashes of the audit entries the commit carries as Warden-Audit trailers. */
  auditHashes: string[];
  message: string;
}

/** The commit was refused; the message says why and what to do. */
export class CommitRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CommitRefusedError';
  }
}

interface PendingWrite {
  path: string;
  /** Hash of the bytes Warden last wrote there (null: Warden deleted it). */
  hash: string | null;
}

/**
 * Commits what the session's approved proposals applied, on the session branch: author the
 * agent, committer the human, with `Approved-by:` and `Warden-Audit:` trailers. Only those
 * files, exactly as Warden wrote them: a file changed since, or one that held the user's own
 * uncommitted work when the session started, is refused rather than attributed to the agent.
 * Staging happens in a temporary index; the user's index is only touched to match the commit
 * for the committed paths, when the session branch is checked out. The commit is audited
 * (`git.committed`, by the committer), which is also how a second run knows what is committed.
 */
export async function commitApprovedChanges(options: CommitApprovedOptions): Promise<CommitResult> {
  const { workspaceRoot, sessionId } = options;
  const repo = await GitRepo.open(workspaceRoot);
  if (!repo) throw new CommitRefusedError(`${workspaceRoot} is not in a git repository; there is nothing to commit to`);
  const entries = await readSessionEntries(workspaceRoot, sessionId);
  // The session's own chains must verify; a colleague's broken chain does not block this commit.
  const sessionChains = new Set(entries.map((e) => e.chain));
  const report = await verifyAuditLog(workspaceRoot);
  const broken = report.chains.find((c) => !c.ok && sessionChains.has(c.chain));
  if (broken)
    throw new CommitRefusedError(
      `The audit log does not verify (${broken.firstBreak?.file}:${broken.firstBreak?.line}: ${broken.firstBreak?.reason}); Warden does not commit on a broken record`,
    );
  // Names the chains behind the commit and their heads, so a deleted or cut log is detected.
  const chainAnchors = report.chains
    .filter((c) => sessionChains.has(c.chain) && c.head !== null)
    .map((c) => formatChainAnchor(c.chain, c.headSeq, c.head ?? ''));

  const branchEntry = entries.find((e) => e.entry.type === 'git.branch' && e.entry.data.status === 'created');
  const branch = typeof branchEntry?.entry.data.branch === 'string' ? branchEntry.entry.data.branch : undefined;
  if (!branch) {
    const reason = entries.find((e) => e.entry.type === 'git.branch')?.entry.data.reason;
    throw new CommitRefusedError(
      `Session ${sessionId} has no session branch${typeof reason === 'string' ? ` (${reason})` : ''}; commit its changes yourself`,
    );
  }
  assertWritableBranch(branch, 'commit', options.protectedBranches ?? DEFAULT_PROTECTED_BRANCHES);
  const tip = await repo.resolve(`refs/heads/${branch}`);
  if (!tip) throw new CommitRefusedError(`The session branch ${branch} no longer exists`);

  const committed = new Set(entries.filter((e) => e.entry.type === 'git.committed').flatMap((e) => stringArray(e.entry.data.audit)));
  const carried = new Set(stringArray(branchEntry?.entry.data.carried));
  const sources = entries.filter(
    (e) => (e.entry.type === 'edit.applied' || e.entry.type === 'checkpoint.rolledBack') && !committed.has(e.hash),
  );
  if (sources.length === 0) throw new CommitRefusedError(`Session ${sessionId} has no applied changes that are not committed yet`);

  const writes = new Map<string, PendingWrite>();
  for (const { entry } of sources) {
    if (entry.type === 'edit.applied' && typeof entry.data.path === 'string') {
      writes.set(entry.data.path, { path: entry.data.path, hash: String(entry.data.diskHash) });
    } else if (entry.type === 'checkpoint.rolledBack') {
      for (const r of recordArray(entry.data.restored)) writes.set(String(r.path), { path: String(r.path), hash: String(r.hash) });
      for (const p of stringArray(entry.data.deleted)) writes.set(p, { path: p, hash: null });
    }
  }
  const paths = [...writes.keys()].sort();
  const userWork = paths.filter((p) => carried.has(p));
  if (userWork.length > 0) {
    throw new CommitRefusedError(
      `${userWork.join(', ')} had your uncommitted changes when the session started; Warden does not commit them as the agent's work. Commit these files yourself.`,
    );
  }
  const changed: string[] = [];
  for (const write of writes.values()) {
    const bytes = await fs.readFile(path.join(workspaceRoot, write.path)).catch(() => null);
    if ((bytes === null ? null : sha256Hex(bytes)) !== write.hash) changed.push(write.path);
  }
  if (changed.length > 0) {
    throw new CommitRefusedError(
      `${changed.join(', ')} changed after Warden applied the approved proposal; Warden only commits the reviewed bytes. Undo those changes or commit the files yourself.`,
    );
  }

  const approvers = approversOf(entries, sources);
  const auditHashes = sources.map((s) => s.hash);
  const instruction = entries.find((e) => e.entry.type === 'instruction')?.entry.data.text;
  const message = commitMessage(
    sessionId,
    typeof instruction === 'string' ? instruction : undefined,
    paths,
    approvers,
    auditHashes,
    chainAnchors,
  );

  const tree = await repo.withTempIndex(async (env) => {
    await repo.run(['read-tree', tip], env);
    const present = paths.filter((p) => writes.get(p)?.hash !== null);
    const gone = paths.filter((p) => writes.get(p)?.hash === null);
    if (present.length > 0) await repo.run(['add', '--force', '--', ...present], env);
    if (gone.length > 0) await repo.run(['rm', '--cached', '--quiet', '--ignore-unmatch', '--', ...gone], env);
    return (await repo.run(['write-tree'], env)).trim();
  });
  const tipTree = (await repo.run(['rev-parse', `${tip}^{tree}`])).trim();
  if (tree === tipTree)
    throw new CommitRefusedError(`The approved changes of session ${sessionId} are already on ${branch}; nothing to commit`);
  const commit = (
    await repo.run(['commit-tree', tree, '-p', tip, '-m', message], {
      GIT_AUTHOR_NAME: options.agent.name,
      GIT_AUTHOR_EMAIL: options.agent.email,
      GIT_COMMITTER_NAME: options.committer.name,
      GIT_COMMITTER_EMAIL: options.committer.email,
    })
  ).trim();
  // Moves the branch only if nobody moved it meanwhile.
  await repo.run(['update-ref', '-m', `warden: commit approved changes of ${sessionId}`, `refs/heads/${branch}`, commit, tip]);
  if ((await repo.currentBranch()) === branch) {
    // The checked-out branch moved: make the user's index agree for the committed paths only.
    await repo.run(['reset', '--quiet', commit, '--', ...paths]);
  }
  await AuditLog.forWorkspace(workspaceRoot).append({
    sessionId,
    actor: { kind: 'human', id: options.committer.email, name: options.committer.name, email: options.committer.email },
    type: 'git.committed',
    data: {
      commit,
      branch,
      paths,
      audit: auditHashes,
      approvers,
      author: formatIdentity(options.agent),
      committer: formatIdentity(options.committer),
    },
  });
  return { commit, branch, paths, approvers, auditHashes, message };
}

function commitMessage(
  sessionId: string,
  instruction: string | undefined,
  paths: string[],
  approvers: string[],
  auditHashes: string[],
  chainAnchors: string[],
): string {
  const firstLine = instruction?.split('\n')[0]?.trim();
  const subject = firstLine ? truncate(`Agent: ${firstLine}`, 72) : `Approved changes of Warden session ${sessionId}`;
  return [
    subject,
    '',
    `Changes proposed by the agent in Warden session ${sessionId} and approved by a reviewer:`,
    ...paths.map((p) => `- ${p}`),
    '',
    ...approvers.map((a) => `Approved-by: ${a}`),
    ...auditHashes.map((h) => `Warden-Audit: ${h}`),
    `Warden-Session: ${sessionId}`,
    ...chainAnchors,
  ].join('\n');
}

/** The humans (or policy rules) whose decisions approved the applied proposals; grants resolve to the permission's decider. */
function approversOf(entries: HashedEntry[], sources: HashedEntry[]): string[] {
  const decisions = new Map<string, Record<string, unknown>>();
  for (const { entry } of entries)
    if (entry.type === 'decision' && typeof entry.data.proposalId === 'string') decisions.set(entry.data.proposalId, entry.data);
  const approvers = new Set<string>();
  const resolve = (proposalId: string, depth = 0): void => {
    const decision = decisions.get(proposalId);
    if (!decision || decision.verdict !== 'approve' || depth > 5) return;
    const reviewer = (decision.reviewer ?? {}) as { kind?: string; name?: string; email?: string };
    const granted =
      typeof decision.grantedBy === 'string'
        ? decision.grantedBy
        : /permission request (\S+)/.exec(typeof decision.reason === 'string' ? decision.reason : '')?.[1];
    if (reviewer.kind === 'warden' && granted) return resolve(granted, depth + 1);
    if (reviewer.kind === 'human' && reviewer.name)
      approvers.add(reviewer.email ? formatIdentity({ name: reviewer.name, email: reviewer.email }) : reviewer.name);
    else if (reviewer.kind === 'policy') approvers.add(`policy ${reviewer.name ?? 'rule'}`);
  };
  for (const { entry } of sources) if (typeof entry.data.proposalId === 'string') resolve(entry.data.proposalId);
  for (const { entry } of sources)
    if (entry.type === 'checkpoint.rolledBack' && entry.actor.kind === 'human' && entry.actor.name) {
      approvers.add(entry.actor.email ? formatIdentity({ name: entry.actor.name, email: entry.actor.email }) : entry.actor.name);
    }
  return [...approvers];
}

function stringArray(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function recordArray(value: unknown): Array<Record<string, unknown>> {
  return Array.isArray(value) ? value.filter((v): v is Record<string, unknown> => typeof v === 'object' && v !== null) : [];
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

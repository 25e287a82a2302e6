import { promises as fs } from 'node:fs';
import * as nodePath from 'node:path';
import type { AuditActor, AuditEventInput } from '../audit/types';
import type { WorkspaceFiles } from '../workspace/files';
import { GitRepo } from './repo';

export const CHECKPOINT_REF_ROOT = 'refs/warden/checkpoints';
/** Checkpoints are Warden's own commits; they never sit on a branch. */
const CHECKPOINT_IDENTITY = { name: 'Warden', email: 'warden@warden.invalid' };
/** The audit log is never part of a checkpoint, so a rollback can never rewrite it. */
const EXCLUDED = ['.warden/audit'];

export interface Checkpoint {
  sessionId: string;
  /** 1, 2, 3 … within the session. */
  n: number;
  ref: string;
  commit: string;
  time: Date;
  /** Workspace paths the batch that followed this checkpoint was about to change. */
  paths: string[];
  label: string;
}

export interface RollbackResult {
  checkpoint: Checkpoint;
  /** Checkpoint taken just before the rollback, so the rollback itself can be rolled back. */
  safety: Checkpoint;
  restored: string[];
  /** SHA-256 of each restored file as now on disk. */
  hashes: Record<string, string>;
  deleted: string[];
  /** Paths already as in the checkpoint. */
  unchanged: string[];
  /** Paths that could not be restored, with why. */
  skipped: Array<{ path: string; reason: string }>;
}

export interface PruneOptions {
  /** Checkpoints kept per session (the newest). Default 20. */
  keepLast?: number;
  /** Sessions whose newest checkpoint is older than this lose all their checkpoints. Default 14. */
  maxAgeDays?: number;
  /** Sessions never pruned (the running one). */
  keepSessions?: readonly string[];
  now?: Date;
}

/**
 * Checkpoints of the working tree on private refs `refs/warden/checkpoints/<session>/<n>`:
 * commits built in a temporary index (GIT_INDEX_FILE), so the user's index, branch and
 * working tree are untouched, and nothing shows in `git log` or `git branch`.
 */
export class Checkpoints {
  constructor(readonly repo: GitRepo) {}

  /** Checkpoints for a workspace; undefined when it is not in a git repository. */
  static async open(workspaceRoot: string): Promise<Checkpoints | undefined> {
    const repo = await GitRepo.open(workspaceRoot);
    return repo ? new Checkpoints(repo) : undefined;
  }

  /** Records the working tree (tracked and untracked files, .gitignore respected) as the next checkpoint. */
  async create(sessionId: string, batch: { paths: readonly string[]; label: string }): Promise<Checkpoint> {
    const { repo } = this;
    const head = await repo.head();
    const tree = await repo.withTempIndex(async (env) => {
      // Seeded with a copy of the user's index, git re-hashes only files that changed since
      // (a fresh read-tree would hash every file of a large repository at each checkpoint).
      const seeded = await fs.copyFile(nodePath.join(repo.gitDir, 'index'), env.GIT_INDEX_FILE!).then(
        () => true,
        () => false,
      );
      const added =
        seeded &&
        (await repo.run(['add', '--all', '--', '.'], env).then(
          () => true,
          () => false,
        ));
      if (!added) {
        await fs.rm(env.GIT_INDEX_FILE!, { force: true });
        if (head) await repo.run(['read-tree', head], env);
        await repo.run(['add', '--all', '--', '.'], env);
      }
      // Removed afterwards rather than excluded by pathspec: git refuses an exclude that names an ignored folder.
      await repo.run(['rm', '-r', '--cached', '--quiet', '--ignore-unmatch', '--', ...EXCLUDED], env);
      // Files the batch is about to write but git ignores are recorded too, or rollback could not restore them.
      for (const path of batch.paths) {
        if (await exists(repo, path)) await repo.run(['add', '--force', '--', path], env).catch(() => undefined);
      }
      return (await repo.run(['write-tree'], env)).trim();
    });
    const existing = await this.list(sessionId);
    const n = (existing.at(-1)?.n ?? 0) + 1;
    const message = [
      `Warden checkpoint ${n} of session ${sessionId}`,
      '',
      batch.label,
      '',
      `Warden-Session: ${sessionId}`,
      ...batch.paths.map((p) => `Warden-Path: ${p}`),
    ].join('\n');
    const identity = {
      GIT_AUTHOR_NAME: CHECKPOINT_IDENTITY.name,
      GIT_AUTHOR_EMAIL: CHECKPOINT_IDENTITY.email,
      GIT_COMMITTER_NAME: CHECKPOINT_IDENTITY.name,
      GIT_COMMITTER_EMAIL: CHECKPOINT_IDENTITY.email,
    };
    const commit = (await repo.run(['commit-tree', tree, ...(head ? ['-p', head] : []), '-m', message], identity)).trim();
    const ref = checkpointRef(sessionId, n);
    // The zero old value makes creation atomic: a concurrent checkpoint with the same number fails.
    await repo.run(['update-ref', '-m', 'warden checkpoint', ref, commit, '0'.repeat(commit.length)]);
    return { sessionId, n, ref, commit, time: new Date(), paths: [...batch.paths], label: batch.label };
  }

  /** Checkpoints of one session (or all), oldest first. */
  async list(sessionId?: string): Promise<Checkpoint[]> {
    const prefix = sessionId ? `${CHECKPOINT_REF_ROOT}/${sessionId}/` : `${CHECKPOINT_REF_ROOT}/`;
    const out = await this.repo.run([
      'for-each-ref',
      '--format=%(refname)%00%(objectname)%00%(committerdate:unix)%00%(contents)%00%01',
      prefix,
    ]);
    const checkpoints: Checkpoint[] = [];
    for (const record of out.split('\0\x01')) {
      const [ref, commit, time, contents] = record.replace(/^\n/, '').split('\0');
      if (!ref || !commit || !time || contents === undefined) continue;
      const match = new RegExp(`^${escapeRegExp(CHECKPOINT_REF_ROOT)}/(.+)/(\\d+)$`).exec(ref);
      if (!match) continue;
      const lines = contents.split('\n');
      checkpoints.push({
        sessionId: match[1]!,
        n: Number(match[2]),
        ref,
        commit,
        time: new Date(Number(time) * 1000),
        paths: lines.filter((l) => l.startsWith('Warden-Path: ')).map((l) => l.slice('Warden-Path: '.length)),
        label: lines[2] ?? '',
      });
    }
    return checkpoints.sort((a, b) => (a.sessionId === b.sessionId ? a.n - b.n : a.sessionId < b.sessionId ? -1 : 1));
  }

  /**
   * Rolls the session back to checkpoint `n`: every path a batch at or after `n` changed gets
   * its content from the checkpoint again (or is deleted when it did not exist then), through
   * `files`, so in the editor it is one undoable edit per file. Other files, the user's own
   * work included, are left alone. A safety checkpoint is taken first.
   */
  async rollback(sessionId: string, n: number, files: WorkspaceFiles): Promise<RollbackResult> {
    const all = await this.list(sessionId);
    const checkpoint = all.find((c) => c.n === n);
    if (!checkpoint) throw new Error(`Session ${sessionId} has no checkpoint ${n} (it has ${all.map((c) => c.n).join(', ') || 'none'})`);
    const paths = [...new Set(all.filter((c) => c.n >= n).flatMap((c) => c.paths))].sort();
    const safety = await this.create(sessionId, { paths, label: `Before rolling back to checkpoint ${n}` });
    const result: RollbackResult = { checkpoint, safety, restored: [], hashes: {}, deleted: [], unchanged: [], skipped: [] };
    for (const path of paths) {
      const bytes = await this.repo.blob(`${checkpoint.commit}:${this.repo.repoPath(path)}`);
      const current = await files.read(path);
      if (bytes === undefined) {
        if (current === null) {
          result.unchanged.push(path);
        } else if (!files.delete) {
          result.skipped.push({ path, reason: 'it did not exist at the checkpoint, and this editor cannot delete files' });
        } else {
          await files.delete(path);
          result.deleted.push(path);
        }
        continue;
      }
      const text = decodeUtf8(bytes);
      if (text === undefined) {
        result.skipped.push({ path, reason: 'it is not UTF-8 text' });
      } else if (text === current) {
        result.unchanged.push(path);
      } else {
        result.hashes[path] = (await files.write(path, text)).diskHash;
        result.restored.push(path);
      }
    }
    return result;
  }

  /**
   * Deletes old checkpoint refs: all of a session whose newest checkpoint is older than
   * `maxAgeDays`, and all but the newest `keepLast` of the others. The commits become
   * unreachable and `git gc` removes them.
   */
  async prune(options: PruneOptions = {}): Promise<string[]> {
    const keepLast = options.keepLast ?? 20;
    const cutoff = (options.now ?? new Date()).getTime() - (options.maxAgeDays ?? 14) * 24 * 3600 * 1000;
    const bySession = new Map<string, Checkpoint[]>();
    for (const c of await this.list()) bySession.set(c.sessionId, [...(bySession.get(c.sessionId) ?? []), c]);
    const deleted: string[] = [];
    for (const [sessionId, checkpoints] of bySession) {
      if (options.keepSessions?.includes(sessionId)) continue;
      const newest = checkpoints.at(-1)!;
      const doomed = newest.time.getTime() < cutoff ? checkpoints : checkpoints.slice(0, Math.max(0, checkpoints.length - keepLast));
      for (const c of doomed) {
        await this.repo.run(['update-ref', '-d', c.ref, c.commit]);
        deleted.push(c.ref);
      }
    }
    return deleted;
  }
}

/**
 * Rolls a session back to checkpoint `n` and records it (`checkpoint.rolledBack`, by the human
 * who asked) with every restored file's hash, so a later commit can check it commits those bytes.
 */
export async function rollbackSession(options: {
  workspaceRoot: string;
  sessionId: string;
  n: number;
  files: WorkspaceFiles;
  actor: AuditActor;
  audit: { append(event: AuditEventInput): Promise<unknown> };
}): Promise<RollbackResult> {
  const checkpoints = await Checkpoints.open(options.workspaceRoot);
  if (!checkpoints) throw new Error(`${options.workspaceRoot} is not in a git repository, so it has no checkpoints`);
  const result = await checkpoints.rollback(options.sessionId, options.n, options.files);
  await options.audit.append({
    sessionId: options.sessionId,
    actor: options.actor,
    type: 'checkpoint.rolledBack',
    data: {
      n: options.n,
      commit: result.checkpoint.commit,
      safetyCheckpoint: { n: result.safety.n, ref: result.safety.ref, commit: result.safety.commit },
      restored: result.restored.map((path) => ({ path, hash: result.hashes[path] })),
      deleted: result.deleted,
      unchanged: result.unchanged,
      skipped: result.skipped,
    },
  });
  return result;
}

export function checkpointRef(sessionId: string, n: number): string {
  return `${CHECKPOINT_REF_ROOT}/${sessionId}/${n}`;
}

async function exists(repo: GitRepo, relativePath: string): Promise<boolean> {
  return fs.stat(nodePath.join(repo.workspaceRoot, relativePath)).then(
    () => true,
    () => false,
  );
}

function decodeUtf8(bytes: Buffer): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

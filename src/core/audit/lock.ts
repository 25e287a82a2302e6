import { randomUUID } from 'node:crypto';
import { promises as fs, rmdirSync, statSync, utimesSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { z } from 'zod';

/**
 * A cross-process lock on one audit chain: a directory, `audit.lock`, holding one empty
 * directory whose name says who holds it (pid, time, token, host). Held for one append, or a
 * writer's appends close together (kept at most a fraction of `staleMs`, see auditLog.ts), so a
 * holder that is dead, or older than `staleMs`, is safe to assume gone.
 *
 * Why directories and not a lock file: a writer keeps the lock a moment between appends, and a
 * file there meets whatever git command the user runs meanwhile (`git add -A` fails with "unable
 * to stat" when it vanishes between git's listing and its read, or stages it). Git never adds an
 * empty directory, nor one holding only empty directories.
 *
 * Taking it is one atomic rename of a directory made aside with its holder already inside: a
 * rename onto a directory that is not empty fails, so two writers cannot both take it, and a
 * lock is never seen without its holder. Releasing removes the holder, then the lock, only if
 * the holder inside is still ours (it may have been broken as stale and taken by another).
 *
 * A waiter says it is waiting by touching the lock (`utimes`: its change time moves); the holder
 * sees that with one `stat` and hands the lock over instead of keeping it for its next append.
 *
 * An older Warden's lock, a file of the same name holding JSON, is still honoured: it makes the
 * rename fail, and is judged stale and broken as before.
 */

export interface LockOptions {
  /** Give up after this long (ms). */
  timeoutMs: number;
  /** A lock older than this (ms) is broken even if its pid looks alive (hung or reused pid). */
  staleMs: number;
}

interface LockInfo {
  pid: number;
  host: string;
  /** When it was taken, ms since the epoch. */
  time: number;
  token: string;
}

export class AuditLockTimeoutError extends Error {
  constructor(
    readonly lockPath: string,
    waitedMs: number,
    holder: string,
  ) {
    super(
      `Timed out after ${Math.round(waitedMs)} ms waiting for the audit log lock ${lockPath} (held by ${holder}). ` +
        'If no Warden process is writing this log, delete that lock (a folder, or a file from an older Warden) and retry.',
    );
    this.name = 'AuditLockTimeoutError';
  }
}

/** A lock this process holds. */
export interface HeldAuditLock {
  /** Removes the lock. */
  release(): Promise<void>;
  /** Removes the lock synchronously, for a process 'exit' handler. */
  releaseNow(): void;
  /** True once another writer has said it is waiting for this lock. */
  contended(): boolean;
}

/** Errors a rename onto a lock someone holds ends with, depending on the platform and the lock's kind. */
const HELD_CODES = new Set(['ENOTEMPTY', 'EEXIST', 'ENOTDIR', 'EISDIR', 'EPERM', 'EACCES', 'EBUSY']);

export async function acquireLock(lockPath: string, options: LockOptions): Promise<HeldAuditLock> {
  const started = Date.now();
  let delay = 2;
  for (;;) {
    const lock = await tryTake(lockPath);
    if (lock) return lock;
    signalWaiting(lockPath);
    if (await breakIfStale(lockPath, options.staleMs)) continue;
    const waited = Date.now() - started;
    if (waited >= options.timeoutMs) throw new AuditLockTimeoutError(lockPath, waited, await describeHolder(lockPath));
    // Jittered backoff so two waiters do not retry in lockstep.
    await sleep(Math.min(delay, options.timeoutMs - waited) * (0.5 + Math.random()));
    delay = Math.min(delay * 2, 20);
  }
}

function holderName(info: LockInfo): string {
  return `${info.pid}.${info.time}.${info.token}.${Buffer.from(info.host, 'utf8').toString('base64url')}`;
}

function parseHolder(name: string): LockInfo | undefined {
  const match = /^(\d+)\.(\d+)\.([0-9a-f]+)\.([A-Za-z0-9_-]*)$/.exec(name);
  if (!match) return undefined;
  return { pid: Number(match[1]), time: Number(match[2]), token: match[3]!, host: Buffer.from(match[4]!, 'base64url').toString('utf8') };
}

/** The lock, or undefined when another holder has it. */
async function tryTake(lockPath: string): Promise<HeldAuditLock | undefined> {
  const info: LockInfo = { pid: process.pid, host: os.hostname(), time: Date.now(), token: randomUUID().replace(/-/g, '').slice(0, 16) };
  const aside = `${lockPath}.new-${info.token}`;
  const holder = path.join(lockPath, holderName(info));
  await fs.mkdir(aside);
  try {
    await fs.mkdir(path.join(aside, holderName(info)));
    await fs.rename(aside, lockPath);
  } catch (error) {
    await fs.rm(aside, { recursive: true, force: true });
    // Held (or released just now: the caller's stale check then finds nothing and retries at once).
    if (HELD_CODES.has((error as NodeJS.ErrnoException).code ?? '')) return undefined;
    throw error;
  }
  const taken = statSync(lockPath, { bigint: true }).ctimeNs;
  let released = false;
  const letGo = (): boolean => !released && (released = true);
  return {
    release: async () => {
      if (letGo()) await release(lockPath, holder);
    },
    releaseNow: () => {
      if (letGo()) releaseSync(lockPath, holder);
    },
    contended: () => !released && statSync(lockPath, { bigint: true, throwIfNoEntry: false })?.ctimeNs !== taken,
  };
}

/**
 * Only removes our own lock: if it was broken as stale meanwhile, the lock there is someone
 * else's. Off the event loop: a directory's removal is a journaled change that can take
 * milliseconds on a busy disk (issue 21).
 */
async function release(lockPath: string, holder: string): Promise<void> {
  try {
    await fs.rmdir(holder);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  await fs.rmdir(lockPath).catch(notTheirs);
}

/** The same, synchronously, for a process 'exit' handler. */
function releaseSync(lockPath: string, holder: string): void {
  try {
    rmdirSync(holder);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  try {
    rmdirSync(lockPath);
  } catch (error) {
    notTheirs(error);
  }
}

/** Taken by another writer right after our holder went (or gone already): theirs now, not an error. */
function notTheirs(error: unknown): void {
  if (!['ENOENT', 'ENOTEMPTY', 'EEXIST'].includes((error as NodeJS.ErrnoException).code ?? '')) throw error;
}

/** Moves the lock's change time (and nothing a holder or a stale check reads otherwise); best effort. */
function signalWaiting(lockPath: string): void {
  try {
    const { atime, mtime } = statSync(lockPath);
    utimesSync(lockPath, atime, mtime);
  } catch {
    // Gone meanwhile (the next attempt takes it), or not ours to touch: the holder's time limit still applies.
  }
}

/** What a lock says of its holder: `key` identifies this very lock (a holder's name, or an old lock file's text). */
interface SeenLock {
  key: string;
  info: LockInfo | undefined;
  mtimeMs: number;
}

async function readLock(lockPath: string): Promise<SeenLock | undefined> {
  try {
    const stat = await fs.lstat(lockPath);
    if (stat.isDirectory()) {
      const names = await fs.readdir(lockPath);
      const key = names.length === 1 ? names[0]! : '';
      return { key, info: parseHolder(key), mtimeMs: stat.mtimeMs };
    }
    const raw = await fs.readFile(lockPath, 'utf8');
    return { key: raw, info: parseLegacyLock(raw), mtimeMs: stat.mtimeMs };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** An older Warden's lock file: JSON with the holder's pid, host, time (ISO) and token. */
const LegacyLock = z.object({ pid: z.number(), host: z.string().optional(), time: z.string(), token: z.string() });

function parseLegacyLock(raw: string): LockInfo | undefined {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    // Empty or half-written: the holder is between open and write, or died there.
    return undefined;
  }
  const parsed = LegacyLock.safeParse(json);
  const time = parsed.success ? Date.parse(parsed.data.time) : NaN;
  if (!parsed.success || Number.isNaN(time)) return undefined;
  return { pid: parsed.data.pid, host: parsed.data.host ?? '', time, token: parsed.data.token };
}

function isStale(lock: SeenLock, staleMs: number): boolean {
  const { info } = lock;
  if (!info) return Date.now() - lock.mtimeMs > staleMs;
  if (Date.now() - info.time > staleMs) return true;
  // A pid only means something on the host that wrote it (containers, network shares).
  return info.host === os.hostname() && !pidAlive(info.pid);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Breaks a stale lock; true when the caller should retry at once. Renaming first means two
 * processes that both judged it stale cannot each remove a fresh lock taken by a third.
 */
async function breakIfStale(lockPath: string, staleMs: number): Promise<boolean> {
  const seen = await readLock(lockPath);
  if (!seen) return true;
  if (!isStale(seen, staleMs)) return false;
  const aside = `${lockPath}.stale-${process.pid}-${randomUUID()}`;
  try {
    await fs.rename(lockPath, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw error;
  }
  const moved = await readLock(aside).catch(() => seen);
  if (moved?.key !== seen.key) {
    // We moved a fresh lock taken after our check: put it back unless another was taken since.
    await putBack(aside, lockPath);
  }
  await fs.rm(aside, { recursive: true, force: true });
  return true;
}

/** Puts a lock moved aside back in place, only if nobody holds the lock now. */
async function putBack(aside: string, lockPath: string): Promise<void> {
  const stat = await fs.lstat(aside).catch(() => undefined);
  // A file (an older Warden's): a hard link fails if the name is taken.
  if (stat && !stat.isDirectory()) return fs.link(aside, lockPath).catch(() => undefined);
  // A directory with its holder inside: the rename fails if a lock is there (never empty).
  await fs.rename(aside, lockPath).catch(() => undefined);
}

async function describeHolder(lockPath: string): Promise<string> {
  const lock = await readLock(lockPath).catch(() => undefined);
  if (!lock) return 'nobody any more';
  if (!lock.info) return 'an unknown process';
  return `pid ${lock.info.pid} on ${lock.info.host || 'an unknown host'} since ${new Date(lock.info.time).toISOString()}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

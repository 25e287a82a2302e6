import { randomUUID } from 'node:crypto';
import { closeSync, fstatSync, openSync, promises as fs, statSync, unlinkSync, writeSync } from 'node:fs';
import * as os from 'node:os';

/**
 * A cross-process lock file created with O_EXCL. Held only for one append, or a burst of
 * appends queued back to back (milliseconds), so a holder that is dead, or older than
 * `staleMs`, is safe to assume gone.
 *
 * Taking and releasing it are synchronous calls on a tiny file (microseconds each, and no
 * thread-pool round trips while other writers wait): create with O_EXCL and write the holder,
 * keeping the descriptor; on release, remove the file only if it is still the one we created
 * (same inode), since it may have been broken as stale and taken by someone else meanwhile.
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
  time: string;
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
        'If no Warden process is writing this log, delete that lock file and retry.',
    );
    this.name = 'AuditLockTimeoutError';
  }
}

export type ReleaseLock = () => Promise<void>;

export async function acquireLock(lockPath: string, options: LockOptions): Promise<ReleaseLock> {
  const info: LockInfo = { pid: process.pid, host: os.hostname(), time: new Date().toISOString(), token: randomUUID() };
  const started = Date.now();
  let delay = 2;
  for (;;) {
    info.time = new Date().toISOString();
    const fd = tryCreate(lockPath, JSON.stringify(info));
    if (fd !== undefined) return () => Promise.resolve(release(lockPath, fd));
    if (await breakIfStale(lockPath, options.staleMs)) continue;
    const waited = Date.now() - started;
    if (waited >= options.timeoutMs) throw new AuditLockTimeoutError(lockPath, waited, await describeHolder(lockPath));
    // Jittered backoff so two waiters do not retry in lockstep.
    await sleep(Math.min(delay, options.timeoutMs - waited) * (0.5 + Math.random()));
    delay = Math.min(delay * 2, 20);
  }
}

/** The descriptor of the lock file we created, or undefined when another holder has it. */
function tryCreate(lockPath: string, content: string): number | undefined {
  let fd: number;
  try {
    fd = openSync(lockPath, 'wx');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
    throw error;
  }
  try {
    writeSync(fd, content);
  } catch (error) {
    closeSync(fd);
    unlinkSync(lockPath);
    throw error;
  }
  return fd;
}

/** Only removes our own lock: if it was broken as stale meanwhile, the file is someone else's. */
function release(lockPath: string, fd: number): void {
  try {
    const mine = fstatSync(fd);
    const current = statSync(lockPath, { throwIfNoEntry: false });
    if (current && current.ino === mine.ino && current.dev === mine.dev) unlinkSync(lockPath);
  } finally {
    closeSync(fd);
  }
}

async function readLock(lockPath: string): Promise<{ raw: string; info: LockInfo | undefined; mtimeMs: number } | undefined> {
  try {
    const [raw, stat] = await Promise.all([fs.readFile(lockPath, 'utf8'), fs.stat(lockPath)]);
    return { raw, info: parseLock(raw), mtimeMs: stat.mtimeMs };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function parseLock(raw: string): LockInfo | undefined {
  try {
    const value = JSON.parse(raw) as Partial<LockInfo>;
    if (typeof value.pid === 'number' && typeof value.time === 'string' && typeof value.token === 'string') {
      return { pid: value.pid, host: String(value.host ?? ''), time: value.time, token: value.token };
    }
  } catch {
    // Empty or half-written: the holder is between open and write, or died there.
  }
  return undefined;
}

function isStale(lock: { info: LockInfo | undefined; mtimeMs: number }, staleMs: number): boolean {
  const { info } = lock;
  if (!info) return Date.now() - lock.mtimeMs > staleMs;
  if (Date.now() - Date.parse(info.time) > staleMs) return true;
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
 * processes that both judged it stale cannot each delete a fresh lock taken by a third.
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
  const moved = await fs.readFile(aside, 'utf8').catch(() => seen.raw);
  if (moved !== seen.raw) {
    // We moved a fresh lock taken after our check: put it back unless another was created.
    await fs.link(aside, lockPath).catch(() => undefined);
  }
  await fs.rm(aside, { force: true });
  return true;
}

async function describeHolder(lockPath: string): Promise<string> {
  const lock = await readLock(lockPath).catch(() => undefined);
  if (!lock) return 'nobody any more';
  if (!lock.info) return 'an unknown process';
  return `pid ${lock.info.pid} on ${lock.info.host || 'an unknown host'} since ${lock.info.time}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

import { constants as fsConstants, fstatSync, promises as fs, statSync, write } from 'node:fs';
import * as path from 'node:path';
import { sha256Hex } from '../util/hash';
import { chainDir, chainIdForSession, writerChainId } from './chains';
import { auditEventProblem, SCHEMA_PROBLEM_KEY } from './events';
import { acquireLock, type HeldAuditLock } from './lock';
import { compileRedaction, redactSecretsWith, type CompiledRedaction, type RedactionConfig } from './redact';
import { auditDir, GENESIS_PREV, listSegments, segmentName, serializeEntry, type Segment } from './segments';
import type { AuditEntry, AuditEventInput } from './types';

export { redactSecrets } from './redact';

export interface AuditLogOptions {
  /** Start a new segment when the current one would grow past this many bytes. Default 8 MiB. */
  maxSegmentBytes?: number;
  /** Give up waiting for another process's lock after this long (ms). Default 20 s. */
  lockTimeoutMs?: number;
  /** Break a lock held longer than this (ms); an append takes milliseconds. Default 10 s. */
  staleLockMs?: number;
  /** Secrets to mask in this log's entries, instead of the process-wide `configureAuditRedaction`. */
  redact?: RedactionConfig;
  /** Clock, for tests. */
  now?: () => Date;
  /**
   * What to do with an event that does not match the catalog (src/core/audit/events.ts):
   * 'note' (the default) writes it with a `schemaProblem` note in its data; 'throw' refuses it
   * with an AuditSchemaError; 'off' skips the check, for tests of the chain itself that write
   * synthetic events. The default can be set with WARDEN_AUDIT_SCHEMA_CHECK (the test tiers
   * set 'throw', see test/support/auditSchemaCheck.cjs).
   */
  schemaCheck?: AuditSchemaCheck;
  /**
   * Append every entry to this chain (an id from listChains) instead of the chain of the
   * entry's session. Repair uses it to record the repair in the chain it repaired.
   */
  chain?: string;
}

export type AuditSchemaCheck = 'note' | 'throw' | 'off';

/** An event does not match the audit event catalog (only with schemaCheck 'throw'). Nothing was written. */
export class AuditSchemaError extends Error {
  constructor(
    readonly type: string,
    readonly problem: string,
  ) {
    super(`Refusing to append a "${type}" audit event: ${problem}`);
    this.name = 'AuditSchemaError';
  }
}

/** The default check: WARDEN_AUDIT_SCHEMA_CHECK when it names one, else 'note'. */
function defaultSchemaCheck(): AuditSchemaCheck {
  const configured = process.env.WARDEN_AUDIT_SCHEMA_CHECK;
  return configured === 'throw' || configured === 'off' ? configured : 'note';
}

/** The log cannot be appended to safely (its tail is torn or corrupt). Nothing was written. */
export class AuditLogCorruptError extends Error {
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(
      `Refusing to append to the audit log: ${detail} in ${file}. ` +
        'Run "Warden: Verify Audit Log" to see the break; nothing was written.',
    );
    this.name = 'AuditLogCorruptError';
  }
}

const LOCK_NAME = 'audit.lock';

/** A lock this process holds, since when, and the timer that releases it once the chain is idle. */
type HeldLock = HeldAuditLock & { since: number; linger?: NodeJS.Timeout };
/** Locks kept between appends of a chain: handed to the next queued append, or kept a moment for the next one. */
const held = new Map<string, HeldLock>();
/**
 * How long a lock is kept after a chain's queue drains, for a next append of this process (a
 * writer's appends come a few at a time, and tens of milliseconds apart while an agent streams;
 * a chain is a session's, so another writer rarely waits for it, and one that does says so).
 * Taking and removing the lock are journaled metadata changes that each append would otherwise
 * pay on top of its durable write.
 */
const LINGER_MS = 50;
/**
 * The longest one process keeps one taking of the lock across appends (then it takes it afresh,
 * so a kept lock never nears the stale bound), and the pause it makes after handing the lock to
 * a waiter (longer than a waiter's longest backoff). A waiter says it is waiting by touching the
 * lock, and gets it at the holder's next append or at the linger's end.
 */
const MAX_HOLD_MS = 1000;
const YIELD_MS = 40;

/** Releases every kept lock when the process exits (synchronously: nothing runs after 'exit'). */
let releaseOnExit = false;
function keepLock(dir: string, lock: HeldLock): void {
  if (!releaseOnExit) {
    releaseOnExit = true;
    process.once('exit', () => {
      for (const kept of held.values()) {
        try {
          kept.releaseNow();
        } catch {
          // Left for the next writer to break: its process is gone.
        }
      }
    });
  }
  clearTimeout(lock.linger);
  lock.linger = setTimeout(() => {
    if (held.get(dir) !== lock) return;
    held.delete(dir);
    letGo(dir, lock);
  }, LINGER_MS);
  lock.linger.unref();
  held.set(dir, lock);
}

/** Releases of a chain's lock under way: this process takes that lock again only after them. */
const releasing = new Map<string, Promise<void>>();

/**
 * Releases a kept lock outside any append (its linger ended), where nobody could handle a
 * failure: the lock is then left for others to break as stale.
 */
function letGo(dir: string, lock: HeldLock): void {
  const done: Promise<void> = lock
    .release()
    .catch(() => undefined)
    .then(() => {
      if (releasing.get(dir) === done) releasing.delete(dir);
    });
  releasing.set(dir, done);
}

/** The lock kept for this chain, if any, no longer kept for anyone else. */
function takeKept(dir: string): HeldLock | undefined {
  const lock = held.get(dir);
  held.delete(dir);
  clearTimeout(lock?.linger);
  return lock;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
const TAIL_CHUNK = 64 * 1024;
const NEWLINE = 0x0a;

/** Appends in flight per chain directory, shared by every AuditLog of this process. */
const queues = new Map<string, Promise<unknown>>();

interface Tail {
  /** Segment to append to (may be new). */
  segment: Segment;
  size: number;
  lastSeq: number;
  prev: string;
}

/**
 * The head of a chain this process wrote last, kept between appends so the next one need not
 * read the tail again: the segment stays open for appending (O_SYNC: every write is durable
 * before it returns, as a write followed by fsync), and after taking the lock a writer checks
 * with two metadata calls that nobody else wrote since (the segment's size, and no next segment).
 */
interface Head extends Tail {
  handle: fs.FileHandle;
  /** Closes the segment when the chain has been idle a while, so descriptors do not pile up. */
  idle?: NodeJS.Timeout;
}

const heads = new Map<string, Head>();
const HEAD_IDLE_MS = 5000;

/** Keeps a chain's head; its segment is closed after HEAD_IDLE_MS without an append. */
function keepHead(dir: string, head: Head): void {
  clearTimeout(head.idle);
  head.idle = setTimeout(() => {
    // Only when no append of this chain is under way (they hold the queue).
    if (!queues.has(dir) && heads.get(dir) === head) void forgetHead(dir);
  }, HEAD_IDLE_MS);
  head.idle.unref();
  heads.set(dir, head);
}

/** O_SYNC where the platform has it; elsewhere each write is followed by an fsync. */
const SYNC_FLAG: number | undefined = (fsConstants as { O_SYNC?: number }).O_SYNC;
const APPEND_FLAGS = fsConstants.O_WRONLY | fsConstants.O_APPEND | fsConstants.O_CREAT | (SYNC_FLAG ?? 0);

/** Forgets a chain's cached head (after a failure, or when the files may have changed under it). */
async function forgetHead(dir: string): Promise<void> {
  const head = heads.get(dir);
  heads.delete(dir);
  clearTimeout(head?.idle);
  await head?.handle.close().catch(() => undefined);
}

/**
 * The cached head when it is still the chain's head: the segment we hold open is still the file
 * at its path, has exactly the size we left it at, and no writer started a next segment.
 */
function validHead(dir: string): Head | undefined {
  const head = heads.get(dir);
  if (!head) return undefined;
  try {
    const open = fstatSync(head.handle.fd);
    const named = statSync(head.segment.path, { throwIfNoEntry: false });
    const next = statSync(segmentIn(dir, head.segment.index + 1).path, { throwIfNoEntry: false });
    if (named && named.ino === open.ino && named.dev === open.dev && open.size === head.size && !next) return head;
  } catch {
    // A closed or unusable descriptor: read the tail again.
  }
  return undefined;
}

/** The append-only, hash-chained audit log of one workspace (see DESIGN.md, invariant 4). */
export class AuditLog {
  readonly dir: string;
  private readonly maxSegmentBytes: number;
  private readonly lockTimeoutMs: number;
  private readonly staleLockMs: number;
  private readonly now: () => Date;
  private readonly redaction: CompiledRedaction | undefined;
  private readonly schemaCheck: AuditSchemaCheck;
  private readonly pinnedChain: string | undefined;

  constructor(
    readonly workspaceRoot: string,
    options: AuditLogOptions = {},
  ) {
    this.dir = path.resolve(auditDir(workspaceRoot));
    this.maxSegmentBytes = options.maxSegmentBytes ?? 8 * 1024 * 1024;
    this.lockTimeoutMs = options.lockTimeoutMs ?? 20_000;
    this.staleLockMs = options.staleLockMs ?? 10_000;
    this.now = options.now ?? (() => new Date());
    this.redaction = options.redact ? compileRedaction(options.redact) : undefined;
    this.schemaCheck = options.schemaCheck ?? defaultSchemaCheck();
    this.pinnedChain = options.chain;
  }

  /** The chain an entry of `sessionId` goes to: its session's, or this process's writer chain for none. */
  chainFor(sessionId: string): string {
    if (this.pinnedChain !== undefined) return this.pinnedChain;
    return sessionId === '' ? writerChainId(this.now()) : chainIdForSession(sessionId);
  }

  static forWorkspace(workspaceRoot: string, options?: AuditLogOptions): AuditLog {
    return new AuditLog(workspaceRoot, options);
  }

  /** Appends one entry durably; resolves with the entry exactly as written. */
  append(event: AuditEventInput): Promise<AuditEntry> {
    return this.enqueue(this.chainFor(event.sessionId), event);
  }

  /**
   * Appends the event `prepare` returns, running `prepare` while holding the cross-process
   * lock (no other writer can append in between). Used by repair to cut a torn tail and
   * record that it did, atomically with respect to every other writer. If `prepare` throws,
   * nothing is appended and the error is passed on. The entry goes to `chain` (default: the
   * pinned chain, else this process's writer chain).
   */
  appendPrepared(prepare: () => Promise<AuditEventInput>, chain: string = this.chainFor('')): Promise<AuditEntry> {
    return this.enqueue(chain, prepare);
  }

  /** `what`: the event of a plain append, or the prepare of appendPrepared. */
  private enqueue(chain: string, what: AuditEventInput | (() => Promise<AuditEventInput>)): Promise<AuditEntry> {
    const dir = path.resolve(chainDir(this.workspaceRoot, chain));
    const previous = queues.get(dir);
    // An idle chain starts at once: two promise hops fewer on every append's path (issue 21).
    const run = previous ? previous.catch(() => undefined).then(() => this.appendQueued(dir, what)) : this.appendQueued(dir, what);
    queues.set(dir, run);
    // Forget a settled queue so the map does not pin the last entry.
    const forget = (): void => {
      if (queues.get(dir) === run) queues.delete(dir);
    };
    run.then(forget, forget);
    return run;
  }

  /**
   * One append of the chain's queue: takes the lock unless this process kept it from its
   * previous append (and nobody waits for it, and it has not been kept too long), and keeps it
   * afterwards for the next one.
   */
  private async appendQueued(dir: string, what: AuditEventInput | (() => Promise<AuditEventInput>)): Promise<AuditEntry> {
    let lock = takeKept(dir);
    if (lock) {
      // Contended also when the lock was removed or replaced under us (its change time moved).
      const waited = lock.contended();
      // Kept long enough, it is taken afresh, so its age never nears the stale bound.
      if (waited || this.overdue(lock)) {
        await lock.release();
        lock = undefined;
        // Another writer's turn: it retries within its backoff, which is shorter than this pause.
        if (waited) await sleep(YIELD_MS);
      }
    }
    const kept = lock !== undefined;
    try {
      lock ??= await this.lock(dir);
      return await this.appendLocked(dir, what, kept);
    } finally {
      if (lock) keepLock(dir, lock);
    }
  }

  /** The chain's lock; creates the chain directory (durably) the first time. */
  private async lock(dir: string): Promise<HeldLock> {
    if (!heads.has(dir)) {
      const created = await fs.mkdir(dir, { recursive: true });
      // Make each newly created directory's entry durable in its parent.
      if (created) for (let d = dir; d !== path.dirname(created); d = path.dirname(d)) await fsyncDir(path.dirname(d));
    }
    await releasing.get(dir);
    const lock = await acquireLock(path.join(dir, LOCK_NAME), { timeoutMs: this.lockTimeoutMs, staleMs: this.staleLockMs });
    return Object.assign(lock, { since: Date.now() });
  }

  /** A lock kept across appends is handed back after a while: well before another writer could judge it stale, and so others get a turn. */
  private overdue(lock: HeldLock): boolean {
    return Date.now() - lock.since > Math.min(MAX_HOLD_MS, this.staleLockMs / 4);
  }

  /** `kept`: this process has held the lock since its last append of the chain, so nobody else appended since. */
  private async appendLocked(dir: string, what: AuditEventInput | (() => Promise<AuditEventInput>), kept: boolean): Promise<AuditEntry> {
    const plain = typeof what !== 'function';
    // A custom prepare may change the chain's files (repair cuts a torn tail): read it afresh.
    if (!plain) await forgetHead(dir);
    const event = plain ? what : await what();
    const data = redactSecretsWith(event.data, this.redaction);
    // The head this process left is still the chain's when it kept the lock since; after taking
    // the lock afresh it is checked against the files (another writer may have appended).
    let head = (kept && plain ? heads.get(dir) : undefined) ?? validHead(dir);
    if (!head) {
      await forgetHead(dir);
      const tail = await this.readTail(dir);
      head = { ...tail, handle: await openForAppend(tail.segment.path) };
    }
    const entry: AuditEntry = {
      v: 1,
      seq: head.lastSeq + 1,
      time: this.now().toISOString(),
      sessionId: event.sessionId,
      actor: event.actor,
      type: event.type,
      data,
      prev: head.prev,
    };
    let line = serializeEntry(entry);
    // Parsed once: the check reads the data as it will be written, and the caller gets the entry so.
    let written = JSON.parse(line) as AuditEntry;
    const problem = this.problemOf(event.type, written.data);
    if (problem !== undefined) {
      line = serializeEntry({ ...entry, data: { ...data, [SCHEMA_PROBLEM_KEY]: problem } });
      written = JSON.parse(line) as AuditEntry;
    }
    const bytes = Buffer.from(`${line}\n`, 'utf8');
    if (head.size > 0 && head.size + bytes.length > this.maxSegmentBytes) {
      await forgetHead(dir);
      const segment = segmentIn(dir, head.segment.index + 1);
      head = { ...head, segment, size: 0, handle: await openForAppend(segment.path), idle: undefined };
    }
    keepHead(dir, head);
    try {
      await writeDurably(head.handle, bytes, head.size);
    } catch (error) {
      await forgetHead(dir);
      throw error;
    }
    head.size += bytes.length;
    head.lastSeq = entry.seq;
    head.prev = sha256Hex(line);
    return written;
  }

  /**
   * What is wrong with the event's data as it will be written (after JSON serialization),
   * checked against the catalog; undefined when nothing is. A mismatch is a writer bug, but
   * the event it describes has already happened (an edit applied, a command run): refusing to
   * write it would lose the record of it, and an exception here could abort a session half way
   * through applying a change. So by default the entry is written, flagged with a `schemaProblem` note that readers show and a
   * process warning: nothing is dropped and the bug is visible. Tests run with 'throw'
   * (WARDEN_AUDIT_SCHEMA_CHECK=throw) so a writer that drifts from the catalog fails its test;
   * the warning also shows mismatches whose error a caller swallows.
   */
  private problemOf(type: string, writtenData: unknown): string | undefined {
    if (this.schemaCheck === 'off') return undefined;
    const problem = auditEventProblem(type, writtenData);
    if (problem === undefined) return undefined;
    process.emitWarning(`audit event "${type}": ${problem}`, { code: 'WARDEN_AUDIT_SCHEMA' });
    if (this.schemaCheck === 'throw') throw new AuditSchemaError(type, problem);
    return problem;
  }

  /** Where the next entry goes and what it chains to; reads only the end of the last segments. */
  private async readTail(chain: string): Promise<Tail> {
    const segments = await listSegments(chain);
    const current = segments[segments.length - 1] ?? segmentIn(chain, 1);
    const size = await fileSize(current.path);
    // Walk back over empty segments (a writer died right after creating one).
    for (let i = segments.length - 1; i >= 0; i--) {
      const segment = segments[i];
      if (!segment) break;
      const last = await readLastLine(segment.path);
      if (!last) continue;
      const relative = path.relative(this.workspaceRoot, segment.path);
      if (!last.terminated) throw new AuditLogCorruptError(relative, 'the last line is incomplete (torn write?)');
      const seq = lastSeqOf(last.line);
      if (seq === undefined) throw new AuditLogCorruptError(relative, 'the last line is not a valid audit entry');
      return { segment: current, size, lastSeq: seq, prev: sha256Hex(last.line) };
    }
    return { segment: current, size, lastSeq: 0, prev: GENESIS_PREV };
  }
}

function segmentIn(dir: string, index: number): Segment {
  const name = segmentName(index);
  return { index, name, path: path.join(dir, name) };
}

function lastSeqOf(line: Buffer): number | undefined {
  try {
    const value = JSON.parse(line.toString('utf8')) as { seq?: unknown };
    return Number.isSafeInteger(value.seq) && (value.seq as number) > 0 ? (value.seq as number) : undefined;
  } catch {
    return undefined;
  }
}

async function fileSize(file: string): Promise<number> {
  try {
    return (await fs.stat(file)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
}

/**
 * The last line of a file (without its newline), reading backwards in growing chunks so a
 * huge segment costs one small read. `terminated` is false when the file does not end in "\n".
 */
export async function readLastLine(file: string): Promise<{ line: Buffer; terminated: boolean } | undefined> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const { size } = await handle.stat();
    if (size === 0) return undefined;
    for (let chunk = TAIL_CHUNK; ; chunk *= 4) {
      const start = Math.max(0, size - chunk);
      const buffer = Buffer.alloc(size - start);
      await readFully(handle, buffer, start);
      const terminated = buffer[buffer.length - 1] === NEWLINE;
      const end = terminated ? buffer.length - 1 : buffer.length;
      const lineStart = buffer.lastIndexOf(NEWLINE, end - 1);
      if (lineStart >= 0 || start === 0) return { line: buffer.subarray(lineStart + 1, end), terminated };
    }
  } finally {
    await handle.close();
  }
}

async function readFully(handle: fs.FileHandle, buffer: Buffer, position: number): Promise<void> {
  let offset = 0;
  while (offset < buffer.length) {
    const { bytesRead } = await handle.read(buffer, offset, buffer.length - offset, position + offset);
    if (bytesRead === 0) throw new Error('the audit segment shrank while it was being read');
    offset += bytesRead;
  }
}

/** Opens a segment for appending; a new file's directory entry is made durable at once. */
async function openForAppend(file: string): Promise<fs.FileHandle> {
  const existed = await exists(file);
  const handle = await fs.open(file, APPEND_FLAGS);
  // A new directory entry is only durable once the directory itself is synced.
  if (!existed)
    await fsyncDir(path.dirname(file)).catch(async (error: unknown) => {
      await handle.close();
      throw error;
    });
  return handle;
}

/** One durable append (O_SYNC, else write + fsync); on a failed write, cut our own partial bytes so the chain stays intact. */
async function writeDurably(handle: fs.FileHandle, bytes: Buffer, size: number): Promise<void> {
  try {
    for (let offset = 0; offset < bytes.length;) offset += await writeAt(handle.fd, bytes, offset);
    if (SYNC_FLAG === undefined) await handle.sync();
  } catch (error) {
    await handle.truncate(size).catch(() => undefined);
    throw error;
  }
}

/**
 * One write on the segment's descriptor, through the callback API: the FileHandle's own write
 * adds its reference counting and another promise to every append (issue 21). The handle stays
 * open (and owns the descriptor) for as long as the write runs: only forgetHead closes it, from
 * the same queue.
 */
function writeAt(fd: number, bytes: Buffer, offset: number): Promise<number> {
  return new Promise((resolve, reject) => {
    write(fd, bytes, offset, bytes.length - offset, null, (error, written) => (error ? reject(error) : resolve(written)));
  });
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}

export async function fsyncDir(dir: string): Promise<void> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(dir, 'r');
    await handle.sync();
  } catch (error) {
    // Windows cannot open or sync a directory; there is nothing more to do there.
    if (process.platform !== 'win32') throw error;
  } finally {
    await handle?.close();
  }
}

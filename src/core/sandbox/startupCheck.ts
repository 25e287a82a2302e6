import { Writable } from 'node:stream';
import * as z from 'zod';
import { invisibleFolders, sharingAdvice, type NeededFolder } from './sharing';
import { SandboxError } from './types';

/**
 * The startup check, from inside, once running: the user must not resolve to uid 0 (a named
 * user is only known to the image), must be able to read the mounts (a 0700 host folder owned
 * by another uid would make every agent command fail with a puzzling "Permission denied"), and
 * each mount's entries are counted for the sharing check (checkVisible). Its arguments are the
 * folders to check. Shell builtins only: the image may have nothing but /bin/sh.
 */
export const STARTUP_PROBE = [
  'while read -r k a b c d; do [ "$k" = Uid: ] && echo "uid $a $b $c $d"; done < /proc/self/status',
  'for d in "$@"; do if [ -r "$d" ] && [ -x "$d" ]; then echo "readable $d"; else echo "unreadable $d"; fi; done',
  // Counts each folder's entries (dotfiles too): an unshared folder is empty inside.
  'for d in "$@"; do n=0; for f in "$d"/* "$d"/.[!.]* "$d"/..?*; do if [ -e "$f" ] || [ -L "$f" ]; then n=$((n+1)); fi; done; echo "entries $n $d"; done',
  'exit 0',
].join('\n');

/**
 * PID 1 runs the check as soon as it starts (a cold start and a restarted kept container alike)
 * and writes it to its stdout between these two lines, the end line carrying the check's exit
 * status; Warden reads it over the lease's attach (lease.ts). That saves the `docker exec` the
 * check used to be: a process start in the container, the largest cost of a start after the
 * container's own (issue 21). Then PID 1 points its stdout at /dev/null, so nothing a process in
 * the container writes to /proc/1/fd/1 later reaches Warden.
 */
export const REPORT_BEGIN = 'warden-startup-check v1';
export const REPORT_END = 'warden-startup-check-end';
/** The part of PID 1's script (KEEPALIVE_SCRIPT) that reports; its arguments are the folders. */
export const STARTUP_REPORT_SCRIPT = `echo "${REPORT_BEGIN}"; ( ${STARTUP_PROBE.replace(/\n/g, '; ')} ) 2>&1; echo "${REPORT_END} $?"; exec >/dev/null 2>&1`;

/** What PID 1 may print before Warden gives up: a few lines of about a path each; an image printing more is refused, not buffered. */
export const REPORT_BYTE_LIMIT = 16 * 1024;
/** How long after the container started the report may take (it needs only shell builtins; generous for a loaded machine). */
export const STARTUP_REPORT_TIMEOUT_MS = 30_000;

export interface ProbeResult {
  exitCode: number | null;
  lines: string[];
  text: string;
}

const reportSchema = z.object({
  exitCode: z.number().int().min(0).max(255),
  lines: z.array(z.string().max(REPORT_BYTE_LIMIT)).max(256),
});

/** Why no usable report arrived: the container's end is described by the caller (it inspects). */
export class StartupReportError extends Error {
  constructor(
    message: string,
    readonly kind: 'ended' | 'malformed' | 'timeout',
  ) {
    super(message);
  }
}

/**
 * Reads the report from PID 1's stdout: a Writable to hand to the attach stream's demuxer.
 * Bounded: at most REPORT_BYTE_LIMIT bytes are held; anything after the end line, and
 * anything once it failed, is dropped. `result` settles once: the report, or why there is none.
 */
export class StartupReportReader extends Writable {
  readonly result: Promise<ProbeResult>;
  private held = '';
  private heldBytes = 0;
  private settled = false;
  private resolveResult!: (report: ProbeResult) => void;
  private rejectResult!: (error: StartupReportError) => void;

  constructor() {
    super();
    this.result = new Promise<ProbeResult>((resolve, reject) => {
      this.resolveResult = resolve;
      this.rejectResult = reject;
    });
    this.result.catch(() => undefined); // the caller awaits it; an early failure is not unhandled
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    if (!this.settled) this.take(chunk);
    callback();
  }

  override _final(callback: () => void): void {
    this.ended();
    callback();
  }

  /** The stream ended (the container stopped, or the engine connection closed) before a report. */
  ended(): void {
    this.fail(
      new StartupReportError(
        this.heldBytes === 0
          ? 'its first process ended without reporting the startup check'
          : `its first process ended before finishing the startup check; it printed: ${shown(this.held)}`,
        'ended',
      ),
    );
  }

  fail(error: StartupReportError): void {
    if (this.settled) return;
    this.settled = true;
    this.held = '';
    this.rejectResult(error);
  }

  private take(chunk: Buffer): void {
    const room = REPORT_BYTE_LIMIT - this.heldBytes;
    const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
    this.held += part.toString('latin1'); // bytes as they are; decoded once the report is complete
    this.heldBytes += part.length;
    const lines = this.held.split('\n');
    const complete = lines.slice(0, -1); // the last one is not finished yet
    const opened = complete.length > 0 ? complete[0] === REPORT_BEGIN : REPORT_BEGIN.startsWith(lines[0] ?? '');
    if (!opened) {
      this.fail(
        new StartupReportError(`its first process printed something other than the startup check: ${shown(this.held)}`, 'malformed'),
      );
      return;
    }
    const end = complete.findIndex((line, i) => i > 0 && line.startsWith(REPORT_END));
    if (end > 0) {
      this.finish(complete.slice(1, end), complete[end]!);
      return;
    }
    if (this.heldBytes >= REPORT_BYTE_LIMIT)
      this.fail(
        new StartupReportError(
          `its first process printed more than ${REPORT_BYTE_LIMIT / 1024} KiB without finishing the startup check: ${shown(this.held)}`,
          'malformed',
        ),
      );
  }

  private finish(body: string[], endLine: string): void {
    const status = /^warden-startup-check-end (\d{1,3})$/.exec(endLine);
    const parsed = reportSchema.safeParse({
      exitCode: status ? Number(status[1]) : Number.NaN,
      lines: body.map((line) => Buffer.from(line, 'latin1').toString('utf8')),
    });
    if (!parsed.success) {
      this.fail(new StartupReportError(`its first process ended the startup check with ${shown(endLine)}`, 'malformed'));
      return;
    }
    this.settled = true;
    this.held = '';
    const { exitCode, lines } = parsed.data;
    this.resolveResult({ exitCode, lines, text: lines.join('\n') });
  }
}

/** Untrusted output in a message: short, control characters escaped. */
function shown(text: string): string {
  const cut = text.length > 300 ? `${text.slice(0, 300)}...` : text;
  return JSON.stringify(Buffer.from(cut, 'latin1').toString('utf8'));
}

/**
 * Preflight from inside: a folder that holds files on the host but is empty in the container
 * is not shared with the engine (some VM engines create a missing bind source empty instead
 * of failing). Refused with what to share, before the agent starts.
 */
export function checkVisible(probe: ProbeResult, needed: readonly NeededFolder[], host: ReadonlyMap<string, number>, engine: string): void {
  const inside = new Map<string, number>();
  for (const line of probe.lines) {
    const match = /^entries (\d+) (.+)$/.exec(line);
    if (match?.[1] && match[2]) inside.set(match[2], Number(match[1]));
  }
  const missing = invisibleFolders(needed, host, inside);
  if (missing.length > 0) throw new SandboxError(sharingAdvice(missing, engine), 'config-invalid');
}

export function checkUser(probe: ProbeResult, workspace: { folder: string; hostPath: string }): void {
  const { lines } = probe;
  const ids =
    lines
      .find((l) => l.startsWith('uid '))
      ?.split(' ')
      .slice(1)
      .map(Number) ?? [];
  if (probe.exitCode !== 0 || ids.length !== 4 || ids.some((id) => !Number.isInteger(id))) {
    throw new SandboxError(`Could not check the sandbox user (exit ${probe.exitCode}): ${probe.text.trim()}`, 'container-failed');
  }
  if (ids.includes(0))
    throw new SandboxError(
      'The sandbox user resolves to root (uid 0) in this image; Warden never runs the sandbox as root. Set "containerUser" to a non-root user.',
      'config-invalid',
    );
  const unreadable = lines.filter((l) => l.startsWith('unreadable ')).map((l) => l.slice('unreadable '.length));
  if (unreadable.length > 0) {
    const host = unreadable.map((d) => (d === workspace.folder ? workspace.hostPath : d)).join(', ');
    throw new SandboxError(
      `The sandbox user (uid ${ids[0]}) cannot read ${unreadable.join(', ')} (host: ${host}). ` +
        `Make the folder readable to others (chmod o+rx), or set "containerUser" in devcontainer.json to the uid that owns it.`,
      'container-failed',
    );
  }
}

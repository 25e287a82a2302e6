import type { RecordedEvent } from '../audit/events';
import type { AuditActor } from '../audit/types';
import { evaluatePath, type EffectivePolicy } from '../policy';
import type { Sandbox, WorkspaceMode } from '../sandbox/types';
import { planWithholding, withheldBy, type ReadDenied, type WithheldEntry, type Withholding } from '../sandbox/withhold';
import type { SessionEvent } from './sessionEvents';

/** At most this many paths are listed in one audit entry (the total is always there). */
const MAX_LISTED = 1000;
const WARDEN: AuditActor = { kind: 'warden', id: 'warden' };

/**
 * The policy's read rules as a filter of what enters the sandbox, judged now (the policy can
 * change while a session runs). An evaluation that fails withholds: it never lets a file in.
 */
export function readDeniedBy(policy: () => EffectivePolicy): ReadDenied {
  return (relative) => {
    try {
      const verdict = evaluatePath(policy(), 'read', relative);
      return verdict.decision === 'allow' ? undefined : { ruleId: verdict.ruleId, reason: verdict.reason };
    } catch (error) {
      return { ruleId: 'builtin.policy-error', reason: `The policy could not be evaluated (${String(error)})` };
    }
  };
}

/** Whether the policy could deny reading any path (a read default of deny, or a read rule that denies); if not, nothing is walked. */
export function mayDenyReads(policy: EffectivePolicy): boolean {
  return policy.defaults.read === 'deny' || policy.paths.some((r) => r.decision === 'deny' && r.actions.includes('read'));
}

/** `sandbox.withheld`: what was kept out at start (paths, hashes, sizes, rule ids), when anything was. */
export function withheldEvent(mode: WorkspaceMode, withheld: Withholding): RecordedEvent | undefined {
  if (withheld.entries.length === 0 && withheld.folders.length === 0) return undefined;
  return {
    actor: WARDEN,
    type: 'sandbox.withheld',
    data: {
      workspaceMode: mode,
      entries: withheld.entries.slice(0, MAX_LISTED),
      folders: withheld.folders.slice(0, MAX_LISTED),
      total: withheld.entries.length,
      truncated: withheld.entries.length > MAX_LISTED || withheld.folders.length > MAX_LISTED,
    },
  };
}

/** Prints each path the sandbox user can read; runs in the sandbox with paths on stdin (one a line). */
const READABLE_SCRIPT = 'cd -- "$1" || exit 3; while IFS= read -r p; do if [ -r "$p" ]; then printf "%s\\n" "$p"; fi; done; exit 0';

export interface ExposureDeps {
  sandbox: Sandbox;
  workspaceRoot: string;
  denied: ReadDenied;
  /** Whether the policy (as it is now) could deny a read at all: no walk of the workspace when not. */
  mayDeny(): boolean;
  record(event: RecordedEvent): Promise<unknown>;
  notify(event: SessionEvent): void;
  log?(line: string): void;
}

/**
 * Read-only mode: the masks are mounted when the container is created, and a mount cannot be
 * added to a running container. A denied file created in the real workspace later (or one
 * replaced by a rename, which leaves the mask on the old file) is visible to the agent. This
 * looks again (at each turn's start and end and at each sandbox activity), asks the sandbox
 * itself which denied paths its user can read, and puts each one on the record once, with a
 * warning to the user: a new session masks them.
 */
export class ExposureWatch {
  private readonly reported = new Map<string, string>();
  private running: Promise<WithheldEntry[]> | undefined;

  constructor(private readonly deps: ExposureDeps) {}

  /** One look (looks do not overlap: a caller during a look gets its result). Returns the newly exposed paths. */
  check(reason: string): Promise<WithheldEntry[]> {
    this.running ??= this.look(reason).finally(() => (this.running = undefined));
    return this.running;
  }

  private async look(reason: string): Promise<WithheldEntry[]> {
    if (!this.deps.mayDeny()) return [];
    const now = await planWithholding(this.deps.workspaceRoot, this.deps.denied);
    const candidates = now.entries.filter((e) => e.kind === 'file' && !e.path.includes('\n'));
    if (candidates.length === 0) return [];
    const readable = await this.readableInSandbox(candidates.map((e) => e.path));
    const exposed = candidates.filter((e) => readable.has(e.path) && this.reported.get(e.path) !== (e.kind === 'file' ? e.sha256 : 'link'));
    if (exposed.length === 0) return [];
    for (const e of exposed) this.reported.set(e.path, e.kind === 'file' ? e.sha256 : 'link');
    await this.deps.record({
      actor: WARDEN,
      type: 'sandbox.withheld.exposed',
      data: { entries: exposed.slice(0, MAX_LISTED), found: reason },
    });
    const names = exposed.map((e) => `${e.path} (rule ${e.ruleId})`).join(', ');
    const text = `${exposed.length} file(s) the policy denies for reading appeared in the workspace after the read-only sandbox started, and the agent can read them: ${names}. A running sandbox cannot mask them; stop this session and start a new one (or use the copy workspace mode, where they never enter).`;
    this.deps.log?.(text);
    this.deps.notify({ type: 'notice', level: 'warning', text });
    return exposed;
  }

  private async readableInSandbox(paths: string[]): Promise<Set<string>> {
    const process = await this.deps.sandbox.execAgent([
      '/bin/sh',
      '-c',
      READABLE_SCRIPT,
      'warden-exposure',
      this.deps.sandbox.workspaceFolder,
    ]);
    const chunks: Buffer[] = [];
    process.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    process.stderr.resume();
    process.stdin.end(`${paths.join('\n')}\n`);
    const status = await process.exited;
    if (status.exitCode !== 0) throw new Error(`the exposure check exited with ${status.exitCode ?? status.signal ?? 'nothing'}`);
    return new Set(Buffer.concat(chunks).toString('utf8').split('\n').filter(Boolean));
  }
}

/** Whether a path is withheld now: by the start's plan, or by the policy as it is now. */
export function isWithheld(withheld: Withholding | undefined, denied: ReadDenied | undefined, relative: string): string | undefined {
  return (withheld ? withheldBy(withheld, relative) : undefined) ?? denied?.(relative)?.ruleId;
}

import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { AuditActor } from '../audit/types';
import type { RecordedEvent } from '../audit/events';
import { evaluatePath, type PolicyVerdict } from '../policy';
import { unifiedDiff } from '../proposals/diff';
import type { Decision, EditProposal } from '../proposals/model';
import type { ProposalStore } from '../proposals/store';
import type { Sandbox } from '../sandbox/types';
import { ManifestScanner, readNoFollow, type ManifestEntry } from '../sandbox/workspaceCopy';
import { sha256Hex } from '../util/hash';
import type { WorkspaceFiles } from '../workspace/files';
import type { ApplyOptions, ProposalGate } from './gate';
import type { AgentNotes } from './agentNotes';

/** Larger files are shown as a summary (size and hash), never as a diff. */
const MAX_TEXT_BYTES = 2 * 1024 * 1024;
/** Folders whose changes stay in the copy, unproposed (dependencies an approved install put there). */
const UNPROPOSED_SEGMENTS = new Set(['node_modules']);
const WARDEN: AuditActor = { kind: 'warden', id: 'warden' };

export interface SandboxChangeDeps {
  /** The one proposal gate: the changes are proposed, decided, applied and audited through it. */
  gate: ProposalGate;
  sandbox: Sandbox;
  /** Host folder of the private copy. */
  copyHostPath: string;
  /** The real workspace (host). */
  workspaceRoot: string;
  store: ProposalStore;
  files: WorkspaceFiles;
  record(event: RecordedEvent): Promise<unknown>;
  /** What the agent is told with its next instruction: its change applied differently, or rejected and restored. */
  notes?: AgentNotes;
  log?(line: string): void;
  /** The rule withholding a path from the sandbox (the policy denies reading it), if any: its real bytes never enter the copy. */
  withheld?(relative: string): string | undefined;
}

interface Change {
  path: string;
  before: ManifestEntry | undefined;
  after: ManifestEntry | undefined;
}

/**
 * What the agent changed in its private copy on its own (its tools, approved commands),
 * found by comparing the copy with a baseline manifest, and turned into edit proposals that
 * wait for a human like any other. Approved: applied to the real workspace (stale check,
 * hash verified). Rejected, stale or failed: the copy's file is restored from the real
 * workspace, so the agent sees reality. Writes into the copy go through the container (as
 * the sandbox user), so a link the agent planted can only ever point inside its own sandbox.
 */
export class SandboxChanges {
  private readonly scanner: ManifestScanner;
  private baseline = new Map<string, ManifestEntry>();
  /** Paths with an undecided proposal: not proposed again until it is settled. */
  private readonly open = new Map<string, string>();
  private queue: Promise<void> = Promise.resolve();
  private readonly settling = new Set<Promise<void>>();

  private constructor(private readonly deps: SandboxChangeDeps) {
    this.scanner = new ManifestScanner(deps.copyHostPath, UNPROPOSED_SEGMENTS);
  }

  /** Starts watching: the copy as it is now (just synced from the real workspace) is the baseline. */
  static async begin(deps: SandboxChangeDeps): Promise<SandboxChanges> {
    const changes = new SandboxChanges(deps);
    changes.baseline = (await changes.scanner.scan()).entries;
    return changes;
  }

  /** Compares the copy with the baseline and proposes each difference. Scans run one at a time. */
  scan(reason: string): Promise<void> {
    const run = this.queue.then(() => this.detect(reason, false));
    this.queue = run.catch((error: unknown) => this.deps.log?.(`scanning the sandbox copy failed: ${message(error)}`));
    return this.queue;
  }

  /**
   * The last look, once the container is stopped: what the agent left behind is put on the
   * record as proposals born orphaned (reviewable, never applied), so nothing is lost silently.
   */
  async finalScan(reason: string): Promise<void> {
    await this.queue;
    await this.detect(reason, true).catch((error: unknown) =>
      this.deps.log?.(`the final scan of the sandbox copy failed: ${message(error)}`),
    );
  }

  /**
   * A write Warden applied to the real workspace (fs/write_text_file, a Codex patch accepted with
   * changes), mirrored into the copy so the agent sees it. In line with the scans, so a scan that
   * follows never sees the copy from before.
   */
  mirror(relative: string, text: string): Promise<void> {
    const run = this.queue.then(() => this.mirrorNow(relative, text));
    this.queue = run.catch((error: unknown) => this.deps.log?.(`mirroring ${relative} into the sandbox copy failed: ${message(error)}`));
    return run;
  }

  private async mirrorNow(relative: string, text: string): Promise<void> {
    if (this.deps.withheld?.(relative)) {
      // Applied, but the policy withholds the path: the written text may hold bytes the agent never saw (hunks kept from the real file).
      await this.writeInCopy(relative, { type: 'missing' });
      this.baseline.delete(relative);
      return;
    }
    const bytes = Buffer.from(text, 'utf8');
    await this.writeInCopy(relative, { type: 'file', bytes, mode: 0o644 });
    this.baseline.set(relative, { type: 'file', hash: sha256Hex(bytes), size: bytes.length, mode: 0o644 });
  }

  /**
   * Turn review: an agent's fs/write_text_file lands in its copy, not in the real workspace;
   * the next scan (at the latest, the turn's end) proposes it with the rest of the turn.
   */
  async writeToCopy(relative: string, text: string): Promise<void> {
    const mode = await fs
      .lstat(path.join(this.deps.copyHostPath, ...relative.split('/')))
      .then((s) => (s.isFile() ? s.mode & 0o777 : 0o644))
      .catch(() => 0o644);
    await this.writeInCopy(relative, { type: 'file', bytes: Buffer.from(text, 'utf8'), mode });
  }

  /** Turn review: the agent reads its own copy (its earlier writes of the turn included); null when missing or not text. */
  async readFromCopy(relative: string): Promise<string | null> {
    const bytes = await readNoFollow(this.deps.copyHostPath, relative, MAX_TEXT_BYTES).catch(() => undefined);
    return bytes ? (decodeText(bytes) ?? null) : null;
  }

  /** Waits for proposals being applied or restored (tests, and the end of a session). */
  async idle(): Promise<void> {
    await this.queue;
    await Promise.all([...this.settling]);
  }

  private async detect(reason: string, final: boolean): Promise<void> {
    const current = (await this.scanner.scan()).entries;
    const changes: Change[] = [];
    for (const p of new Set([...this.baseline.keys(), ...current.keys()])) {
      if (p.split('/').some((segment) => UNPROPOSED_SEGMENTS.has(segment))) continue;
      const before = this.baseline.get(p);
      const after = current.get(p);
      if (sameEntry(before, after) || this.open.has(p)) continue;
      changes.push({ path: p, before, after });
    }
    if (changes.length === 0) return;
    await this.deps.record({ actor: WARDEN, type: 'sandbox.changes', data: { reason, paths: changes.map((c) => c.path) } });
    for (const change of changes.sort((a, b) => a.path.localeCompare(b.path))) await this.propose(change, final);
  }

  private async propose(change: Change, final: boolean): Promise<void> {
    const { path: rel, after } = change;
    let bytes: Buffer | undefined;
    if (after?.type === 'file') {
      bytes = await readNoFollow(this.deps.copyHostPath, rel).catch(() => undefined);
      if (!bytes) return; // gone or swapped for something else meanwhile: the next scan sees what is there
    }
    const withheldBy = this.deps.withheld?.(rel);
    const real = await this.realSide(rel, withheldBy !== undefined);
    if (await this.matchesReality(rel, after, bytes)) {
      // The copy now equals the workspace (Warden already applied it, e.g. a Codex patch approved through the protocol, or the agent undid its change): nothing to propose.
      if (after) this.baseline.set(rel, after.type === 'file' && bytes ? { ...after, hash: sha256Hex(bytes), size: bytes.length } : after);
      else this.baseline.delete(rel);
      return;
    }
    const newText = bytes && bytes.length <= MAX_TEXT_BYTES ? decodeText(bytes) : undefined;
    const binary = (bytes !== undefined && newText === undefined) || real.binary;
    const kind: NonNullable<EditProposal['sandboxChange']>['change'] = !after
      ? 'delete'
      : after.type === 'symlink'
        ? 'symlink'
        : real.exists
          ? 'modify'
          : 'create';
    const newHash = bytes ? sha256Hex(bytes) : '';
    const grant = bytes ? this.deps.gate.takeWriteGrant(rel, newHash) : undefined;
    const baseHash = grant ? (grant.oldText === null ? null : sha256Hex(grant.oldText)) : real.hash;
    const oldText = grant ? grant.oldText : binary ? null : real.text;

    let diff: string;
    if (kind === 'symlink' && after?.type === 'symlink') {
      diff = `Symbolic link ${rel} -> ${after.target}\n(Warden never follows or creates links in the workspace: approving records it, nothing is applied.)\n`;
    } else if (withheldBy && real.exists) {
      diff = `Replace ${rel} (${real.size} bytes, withheld from the sandbox by policy rule ${withheldBy}: the agent never saw it, and it is not shown here) with ${bytes?.length ?? 0} bytes written in the sandbox, sha256 ${newHash}\n`;
    } else if (binary) {
      diff =
        kind === 'delete'
          ? `Delete binary file ${rel} (${real.size} bytes)\n`
          : `Binary or large file ${rel}: ${bytes?.length ?? 0} bytes, sha256 ${newHash}\n`;
    } else {
      diff = unifiedDiff(rel, real.text, kind === 'delete' ? '' : (newText ?? ''));
    }
    const title = { create: 'Create', modify: 'Edit', delete: 'Delete', symlink: 'Link' }[kind];
    const fields = {
      kind: 'edit' as const,
      origin: 'sandbox/change',
      title: `${title} ${rel} (changed in the sandbox)`,
      path: rel,
      oldText,
      newText: kind === 'delete' || kind === 'symlink' || binary ? '' : (newText ?? ''),
      baseHash,
      newHash,
      diff,
      sandboxChange: {
        change: kind,
        binary,
        ...(bytes ? { size: bytes.length } : {}),
        ...(after?.type === 'symlink' ? { linkTarget: after.target } : {}),
      },
    };
    const birth = final
      ? { orphaned: 'Found in the sandbox copy when the session ended: never applied' }
      : {
          verdict: this.verdict(kind, rel, real.exists),
          grantedBy: grant?.proposalId,
          decided: grant ? undefined : await this.deps.gate.scopeDecision(rel),
        };
    const proposal = await this.deps.gate.propose<EditProposal>(fields, birth);
    if (final) return;
    // A decision made at birth is on the record before the next change is proposed.
    const decided = proposal.decision ? this.deps.gate.decide(proposal) : undefined;
    if (decided) await decided.catch(() => undefined);
    this.open.set(rel, proposal.id);
    const settled = this.settle(proposal, decided ?? this.deps.gate.decide(proposal), bytes, after).finally(() => {
      this.open.delete(rel);
      this.settling.delete(settled);
    });
    this.settling.add(settled);
  }

  private async matchesReality(rel: string, after: ManifestEntry | undefined, bytes: Buffer | undefined): Promise<boolean> {
    const real = await this.realEntry(rel);
    if (!after) return real.type === 'missing';
    if (after.type === 'symlink') return real.type === 'symlink' && real.target === after.target;
    return real.type === 'file' && bytes !== undefined && sha256Hex(real.bytes) === sha256Hex(bytes);
  }

  /** Deletes and links always ask a human; other changes are judged like a write by the agent. */
  private verdict(kind: string, rel: string, exists: boolean): PolicyVerdict | undefined {
    return this.deps.gate.evaluate((policy) => {
      if (kind === 'delete') {
        const denied = evaluatePath(policy, 'delete', rel);
        return denied.decision === 'deny'
          ? denied
          : {
              decision: 'ask',
              ruleId: 'builtin.irreversible',
              reason: 'Deleting is irreversible: a human decides',
              labels: ['irreversible: delete'],
            };
      }
      if (kind === 'symlink')
        return {
          decision: 'ask',
          ruleId: 'builtin.symlink',
          reason: 'A symbolic link made in the sandbox is shown, never applied: a human looks at it',
        };
      return evaluatePath(policy, exists ? 'write' : 'create', rel);
    });
  }

  private async settle(
    proposal: EditProposal,
    decided: Promise<Decision>,
    bytes: Buffer | undefined,
    after: ManifestEntry | undefined,
  ): Promise<void> {
    let decision: Decision;
    try {
      decision = await decided;
    } catch {
      return; // orphaned: the session ended; the next session re-syncs the copy
    }
    const verdict = decision.verdict;
    if (verdict === 'approve' && proposal.sandboxChange?.change !== 'symlink') {
      const outcome = await this.deps.gate.apply(this.deps.gate.current<EditProposal>(proposal.id), this.applyOptions(proposal, bytes));
      if (outcome.kind === 'applied' && outcome.change) {
        this.deps.notes?.add(
          proposal.path,
          `${proposal.path} was applied with the reviewer's changes (${outcome.change.summary}); your copy now holds what was written.`,
        );
      } else if (outcome.kind !== 'applied') {
        this.deps.notes?.add(proposal.path, `${proposal.path} was not applied (${outcome.detail}); ${this.restoredNote(proposal.path)}`);
      }
      // The reviewer kept only some hunks, edited the text, or it was re-diffed: the copy gets what was written.
      if (outcome.kind === 'applied' && !outcome.change && !outcome.rediffed) {
        if (after)
          this.baseline.set(
            proposal.path,
            after.type === 'file' && bytes ? { ...after, hash: sha256Hex(bytes), size: bytes.length } : after,
          );
        else this.baseline.delete(proposal.path);
        return;
      }
    } else if (verdict === 'approve') {
      this.deps.store.setState(
        proposal.id,
        'failed',
        `Warden never creates symbolic links in the workspace (${proposal.path} -> ${proposal.sandboxChange?.linkTarget ?? '?'}); create it yourself if you want it. The sandbox copy was restored.`,
      );
    }
    if (verdict === 'reject') {
      const by = decision.reviewer.kind === 'policy' ? `the team policy (rule ${decision.reviewer.name})` : 'the reviewer';
      this.deps.notes?.add(
        proposal.path,
        `your change to ${proposal.path} was rejected by ${by}${decision.reason ? `: ${decision.reason}` : ''}; ${this.restoredNote(proposal.path)}`,
      );
    }
    await this.restore(proposal.path, proposal.id);
  }

  /** How the gate applies a change from the copy: its own stale check (bytes when binary), and deletions and bytes written here. */
  private applyOptions(proposal: EditProposal, bytes: Buffer | undefined): ApplyOptions {
    const rel = proposal.path;
    const binary = proposal.sandboxChange?.binary ?? false;
    const change = proposal.sandboxChange?.change;
    const options: ApplyOptions = {
      currentHash: async () => {
        const current = await this.realSide(rel);
        return binary ? current.byteHash : current.hash;
      },
      auditData: { origin: 'sandbox/change' },
      notAppliedNote: 'the sandbox copy was restored',
    };
    if (change === 'delete') {
      options.write = async () => {
        if (this.deps.files.delete) await this.deps.files.delete(rel);
        else await fs.rm(this.realPath(rel), { force: true });
        return { diskHash: null, reviewedHash: null };
      };
    } else if (binary) {
      options.write = async () => ({ diskHash: await this.writeRealBytes(rel, bytes ?? Buffer.alloc(0)), reviewedHash: proposal.newHash });
    }
    return options;
  }

  /** What the agent is told of a restore: a withheld path is removed from its copy, never restored from the real file. */
  private restoredNote(rel: string): string {
    const rule = this.deps.withheld?.(rel);
    return rule
      ? `the policy withholds ${rel} from the sandbox (rule ${rule}), so it was removed from your copy.`
      : 'your copy was restored to the real file.';
  }

  /** Puts the real workspace's version of a path back into the copy (through the container), and into the baseline; a withheld path is removed instead. */
  private async restore(rel: string, proposalId: string): Promise<void> {
    const real: RealEntry = this.deps.withheld?.(rel) ? { type: 'missing' } : await this.realEntry(rel);
    try {
      await this.writeInCopy(rel, real);
      if (real.type === 'missing') this.baseline.delete(rel);
      else if (real.type === 'symlink') this.baseline.set(rel, { type: 'symlink', target: real.target });
      else this.baseline.set(rel, { type: 'file', hash: sha256Hex(real.bytes), size: real.bytes.length, mode: real.mode });
      await this.deps.record({ actor: WARDEN, type: 'sandbox.change.restored', data: { proposalId, path: rel } });
    } catch (error) {
      // The container may be gone (the session ended); the next session re-syncs the copy anyway.
      this.deps.log?.(`could not restore ${rel} in the sandbox copy: ${message(error)}`);
    }
  }

  private async writeInCopy(rel: string, entry: RealEntry): Promise<void> {
    const target = path.posix.join(this.deps.sandbox.workspaceFolder, rel);
    const script = {
      missing: 'rm -rf -- "$1"',
      file: 'rm -rf -- "$1" && mkdir -p -- "${1%/*}" && cat > "$1" && chmod "$2" "$1"',
      symlink: 'rm -rf -- "$1" && mkdir -p -- "${1%/*}" && ln -s -- "$2" "$1"',
    }[entry.type];
    const extra = entry.type === 'file' ? [(entry.mode & 0o777).toString(8)] : entry.type === 'symlink' ? [entry.target] : [];
    const process = await this.deps.sandbox.execAgent(['/bin/sh', '-c', script, 'warden-copy', target, ...extra]);
    process.stdout.resume();
    process.stderr.resume();
    process.stdin.end(entry.type === 'file' ? entry.bytes : undefined);
    const status = await process.exited;
    if (status.exitCode !== 0)
      throw new Error(`writing ${rel} in the sandbox exited with ${status.exitCode ?? status.signal ?? 'nothing'}`);
  }

  /** The real workspace's side of a path: text as the user sees it (unsaved editor text included), or bytes when binary. */
  private async realSide(
    rel: string,
    opaque = false,
  ): Promise<{ exists: boolean; text: string | null; hash: string | null; byteHash: string | null; binary: boolean; size: number }> {
    const entry = await this.realEntry(rel);
    if (entry.type !== 'file')
      return { exists: entry.type === 'symlink', text: null, hash: null, byteHash: null, binary: entry.type === 'symlink', size: 0 };
    // A withheld file is handled as bytes: its text never enters a diff, the proposal or the audit.
    const decoded = !opaque && entry.bytes.length <= MAX_TEXT_BYTES ? decodeText(entry.bytes) : undefined;
    if (decoded === undefined)
      return {
        exists: true,
        text: null,
        hash: sha256Hex(entry.bytes),
        byteHash: sha256Hex(entry.bytes),
        binary: true,
        size: entry.bytes.length,
      };
    const text = (await this.deps.files.read(rel)) ?? decoded;
    return { exists: true, text, hash: sha256Hex(text), byteHash: sha256Hex(entry.bytes), binary: false, size: entry.bytes.length };
  }

  private async realEntry(rel: string): Promise<RealEntry> {
    const full = this.realPath(rel);
    const stat = await fs.lstat(full).catch(() => undefined);
    if (!stat) return { type: 'missing' };
    if (stat.isSymbolicLink()) return { type: 'symlink', target: await fs.readlink(full) };
    if (!stat.isFile()) return { type: 'missing' };
    return { type: 'file', bytes: await fs.readFile(full), mode: stat.mode & 0o777 };
  }

  private realPath(rel: string): string {
    const full = path.resolve(this.deps.workspaceRoot, ...rel.split('/'));
    const back = path.relative(this.deps.workspaceRoot, full);
    if (back === '' || back.startsWith('..') || path.isAbsolute(back)) throw new Error(`${rel} is outside the workspace`);
    return full;
  }

  /** Bytes that are not text go to disk directly (no editor holds them): temp file and rename. */
  private async writeRealBytes(rel: string, bytes: Buffer): Promise<string> {
    const target = this.realPath(rel);
    await fs.mkdir(path.dirname(target), { recursive: true });
    const temp = `${target}.warden-${process.pid}-${Date.now()}.tmp`;
    await fs.writeFile(temp, bytes, { flag: 'wx' });
    await fs.rename(temp, target);
    return sha256Hex(await fs.readFile(target));
  }
}

type RealEntry = { type: 'missing' } | { type: 'symlink'; target: string } | { type: 'file'; bytes: Buffer; mode: number };

function sameEntry(a: ManifestEntry | undefined, b: ManifestEntry | undefined): boolean {
  if (!a || !b) return a === b;
  if (a.type === 'file') return b.type === 'file' && a.hash === b.hash;
  return b.type === 'symlink' && a.target === b.target;
}

/** UTF-8 text without NUL bytes, BOM kept (so the hash of the text is the hash of the bytes); otherwise undefined. */
export function decodeText(bytes: Buffer): string | undefined {
  if (bytes.includes(0)) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

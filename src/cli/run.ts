import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { AuditLog, verifyAuditLog } from '../core/audit';
import { DEMO_AGENT_FILE } from '../core/agent/agentCommand';
import { resolveAgent } from '../core/agent/presets';
import { resolveReviewer } from '../core/git/identity';
import { loadPolicyText, loadWorkspacePolicy, mergePolicies, type EffectivePolicy } from '../core/policy';
import type { Proposal } from '../core/proposals/model';
import { ProposalStore } from '../core/proposals/store';
import { EngineSandboxProvider } from '../core/sandbox/engineProvider';
import { SandboxError, type Sandbox, type SandboxProvider, type WorkspaceMode } from '../core/sandbox/types';
import { parse as parseJsonc } from 'jsonc-parser';
import { errorMessage, type AgentSession } from '../core/supervisor';
import { assembleSession, type SessionGitChoices } from '../core/session/assembly';
import { NodeWorkspaceFiles } from '../core/workspace/files';
import type { OnAsk, ParsedCommand } from './args';
import { CliError, EXIT, type ExitCode } from './exitCodes';
import { workspaceDir, type CliIO } from './io';
import { policyProblemLine } from './policy';

type RunArgs = Extract<ParsedCommand, { command: 'run' }>;

export type RunOutcome = 'completed' | 'ask-failed' | 'agent-failed' | 'sandbox-failed' | 'timeout' | 'interrupted';

/** What `warden run` prints: one JSON object with --json, a few lines otherwise. */
export interface RunSummary {
  exitCode: ExitCode;
  outcome: RunOutcome;
  sessionId: string | null;
  workspace: string;
  agent: string;
  onAsk: OnAsk;
  stopReason: string | null;
  error: string | null;
  policy: { file: string; valid: boolean };
  proposals: {
    total: number;
    /** kind -> decision (approved, rejected, undecided) -> count. */
    byKind: Record<string, Record<'approved' | 'rejected' | 'undecided', number>>;
    /** Final states: applied, rejected, failed, stale, orphaned... */
    byState: Record<string, number>;
    /** Who decided: "policy rule <id>", "cli --on-ask reject"... */
    decidedBy: Record<string, number>;
  };
  /** The proposals the policy left to a human, which the CLI decided by --on-ask. */
  asks: Array<{ id: string; kind: string; title: string; reason: string | null }>;
  filesChanged: string[];
  audit: { ok: boolean; entries: number; firstBreak: string | null };
}

export interface RunDeps {
  sandboxProvider?: SandboxProvider;
}

/**
 * What `warden run` does differently from the editor, by name (see SessionAssembly): nobody
 * answers asks (`--on-ask`), the branch checked out stays and no checkpoints are taken (the
 * git guard, protected branches and write scope apply all the same), and the sandbox is
 * never kept.
 */
export const CLI_GIT: SessionGitChoices = { sessionBranch: false, checkpoints: false };

export async function runCommand(args: RunArgs, io: CliIO, deps: RunDeps = {}): Promise<number> {
  const workspace = await workspaceDir(io, args.workspace);
  const policyFile = args.policy !== undefined ? path.resolve(io.cwd, args.policy) : path.join(workspace, '.warden', 'policy.json');
  const policy = await loadRunPolicy(workspace, args.policy !== undefined ? policyFile : undefined);
  const agent = resolveAgent({ preset: args.preset ?? 'custom', command: args.agent, protocol: args.protocol ?? 'acp' });
  const agentEnv = await readSecretEnv(io.cwd, args.secretEnv ?? []);
  if (agent.command === '' && !existsSync(path.join(io.agentsHostPath, DEMO_AGENT_FILE))) {
    throw new CliError(`the built-in demo agent is missing from ${io.agentsHostPath} (build Warden with "node esbuild.js")`, EXIT.internal);
  }
  const summary = emptySummary(args, workspace, agent.command, { file: policyFile, valid: policy.valid });
  const store = new ProposalStore();
  const asks: Proposal[] = [];
  let askFailed: (proposal: Proposal) => void = () => undefined;
  const askFailure = new Promise<Proposal>((resolve) => (askFailed = resolve));
  const killSwitch = new RunKillSwitch(
    deps.sandboxProvider ?? new EngineSandboxProvider(() => ({ setting: args.dockerHost, settingOrigin: '--docker-host' })),
    args.timeoutSeconds,
  );
  try {
    let session: AgentSession | undefined;
    try {
      session = await assembleSession({
        workspace: { root: workspace },
        agentsHostPath: io.agentsHostPath,
        agent,
        ...(agentEnv ? { agentEnv } : {}),
        sandboxProvider: killSwitch.provider,
        store,
        audit: AuditLog.forWorkspace(workspace),
        files: new NodeWorkspaceFiles(workspace),
        reviewer: await resolveReviewer(workspace),
        policy: { current: () => policy },
        git: CLI_GIT,
        secrets: { env: io.env },
        reuseSandbox: false,
        asks: {
          reviewer: { kind: 'warden', name: 'warden cli', source: `cli --on-ask ${args.onAsk}` },
          onAsk: (proposal) => {
            asks.push(proposal);
            if (args.onAsk === 'fail') askFailed(proposal);
          },
        },
        workspaceMode: args.workspaceMode ?? (await workspaceModeSetting(workspace)),
        log: (line) => {
          if (io.env.WARDEN_DEBUG) io.stderr(`[warden] ${line}\n`);
        },
      });
      killSwitch.sessionStarted();
      // Files coming in: say what the policy kept out of the sandbox (the audit lists them with hashes).
      if (session.withheldSummary) io.stderr(`warden: ${session.withheldSummary}\n`);
      if (killSwitch.pulledFor) {
        summary.sessionId = session.id;
        await session.stop(`warden run: ${killSwitch.pulledFor.message}`);
        session = undefined;
      }
    } catch (error) {
      if (!killSwitch.pulledFor)
        fail(
          summary,
          error instanceof SandboxError ? 'sandbox-failed' : 'agent-failed',
          `could not start the session: ${errorMessage(error)}`,
        );
    }
    if (killSwitch.pulledFor) fail(summary, killSwitch.pulledFor.outcome, killSwitch.pulledFor.message);
    if (session) await runTurn(session, args, summary, { killSwitch, askFailure, asks });
  } finally {
    killSwitch.dispose();
    store.dispose();
  }

  summarize(summary, store.all(), asks);
  await verifyRunAudit(summary, workspace);
  if (args.json) io.stdout(`${JSON.stringify(summary)}\n`);
  else io.stdout(formatSummary(summary));
  if (summary.error) io.stderr(`warden: ${summary.error}\n`);
  return summary.exitCode;
}

function emptySummary(args: RunArgs, workspace: string, agentCommand: string, policy: RunSummary['policy']): RunSummary {
  return {
    exitCode: EXIT.ok,
    outcome: 'completed',
    sessionId: null,
    workspace,
    agent: agentCommand === '' ? 'demo' : agentCommand,
    onAsk: args.onAsk,
    stopReason: null,
    error: null,
    policy,
    proposals: { total: 0, byKind: {}, byState: {}, decidedBy: {} },
    asks: [],
    filesChanged: [],
    audit: { ok: true, entries: 0, firstBreak: null },
  };
}

/**
 * The kill switch over the whole run, start included: the timeout, or SIGINT/SIGTERM (a
 * cancelled CI job). An agent that never answers `initialize` is stopped by removing its
 * sandbox, which ends the start with an error.
 */
class RunKillSwitch {
  /** Set when the switch was pulled. */
  pulledFor: { outcome: 'timeout' | 'interrupted'; message: string } | undefined;
  readonly pulled: Promise<void>;
  /** The provider the session starts its sandbox with: a sandbox started after the pull is stopped at once. */
  readonly provider: SandboxProvider;
  private pull: () => void = () => undefined;
  private sandbox: Sandbox | undefined;
  private started = false;
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly onSignal = (signal: NodeJS.Signals): void =>
    this.kill('interrupted', `interrupted by ${signal}: the session was stopped`);

  constructor(inner: SandboxProvider, timeoutSeconds: number | undefined) {
    this.pulled = new Promise<void>((resolve) => (this.pull = resolve));
    this.provider = {
      start: async (options) => {
        this.sandbox = await inner.start(options);
        if (this.pulledFor) await this.sandbox.stop().catch(() => undefined);
        return this.sandbox;
      },
      inspectSandbox: async (containerId) => inner.inspectSandbox?.(containerId),
    };
    if (timeoutSeconds !== undefined)
      this.timer = setTimeout(
        () => this.kill('timeout', `timed out after ${timeoutSeconds} s: the session was stopped`),
        timeoutSeconds * 1000,
      );
    process.on('SIGINT', this.onSignal);
    process.on('SIGTERM', this.onSignal);
  }

  /** From now on the session stops itself when the switch is pulled (runTurn races it). */
  sessionStarted(): void {
    this.started = true;
  }

  private kill(outcome: 'timeout' | 'interrupted', message: string): void {
    if (this.pulledFor) return;
    this.pulledFor = { outcome, message };
    this.pull();
    if (!this.started) void this.sandbox?.stop().catch(() => undefined);
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
  }
}

/** The one turn of the run, raced against the session's end, the kill switch and a failing ask; then the session stops. */
async function runTurn(
  session: AgentSession,
  args: RunArgs,
  summary: RunSummary,
  run: { killSwitch: RunKillSwitch; askFailure: Promise<Proposal>; asks: Proposal[] },
): Promise<void> {
  summary.sessionId = session.id;
  const ended = new Promise<string>((resolve) => session.onEvent((e) => e.type === 'ended' && resolve(e.reason)));
  type Race =
    | { kind: 'stop'; reason: string }
    | { kind: 'error'; error: unknown }
    | { kind: 'ended'; reason: string }
    | { kind: 'killed' }
    | { kind: 'ask'; proposal: Proposal };
  const result: Race = await Promise.race<Race>([
    session.prompt(args.prompt).then(
      (reason) => ({ kind: 'stop', reason }),
      (error: unknown) => ({ kind: 'error', error }),
    ),
    ended.then((reason) => ({ kind: 'ended', reason })),
    run.killSwitch.pulled.then(() => ({ kind: 'killed' })),
    run.askFailure.then((proposal) => ({ kind: 'ask', proposal })),
  ]);
  switch (result.kind) {
    case 'stop':
      summary.stopReason = result.reason;
      if (result.reason !== 'end_turn') fail(summary, 'agent-failed', `the agent ended its turn with "${result.reason}", not end_turn`);
      break;
    case 'error':
      fail(summary, 'agent-failed', `the agent failed: ${errorMessage(result.error)}`);
      break;
    case 'ended':
      fail(summary, 'agent-failed', `the session ended before the agent finished its turn: ${result.reason}`);
      break;
    case 'killed':
      if (run.killSwitch.pulledFor) fail(summary, run.killSwitch.pulledFor.outcome, run.killSwitch.pulledFor.message);
      break;
    case 'ask':
      fail(
        summary,
        'ask-failed',
        `the policy asks a human about "${result.proposal.title}" (${result.proposal.policy?.ruleId ?? 'no rule'}); with --on-ask fail the run stops`,
      );
      break;
  }
  // A turn that ended cleanly can still have an ask decided late, in fail mode: it fails the run.
  if (summary.outcome === 'completed' && args.onAsk === 'fail' && run.asks.length > 0) {
    fail(summary, 'ask-failed', `the policy asked a human about "${run.asks[0]!.title}"; with --on-ask fail the run fails`);
  }
  await session.stop(summary.outcome === 'completed' ? 'the headless run finished' : `warden run: ${summary.error}`);
}

async function verifyRunAudit(summary: RunSummary, workspace: string): Promise<void> {
  const report = await verifyAuditLog(workspace);
  summary.audit = {
    ok: report.ok,
    entries: report.entries,
    firstBreak: report.firstBreak ? `${report.firstBreak.file}:${report.firstBreak.line}: ${report.firstBreak.reason}` : null,
  };
  if (!report.ok && summary.outcome === 'completed') {
    summary.exitCode = EXIT.audit;
    summary.error = `the audit log does not verify: ${summary.audit.firstBreak}`;
  }
}

/** warden.sandbox.workspaceMode from the workspace's .vscode/settings.json (JSONC), as the extension reads it; undefined when not set (the assembly's default applies). */
async function workspaceModeSetting(workspace: string): Promise<WorkspaceMode | undefined> {
  const text = await fs.readFile(path.join(workspace, '.vscode', 'settings.json'), 'utf8').catch(() => '');
  const settings: unknown = parseJsonc(text, [], { allowTrailingComma: true });
  const value =
    settings && typeof settings === 'object' ? (settings as Record<string, unknown>)['warden.sandbox.workspaceMode'] : undefined;
  return value === 'readonly' || value === 'copy' ? value : undefined;
}

const OUTCOME_EXIT: Record<RunOutcome, ExitCode> = {
  completed: EXIT.ok,
  'ask-failed': EXIT.policy,
  'agent-failed': EXIT.agent,
  'sandbox-failed': EXIT.sandbox,
  timeout: EXIT.timeout,
  interrupted: EXIT.interrupted,
};

/** The first failure wins: later ones are consequences of it. */
function fail(summary: RunSummary, outcome: RunOutcome, error: string): void {
  if (summary.outcome !== 'completed') return;
  summary.outcome = outcome;
  summary.exitCode = OUTCOME_EXIT[outcome];
  summary.error = error.replace(/\s*\n\s*/g, ' ');
}

async function loadRunPolicy(workspace: string, file: string | undefined): Promise<EffectivePolicy> {
  let teamText: string | undefined;
  if (file !== undefined) {
    teamText = await fs.readFile(file, 'utf8').catch((error: unknown) => {
      throw new CliError(`cannot read the policy ${file}: ${errorMessage(error)}`, EXIT.policy);
    });
  }
  // --policy: the team policy comes from FILE, and the audit's policy.loaded names FILE as its origin.
  let policy: EffectivePolicy;
  if (teamText !== undefined) {
    const loaded = loadPolicyText(teamText);
    policy = mergePolicies({
      team: loaded.ok ? { status: 'loaded', policy: loaded.value } : { status: 'invalid', problems: loaded.problems },
      teamOrigin: file,
    });
  } else {
    policy = await loadWorkspacePolicy(workspace);
  }
  if (!policy.valid) {
    const invalid = policy.sources.find((s) => s.status === 'invalid');
    const shown = file ?? path.join(workspace, '.warden', 'policy.json');
    const problem = invalid?.problems[0];
    throw new CliError(`the policy is invalid, nothing was run: ${problem ? policyProblemLine(shown, problem) : shown}`, EXIT.policy);
  }
  return policy;
}

function summarize(summary: RunSummary, proposals: Proposal[], asks: Proposal[]): void {
  const p = summary.proposals;
  p.total = proposals.length;
  for (const proposal of proposals) {
    const byKind = (p.byKind[proposal.kind] ??= { approved: 0, rejected: 0, undecided: 0 });
    const verdict = proposal.decision?.verdict;
    byKind[verdict === 'approve' ? 'approved' : verdict === 'reject' ? 'rejected' : 'undecided'] += 1;
    p.byState[proposal.state] = (p.byState[proposal.state] ?? 0) + 1;
    const reviewer = proposal.decision?.reviewer;
    if (reviewer) {
      const who =
        reviewer.kind === 'policy'
          ? `policy rule ${reviewer.name}`
          : reviewer.kind === 'warden'
            ? reviewer.source
            : `${reviewer.kind} ${reviewer.name}`;
      p.decidedBy[who] = (p.decidedBy[who] ?? 0) + 1;
    }
    if (proposal.kind === 'edit' && proposal.state === 'applied' && !summary.filesChanged.includes(proposal.path))
      summary.filesChanged.push(proposal.path);
  }
  summary.filesChanged.sort();
  summary.asks = asks.map((a) => ({ id: a.id, kind: a.kind, title: a.title, reason: a.policy?.reason ?? null }));
}

export function formatSummary(s: RunSummary): string {
  const lines = [`warden run: ${s.outcome} (exit ${s.exitCode})${s.stopReason ? `, agent stop reason ${s.stopReason}` : ''}`];
  lines.push(`session ${s.sessionId ?? '(none)'} in ${s.workspace}, agent ${s.agent}, policy ${s.policy.file}`);
  lines.push(`proposals: ${s.proposals.total}`);
  for (const [kind, counts] of Object.entries(s.proposals.byKind)) {
    lines.push(
      `  ${kind}: ${counts.approved} approved, ${counts.rejected} rejected${counts.undecided ? `, ${counts.undecided} undecided` : ''}`,
    );
  }
  const states = Object.entries(s.proposals.byState).map(([state, n]) => `${n} ${state}`);
  if (states.length) lines.push(`  final states: ${states.join(', ')}`);
  const deciders = Object.entries(s.proposals.decidedBy).map(([who, n]) => `${who} (${n})`);
  if (deciders.length) lines.push(`  decided by: ${deciders.join(', ')}`);
  if (s.asks.length)
    lines.push(
      `asks (nobody to answer, ${s.onAsk === 'fail' ? 'rejected and the run failed' : 'rejected'}): ${s.asks.map((a) => a.title).join('; ')}`,
    );
  lines.push(`files changed: ${s.filesChanged.length ? s.filesChanged.join(', ') : 'none'}`);
  lines.push(`audit: ${s.audit.ok ? `verified, ${s.audit.entries} entries` : `BROKEN: ${s.audit.firstBreak}`}`);
  return `${lines.join('\n')}\n`;
}

/** `--secret-env NAME=FILE`: each file's contents (one trailing newline dropped) for the agent process only. */
async function readSecretEnv(cwd: string, specs: Array<{ name: string; file: string }>): Promise<Record<string, string> | undefined> {
  if (specs.length === 0) return undefined;
  const env: Record<string, string> = {};
  for (const { name, file } of specs) {
    try {
      env[name] = (await fs.readFile(path.resolve(cwd, file), 'utf8')).replace(/\r?\n$/, '');
    } catch (error) {
      throw new CliError(`--secret-env ${name}: cannot read ${file} (${errorMessage(error)})`, EXIT.usage);
    }
    if (!env[name]) throw new CliError(`--secret-env ${name}: ${file} is empty`, EXIT.usage);
  }
  return env;
}

import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { AuditLog, configureAuditRedaction, verifyAuditLog } from '../core/audit';
import { DEMO_AGENT_FILE } from '../core/agent/agentCommand';
import { resolveAgent } from '../core/agent/presets';
import { resolveReviewer } from '../core/git/identity';
import { loadPolicyText, loadWorkspacePolicy, mergePolicies, type EffectivePolicy } from '../core/policy';
import type { Decision, Proposal, Reviewer } from '../core/proposals/model';
import { ProposalStore } from '../core/proposals/store';
import { EngineSandboxProvider } from '../core/sandbox/engineProvider';
import { SandboxError, type Sandbox, type SandboxProvider, type WorkspaceMode } from '../core/sandbox/types';
import { parse as parseJsonc } from 'jsonc-parser';
import { AgentSession, errorMessage } from '../core/supervisor';
import { NodeWorkspaceFiles } from '../core/workspace/files';
import type { OnAsk, ParsedCommand } from './args';
import { CliError, EXIT, type ExitCode } from './exitCodes';
import { workspaceDir, type CliIO } from './io';
import { policyProblemLine } from './policy';

type RunArgs = Extract<ParsedCommand, { command: 'run' }>;

/** The environment variables whose values never reach the audit log (the extension's default list). */
const REDACTED_ENV_VARS = ['OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'GEMINI_API_KEY', 'GOOGLE_API_KEY', 'GITHUB_TOKEN', 'GH_TOKEN', 'NPM_TOKEN', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'];

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

export async function runCommand(args: RunArgs, io: CliIO, deps: RunDeps = {}): Promise<number> {
  const workspace = await workspaceDir(io, args.workspace);
  const policyFile = args.policy !== undefined ? path.resolve(io.cwd, args.policy) : path.join(workspace, '.warden', 'policy.json');
  const policy = await loadRunPolicy(workspace, args.policy !== undefined ? policyFile : undefined);
  const agent = resolveAgent({ preset: args.preset ?? 'custom', command: args.agent, protocol: args.protocol ?? 'acp' });
  const agentEnv = await readSecretEnv(io.cwd, args.secretEnv ?? []);
  if (agent.command === '' && !existsSync(path.join(io.agentsHostPath, DEMO_AGENT_FILE))) {
    throw new CliError(`the built-in demo agent is missing from ${io.agentsHostPath} (build Warden with "node esbuild.js")`, EXIT.internal);
  }
  // The agent's secrets are masked in the audit too, should the agent echo one back.
  configureAuditRedaction({ values: [...REDACTED_ENV_VARS.map((name) => io.env[name]).filter((v): v is string => typeof v === 'string'), ...Object.values(agentEnv ?? {})] });

  const store = new ProposalStore();
  const asks: Proposal[] = [];
  const source = `cli --on-ask ${args.onAsk}`;
  const cliReviewer: Reviewer = { kind: 'warden', name: 'warden cli', source };
  let askFailed: (proposal: Proposal) => void = () => undefined;
  const askFailure = new Promise<Proposal>((resolve) => (askFailed = resolve));
  // Nobody is there to answer: a proposal still pending once the policy has decided what it
  // could (allow and deny are born decided) is an ask, rejected here whatever the mode.
  const handled = new Set<string>();
  store.onDidChange((proposal) => {
    if (proposal.state !== 'pending' || handled.has(proposal.id)) return;
    handled.add(proposal.id);
    setImmediate(() => {
      const current = store.get(proposal.id);
      if (current?.state !== 'pending') return;
      asks.push(current);
      const decision: Decision = {
        verdict: 'reject',
        reviewer: cliReviewer,
        reason: `Nobody is there to answer in a headless run (${source})${current.policy ? `; the policy asked: ${current.policy.reason}` : ''}`,
        decidedAt: new Date().toISOString(),
      };
      try {
        store.decide(current.id, decision);
      } catch {
        // Orphaned meanwhile (the session ended): it can never be applied either.
      }
      if (args.onAsk === 'fail') askFailed(current);
    });
  });

  const log = (line: string): void => {
    if (io.env.WARDEN_DEBUG) io.stderr(`[warden] ${line}\n`);
  };
  const summary: RunSummary = {
    exitCode: EXIT.ok,
    outcome: 'completed',
    sessionId: null,
    workspace,
    agent: agent.command === '' ? 'demo' : agent.command,
    onAsk: args.onAsk,
    stopReason: null,
    error: null,
    policy: { file: policyFile, valid: policy.valid },
    proposals: { total: 0, byKind: {}, byState: {}, decidedBy: {} },
    asks: [],
    filesChanged: [],
    audit: { ok: true, entries: 0, firstBreak: null },
  };

  let session: AgentSession | undefined;
  let timer: NodeJS.Timeout | undefined;
  // The kill switch covers the whole run, start included: an agent that never answers
  // `initialize` is stopped by removing its sandbox, which ends the start with an error.
  let sandbox: Sandbox | undefined;
  /** Set when the kill switch was pulled: the timeout, or SIGINT/SIGTERM (a cancelled CI job). */
  let killed: { outcome: 'timeout' | 'interrupted'; message: string } | undefined;
  const inner = deps.sandboxProvider ?? new EngineSandboxProvider(() => ({ setting: args.dockerHost, settingOrigin: '--docker-host' }));
  const sandboxProvider: SandboxProvider = {
    start: async (options) => {
      sandbox = await inner.start(options);
      if (killed) await sandbox.stop().catch(() => undefined);
      return sandbox;
    },
  };
  let pullKillSwitch: () => void = () => undefined;
  const killSwitch = new Promise<void>((resolve) => (pullKillSwitch = resolve));
  const kill = (outcome: 'timeout' | 'interrupted', message: string): void => {
    if (killed) return;
    killed = { outcome, message };
    pullKillSwitch();
    if (!session) void sandbox?.stop().catch(() => undefined);
  };
  if (args.timeoutSeconds !== undefined) timer = setTimeout(() => kill('timeout', `timed out after ${args.timeoutSeconds} s: the session was stopped`), args.timeoutSeconds * 1000);
  const onSignal = (signal: NodeJS.Signals): void => kill('interrupted', `interrupted by ${signal}: the session was stopped`);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    try {
      session = await AgentSession.start({
        workspaceRoot: workspace,
        agentsHostPath: io.agentsHostPath,
        agentCommand: agent.command,
        agentProtocol: agent.protocol,
        ...(agentEnv ? { agentEnv } : {}),
        sandboxProvider,
        store,
        audit: AuditLog.forWorkspace(workspace),
        files: new NodeWorkspaceFiles(workspace),
        reviewer: await resolveReviewer(workspace),
        log,
        policy: { current: () => policy },
        workspaceMode: args.workspaceMode ?? (await workspaceModeSetting(workspace)),
      });
      if (killed) {
        summary.sessionId = session.id;
        await session.stop(`warden run: ${killed.message}`);
        session = undefined;
      }
    } catch (error) {
      if (!killed) fail(summary, error instanceof SandboxError ? 'sandbox-failed' : 'agent-failed', `could not start the session: ${errorMessage(error)}`);
    }
    if (killed) fail(summary, killed.outcome, killed.message);
    if (session) {
      summary.sessionId = session.id;
      const running = session;
      const ended = new Promise<string>((resolve) => running.onEvent((e) => e.type === 'ended' && resolve(e.reason)));
      type Race = { kind: 'stop'; reason: string } | { kind: 'error'; error: unknown } | { kind: 'ended'; reason: string } | { kind: 'killed' } | { kind: 'ask'; proposal: Proposal };
      const result: Race = await Promise.race<Race>([
        running.prompt(args.prompt).then(
          (reason) => ({ kind: 'stop', reason }),
          (error: unknown) => ({ kind: 'error', error }),
        ),
        ended.then((reason) => ({ kind: 'ended', reason })),
        killSwitch.then(() => ({ kind: 'killed' })),
        askFailure.then((proposal) => ({ kind: 'ask', proposal })),
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
          if (killed) fail(summary, killed.outcome, killed.message);
          break;
        case 'ask':
          fail(summary, 'ask-failed', `the policy asks a human about "${result.proposal.title}" (${result.proposal.policy?.ruleId ?? 'no rule'}); with --on-ask fail the run stops`);
          break;
      }
      // A turn that ended cleanly can still have an ask decided late, in fail mode: it fails the run.
      if (summary.outcome === 'completed' && args.onAsk === 'fail' && asks.length > 0) {
        fail(summary, 'ask-failed', `the policy asked a human about "${asks[0]!.title}"; with --on-ask fail the run fails`);
      }
      await running.stop(summary.outcome === 'completed' ? 'the headless run finished' : `warden run: ${summary.error}`);
    }
  } finally {
    if (timer) clearTimeout(timer);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    store.dispose();
  }

  summarize(summary, store.all(), asks);
  const report = await verifyAuditLog(workspace);
  summary.audit = { ok: report.ok, entries: report.entries, firstBreak: report.firstBreak ? `${report.firstBreak.file}:${report.firstBreak.line}: ${report.firstBreak.reason}` : null };
  if (!report.ok && summary.outcome === 'completed') {
    summary.exitCode = EXIT.audit;
    summary.error = `the audit log does not verify: ${summary.audit.firstBreak}`;
  }
  if (args.json) io.stdout(`${JSON.stringify(summary)}\n`);
  else io.stdout(formatSummary(summary));
  if (summary.error) io.stderr(`warden: ${summary.error}\n`);
  return summary.exitCode;
}

/** warden.sandbox.workspaceMode from the workspace's .vscode/settings.json (JSONC), as the extension reads it; else copy. */
async function workspaceModeSetting(workspace: string): Promise<WorkspaceMode> {
  const text = await fs.readFile(path.join(workspace, '.vscode', 'settings.json'), 'utf8').catch(() => '');
  const settings: unknown = parseJsonc(text, [], { allowTrailingComma: true });
  const value = settings && typeof settings === 'object' ? (settings as Record<string, unknown>)['warden.sandbox.workspaceMode'] : undefined;
  return value === 'readonly' ? 'readonly' : 'copy';
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
    policy = mergePolicies({ team: loaded.ok ? { status: 'loaded', policy: loaded.value } : { status: 'invalid', problems: loaded.problems }, teamOrigin: file });
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
      const who = reviewer.kind === 'policy' ? `policy rule ${reviewer.name}` : reviewer.kind === 'warden' ? reviewer.source : `${reviewer.kind} ${reviewer.name}`;
      p.decidedBy[who] = (p.decidedBy[who] ?? 0) + 1;
    }
    if (proposal.kind === 'edit' && proposal.state === 'applied' && !summary.filesChanged.includes(proposal.path)) summary.filesChanged.push(proposal.path);
  }
  summary.filesChanged.sort();
  summary.asks = asks.map((a) => ({ id: a.id, kind: a.kind, title: a.title, reason: a.policy?.reason ?? null }));
}

export function formatSummary(s: RunSummary): string {
  const lines = [`warden run: ${s.outcome} (exit ${s.exitCode})${s.stopReason ? `, agent stop reason ${s.stopReason}` : ''}`];
  lines.push(`session ${s.sessionId ?? '(none)'} in ${s.workspace}, agent ${s.agent}, policy ${s.policy.file}`);
  lines.push(`proposals: ${s.proposals.total}`);
  for (const [kind, counts] of Object.entries(s.proposals.byKind)) {
    lines.push(`  ${kind}: ${counts.approved} approved, ${counts.rejected} rejected${counts.undecided ? `, ${counts.undecided} undecided` : ''}`);
  }
  const states = Object.entries(s.proposals.byState).map(([state, n]) => `${n} ${state}`);
  if (states.length) lines.push(`  final states: ${states.join(', ')}`);
  const deciders = Object.entries(s.proposals.decidedBy).map(([who, n]) => `${who} (${n})`);
  if (deciders.length) lines.push(`  decided by: ${deciders.join(', ')}`);
  if (s.asks.length) lines.push(`asks (nobody to answer, ${s.onAsk === 'fail' ? 'rejected and the run failed' : 'rejected'}): ${s.asks.map((a) => a.title).join('; ')}`);
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

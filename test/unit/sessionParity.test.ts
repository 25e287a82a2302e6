/**
 * Parity of the two ways a session is started (DESIGN.md, invariant 9): the same scripted agent
 * under the same team policy, once through the editor's assembly (a human answers the asks)
 * and once through `warden run --on-ask reject`, must reach the same decisions, name the same
 * rules and write the same audit event types, apart from what the README documents as the
 * CLI's differences (no session branch, no checkpoints, who answers an ask).
 */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import * as acp from '@agentclientprotocol/sdk';
import { parseCommandLine } from '../../src/cli/args';
import { EXIT } from '../../src/cli/exitCodes';
import type { CliIO } from '../../src/cli/io';
import { runCommand } from '../../src/cli/run';
import { AuditLog } from '../../src/core/audit';
import { resolveAgent } from '../../src/core/agent/presets';
import { loadWorkspacePolicy } from '../../src/core/policy';
import { ProposalStore } from '../../src/core/proposals/store';
import { assembleSession } from '../../src/core/session/assembly';
import type { RunningCommand, Sandbox, SandboxProvider } from '../../src/core/sandbox/types';
import { NodeWorkspaceFiles } from '../../src/core/workspace/files';
import { connectAgentApp, inMemoryAgentProcess } from '../support/inMemoryAgent';
import { readAudit } from '../support/workspace';

const git = promisify(execFile);
const FOLDER = '/workspaces/ws';

const POLICY = {
  defaults: { read: 'allow', write: 'ask', command: 'ask' },
  paths: [{ id: 'code', paths: ['src/**'], actions: ['write', 'create'], decision: 'allow', reason: 'reviewed in the PR' }],
  commands: [
    { id: 'tests', match: 'node --test *', decision: 'allow' },
    { id: 'no-curl', match: 'curl *', decision: 'deny', reason: 'no network tools' },
  ],
  git: { protectedBranches: ['main'] },
};

/** One request of the scripted agent; the answers record `ok` or `refused` for each. */
type Step = { name: string; run(client: acp.AgentContext, sessionId: string): Promise<unknown> };

const STEPS: Step[] = [
  { name: 'read src/a.js', run: (c, s) => c.request('fs/read_text_file', { sessionId: s, path: `${FOLDER}/src/a.js` }) },
  {
    name: 'write src/a.js (allowed by rule code)',
    run: (c, s) => c.request('fs/write_text_file', { sessionId: s, path: `${FOLDER}/src/a.js`, content: 'a\nb\n' }),
  },
  {
    name: 'write docs/notes.md (asks: defaults.write)',
    run: (c, s) => c.request('fs/write_text_file', { sessionId: s, path: `${FOLDER}/docs/notes.md`, content: 'notes\n' }),
  },
  {
    name: 'write .github/workflows/ci.yml (protected path)',
    run: (c, s) => c.request('fs/write_text_file', { sessionId: s, path: `${FOLDER}/.github/workflows/ci.yml`, content: 'on: push\n' }),
  },
  {
    name: 'run node --test test/ (allowed by rule tests)',
    run: (c, s) => c.request('terminal/create', { sessionId: s, command: 'node', args: ['--test', 'test/'] }),
  },
  {
    name: 'run curl (denied by rule no-curl)',
    run: (c, s) => c.request('terminal/create', { sessionId: s, command: 'curl', args: ['http://127.0.0.1:9/'] }),
  },
  {
    name: 'run git push origin main (protected branch)',
    run: (c, s) => c.request('terminal/create', { sessionId: s, command: 'git', args: ['push', 'origin', 'main'] }),
  },
  {
    name: 'permission to run rm -rf build (asks: defaults.command)',
    run: (c, s) =>
      c.request('session/request_permission', {
        sessionId: s,
        toolCall: { toolCallId: 't1', title: 'rm -rf build', kind: 'execute', rawInput: { command: 'rm -rf build' } },
        options: [
          { optionId: 'yes', name: 'Allow', kind: 'allow_once' },
          { optionId: 'no', name: 'Reject', kind: 'reject_once' },
        ],
      }),
  },
];

function scriptedAgent(answers: string[]): acp.AgentApp {
  return acp
    .agent({ name: 'parity-agent' })
    .onRequest(acp.methods.agent.initialize, () => ({
      protocolVersion: acp.PROTOCOL_VERSION,
      agentCapabilities: {},
      agentInfo: { name: 'parity-agent', version: '1' },
      authMethods: [],
    }))
    .onRequest(acp.methods.agent.session.new, () => ({ sessionId: 'parity-1' }))
    .onRequest(acp.methods.agent.session.prompt, async ({ params, client }) => {
      for (const step of STEPS) {
        answers.push(
          await step.run(client, params.sessionId).then(
            () => `${step.name}: ok`,
            () => `${step.name}: refused`,
          ),
        );
      }
      return { stopReason: 'end_turn' };
    });
}

function fakeProvider(app: acp.AgentApp, ran: string[][]): SandboxProvider {
  return {
    start: async () => {
      const pipes = inMemoryAgentProcess();
      connectAgentApp(app, pipes);
      const sandbox: Sandbox = {
        containerId: 'fake-container',
        workspaceFolder: FOLDER,
        agentsFolder: '/opt/warden/agents',
        image: 'fake',
        execAgent: async () => pipes.process,
        runCommand: async (argv): Promise<RunningCommand> => {
          ran.push(argv);
          return {
            exited: Promise.resolve({ exitCode: 0, signal: null }),
            output: () => ({ text: 'ok\n', truncated: false }),
            kill: async () => undefined,
          };
        },
        stop: async () => pipes.exit(0),
      };
      return sandbox;
    },
  };
}

async function workspaceIn(root: string, name: string): Promise<string> {
  const workspace = path.join(root, name);
  await fs.mkdir(path.join(workspace, 'src'), { recursive: true });
  await fs.mkdir(path.join(workspace, '.warden'), { recursive: true });
  await fs.writeFile(path.join(workspace, 'src', 'a.js'), 'a\n');
  await fs.writeFile(path.join(workspace, '.warden', 'policy.json'), JSON.stringify(POLICY, null, 2));
  const run = (...args: string[]) => git('git', ['-c', 'user.name=Ada', '-c', 'user.email=ada@example.test', ...args], { cwd: workspace });
  await run('init', '--quiet', '--initial-branch=main');
  await run('config', 'user.name', 'Ada');
  await run('config', 'user.email', 'ada@example.test');
  await run('add', '.');
  await run('commit', '--quiet', '-m', 'initial');
  return workspace;
}

interface Outcome {
  answers: string[];
  ran: string[][];
  /** Per proposal, in order: kind, title, verdict, the rule that decided (or asked), and whether a policy rule decided. */
  decisions: string[];
  refusedRules: string[];
  eventTypes: Set<string>;
  files: Record<string, string | null>;
}

async function outcomeOf(workspace: string, answers: string[], ran: string[][]): Promise<Outcome> {
  const entries = await readAudit(workspace);
  const decisions = entries
    .filter((e) => e.type === 'proposal')
    .map((p) => {
      const d = entries.find((e) => e.type === 'decision' && e.data.proposalId === p.data.proposalId);
      const reviewer = d?.data.reviewer as { kind?: string } | undefined;
      const rule = typeof d?.data.ruleId === 'string' ? d.data.ruleId : '-';
      return `${String(p.data.kind)} "${String(p.data.title)}": ${String(d?.data.verdict)} (rule ${rule}, by ${reviewer?.kind === 'policy' ? 'policy' : 'whoever answers asks'})`;
    });
  // Entries written before the audit catalog named the rule `rule`; readers accept both.
  const refusedRules = entries.filter((e) => e.type === 'refused').map((e) => JSON.stringify(e.data.ruleId ?? e.data.rule));
  const read = (rel: string) => fs.readFile(path.join(workspace, rel), 'utf8').catch(() => null);
  return {
    answers,
    ran,
    decisions,
    refusedRules,
    eventTypes: new Set(entries.map((e) => e.type)),
    files: {
      'src/a.js': await read('src/a.js'),
      'docs/notes.md': await read('docs/notes.md'),
      '.github/workflows/ci.yml': await read('.github/workflows/ci.yml'),
    },
  };
}

async function viaEditorAssembly(workspace: string): Promise<Outcome> {
  const answers: string[] = [];
  const ran: string[][] = [];
  const store = new ProposalStore();
  // The human in the Review panel rejects whatever the policy asks.
  store.onDidChange((p) => {
    if (p.state === 'pending')
      store.decide(p.id, {
        verdict: 'reject',
        reviewer: { kind: 'human', name: 'Ada', email: 'ada@example.test', source: 'review panel' },
        reason: 'not now',
        decidedAt: new Date().toISOString(),
      });
  });
  const policy = await loadWorkspacePolicy(workspace);
  const session = await assembleSession({
    workspace: { root: workspace },
    agentsHostPath: path.join(workspace, '..', 'agents'),
    agent: resolveAgent({ preset: 'custom', command: 'parity-agent', protocol: 'acp' }),
    sandboxProvider: fakeProvider(scriptedAgent(answers), ran),
    store,
    audit: AuditLog.forWorkspace(workspace),
    files: new NodeWorkspaceFiles(workspace),
    reviewer: { kind: 'human', name: 'Ada', email: 'ada@example.test', source: 'git config' },
    policy: { current: () => policy },
    // The editor's choices (src/vscode/sessionController.ts, with the settings' defaults).
    git: { sessionBranch: true, checkpoints: { keepLast: 20, maxAgeDays: 14 } },
    secrets: { env: {} },
    reuseSandbox: true,
    asks: 'human',
  });
  await session.prompt('do the parity script');
  await session.stop('parity test done');
  return outcomeOf(workspace, answers, ran);
}

async function viaWardenRun(root: string, workspace: string): Promise<Outcome> {
  const answers: string[] = [];
  const ran: string[][] = [];
  const stdout: string[] = [];
  const stderr: string[] = [];
  const io: CliIO = {
    stdout: (t) => void stdout.push(t),
    stderr: (t) => void stderr.push(t),
    cwd: root,
    env: {},
    agentsHostPath: path.join(root, 'agents'),
  };
  const args = parseCommandLine([
    'run',
    '-w',
    workspace,
    '--agent',
    'parity-agent',
    '-p',
    'do the parity script',
    '--on-ask',
    'reject',
    '--json',
  ]);
  assert.equal(args.command, 'run');
  if (args.command !== 'run') throw new Error('not a run command');
  const code = await runCommand(args, io, { sandboxProvider: fakeProvider(scriptedAgent(answers), ran) });
  assert.equal(code, EXIT.ok, stderr.join(''));
  return outcomeOf(workspace, answers, ran);
}

describe('one session assembly: the editor and warden run decide alike', function () {
  this.timeout(60_000);
  let root: string;

  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'warden-parity-'));
  });
  afterEach(async () => {
    await fs.rm(root, { recursive: true, force: true });
  });

  it('the same agent and policy give the same decisions, rule ids, refusals, runs, files and audit event types', async () => {
    const editor = await viaEditorAssembly(await workspaceIn(root, 'editor'));
    const cli = await viaWardenRun(root, await workspaceIn(root, 'cli'));

    assert.deepEqual(cli.answers, editor.answers);
    assert.deepEqual(cli.decisions, editor.decisions);
    assert.deepEqual(cli.refusedRules, editor.refusedRules);
    assert.deepEqual(cli.ran, editor.ran);
    assert.deepEqual(cli.files, editor.files);

    // What was decided, spelled out, so a drift in both paths at once is caught too.
    assert.deepEqual(editor.answers, [
      'read src/a.js: ok',
      'write src/a.js (allowed by rule code): ok',
      'write docs/notes.md (asks: defaults.write): refused',
      'write .github/workflows/ci.yml (protected path): refused',
      'run node --test test/ (allowed by rule tests): ok',
      'run curl (denied by rule no-curl): refused',
      'run git push origin main (protected branch): refused',
      'permission to run rm -rf build (asks: defaults.command): ok',
    ]);
    assert.deepEqual(editor.ran, [['node', '--test', 'test/']]);
    assert.deepEqual(editor.files, { 'src/a.js': 'a\nb\n', 'docs/notes.md': null, '.github/workflows/ci.yml': null });
    assert.deepEqual(editor.refusedRules, ['"git.push.protected"']);

    // The documented differences: the editor works on a session branch and checkpoints before
    // applying; warden run records that it stays on the branch checked out and takes none.
    const documented = new Set(['checkpoint.created', 'checkpoint.pruned']);
    const only = (a: Set<string>, b: Set<string>) => [...a].filter((t) => !b.has(t) && !documented.has(t)).sort();
    assert.deepEqual(only(editor.eventTypes, cli.eventTypes), [], 'event types only the editor path wrote');
    assert.deepEqual(only(cli.eventTypes, editor.eventTypes), [], 'event types only warden run wrote');
    assert.ok(editor.eventTypes.has('checkpoint.created'), 'the editor checkpoints before applying');
  });
});

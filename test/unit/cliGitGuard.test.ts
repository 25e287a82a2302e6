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
import { runCommand, type RunSummary } from '../../src/cli/run';
import type { Sandbox, SandboxProvider, SandboxStartOptions } from '../../src/core/sandbox/types';
import { connectAgentApp, inMemoryAgentProcess } from '../support/inMemoryAgent';
import { readAudit } from '../support/workspace';

const git = promisify(execFile);

/** A scripted ACP agent that asks for one terminal per command line and reports how each was answered. */
function gitAgent(commands: ReadonlyArray<{ command: string; args: string[] }>): { app: acp.AgentApp; answers: string[] } {
  const answers: string[] = [];
  const app = acp
    .agent({ name: 'git-agent' })
    .onRequest(acp.methods.agent.initialize, () => ({
      protocolVersion: acp.PROTOCOL_VERSION,
      agentCapabilities: {},
      agentInfo: { name: 'git-agent', version: '1' },
      authMethods: [],
    }))
    .onRequest(acp.methods.agent.session.new, () => ({ sessionId: 'git-1' }))
    .onRequest(acp.methods.agent.session.prompt, async ({ params, client }) => {
      for (const { command, args } of commands) {
        answers.push(
          await client.request<{ terminalId: string }>('terminal/create', { sessionId: params.sessionId, command, args }).then(
            (created) => `created ${created.terminalId}`,
            (error: unknown) => `refused: ${error instanceof Error ? error.message : JSON.stringify(error)}`,
          ),
        );
      }
      return { stopReason: 'end_turn' };
    });
  return { app, answers };
}

/** A sandbox with nothing in it but the scripted agent (nothing may run: the guard refuses first). */
function fakeProvider(app: acp.AgentApp, started: SandboxStartOptions[]): SandboxProvider {
  return {
    start: async (options) => {
      started.push(options);
      const pipes = inMemoryAgentProcess();
      connectAgentApp(app, pipes);
      const sandbox: Sandbox = {
        containerId: 'fake-container',
        workspaceFolder: '/workspaces/ws',
        agentsFolder: '/opt/warden/agents',
        image: 'fake',
        execAgent: async () => pipes.process,
        runCommand: async () => assert.fail('nothing may run: the git guard refuses before any proposal'),
        stop: async () => pipes.exit(0),
      };
      return sandbox;
    },
  };
}

describe("warden run: the git command guard and the policy's protected branches (parity with the editor)", () => {
  let root: string;
  let workspace: string;

  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'warden-cli-git-'));
    workspace = path.join(root, 'ws');
    await fs.mkdir(path.join(workspace, 'src'), { recursive: true });
    await fs.writeFile(path.join(workspace, 'src', 'a.js'), 'a\n');
    const run = (...args: string[]) =>
      git('git', ['-c', 'user.name=Ada', '-c', 'user.email=ada@example.test', ...args], { cwd: workspace });
    await run('init', '--quiet', '--initial-branch=main');
    await run('add', '.');
    await run('commit', '--quiet', '-m', 'initial');
  });

  afterEach(async () => {
    await fs.rm(root, { recursive: true, force: true });
  });

  it('refuses a git command that writes a protected branch before any proposal, naming the rule; stays on the branch checked out', async () => {
    const policyFile = path.join(root, 'ci-policy.json');
    await fs.writeFile(policyFile, JSON.stringify({ git: { protectedBranches: ['main', 'trunk'] } }));
    const { app, answers } = gitAgent([
      { command: 'git', args: ['commit', '-am', 'wip'] },
      { command: 'git', args: ['push', 'origin', 'trunk'] },
    ]);
    const started: SandboxStartOptions[] = [];
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
      'git-agent',
      '-p',
      'commit and push',
      '--policy',
      policyFile,
      '--json',
    ]);
    assert.equal(args.command, 'run');
    if (args.command !== 'run') return;

    const code = await runCommand(args, io, { sandboxProvider: fakeProvider(app, started) });

    assert.equal(code, EXIT.ok, stderr.join(''));
    const summary = JSON.parse(stdout.join('')) as RunSummary;
    assert.equal(summary.proposals.total, 0, 'no proposal was made: nothing was left to --on-ask');
    assert.equal(answers.length, 2);
    assert.match(answers[0]!, /refused: .*Refused \(rule git\.commit\.protected\)/);
    assert.match(answers[1]!, /refused: .*Refused \(rule git\.push\.protected\)/);

    const entries = await readAudit(workspace);
    const refused = entries.filter((e) => e.type === 'refused');
    // `rule` today; the audit-event catalog may rename it `ruleId` (readers accept both).
    assert.deepEqual(
      refused.map((e) => e.data.ruleId ?? e.data.rule),
      ['git.commit.protected', 'git.push.protected'],
    );
    const branch = entries.find((e) => e.type === 'git.branch');
    assert.equal(branch?.data.status, 'none', 'warden run does not switch branches');
    assert.deepEqual(branch?.data.protectedBranches, ['main', 'trunk'], "the policy's protected branches");
    assert.ok(!entries.some((e) => e.type === 'checkpoint.created' || e.type === 'checkpoint.pruned'), 'no checkpoints in warden run');

    const { stdout: head } = await git('git', ['rev-parse', '--abbrev-ref', 'HEAD'], { cwd: workspace });
    assert.equal(head.trim(), 'main');
    const { stdout: branches } = await git('git', ['branch', '--list', 'warden/*'], { cwd: workspace });
    assert.equal(branches.trim(), '');
    assert.deepEqual(
      started.map((o) => [o.workspaceMode, o.reuse]),
      [['copy', false]],
      'the default workspace mode, and a sandbox that is never kept',
    );
  });
});

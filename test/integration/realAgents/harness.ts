import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import * as z from 'zod';
import type { AgentProtocol } from '../../../src/core/agent/connection';
import { AuditLog } from '../../../src/core/audit';
import type { Proposal, Reviewer } from '../../../src/core/proposals/model';
import { ProposalStore } from '../../../src/core/proposals/store';
import type { Sandbox, SandboxProvider, SandboxStartOptions, WorkspaceMode } from '../../../src/core/sandbox/types';
import { AgentSession } from '../../../src/core/supervisor';
import { NodeWorkspaceFiles } from '../../../src/core/workspace/files';
import { forwardIntoSandbox } from '../../support/execForward';
import { ensureEngineUnderTest, engineProvider } from '../engineUnderTest';
import { REPO_ROOT } from '../prerequisites';

const run = promisify(execFile);

/** The image with the real agents installed (scripts/bootstrap/agents.sh builds it). */
export const AGENTS_IMAGE = 'warden-agents:dev';
/** The pinned versions the image holds; the bootstrap script is the source, the tests name them. */
export const VERSIONS = {
  codexAcp: '0.16.0',
  geminiCli: '0.61.0',
  codex: '0.169.0',
  claudeAgentAcp: '0.101.0',
  claudeAgentSdk: '0.3.318',
  copilot: '1.0.102',
  opencode: '1.18.33',
} as const;
/** The npm package each pinned version belongs to (the image label names them). */
const PINNED_PACKAGES: Record<keyof typeof VERSIONS, string> = {
  codexAcp: '@zed-industries/codex-acp',
  geminiCli: '@google/gemini-cli',
  codex: '@openai/codex',
  claudeAgentAcp: '@agentclientprotocol/claude-agent-acp',
  claudeAgentSdk: '@anthropic-ai/claude-agent-sdk-linux-x64',
  copilot: '@github/copilot',
  opencode: 'opencode-ai',
};
/** Where the mock model answers inside the container (the container's own loopback). */
export const MODEL_PORT = 18080;
/** Host-side file in the agents folder where the mock model writes its loopback port. */
export const MODEL_PORT_FILE = 'model.port';
const AGENTS_MOUNT = '/opt/warden/agents';

export const reviewer: Reviewer = { kind: 'human', name: 'Ada Reviewer', email: 'ada@example.test', source: 'test' };

/**
 * Docker engine and the agents image, or a failure that says what is missing. The image is
 * built from cached pieces (about 15 s; the first run on a fresh machine downloads the
 * Debian root file system and the npm packages, about a minute).
 */
export async function ensureRealAgentPrerequisites(): Promise<void> {
  try {
    await new Docker().ping();
  } catch (error) {
    throw new Error(`The real-agent tests need a running Docker engine (${String(error)}). Run \`bash scripts/bootstrap/docker.sh\`.`, {
      cause: error,
    });
  }
  try {
    await run('bash', [path.join(REPO_ROOT, 'scripts/bootstrap/agents.sh')], { cwd: REPO_ROOT, maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? String(error);
    throw new Error(
      `The real-agent tests need the image ${AGENTS_IMAGE}, and scripts/bootstrap/agents.sh could not build it ` +
        `(it needs the Debian mirror for mmdebstrap and the npm registry for the pinned agents):\n${stderr.trim()}`,
      { cause: error },
    );
  }
  await ensureEngineUnderTest([AGENTS_IMAGE]);
  const versions = await versionsInImage();
  for (const [name, pinned] of Object.entries(VERSIONS)) {
    const label = `${PINNED_PACKAGES[name as keyof typeof VERSIONS]}@`;
    if (!versions.includes(`${label}${pinned}`)) {
      throw new Error(
        `${AGENTS_IMAGE} does not hold ${label}${pinned} (its label: ${versions}); the versions in harness.ts and scripts/bootstrap/agents.sh must match`,
      );
    }
  }
}

async function versionsInImage(): Promise<string> {
  const info = (await new Docker().getImage(AGENTS_IMAGE).inspect()) as { Config?: { Labels?: Record<string, string> | null } };
  return info.Config?.Labels?.['dev.warden.agents'] ?? '';
}

/** A new workspace: the fixture files plus a devcontainer.json naming the agents image. */
export async function makeWorkspace(containerEnv: Record<string, string> = {}): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'warden-real-agent-'));
  await fs.cp(path.join(REPO_ROOT, 'test', 'fixtures', 'realAgents', 'workspace'), dir, { recursive: true });
  await fs.mkdir(path.join(dir, '.devcontainer'), { recursive: true });
  await fs.writeFile(
    path.join(dir, '.devcontainer', 'devcontainer.json'),
    JSON.stringify({ name: 'real agents', image: AGENTS_IMAGE, containerEnv }, null, 2),
  );
  // mkdtemp makes a 0700 folder; the sandbox user (uid 1000) must read the workspace.
  await fs.chmod(dir, 0o755);
  return dir;
}

/** A per-test folder mounted read-only at /opt/warden/agents: Warden's bundled bridge (the model forwarder) and fixtures. */
export async function makeAgentsFolder(extraFiles: Record<string, string> = {}): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'warden-agents-mount-'));
  await fs.chmod(dir, 0o755);
  const bridge = path.join(REPO_ROOT, 'dist', 'agents', 'egress-bridge.mjs');
  await fs.copyFile(bridge, path.join(dir, 'egress-bridge.mjs')).catch((error: unknown) => {
    throw new Error(`${bridge} is missing: run \`node esbuild.js --tests\` first (${String(error)})`);
  });
  for (const [name, text] of Object.entries(extraFiles)) {
    await fs.writeFile(path.join(dir, name), text);
    await fs.chmod(path.join(dir, name), 0o644);
  }
  return dir;
}

export const modelPortFile = (agentsFolder: string): string => path.join(agentsFolder, MODEL_PORT_FILE);

/**
 * The real Docker provider (or another engine's), plus one step before the agent starts: the
 * forwarder from the container's loopback MODEL_PORT to the host's mock model, carried over a
 * `docker exec` stream (no socket mounted, so it proves the same on a VM-backed engine).
 * Nothing else about the sandbox changes.
 */
export class ModelBridgeProvider implements SandboxProvider {
  sandbox: Sandbox | undefined;
  /** Every protocol line the agent wrote, for failure messages that quote what the agent said. */
  readonly agentFrames: string[] = [];
  /** Every protocol line Warden wrote to the agent (its answers and errors). */
  readonly wardenFrames: string[] = [];
  constructor(private readonly inner: SandboxProvider = engineProvider()) {}

  async start(options: SandboxStartOptions): Promise<Sandbox> {
    // Agents that need no model server (Gemini's --fake-responses) get no forwarder.
    const portText = await fs.readFile(path.join(options.agentsHostPath, MODEL_PORT_FILE), 'utf8').catch(() => undefined);
    const hostPort = Number(portText);
    if (portText !== undefined && (!Number.isInteger(hostPort) || hostPort <= 0))
      throw new Error(`${options.agentsHostPath}/${MODEL_PORT_FILE} does not hold a port: ${portText}`);
    const sandbox = await this.inner.start(options);
    try {
      if (portText !== undefined) await forwardIntoSandbox(sandbox, AGENTS_MOUNT, MODEL_PORT, hostPort);
    } catch (error) {
      await sandbox.stop();
      throw error;
    }
    this.sandbox = this.traced(sandbox);
    return this.sandbox;
  }

  /**
   * The same sandbox object (every other field and method untouched); only execAgent is
   * wrapped so the protocol lines both ways are also kept here. Warden reads them unchanged.
   */
  private traced(sandbox: Sandbox): Sandbox {
    const frames = this.agentFrames;
    const wardenFrames = this.wardenFrames;
    const execAgent = sandbox.execAgent.bind(sandbox);
    sandbox.execAgent = async (argv, env) => {
      const agent = await execAgent(argv, env);
      let pending = '';
      agent.stdout.on('data', (chunk: Buffer) => {
        const lines = (pending + chunk.toString('utf8')).split('\n');
        pending = lines.pop() ?? '';
        frames.push(...lines.filter(Boolean));
      });
      const stdin = new Writable({
        write: (chunk: Buffer, _encoding, callback) => {
          wardenFrames.push(...Buffer.from(chunk).toString('utf8').split('\n').filter(Boolean));
          agent.stdin.write(chunk, () => callback());
        },
        final: (callback) => {
          agent.stdin.end();
          callback();
        },
      });
      return { stdin, stdout: agent.stdout, stderr: agent.stderr, exited: agent.exited, kill: () => agent.kill() };
    };
    return sandbox;
  }

  /** Text the agent reported in failed tool calls (why a tool did not work, in the agent's words). */
  failedToolTexts(): string[] {
    const texts: string[] = [];
    for (const frame of this.agentFrames) {
      const parsed = failedToolUpdateSchema.safeParse(safeJson(frame));
      if (!parsed.success) continue;
      for (const item of parsed.data.params.update.content ?? []) if (item.content?.text) texts.push(item.content.text);
    }
    return texts;
  }
}

const failedToolUpdateSchema = z.object({
  method: z.literal('session/update'),
  params: z.object({
    update: z.object({
      sessionUpdate: z.literal('tool_call_update'),
      status: z.literal('failed'),
      content: z.array(z.looseObject({ content: z.looseObject({ text: z.string().optional() }).optional() })).nullish(),
    }),
  }),
});

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export interface RealAgentRig {
  workspace: string;
  agentsFolder: string;
  store: ProposalStore;
  session: AgentSession;
  provider: ModelBridgeProvider;
  log: string[];
  dispose(): Promise<void>;
}

/** A real AgentSession (real Docker, real audit log, real proposal store) running `agentCommand`. */
export async function startRealAgent(options: {
  workspace: string;
  agentsFolder: string;
  agentCommand: string;
  agentProtocol?: AgentProtocol;
  workspaceMode?: WorkspaceMode;
}): Promise<RealAgentRig> {
  const store = new ProposalStore();
  const provider = new ModelBridgeProvider();
  const log: string[] = [];
  const session = await AgentSession.start({
    workspaceRoot: options.workspace,
    agentsHostPath: options.agentsFolder,
    agentCommand: options.agentCommand,
    ...(options.agentProtocol ? { agentProtocol: options.agentProtocol } : {}),
    workspaceMode: options.workspaceMode ?? 'readonly',
    sandboxProvider: provider,
    store,
    audit: AuditLog.forWorkspace(options.workspace),
    files: new NodeWorkspaceFiles(options.workspace),
    reviewer,
    log: (line) => log.push(line),
  });
  return {
    workspace: options.workspace,
    agentsFolder: options.agentsFolder,
    store,
    session,
    provider,
    log,
    dispose: async () => {
      await session.stop('test finished');
      store.dispose();
      await fs.rm(options.workspace, { recursive: true, force: true });
      await fs.rm(options.agentsFolder, { recursive: true, force: true });
    },
  };
}

export const decide = (store: ProposalStore, id: string, verdict: 'approve' | 'reject'): void => {
  store.decide(id, { verdict, reviewer, decidedAt: new Date().toISOString() });
};

/**
 * The next pending proposal not in `seen`, or undefined once `turn` settles without one (the
 * agent gave up). Waits on store events; nothing is left running afterwards.
 */
export function nextPendingOrEnd(store: ProposalStore, seen: Set<string>, turn: Promise<unknown>): Promise<Proposal | undefined> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (value: Proposal | undefined): void => {
      if (done) return;
      done = true;
      subscription.dispose();
      resolve(value);
    };
    const check = (): void => {
      const found = store.pending().find((p) => !seen.has(p.id));
      if (!found) return;
      seen.add(found.id);
      finish(found);
    };
    const subscription = store.onDidChange(check);
    turn.then(
      () => finish(undefined),
      () => finish(undefined),
    );
    check();
  });
}

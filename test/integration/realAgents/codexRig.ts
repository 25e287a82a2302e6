import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { MockResponsesServer, type ModelTurn } from '../../support/mockResponses/server';
import { ensureRealAgentPrerequisites, makeAgentsFolder, makeWorkspace, modelPortFile, startRealAgent, type RealAgentRig } from './harness';

type AgentOptions = Omit<Parameters<typeof startRealAgent>[0], 'workspace' | 'agentsFolder'>;

export interface CodexRig {
  /** Starts the agent on a new workspace (with `files` in it) against a mock model scripted with `turns`. */
  start(turns: ModelTurn[], files?: Record<string, string>): Promise<RealAgentRig>;
  /** The rig of the running test. */
  rig(): RealAgentRig;
  /** The mock model of the running test. */
  mock(): MockResponsesServer;
  /** Which tool names the model was offered: quoted when a Codex version renames its tools. */
  offered(): string;
  /** Runs `script` in the sandbox as a side channel (not through the agent). */
  inContainer(script: string): Promise<{ exitCode: number | null; output: string }>;
}

/**
 * A Codex agent (codex-acp or the app-server) whose model is the scripted mock of the OpenAI
 * Responses API: call inside a `describe`; each test starts its own rig, disposed after it.
 */
export function useCodexRig(agent: AgentOptions): CodexRig {
  let rig: RealAgentRig | undefined;
  let mock: MockResponsesServer | undefined;

  before(async function () {
    this.timeout(600_000);
    await ensureRealAgentPrerequisites();
  });

  afterEach(async () => {
    await rig?.dispose();
    await mock?.close();
    rig = undefined;
    mock = undefined;
  });

  return {
    async start(turns, files = {}) {
      const workspace = await makeWorkspace({ MOCK_API_KEY: 'mock-key-not-a-secret' });
      for (const [name, text] of Object.entries(files)) await fs.writeFile(path.join(workspace, name), text);
      const agentsFolder = await makeAgentsFolder();
      mock = await MockResponsesServer.start(modelPortFile(agentsFolder), turns);
      rig = await startRealAgent({ workspace, agentsFolder, ...agent });
      return rig;
    },
    rig() {
      assert.ok(rig, 'the session runs');
      return rig;
    },
    mock() {
      assert.ok(mock, 'the mock model is running');
      return mock;
    },
    offered: () => `tools offered to the model: ${mock?.toolNames().join(', ') || '(no model request yet)'}`,
    async inContainer(script) {
      const sandbox = rig?.provider.sandbox;
      assert.ok(sandbox, 'the sandbox is running');
      const command = await sandbox.runCommand(['sh', '-c', script], { cwd: '/' });
      const status = await command.exited;
      return { exitCode: status.exitCode, output: command.output().text };
    },
  };
}

import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { verifyAuditLog } from '../../../src/core/audit';
import type { CommandProposal, EditProposal } from '../../../src/core/proposals/model';
import { sha256Hex } from '../../../src/core/util/hash';
import { MockResponsesServer, type ModelTurn } from '../../support/mockResponses/server';
import { readAudit, snapshot } from '../../support/workspace';
import {
  decide,
  ensureRealAgentPrerequisites,
  makeAgentsFolder,
  makeWorkspace,
  MODEL_PORT,
  modelPortFile,
  nextPendingOrEnd,
  startRealAgent,
  VERSIONS,
  type RealAgentRig,
} from './harness';
import { ENGINE_LABEL } from '../engineUnderTest';

/**
 * Codex itself (`@openai/codex`'s static musl binary), natively through `codex app-server`,
 * the JSON-RPC protocol the Codex IDE extension speaks. Its model is the scripted mock of the
 * Responses API (on the host loopback, forwarded into the container over an exec stream). Command and
 * file-change approvals become Warden proposals; an approved file change is applied by
 * Warden (the workspace is read-only to Codex).
 */
const AGENT = `Codex app-server ${VERSIONS.codex}`;
const AGENT_COMMAND = [
  'codex app-server',
  '-c model_provider=mock',
  // A model in this version's built-in metadata that offers the freeform apply_patch tool.
  '-c model=gpt-5.5',
  `-c 'model_providers.mock={name="mock",base_url="http://127.0.0.1:${MODEL_PORT}/v1",wire_api="responses",env_key="MOCK_API_KEY"}'`,
].join(' ');

const GREET = "function greet(name) {\n  return 'Hello, ' + name;\n}\n\nmodule.exports = { greet };\n";
const GREET_AFTER = GREET.replace('name;', "name + '!';");

const patch = (from: string, to: string): string =>
  ['*** Begin Patch', '*** Update File: src/greet.js', '@@', `-${from}`, `+${to}`, '*** End Patch'].join('\n');

// Both ways Warden can show Codex the workspace: read-only, and a private copy it writes itself.
for (const workspaceMode of ['readonly', 'copy'] as const)
  describe(`real agent: ${AGENT} natively, ${workspaceMode} workspace (mock Responses API, real Docker)` + ENGINE_LABEL, function () {
    this.timeout(180_000);
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

    async function start(turns: ModelTurn[]): Promise<RealAgentRig> {
      const workspace = await makeWorkspace({ MOCK_API_KEY: 'mock-key-not-a-secret' });
      const agentsFolder = await makeAgentsFolder();
      mock = await MockResponsesServer.start(modelPortFile(agentsFolder), turns);
      return startRealAgent({ workspace, agentsFolder, agentCommand: AGENT_COMMAND, agentProtocol: 'codex-app-server', workspaceMode });
    }

    const offered = (): string => `tools offered to the model: ${mock?.toolNames().join(', ') || '(no model request yet)'}`;

    async function inContainer(script: string): Promise<number | null> {
      const sandbox = rig?.provider.sandbox;
      assert.ok(sandbox, 'the sandbox is running');
      const command = await sandbox.runCommand(['sh', '-c', script], { cwd: '/' });
      return (await command.exited).exitCode;
    }

    it('a command: approved it runs in the container with its output on the record; declined it never runs', async () => {
      rig = await start([
        () => [
          {
            type: 'function_call',
            name: 'exec_command',
            callId: 'call_approved',
            arguments: { cmd: 'touch /tmp/approved-proof && echo ran-$((6*7))' },
          },
        ],
        () => [
          {
            type: 'function_call',
            name: 'exec_command',
            callId: 'call_declined',
            arguments: { cmd: 'touch /tmp/declined-proof && echo should-not-run' },
          },
        ],
        () => [{ type: 'message', text: 'Commands handled.' }],
      ]);
      const { store, workspace } = rig;
      const before = await snapshot(workspace);
      const seen = new Set<string>();
      const turn = rig.session.prompt('Run the proof commands');

      const approved = await nextPendingOrEnd(store, seen, turn);
      assert.ok(approved?.kind === 'command', `${AGENT} asks approval for its command (got ${JSON.stringify(approved)}; ${offered()})`);
      assert.equal(approved.origin, 'item/commandExecution/requestApproval');
      assert.ok(approved.commandLine.includes('touch /tmp/approved-proof'), approved.commandLine);
      assert.equal(await inContainer('test -e /tmp/approved-proof'), 1, 'not run before approval');
      decide(store, approved.id, 'approve');

      const declined = await nextPendingOrEnd(store, seen, turn);
      assert.ok(declined?.kind === 'command' && declined.commandLine.includes('touch /tmp/declined-proof'), JSON.stringify(declined));
      decide(store, declined.id, 'reject');
      assert.equal(await turn, 'end_turn');

      assert.equal(await inContainer('test -e /tmp/approved-proof'), 0, 'the approved command ran in the container');
      assert.equal(await inContainer('test -e /tmp/declined-proof'), 1, 'the declined command never ran');
      assert.match(mock!.toolOutput('call_approved') ?? '', /ran-42/);
      assert.doesNotMatch(mock!.toolOutput('call_declined') ?? '', /should-not-run/);
      assert.match(mock!.toolOutput('call_declined') ?? '', /rejected by user/, 'Codex told the model the command was declined');
      assert.deepEqual(await snapshot(workspace), before, 'the workspace is unchanged');

      const ran = store.get(approved.id) as CommandProposal;
      assert.equal(ran.state, 'applied');
      assert.match(ran.result?.outputExcerpt ?? '', /ran-42/, 'the output Codex reported is on the proposal');
      assert.equal(store.get(declined.id)?.state, 'rejected');
      const entries = await readAudit(workspace);
      assert.ok(
        entries.some(
          (e) => e.type === 'command.result' && e.data.proposalId === approved.id && String(e.data.outputExcerpt).includes('ran-42'),
        ),
        'the command output is in the audit',
      );
      assert.ok(entries.some((e) => e.type === 'decision' && e.data.proposalId === declined.id && e.data.verdict === 'reject'));
      assert.ok((await verifyAuditLog(workspace)).ok);
    });

    it('a file change: nothing changes while it waits; approved, Warden applies the reviewed bytes; declined, nothing changes', async () => {
      rig = await start([
        () => [
          {
            type: 'custom_tool_call',
            name: 'apply_patch',
            callId: 'call_patch_approved',
            input: patch("  return 'Hello, ' + name;", "  return 'Hello, ' + name + '!';"),
          },
        ],
        () => [
          {
            type: 'custom_tool_call',
            name: 'apply_patch',
            callId: 'call_patch_declined',
            input: patch("  return 'Hello, ' + name + '!';", "  return 'Hi, ' + name;"),
          },
        ],
        () => [{ type: 'message', text: 'Patches handled.' }],
      ]);
      const { store, workspace } = rig;
      const before = await snapshot(workspace);
      const seen = new Set<string>();
      const turn = rig.session.prompt('Patch the greeting');

      const approved = await nextPendingOrEnd(store, seen, turn);
      assert.ok(approved?.kind === 'edit', `${AGENT} asks approval for its file change (got ${JSON.stringify(approved)}; ${offered()})`);
      assert.equal(approved.origin, 'item/fileChange/requestApproval');
      assert.equal(approved.path, 'src/greet.js');
      assert.equal(approved.newText, GREET_AFTER, 'the reviewed edit is the whole file after the patch');
      assert.deepEqual(await snapshot(workspace), before, 'nothing changed while the file change waits');
      decide(store, approved.id, 'approve');

      const declined = await nextPendingOrEnd(store, seen, turn);
      assert.ok(declined?.kind === 'edit' && declined.path === 'src/greet.js', JSON.stringify(declined));
      decide(store, declined.id, 'reject');
      await turn;

      assert.match(mock!.toolOutput('call_patch_declined') ?? '', /rejected by user/, 'Codex told the model the patch was declined');
      const landed = await fs.readFile(path.join(workspace, 'src/greet.js'), 'utf8');
      assert.equal(landed, GREET_AFTER, 'the approved change landed, the declined one did not');
      assert.equal(sha256Hex(landed), (store.get(approved.id) as EditProposal).newHash);
      assert.equal(store.get(approved.id)?.state, 'applied');
      assert.equal(store.get(declined.id)?.state, 'rejected');
      assert.deepEqual(
        store.all().map((p) => p.origin),
        ['item/fileChange/requestApproval', 'item/fileChange/requestApproval'],
        'no second proposal for the same change (e.g. from the copy)',
      );
      const entries = await readAudit(workspace);
      assert.ok(entries.some((e) => e.type === 'edit.applied' && e.data.proposalId === approved.id));
      assert.ok((await verifyAuditLog(workspace)).ok);
    });
  });

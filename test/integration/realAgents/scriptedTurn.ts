import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import * as z from 'zod';
import { verifyAuditLog } from '../../../src/core/audit';
import type { AuditEntry } from '../../../src/core/audit/types';
import type { EditProposal, PermissionProposal, Proposal } from '../../../src/core/proposals/model';
import type { WorkspaceMode } from '../../../src/core/sandbox/types';
import { MockMessagesServer, type MessageBlock, type MessagesTurn } from '../../support/mockResponses/anthropic';
import { readAudit, snapshot } from '../../support/workspace';
import { GREET } from './codexAcpScript';
import { decide, makeAgentsFolder, makeWorkspace, modelPortFile, nextPendingOrEnd, startRealAgent, type RealAgentRig } from './harness';

/**
 * One scripted turn for an agent whose model is the Anthropic Messages mock (GitHub Copilot
 * CLI, OpenCode): the model reads a file, asks for two edits and two commands; the reviewer
 * approves the first of each and rejects the second. One session per workspace mode runs the
 * whole turn once (an agent start costs seconds to tens of seconds); the tests then assert on
 * what was recorded: the proposals and answers, what reached the model, the workspace, the
 * container and the audit log.
 */

export const GREET_AFTER = GREET.replace('name;', "name + '!';");
export const README = '# Greeter\n\nA tiny module the real-agent tests edit.\n';
export const README_REJECTED = README.replace('# Greeter', '# Farewell');
export const APPROVED_COMMAND = 'touch /tmp/approved-proof && echo ran-$((6*7)) | tee proof.txt';
export const REJECTED_COMMAND = 'touch /tmp/rejected-proof && echo nope > rejected.txt';

/** Tool-use ids of the scripted turn (the mock finds each tool's result by them). */
export const IDS = {
  read: 'toolu_read',
  editApproved: 'toolu_edit_approved',
  editRejected: 'toolu_edit_rejected',
  bashApproved: 'toolu_bash_approved',
  bashRejected: 'toolu_bash_rejected',
} as const;

/** How one agent names its tools: what the scripted model calls. */
export interface AgentTools {
  read(file: string): { name: string; input: Record<string, unknown> };
  edit(file: string, oldText: string, newText: string): { name: string; input: Record<string, unknown> };
  bash(command: string, description: string): { name: string; input: Record<string, unknown> };
}

export interface ScriptedAgent {
  /** For test titles and failure messages. */
  label: string;
  command: string;
  env: Record<string, string>;
  tools: AgentTools;
}

/** What happened in the turn, for the tests to assert on. */
export interface TurnRecord {
  rig: RealAgentRig;
  mock: MockMessagesServer;
  root: string;
  workspace: string;
  before: Record<string, string>;
  /** How each of the three prompts ended. */
  stopReasons: unknown[];
  /** The permission requests in the order they came, with the verdict the reviewer gave. */
  permissions: Array<{ proposal: PermissionProposal; verdict: 'approve' | 'reject' }>;
  /** Edit proposals (sandbox changes, fs/write_text_file) and the workspace snapshot when each arrived. */
  edits: Array<{ proposal: EditProposal; snapshotAtArrival: Record<string, string> }>;
  /** `test -e` in the container before the approved command was decided. */
  approvedProofBeforeDecision: number | null;
}

/** The three prompts of the session; the scripted model recognises each by its marker. */
export const PROMPTS = [
  '[step 1] Make the greeting enthusiastic and retitle the README.',
  '[step 2] Run the proof commands.',
  '[step 3] Summarise what happened.',
] as const;

/**
 * The scripted model: it follows the conversation by the last message it is sent (a prompt's
 * marker, or the result of the tool it called last), so an agent that ends its turn after a
 * rejection (Copilot, OpenCode) and one that goes on asking the model both stay on script.
 */
function scriptedModel(t: AgentTools, root: string): MessagesTurn {
  const use = (id: string, call: { name: string; input: Record<string, unknown> }): MessageBlock[] => [
    { type: 'tool_use', id, name: call.name, input: call.input },
  ];
  const say = (text: string): MessageBlock[] => [{ type: 'text', text }];
  return (request) => {
    const last = request.messages.at(-1);
    const blocks = typeof last?.content === 'string' ? [{ type: 'text', text: last.content }] : (last?.content ?? []);
    const text = blocks.map((b) => b.text ?? '').join('\n');
    const answered = new Set(blocks.filter((b) => b.type === 'tool_result').map((b) => b.tool_use_id));
    if (text.includes('[step 1]')) return use(IDS.read, t.read(`${root}/src/greet.js`));
    if (text.includes('[step 2]')) return use(IDS.bashApproved, t.bash(APPROVED_COMMAND, 'Write the proof'));
    if (text.includes('[step 3]')) return say('All handled.');
    if (answered.has(IDS.read))
      return use(IDS.editApproved, t.edit(`${root}/src/greet.js`, "  return 'Hello, ' + name;", "  return 'Hello, ' + name + '!';"));
    if (answered.has(IDS.editApproved)) return use(IDS.editRejected, t.edit(`${root}/README.md`, '# Greeter', '# Farewell'));
    if (answered.has(IDS.bashApproved)) return use(IDS.bashRejected, t.bash(REJECTED_COMMAND, 'Write another proof'));
    return say('Understood.');
  };
}

/**
 * Starts the agent in a real session (`workspaceMode`) and sends the three prompts: step 1
 * reads a file and asks for two edits, step 2 for two commands, step 3 only talks (so the
 * model is sent the outcome of the last rejected command too). The first edit permission and
 * the approved-proof command are approved, the other edit and command rejected; every change
 * proposed from the sandbox or through fs/write_text_file for an approved action is approved,
 * anything else is a failure. In copy mode, waits for the changes to land.
 */
export async function runScriptedTurn(agent: ScriptedAgent, workspaceMode: WorkspaceMode): Promise<TurnRecord> {
  const workspace = await makeWorkspace(agent.env);
  const root = `/workspaces/${path.basename(workspace)}`;
  const agentsFolder = await makeAgentsFolder();
  const mock = await MockMessagesServer.start(modelPortFile(agentsFolder), scriptedModel(agent.tools, root));
  let rig: RealAgentRig;
  try {
    rig = await startRealAgent({ workspace, agentsFolder, agentCommand: agent.command, workspaceMode });
  } catch (error) {
    await mock.close();
    throw error;
  }
  const record: TurnRecord = {
    rig,
    mock,
    root,
    workspace,
    before: await snapshot(workspace),
    stopReasons: [],
    permissions: [],
    edits: [],
    approvedProofBeforeDecision: null,
  };
  const seen = new Set<string>();
  let editPermissions = 0;
  const onProposal = async (p: Proposal): Promise<void> => {
    if (p.kind === 'permission' && p.toolKind === 'edit') {
      const verdict = editPermissions++ === 0 ? 'approve' : 'reject';
      record.permissions.push({ proposal: p, verdict });
      decide(rig.store, p.id, verdict);
    } else if (p.kind === 'permission' && (p.toolKind === 'execute' || /(approved|rejected)-proof/.test(p.title))) {
      // A command, or another permission the command needs first (OpenCode asks separately
      // to touch a path outside the workspace, /tmp here): judged by the command it is for.
      const verdict = (p.commandLine ?? p.title).includes('rejected-proof') ? 'reject' : 'approve';
      if (verdict === 'approve' && record.approvedProofBeforeDecision === null)
        record.approvedProofBeforeDecision = (await inContainer(rig, 'test -e /tmp/approved-proof')).exitCode;
      record.permissions.push({ proposal: p, verdict });
      decide(rig.store, p.id, verdict);
    } else if (p.kind === 'edit' && (p.path === 'src/greet.js' || p.path === 'proof.txt')) {
      record.edits.push({ proposal: p, snapshotAtArrival: await snapshot(workspace) });
      decide(rig.store, p.id, 'approve');
    } else {
      assert.fail(`${agent.label}: unexpected proposal ${JSON.stringify(p)}`);
    }
  };
  for (const prompt of PROMPTS) {
    const turn = rig.session.prompt(prompt);
    for (let p = await nextPendingOrEnd(rig.store, seen, turn); p; p = await nextPendingOrEnd(rig.store, seen, turn)) await onProposal(p);
    record.stopReasons.push(await turn);
  }
  // Changes found when the turn ended (copy mode) may still be pending: decide them too.
  for (const p of rig.store.pending().filter((q) => !seen.has(q.id))) {
    seen.add(p.id);
    await onProposal(p);
  }
  // Born-approved changes (sandbox changes carrying an approval) were never pending: record them.
  for (const p of rig.store.all()) {
    if (p.kind === 'edit' && !record.edits.some((e) => e.proposal.id === p.id)) record.edits.push({ proposal: p, snapshotAtArrival: {} });
  }
  if (workspaceMode === 'copy') {
    for (const e of record.edits) await waitForState(rig, e.proposal.id, 'applied');
  }
  return record;
}

/**
 * The agent started with `agent.command`, its model calling one `command`, nobody deciding
 * anything: shows whether the command runs without asking Warden. A permission request, if
 * one comes, stops the session (it stays in the store for the caller to list).
 */
export async function runBareCommand(agent: ScriptedAgent, command: string): Promise<{ rig: RealAgentRig; mock: MockMessagesServer }> {
  const workspace = await makeWorkspace(agent.env);
  const agentsFolder = await makeAgentsFolder();
  // One command (as the model's IDS.bashApproved call), then a message.
  const call = agent.tools.bash(command, 'Run a command');
  const mock = await MockMessagesServer.start(modelPortFile(agentsFolder), (_request, index) =>
    index === 0 ? [{ type: 'tool_use', id: IDS.bashApproved, name: call.name, input: call.input }] : [{ type: 'text', text: 'Done.' }],
  );
  const rig = await startRealAgent({ workspace, agentsFolder, agentCommand: agent.command, workspaceMode: 'readonly' }).catch(
    async (error: unknown) => {
      await mock.close();
      throw error;
    },
  );
  const turn = rig.session.prompt(PROMPTS[1]);
  // A permission request would wait for a decision: end the turn as soon as one appears.
  const asked = nextPendingOrEnd(rig.store, new Set(), turn);
  if (await asked) await rig.session.stop('a permission request reached Warden');
  else await turn;
  return { rig, mock };
}

/** Runs `script` with sh in the running sandbox (as the sandbox user). */
export async function inContainer(rig: RealAgentRig, script: string): Promise<{ exitCode: number | null; output: string }> {
  const sandbox = rig.provider.sandbox;
  assert.ok(sandbox, 'the sandbox is running');
  const command = await sandbox.runCommand(['sh', '-c', script], { cwd: '/' });
  const status = await command.exited;
  return { exitCode: status.exitCode, output: command.output().text };
}

/** The edit proposals for `relative`, in the order they arrived. */
export const editsFor = (record: TurnRecord, relative: string): EditProposal[] =>
  record.edits.map((e) => e.proposal).filter((p) => p.path === relative);

/** The permission requests of one kind, in order. */
export const permissionsOf = (
  record: TurnRecord,
  toolKind: string,
): Array<{ proposal: PermissionProposal; verdict: 'approve' | 'reject' }> =>
  record.permissions.filter((p) => p.proposal.toolKind === toolKind);

/** The current state of a proposal in the store. */
export const current = <T extends Proposal>(record: TurnRecord, proposal: T): T => record.rig.store.get(proposal.id) as T;

/** Resolves once the proposal reaches `state` (store events, no sleeps); fails on another final state. */
export function waitForState(rig: RealAgentRig, id: string, state: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = (): boolean => {
      const p = rig.store.get(id);
      if (p?.state === state) resolve();
      else if (p && p.state !== 'pending' && p.state !== 'approved')
        reject(new Error(`proposal ${p.title} ended ${p.state}${p.stateDetail ? `: ${p.stateDetail}` : ''}, expected ${state}`));
      else return false;
      return true;
    };
    const sub = rig.store.onDidChange(() => {
      if (check()) sub.dispose();
    });
    if (check()) sub.dispose();
  });
}

/** The state changes a moment before its audit entry is appended: wait for the entry (bounded). */
export async function waitForAudit(workspace: string, match: (entry: AuditEntry) => boolean, what: string): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt++) {
    if ((await readAudit(workspace)).some(match)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.fail(`the audit entry never appeared: ${what}`);
}

/**
 * The audit log names the agent as it introduced itself, has each proposal with the human
 * decision and (for permissions) the answer sent back, and verifies end to end.
 */
export async function assertAudit(record: TurnRecord, agentInfo: Record<string, unknown>): Promise<void> {
  const entries = await readAudit(record.workspace);
  const started = entries.find((e) => e.type === 'agent.started');
  assert.deepEqual(started?.data.agentInfo, agentInfo, 'the audit names the agent');
  for (const { proposal } of record.permissions) {
    assert.ok(
      entries.some((e) => e.type === 'proposal' && JSON.stringify(e.data).includes(proposal.id)),
      `proposal ${proposal.id} is on the record`,
    );
    assert.ok(
      entries.some((e) => e.type === 'decision' && e.data.proposalId === proposal.id && e.actor.kind === 'human'),
      `the human decision on ${proposal.id} is on the record`,
    );
    assert.ok(
      entries.some((e) => e.type === 'permission.answered' && e.data.proposalId === proposal.id),
      `the answer sent to the agent for ${proposal.id} is on the record`,
    );
  }
  for (const { proposal } of record.edits) {
    if (current(record, proposal).state === 'applied') {
      await waitForAudit(
        record.workspace,
        (e) => e.type === 'edit.applied' && e.data.proposalId === proposal.id,
        `edit.applied for ${proposal.path}`,
      );
    }
  }
  const report = await verifyAuditLog(record.workspace);
  assert.ok(report.ok, JSON.stringify(report));
}

const sessionNewSchema = z.looseObject({ id: z.literal(1), result: z.looseObject({ sessionId: z.string() }) });

/** The agent's answer to session/new (Warden's second request): its modes and config options. */
export function sessionNewResult(rig: RealAgentRig): Record<string, unknown> | undefined {
  for (const frame of rig.provider.agentFrames) {
    const parsed = sessionNewSchema.safeParse(safeJson(frame));
    if (parsed.success) return parsed.data.result;
  }
  return undefined;
}

const toolCallSchema = z.looseObject({
  method: z.literal('session/update'),
  params: z.looseObject({
    update: z.looseObject({ sessionUpdate: z.literal('tool_call'), toolCallId: z.string(), kind: z.string().optional() }),
  }),
});

/** The kind of each tool call the agent reported (session/update tool_call), by id. */
export function toolCallKinds(rig: RealAgentRig): Map<string, string | undefined> {
  const kinds = new Map<string, string | undefined>();
  for (const frame of rig.provider.agentFrames) {
    const parsed = toolCallSchema.safeParse(safeJson(frame));
    if (parsed.success) kinds.set(parsed.data.params.update.toolCallId, parsed.data.params.update.kind);
  }
  return kinds;
}

/** The agent-to-client requests of one ACP method (e.g. fs/write_text_file), as sent. */
export function agentRequests(rig: RealAgentRig, method: string): Array<Record<string, unknown>> {
  return rig.provider.agentFrames
    .map(safeJson)
    .filter(
      (f): f is { method: string; params: Record<string, unknown> } =>
        !!f && typeof f === 'object' && (f as { method?: unknown }).method === method && 'id' in f,
    )
    .map((f) => f.params);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

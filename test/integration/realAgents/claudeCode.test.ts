import { strict as assert } from 'node:assert';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as z from 'zod';
import { AGENT_PRESETS } from '../../../src/core/agent/presets';
import { verifyAuditLog } from '../../../src/core/audit';
import type { EditProposal, PermissionProposal, Proposal } from '../../../src/core/proposals/model';
import { decisionFor } from '../../../src/core/proposals/decisions';
import { sha256Hex } from '../../../src/core/util/hash';
import { MockMessagesServer, type MessagesTurn } from '../../support/mockResponses/anthropic';
import { readAudit, snapshot } from '../../support/workspace';
import { GREET } from './codexAcpScript';
import {
  decide,
  ensureRealAgentPrerequisites,
  makeAgentsFolder,
  makeWorkspace,
  MODEL_PORT,
  modelPortFile,
  nextPendingOrEnd,
  reviewer,
  startRealAgent,
  VERSIONS,
  type RealAgentRig,
} from './harness';

/**
 * Claude Code through its ACP adapter (`@agentclientprotocol/claude-agent-acp`, formerly
 * `@zed-industries/claude-code-acp`), unmodified, in the agents image, started with the
 * `claude` preset's command. The adapter runs the Claude Code binary from the Claude Agent
 * SDK's platform package. Its model is the scripted mock of the Anthropic Messages API on the
 * host (streaming SSE), reached over an exec-stream forwarder to a loopback port inside the
 * `--network none` container (`ANTHROPIC_BASE_URL`).
 *
 * Claude Code runs its tools itself (Read, Edit, Write, Bash), inside the sandbox: it reads
 * without asking and asks permission for every edit and command, so each permission request
 * is the proposal. It does not use fs/* or terminal/*: with the workspace read-only its
 * approved writes fail on the mount; as a private copy, what it wrote there is proposed
 * again as a change and lands only as reviewed.
 */
const CLAUDE_CODE_VERSION = '2.1.318';
const AGENT = `Claude Code ${CLAUDE_CODE_VERSION} via claude-agent-acp ${VERSIONS.claudeAgentAcp}`;
const CLAUDE_COMMAND = AGENT_PRESETS.claude.command;
const CLAUDE_ENV = {
  ANTHROPIC_BASE_URL: `http://127.0.0.1:${MODEL_PORT}`,
  ANTHROPIC_API_KEY: 'sk-ant-mock-not-a-secret',
  // Nothing but the model: no telemetry, error reports or update checks (they could not leave anyway).
  CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
  DISABLE_AUTOUPDATER: '1',
  DISABLE_TELEMETRY: '1',
};
const GREET_AFTER = GREET.replace('name;', "name + '!';");
const README = '# Greeter\n\nA tiny module the real-agent tests edit.\n';
const FAREWELL = "module.exports = { farewell: (name) => 'Goodbye, ' + name };\n";
/** What Claude Code tells the model when the user rejects a tool use. */
const REFUSED = /refused permission/i;

/**
 * The adapter's own options, offered to the reviewer as they are: a one-time allow, a reject,
 * and for edits (and commands it can name a rule for) an "always" option that would change
 * Claude Code's settings. Warden answers with the one-time options only.
 */
function assertOptions(proposal: PermissionProposal, what: 'edit' | 'command'): void {
  const byId = new Map(proposal.options.map((o) => [o.optionId, o]));
  assert.deepEqual(
    byId.get('allow-once'),
    { optionId: 'allow-once', name: 'Yes', kind: 'allow_once' },
    `the ${what} offers Claude Code's own allow-once option (${JSON.stringify(proposal.options)})`,
  );
  assert.deepEqual(
    byId.get('reject'),
    { optionId: 'reject', name: 'No', kind: 'reject_once' },
    `the ${what} offers Claude Code's own reject option`,
  );
  if (what === 'edit') {
    assert.deepEqual(byId.get('allow-with-updates'), {
      optionId: 'allow-with-updates',
      name: 'Yes, allow all edits during this session',
      kind: 'allow_always',
    });
  }
  for (const option of proposal.options.filter((o) => !['allow-once', 'reject'].includes(o.optionId))) {
    assert.deepEqual(
      [option.optionId, option.kind],
      ['allow-with-updates', 'allow_always'],
      `any other option is Claude Code's "don't ask again" (${JSON.stringify(option)})`,
    );
  }
}

/** One model turn calling one tool (`id` is how the test finds its result later). */
const tool =
  (id: string, name: string, input: Record<string, unknown>): MessagesTurn =>
  () => [{ type: 'tool_use', id, name, input }];
const say =
  (text: string): MessagesTurn =>
  () => [{ type: 'text', text }];

for (const workspaceMode of ['readonly', 'copy'] as const) {
  describe(`real agent: ${AGENT} over ACP, workspace ${workspaceMode === 'copy' ? 'as a private copy' : 'read-only'} (mock Messages API, real Docker)`, function () {
    this.timeout(180_000);
    let rig: RealAgentRig | undefined;
    let mock: MockMessagesServer | undefined;

    before(async function () {
      this.timeout(600_000);
      await ensureRealAgentPrerequisites();
    });

    afterEach(async function () {
      // A failure says what the agent asked of the model and what it logged.
      if (this.currentTest?.state === 'failed') console.error(`mock: ${mock?.describe()}\n${rig?.log.slice(-40).join('\n')}`);
      // A request the mock does not serve is said even when the test passes: a new version may depend on it.
      else if (mock?.otherRequests.length)
        console.warn(`${AGENT} asked the mock for what it does not serve: ${mock.otherRequests.join(' | ')}`);
      await rig?.dispose();
      await mock?.close();
      rig = undefined;
      mock = undefined;
    });

    /** A session whose model follows `script(root)`, root being the workspace folder in the container. */
    async function start(
      script: (root: string) => MessagesTurn[],
      agentCommand = CLAUDE_COMMAND,
    ): Promise<{ rig: RealAgentRig; mock: MockMessagesServer; root: string }> {
      const workspace = await makeWorkspace(CLAUDE_ENV);
      const root = `/workspaces/${path.basename(workspace)}`;
      const agentsFolder = await makeAgentsFolder();
      mock = await MockMessagesServer.start(modelPortFile(agentsFolder), script(root));
      rig = await startRealAgent({ workspace, agentsFolder, agentCommand, workspaceMode: workspaceMode });
      return { rig, mock, root };
    }

    /** The next proposal, or a failure that quotes what the agent asked of the model and said. */
    async function next(seen: Set<string>, turn: Promise<unknown>, what: string): Promise<Proposal> {
      const proposal = await nextPendingOrEnd(rig!.store, seen, turn);
      if (proposal) return proposal;
      return assert.fail(
        `${AGENT} ended its turn before ${what}; mock: ${mock?.describe()}; tool errors: ${rig?.provider.failedToolTexts().join(' | ') || 'none'}`,
      );
    }

    async function inContainer(script: string): Promise<{ exitCode: number | null; output: string }> {
      const sandbox = rig?.provider.sandbox;
      assert.ok(sandbox, 'the sandbox is running');
      const command = await sandbox.runCommand(['sh', '-c', script], { cwd: '/' });
      const status = await command.exited;
      return { exitCode: status.exitCode, output: command.output().text };
    }

    it('the preset starts Claude Code in Manual mode, and the image holds the pinned Claude Code', async () => {
      const started = await start(() => []);
      const modes = sessionNewResult(started.rig)?.modes;
      assert.equal(
        modes?.currentModeId,
        'default',
        `the preset's settings put Claude Code in Manual mode, where every edit and command asks (modes: ${JSON.stringify(modes)})`,
      );
      assert.ok(
        !modes?.availableModes.some((m) => m.id === 'auto' || m.id === 'bypassPermissions'),
        'auto and bypass modes are switched off',
      );
      const version = await inContainer('claude-agent-acp --cli --version');
      assert.match(
        version.output,
        new RegExp(`^${CLAUDE_CODE_VERSION.replace(/\./g, '\\.')} \\(Claude Code\\)`),
        'the adapter runs the Claude Code binary of the pinned SDK',
      );
    });

    it('reads with its own tool without asking; an edit asks with the whole-file diff: approved, it lands as reviewed (copy) or the read-only mount refuses it; rejected, it is never written', async () => {
      const { store, workspace } = (
        await start((root) => [
          tool('toolu_read', 'Read', { file_path: `${root}/src/greet.js` }),
          tool('toolu_edit_approved', 'Edit', {
            file_path: `${root}/src/greet.js`,
            old_string: "  return 'Hello, ' + name;",
            new_string: "  return 'Hello, ' + name + '!';",
          }),
          tool('toolu_read_readme', 'Read', { file_path: `${root}/README.md` }),
          tool('toolu_edit_rejected', 'Edit', { file_path: `${root}/README.md`, old_string: '# Greeter', new_string: '# Farewell' }),
          say('Greeting handled.'),
        ])
      ).rig;
      const before = await snapshot(workspace);
      const seen = new Set<string>();
      const turn = rig!.session.prompt('Make the greeting enthusiastic');

      const approved = await next(seen, turn, 'asking to edit');
      assertEditPermission(approved, GREET, GREET_AFTER);
      // The read came first, and needed no permission: Claude Code read the file itself in the sandbox.
      assert.equal(mock!.toolResult('toolu_read')?.isError, false);
      assert.match(
        mock!.toolResult('toolu_read')?.text ?? '',
        /2\t {2}return 'Hello, ' \+ name;/,
        'the file Claude Code read reached the model',
      );
      assert.ok(toolCallKinds(rig!).get('toolu_read') === 'read', 'the read was reported to Warden as a read tool call');
      assert.deepEqual(await snapshot(workspace), before, 'nothing changed while the edit waits for review');
      decide(store, approved.id, 'approve');

      const rejected = await next(seen, turn, 'asking for the second edit');
      assertEditPermission(rejected, README, README.replace('# Greeter', '# Farewell'));
      decide(store, rejected.id, 'reject');
      assert.equal(await turn, 'end_turn', 'Claude Code goes on after a rejection and ends its turn');

      assert.equal(
        (store.get(approved.id) as PermissionProposal).chosenOptionId,
        'allow-once',
        'Claude Code received its own allow-once option',
      );
      assert.equal((store.get(rejected.id) as PermissionProposal).chosenOptionId, 'reject', 'Claude Code received its own reject option');
      assert.match(mock!.toolResult('toolu_edit_rejected')?.text ?? '', REFUSED, 'the model was told the edit was refused');
      if (workspaceMode === 'readonly') {
        // Claude Code writes itself: the read-only mount stops it, whatever was approved.
        assert.match(mock!.toolResult('toolu_edit_approved')?.text ?? '', /EROFS: read-only file system/);
        assert.deepEqual(await snapshot(workspace), before, 'the workspace is unchanged');
      } else {
        // Claude Code edited its copy; the change carries the earlier approval and lands as reviewed.
        assert.equal(mock!.toolResult('toolu_edit_approved')?.isError, false, mock!.toolResult('toolu_edit_approved')?.text);
        const change = await waitForEdit(rig!, 'src/greet.js');
        assert.equal(
          change.newHash,
          (store.get(approved.id) as PermissionProposal).edit?.newHash,
          'the bytes Claude Code wrote are the bytes the reviewer approved',
        );
        await waitForState(rig!, change.id, 'applied');
        const landed = await fs.readFile(path.join(workspace, 'src/greet.js'));
        assert.equal(landed.toString('utf8'), GREET_AFTER, 'the approved edit landed byte for byte; the rejected one did not');
        assert.equal(sha256Hex(landed), change.newHash);
        await waitForAudit(workspace, (e) => e.type === 'edit.applied' && e.data.proposalId === change.id);
      }
      await assertAudit(workspace, [approved.id, rejected.id]);
    });

    if (workspaceMode === 'copy')
      it("an edit accepted with the reviewer's change: Claude Code's tool succeeds, its copy gets what landed, the model is told at the next instruction, and it neither retries nor reverts", async () => {
        const reviewed = GREET_AFTER.replace("+ '!'", "+ '!!'");
        const { store, workspace } = (
          await start((root) => [
            tool('toolu_read', 'Read', { file_path: `${root}/src/greet.js` }),
            tool('toolu_edit', 'Edit', {
              file_path: `${root}/src/greet.js`,
              old_string: "  return 'Hello, ' + name;",
              new_string: "  return 'Hello, ' + name + '!';",
            }),
            say('Greeting updated.'),
            say('Understood.'),
          ])
        ).rig;
        const turn = rig!.session.prompt('Make the greeting enthusiastic');
        const permission = await next(new Set(), turn, 'asking to edit');
        assertEditPermission(permission, GREET, GREET_AFTER);
        store.decide(
          permission.id,
          decisionFor(permission, { kind: 'editedText', text: reviewed, newHash: permission.edit!.newHash }, reviewer),
        );
        assert.equal(await turn, 'end_turn');
        assert.equal(mock!.toolResult('toolu_edit')?.isError, false, 'Claude Code was told its edit succeeded');

        const change = await waitForEdit(rig!, 'src/greet.js');
        await waitForState(rig!, change.id, 'applied');
        assert.equal(store.get(change.id)?.decision?.editedText, reviewed, "the change carries the reviewer's edit of the permission");
        assert.equal(await fs.readFile(path.join(workspace, 'src/greet.js'), 'utf8'), reviewed, "the reviewer's version landed");
        await waitForAudit(workspace, (e) => e.type === 'sandbox.change.restored' && e.data.proposalId === change.id);
        const copy = rig!.provider.sandbox?.copyHostPath;
        assert.ok(copy);
        assert.equal(await fs.readFile(path.join(copy, 'src/greet.js'), 'utf8'), reviewed, "Claude Code's copy holds what landed");

        const requestsBefore = mock!.requests.length;
        assert.equal(await rig!.session.prompt('Carry on'), 'end_turn');
        const told = JSON.stringify(mock!.requests.at(-1)?.messages ?? []);
        assert.match(told, /\[Warden\] Since your last turn/, 'the next instruction starts with what the reviewer did');
        assert.match(told, /src\/greet\.js was applied with the reviewer's changes \(the reviewer edited your change to src\/greet\.js/);
        assert.equal(
          mock!.requests.length,
          requestsBefore + 1,
          `one model call for the new instruction: no retry; the calls were:\n${mock!.describeRequests()}`,
        );
        assert.equal(store.all().filter((p) => p.kind === 'permission').length, 1, 'Claude Code asked to edit once');
        assert.equal(await fs.readFile(path.join(workspace, 'src/greet.js'), 'utf8'), reviewed, 'nothing reverted it');
        assert.ok((await verifyAuditLog(workspace)).ok);
      });

    it('a command: approved, it runs in the container and its output reaches the model; rejected, it never runs', async () => {
      const { store, workspace } = (
        await start(() => [
          tool('toolu_bash_approved', 'Bash', {
            command: 'touch /tmp/approved-proof && echo ran-$((6*7)) | tee proof.txt',
            description: 'Write the proof',
          }),
          tool('toolu_bash_rejected', 'Bash', {
            command: 'touch /tmp/rejected-proof && echo nope > rejected.txt',
            description: 'Write another proof',
          }),
          say('Commands handled.'),
        ])
      ).rig;
      const before = await snapshot(workspace);
      const seen = new Set<string>();
      const turn = rig!.session.prompt('Run the proof commands');

      const approved = await next(seen, turn, 'asking to run a command');
      assertCommandPermission(approved, 'touch /tmp/approved-proof');
      assert.equal((await inContainer('test -e /tmp/approved-proof')).exitCode, 1, 'the command has not run before approval');
      decide(store, approved.id, 'approve');

      let change: EditProposal | undefined;
      let rejected: PermissionProposal | undefined;
      // In copy mode the file the approved command wrote is a proposal too; it may come before
      // or after the second command's permission, or once the turn has ended.
      const onProposal = async (p: Proposal): Promise<void> => {
        if (p.kind === 'permission' && p.commandLine?.includes('rejected-proof')) {
          assertCommandPermission(p, 'touch /tmp/rejected-proof');
          rejected = p;
          decide(store, p.id, 'reject');
        } else if (workspaceMode === 'copy' && p.kind === 'edit' && p.origin === 'sandbox/change' && p.path === 'proof.txt') {
          change = p;
          assert.equal(p.newText, 'ran-42\n', 'the shell really ran the approved command in the copy');
          assert.deepEqual(await snapshot(workspace), before, 'nothing reached the workspace before the change was approved');
          decide(store, p.id, 'approve');
        } else {
          assert.fail(`unexpected proposal ${JSON.stringify(p)}`);
        }
      };
      for (
        let p: Proposal | undefined = await next(seen, turn, 'asking for the second command');
        p;
        p = await nextPendingOrEnd(store, seen, turn)
      )
        await onProposal(p);
      if (workspaceMode === 'copy' && !change) await onProposal(await waitForEdit(rig!, 'proof.txt'));
      assert.equal(await turn, 'end_turn');
      assert.ok(rejected, 'the second command asked permission');

      assert.equal((await inContainer('test -e /tmp/approved-proof')).exitCode, 0, 'the approved command ran in the container');
      assert.match(
        mock!.toolResult('toolu_bash_approved')?.text ?? '',
        /ran-42/,
        'the shell evaluated $((6*7)) and Claude Code reported the output to the model',
      );
      assert.equal((await inContainer('test -e /tmp/rejected-proof')).exitCode, 1, 'the rejected command never ran');
      assert.match(mock!.toolResult('toolu_bash_rejected')?.text ?? '', REFUSED, 'the model was told the command was refused');
      assert.equal((store.get(approved.id) as PermissionProposal).chosenOptionId, 'allow-once');
      assert.equal((store.get(rejected.id) as PermissionProposal).chosenOptionId, 'reject');
      assert.ok(!existsSync(path.join(workspace, 'rejected.txt')));
      if (workspaceMode === 'readonly') {
        assert.match(
          mock!.toolResult('toolu_bash_approved')?.text ?? '',
          /Read-only file system/,
          'tee could not write the read-only workspace',
        );
        assert.deepEqual(await snapshot(workspace), before, 'the workspace is unchanged');
      } else {
        assert.ok(
          change,
          `the file the approved command wrote became a proposal (proposals: ${store
            .all()
            .map((p) => `${p.origin} ${p.title} ${p.state}`)
            .join('; ')})`,
        );
        const changeId = change.id;
        await waitForState(rig!, changeId, 'applied');
        assert.equal(await fs.readFile(path.join(workspace, 'proof.txt'), 'utf8'), 'ran-42\n');
        await waitForAudit(workspace, (e) => e.type === 'edit.applied' && e.data.proposalId === changeId);
      }
      await assertAudit(workspace, [approved.id, rejected.id]);
    });

    it('a new file through Write: the permission shows the whole new file; it lands only in the copy and only once approved', async () => {
      const { store, workspace } = (
        await start((root) => [
          tool('toolu_write', 'Write', { file_path: `${root}/src/farewell.js`, content: FAREWELL }),
          say('Added farewell.js.'),
        ])
      ).rig;
      const seen = new Set<string>();
      const turn = rig!.session.prompt('Add a farewell module');
      const permission = await next(seen, turn, 'asking to write a new file');
      assertEditPermission(permission, null, FAREWELL);
      assert.ok(!existsSync(path.join(workspace, 'src/farewell.js')), 'nothing is written before approval');
      decide(store, permission.id, 'approve');
      assert.equal(await turn, 'end_turn');
      if (workspaceMode === 'readonly') {
        assert.match(
          mock!.toolResult('toolu_write')?.text ?? '',
          /EROFS: read-only file system/,
          "the read-only mount refused Claude Code's own write",
        );
        assert.ok(!existsSync(path.join(workspace, 'src/farewell.js')));
      } else {
        const created = await waitForEdit(rig!, 'src/farewell.js');
        assert.equal(created.oldText, null, 'a create');
        assert.equal(created.newHash, sha256Hex(FAREWELL));
        await waitForState(rig!, created.id, 'applied');
        assert.equal(await fs.readFile(path.join(workspace, 'src/farewell.js'), 'utf8'), FAREWELL);
        await waitForAudit(workspace, (e) => e.type === 'edit.applied' && e.data.proposalId === created.id);
      }
      await assertAudit(workspace, [permission.id]);
    });

    if (workspaceMode === 'readonly') {
      it('the bare adapter command (no settings) starts in auto mode and edits without asking Warden: why the preset sets Manual mode', async () => {
        await start(
          (root) => [
            tool('toolu_read', 'Read', { file_path: `${root}/src/greet.js` }),
            tool('toolu_edit_unasked', 'Edit', {
              file_path: `${root}/src/greet.js`,
              old_string: "  return 'Hello, ' + name;",
              new_string: "  return 'Hello, ' + name + '?';",
            }),
            say('Done.'),
          ],
          'claude-agent-acp',
        );
        const before = await snapshot(rig!.workspace);
        assert.equal(await rig!.session.prompt('Edit the greeting'), 'end_turn');
        assert.equal(sessionNewResult(rig!)?.modes?.currentModeId, 'auto', 'without a defaultMode the adapter starts in auto mode');
        assert.deepEqual(
          rig!.store.all().map((p) => p.title),
          [],
          'no permission request reached Warden: auto mode let Claude Code edit its working folder on its own',
        );
        assert.match(
          mock!.toolResult('toolu_edit_unasked')?.text ?? '',
          /EROFS: read-only file system/,
          'Claude Code tried to write; only the sandbox stopped it',
        );
        assert.deepEqual(await snapshot(rig!.workspace), before);
      });
    }
  });
}

function assertEditPermission(proposal: Proposal, oldText: string | null, newText: string): asserts proposal is PermissionProposal {
  assert.ok(proposal.kind === 'permission', `${AGENT} asks permission for an edit (got ${JSON.stringify(proposal)})`);
  assert.equal(proposal.toolKind, 'edit');
  assert.ok(proposal.edit, `the permission carries the edit (${JSON.stringify(proposal)})`);
  assert.equal(proposal.edit.unlocated, undefined, "Warden placed the agent's diff in the current file");
  assert.equal(proposal.edit.oldText, oldText, 'the reviewer compares against the current file');
  assert.equal(proposal.edit.newText, newText, 'the reviewer sees the whole file after the edit');
  assert.equal(proposal.edit.newHash, sha256Hex(newText));
  assertOptions(proposal, 'edit');
}

function assertCommandPermission(proposal: Proposal, expected: string): asserts proposal is PermissionProposal {
  assert.ok(proposal.kind === 'permission', `${AGENT} asks permission for a command (got ${JSON.stringify(proposal)})`);
  assert.equal(proposal.toolKind, 'execute');
  assert.ok(proposal.commandLine?.startsWith(expected), `the reviewer sees the command line itself (${proposal.commandLine})`);
  assertOptions(proposal, 'command');
}

async function assertAudit(workspace: string, proposalIds: string[]): Promise<void> {
  const entries = await readAudit(workspace);
  const started = entries.find((e) => e.type === 'agent.started');
  assert.deepEqual(
    started?.data.agentInfo,
    { name: '@agentclientprotocol/claude-agent-acp', title: 'Claude Agent', version: VERSIONS.claudeAgentAcp },
    'the audit names the agent',
  );
  for (const id of proposalIds) {
    assert.ok(
      entries.some((e) => e.type === 'proposal' && JSON.stringify(e.data).includes(id)),
      `proposal ${id} is on the record`,
    );
    assert.ok(
      entries.some((e) => e.type === 'decision' && e.data.proposalId === id && e.actor.kind === 'human'),
      `the human decision on ${id} is on the record`,
    );
    assert.ok(
      entries.some((e) => e.type === 'permission.answered' && e.data.proposalId === id),
      `the answer sent to the agent for ${id} is on the record`,
    );
  }
  const report = await verifyAuditLog(workspace);
  assert.ok(report.ok, JSON.stringify(report));
}

const modesSchema = z.looseObject({ currentModeId: z.string(), availableModes: z.array(z.looseObject({ id: z.string() })) });
const sessionNewSchema = z.looseObject({
  id: z.literal(1),
  result: z.looseObject({ sessionId: z.string(), modes: modesSchema.optional() }),
});

/** The agent's answer to session/new (Warden's second request), with its permission modes. */
function sessionNewResult(rig: RealAgentRig): z.infer<typeof sessionNewSchema>['result'] | undefined {
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
function toolCallKinds(rig: RealAgentRig): Map<string, string | undefined> {
  const kinds = new Map<string, string | undefined>();
  for (const frame of rig.provider.agentFrames) {
    const parsed = toolCallSchema.safeParse(safeJson(frame));
    if (parsed.success) kinds.set(parsed.data.params.update.toolCallId, parsed.data.params.update.kind);
  }
  return kinds;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Resolves once the proposal reaches `state` (store events, no sleeps); fails on another final state. */
function waitForState(rig: RealAgentRig, id: string, state: string): Promise<void> {
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

/** The sandbox-change proposal for `relative` (born approved through the earlier permission, or pending). */
function waitForEdit(rig: RealAgentRig, relative: string): Promise<EditProposal> {
  return new Promise((resolve) => {
    const check = (): boolean => {
      const found = rig.store
        .all()
        .find((p): p is EditProposal => p.kind === 'edit' && p.origin === 'sandbox/change' && p.path === relative);
      if (found) resolve(found);
      return !!found;
    };
    const sub = rig.store.onDidChange(() => {
      if (check()) sub.dispose();
    });
    if (check()) sub.dispose();
  });
}

/** The state changes a moment before its audit entry is appended: wait for the entry (bounded). */
async function waitForAudit(workspace: string, match: (entry: Awaited<ReturnType<typeof readAudit>>[number]) => boolean): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt++) {
    if ((await readAudit(workspace)).some(match)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.fail('the expected audit entry never appeared');
}

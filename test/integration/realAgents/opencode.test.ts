import { strict as assert } from 'node:assert';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { AGENT_PRESETS, OPENCODE_PERMISSION } from '../../../src/core/agent/presets';
import { sha256Hex } from '../../../src/core/util/hash';
import { snapshot } from '../../support/workspace';
import { GREET } from './codexAcpScript';
import { ensureRealAgentPrerequisites, MODEL_PORT, VERSIONS } from './harness';
import {
  agentRequests,
  assertAudit,
  current,
  editsFor,
  GREET_AFTER,
  IDS,
  inContainer,
  permissionsOf,
  README,
  runBareCommand,
  runScriptedTurn,
  toolCallKinds,
  type ScriptedAgent,
  type TurnRecord,
} from './scriptedTurn';

/**
 * OpenCode (`opencode-ai`, its native binary from `opencode-linux-x64`), unmodified, in the
 * agents image, started with the `opencode` preset's command (`opencode acp`). Offline: its
 * configuration (`OPENCODE_CONFIG_CONTENT`) points the anthropic provider at the scripted
 * Messages mock on the host, forwarded into the `--network none` container; the models.dev
 * fetch, auto-update and LSP downloads are off.
 *
 * OpenCode runs its tools itself inside the sandbox (`read`, `edit`, `write`, `bash`). Its own
 * default is to allow edits and commands without asking; the preset sets
 * `OPENCODE_PERMISSION` (merged over every config file OpenCode reads) so they ask. When an
 * edit is approved, OpenCode first sends the whole new file through `fs/write_text_file`
 * (Warden applies it as the approved bytes), then also writes the file itself in the sandbox.
 */
const AGENT = `OpenCode ${VERSIONS.opencode}`;
const CONFIG = {
  $schema: 'https://opencode.ai/config.json',
  autoupdate: false,
  share: 'disabled',
  model: 'anthropic/claude-sonnet-4-5',
  provider: { anthropic: { options: { baseURL: `http://127.0.0.1:${MODEL_PORT}/v1`, apiKey: 'sk-ant-mock-not-a-secret' } } },
  // What a repository's own opencode.json could say: the preset's OPENCODE_PERMISSION wins.
  permission: { edit: 'allow', bash: 'allow' },
};
const OPENCODE: ScriptedAgent = {
  label: AGENT,
  command: AGENT_PRESETS.opencode.command,
  env: {
    OPENCODE_CONFIG_CONTENT: JSON.stringify(CONFIG),
    OPENCODE_DISABLE_MODELS_FETCH: 'true',
    OPENCODE_DISABLE_AUTOUPDATE: 'true',
    OPENCODE_DISABLE_LSP_DOWNLOAD: 'true',
  },
  tools: {
    read: (file) => ({ name: 'read', input: { filePath: file } }),
    edit: (file, oldText, newText) => ({ name: 'edit', input: { filePath: file, oldString: oldText, newString: newText } }),
    bash: (command, description) => ({ name: 'bash', input: { command, description } }),
  },
};
/** OpenCode's own options, offered to the reviewer as they are. */
const OPTIONS = [
  { optionId: 'once', kind: 'allow_once', name: 'Allow once' },
  { optionId: 'always', kind: 'allow_always', name: 'Always allow' },
  { optionId: 'reject', kind: 'reject_once', name: 'Reject' },
];
/** What OpenCode tells the model when the reviewer rejects a tool call. */
const REFUSED = /rejected/i;

for (const workspaceMode of ['readonly', 'copy'] as const) {
  describe(`real agent: ${AGENT} over ACP, workspace ${workspaceMode === 'copy' ? 'as a private copy' : 'read-only'} (mock Messages API, real Docker)`, function () {
    this.timeout(180_000);
    let turn: TurnRecord | undefined;

    before(async function () {
      this.timeout(600_000);
      await ensureRealAgentPrerequisites();
      // One session runs the whole scripted conversation; each test below asserts one part of it.
      turn = await runScriptedTurn(OPENCODE, workspaceMode);
    });

    after(async function () {
      const failed = this.test?.parent?.tests.some((t) => t.state === 'failed');
      if (failed) console.error(`mock: ${turn?.mock.describe()}\n${turn?.rig.log.slice(-40).join('\n')}`);
      else if (turn?.mock.otherRequests.length)
        console.warn(`${AGENT} asked the mock for what it does not serve: ${turn.mock.otherRequests.join(' | ')}`);
      await turn?.rig.dispose();
      await turn?.mock.close();
    });

    const t = (): TurnRecord => {
      assert.ok(turn, 'the scripted turn ran');
      return turn;
    };

    it('runs the pinned OpenCode offline through the preset, asking before edits and commands although its config says allow', async () => {
      assert.deepEqual(t().stopReasons, ['end_turn', 'end_turn', 'end_turn'], `each prompt ended normally (mock: ${t().mock.describe()})`);
      assert.match(AGENT_PRESETS.opencode.command, /^env OPENCODE_PERMISSION='.*' opencode acp$/);
      assert.deepEqual(OPENCODE_PERMISSION, { edit: 'ask', bash: 'ask', webfetch: 'ask', external_directory: 'ask' });
      const version = await inContainer(t().rig, 'opencode --version');
      assert.equal(version.output.trim(), VERSIONS.opencode);
      assert.deepEqual(t().mock.otherRequests, [], 'it asked the model host for nothing but messages');
    });

    it('reads with its own read tool without asking: the file reaches the model, Warden sees a read tool call', () => {
      const read = t().mock.toolResult(IDS.read);
      assert.equal(read?.isError, false, read?.text);
      assert.match(read?.text ?? '', /return 'Hello, ' \+ name;/);
      assert.equal(toolCallKinds(t().rig).get(IDS.read), 'read');
      // Two edits; for the approved command a permission to touch /tmp (outside the workspace), then the
      // command itself; for the rejected command the /tmp permission, rejected, so its bash never asks.
      assert.deepEqual(
        t().permissions.map((p) => [p.proposal.toolKind, p.verdict, p.proposal.title]),
        [
          ['edit', 'approve', `${t().root}/src/greet.js`],
          ['edit', 'reject', `${t().root}/README.md`],
          ['other', 'approve', 'touch /tmp/approved-proof && echo ran-$((6*7)) | tee proof.txt'],
          ['execute', 'approve', 'touch /tmp/approved-proof && echo ran-$((6*7)) | tee proof.txt'],
          ['other', 'reject', 'touch /tmp/rejected-proof && echo nope > rejected.txt'],
        ],
        'only the edits and commands asked: each edit once, each command for the path outside the workspace it touches and then to run',
      );
    });

    it("asks for each edit and command with OpenCode's own options, and answers with the one-time ones", () => {
      for (const { proposal, verdict } of t().permissions) {
        assert.deepEqual(proposal.options, OPTIONS, `${proposal.title} offers OpenCode's own options`);
        assert.equal(
          current(t(), proposal).chosenOptionId,
          verdict === 'approve' ? 'once' : 'reject',
          `${proposal.title}: OpenCode received its own ${verdict} option`,
        );
      }
    });

    it('an edit asks with the whole-file diff; approved, the reviewed bytes land through fs/write_text_file; rejected, nothing is written anywhere', async () => {
      const [approved, rejected] = permissionsOf(t(), 'edit');
      assert.ok(approved && rejected, 'both edits asked');
      assert.equal(approved.proposal.edit?.unlocated, undefined, "Warden placed the agent's diff in the current file");
      assert.equal(approved.proposal.edit?.oldText, GREET, 'the reviewer compares against the current file');
      assert.equal(approved.proposal.edit?.newText, GREET_AFTER, 'the reviewer sees the whole file after the edit');
      assert.equal(rejected.proposal.edit?.newText, README.replace('# Greeter', '# Farewell'));
      // After the approval OpenCode sent the new file through the client: the approved bytes.
      const writes = agentRequests(t().rig, 'fs/write_text_file');
      assert.deepEqual(
        writes.map((w) => [path.posix.relative(t().root, String(w.path)), w.content]),
        [['src/greet.js', GREET_AFTER]],
        'one write, of the approved edit only',
      );
      const landed = await fs.readFile(path.join(t().workspace, 'src/greet.js'));
      assert.equal(landed.toString('utf8'), GREET_AFTER, 'the approved edit landed byte for byte');
      assert.equal(sha256Hex(landed), approved.proposal.edit?.newHash, 'the bytes applied are the bytes reviewed');
      const changes = editsFor(t(), 'src/greet.js');
      assert.ok(
        changes.some((c) => current(t(), c).state === 'applied'),
        `the write was applied by Warden (${changes.map((c) => `${c.origin} ${current(t(), c).state}`).join(', ')})`,
      );
      for (const change of changes)
        assert.equal(change.newHash, sha256Hex(GREET_AFTER), `${change.origin}: only the reviewed bytes were ever proposed`);
      assert.equal(await fs.readFile(path.join(t().workspace, 'README.md'), 'utf8'), README, 'the rejected edit never landed');
      assert.deepEqual(editsFor(t(), 'README.md'), [], 'the rejected edit was not written through the client or in the sandbox');
      assert.match(t().mock.toolResult(IDS.editRejected)?.text ?? '', REFUSED, 'the model was told the edit was refused');
      if (workspaceMode === 'readonly') {
        // OpenCode then writes the file itself too: the read-only mount refuses that second write, and the model is told so.
        assert.match(
          t().mock.toolResult(IDS.editApproved)?.text ?? '',
          /PermissionDenied: FileSystem\.writeFile/,
          t().mock.toolResult(IDS.editApproved)?.text,
        );
      }
    });

    it('a command approved runs in the container with its output back to the model; one rejected never runs', async () => {
      const commands = permissionsOf(t(), 'execute');
      const approved = commands.find((p) => p.verdict === 'approve');
      const rejected = t().permissions.find((p) => p.verdict === 'reject' && p.proposal.toolKind === 'other');
      assert.equal(
        approved?.proposal.commandLine,
        'touch /tmp/approved-proof && echo ran-$((6*7)) | tee proof.txt',
        'the reviewer sees the command line itself',
      );
      assert.equal(
        rejected?.proposal.title,
        'touch /tmp/rejected-proof && echo nope > rejected.txt',
        'the /tmp permission of the rejected command names it',
      );
      assert.equal(t().approvedProofBeforeDecision, 1, 'the command had not run before approval');
      assert.equal((await inContainer(t().rig, 'test -e /tmp/approved-proof')).exitCode, 0, 'the approved command ran in the container');
      assert.match(
        t().mock.toolResult(IDS.bashApproved)?.text ?? '',
        /ran-42/,
        'the shell evaluated $((6*7)) and OpenCode reported the output to the model',
      );
      assert.equal((await inContainer(t().rig, 'test -e /tmp/rejected-proof')).exitCode, 1, 'the rejected command never ran');
      assert.match(t().mock.toolResult(IDS.bashRejected)?.text ?? '', REFUSED, 'the model was told the command was refused');
      assert.ok(!existsSync(path.join(t().workspace, 'rejected.txt')));
      if (workspaceMode === 'readonly') {
        assert.match(
          t().mock.toolResult(IDS.bashApproved)?.text ?? '',
          /Read-only file system/,
          'tee could not write the read-only workspace',
        );
        const after = await snapshot(t().workspace);
        assert.deepEqual(
          { ...after, 'src/greet.js': t().before['src/greet.js'] },
          t().before,
          'nothing but the approved edit changed the workspace',
        );
      } else {
        const [change] = editsFor(t(), 'proof.txt');
        assert.ok(change, 'the file the approved command wrote in the copy became a proposal');
        assert.equal(change.newText, 'ran-42\n');
        assert.equal(current(t(), change).state, 'applied', 'it landed once approved');
        assert.equal(await fs.readFile(path.join(t().workspace, 'proof.txt'), 'utf8'), 'ran-42\n');
      }
    });

    if (workspaceMode === 'readonly') {
      it("why the preset sets OPENCODE_PERMISSION: bare `opencode acp` runs a command in the workspace without asking Warden (OpenCode's default is allow)", async () => {
        const bare = await runBareCommand(
          {
            ...OPENCODE,
            command: 'opencode acp',
            env: { ...OPENCODE.env, OPENCODE_CONFIG_CONTENT: JSON.stringify({ ...CONFIG, permission: undefined }) },
          },
          'echo ran-$((6*7))',
        );
        try {
          assert.deepEqual(
            bare.rig.store.all().map((p) => p.title),
            [],
            'no permission request reached Warden',
          );
          assert.match(bare.mock.toolResult(IDS.bashApproved)?.text ?? '', /ran-42/, 'the command ran unasked');
        } finally {
          await bare.rig.dispose();
          await bare.mock.close();
        }
      });
    }

    it('the audit log names OpenCode, holds every proposal, decision, answer and applied write, and verifies', async () => {
      await assertAudit(t(), { name: 'OpenCode', version: VERSIONS.opencode });
    });
  });
}

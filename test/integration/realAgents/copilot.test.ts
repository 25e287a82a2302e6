import { strict as assert } from 'node:assert';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { resolveAgent } from '../../../src/core/agent/presets';
import type { PermissionProposal } from '../../../src/core/proposals/model';
import { sha256Hex } from '../../../src/core/util/hash';
import { snapshot } from '../../support/workspace';
import { GREET } from './codexAcpScript';
import { ensureRealAgentPrerequisites, MODEL_PORT, VERSIONS } from './harness';
import {
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
  sessionNewResult,
  toolCallKinds,
  type ScriptedAgent,
  type TurnRecord,
} from './scriptedTurn';

/**
 * GitHub Copilot CLI (`@github/copilot`, its native binary from `@github/copilot-linux-x64`),
 * unmodified, in the agents image, speaking ACP (`copilot --acp`). Offline: `COPILOT_OFFLINE`
 * turns off GitHub sign-in, telemetry, web tools and auto-update, and its model is a "bring
 * your own key" provider of type anthropic: the scripted Anthropic Messages mock on the host,
 * forwarded into the `--network none` container.
 *
 * Copilot runs its tools itself inside the sandbox (`view`, `edit`, `create`, `bash`): it
 * reads without asking and asks permission for each edit and command (its default; Warden
 * never sends its "allow all" option or mode). It does not use fs/* or terminal/*.
 *
 * The `copilot` preset's command runs, as a user's session would start it.
 * `COPILOT_ALLOW_ALL=false` in it wins over a `COPILOT_ALLOW_ALL=true` that a repository's
 * devcontainer.json could set (which would approve every tool without asking); these tests
 * set exactly that in the container's environment and Copilot still asks.
 */
const AGENT = `GitHub Copilot CLI ${VERSIONS.copilot}`;
const COPILOT: ScriptedAgent = {
  label: AGENT,
  command: resolveAgent({ preset: 'copilot' }).command,
  env: {
    COPILOT_OFFLINE: 'true',
    COPILOT_PROVIDER_TYPE: 'anthropic',
    COPILOT_PROVIDER_BASE_URL: `http://127.0.0.1:${MODEL_PORT}`,
    COPILOT_PROVIDER_API_KEY: 'sk-ant-mock-not-a-secret',
    COPILOT_MODEL: 'claude-sonnet-4.5',
    // What a hostile repository's devcontainer.json could set: the command's own setting wins.
    COPILOT_ALLOW_ALL: 'true',
  },
  tools: {
    read: (file) => ({ name: 'view', input: { path: file } }),
    edit: (file, oldText, newText) => ({ name: 'edit', input: { path: file, old_str: oldText, new_str: newText } }),
    bash: (command, description) => ({ name: 'bash', input: { command, description } }),
  },
};
/** Copilot's own options, offered to the reviewer as they are. */
const OPTIONS = [
  { optionId: 'allow_once', kind: 'allow_once', name: 'Allow once' },
  { optionId: 'allow_always', kind: 'allow_always', name: 'Always allow' },
  { optionId: 'reject_once', kind: 'reject_once', name: 'Deny' },
];
/** What Copilot tells the model when the reviewer denies a tool call. */
const REFUSED = /The user rejected this tool call/;

for (const workspaceMode of ['readonly', 'copy'] as const) {
  describe(`real agent: ${AGENT} over ACP, workspace ${workspaceMode === 'copy' ? 'as a private copy' : 'read-only'} (mock Messages API, real Docker)`, function () {
    this.timeout(180_000);
    let turn: TurnRecord | undefined;

    before(async function () {
      this.timeout(600_000);
      await ensureRealAgentPrerequisites();
      // One session runs the whole scripted turn; each test below asserts one part of it.
      turn = await runScriptedTurn(COPILOT, workspaceMode);
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

    it('runs the pinned Copilot offline, asking before tools (allow-all off, Agent mode), though the container environment says COPILOT_ALLOW_ALL=true', async () => {
      assert.deepEqual(t().stopReasons, ['end_turn', 'end_turn', 'end_turn'], `each prompt ended normally (mock: ${t().mock.describe()})`);
      const version = await inContainer(t().rig, 'copilot --version');
      assert.match(version.output, new RegExp(`GitHub Copilot CLI ${VERSIONS.copilot.replace(/\./g, '\\.')}`));
      const configOptions = (sessionNewResult(t().rig)?.configOptions ?? []) as Array<{ id: string; currentValue: string }>;
      assert.equal(
        configOptions.find((o) => o.id === 'allow_all')?.currentValue,
        'off',
        `Copilot asks before tools (${JSON.stringify(configOptions)})`,
      );
      assert.equal(
        configOptions.find((o) => o.id === 'mode')?.currentValue,
        'https://agentclientprotocol.com/protocol/session-modes#agent',
        'Agent mode, not Autopilot',
      );
      assert.deepEqual(t().mock.otherRequests, [], 'offline mode asked the model host for nothing but messages');
    });

    it('reads with its own view tool without asking: the file reaches the model, Warden sees a read tool call', () => {
      const read = t().mock.toolResult(IDS.read);
      assert.equal(read?.isError, false, read?.text);
      assert.match(read?.text ?? '', /return 'Hello, ' \+ name;/);
      assert.equal(toolCallKinds(t().rig).get(IDS.read), 'read');
      assert.equal(
        t().permissions.length,
        4,
        `only the two edits and two commands asked (${t()
          .permissions.map((p) => p.proposal.title)
          .join(', ')})`,
      );
    });

    it("asks for each edit and command with Copilot's own options, and answers with the one-time ones", () => {
      for (const { proposal, verdict } of t().permissions) {
        assert.deepEqual(proposal.options, OPTIONS, `${proposal.title} offers Copilot's own options`);
        assert.equal(
          current(t(), proposal).chosenOptionId,
          verdict === 'approve' ? 'allow_once' : 'reject_once',
          `${proposal.title}: Copilot received its own ${verdict} option`,
        );
      }
    });

    it('an edit approved lands byte for byte only through the sandbox (copy) or is refused by the read-only mount; an edit rejected never happens', async () => {
      const [approved, rejected] = permissionsOf(t(), 'edit');
      assert.ok(approved && rejected, 'both edits asked');
      assert.deepEqual([approved.verdict, rejected.verdict], ['approve', 'reject']);
      // Copilot's request carries its diff only as git-style text in rawInput (no ACP diff
      // content): Warden places it in the current file, so the reviewer sees the change.
      assert.equal(approved.proposal.title, 'Edit file');
      const placed = approved.proposal.edit;
      assert.ok(placed, "the rawInput diff became the permission's edit");
      assert.equal(placed.path, 'src/greet.js');
      assert.equal(placed.oldText, GREET, 'placed against the current file');
      assert.equal(placed.newText, GREET_AFTER, 'the reviewer sees the whole file after the edit');
      assert.equal(placed.unlocated, undefined);
      assert.equal(rejected.proposal.edit?.path, 'README.md');
      assert.match(t().mock.toolResult(IDS.editRejected)?.text ?? '', REFUSED, 'the model was told the edit was refused');
      assert.equal(await fs.readFile(path.join(t().workspace, 'README.md'), 'utf8'), README, 'the rejected edit never landed');
      assert.deepEqual(editsFor(t(), 'README.md'), [], 'the rejected edit was not made in the sandbox either');
      if (workspaceMode === 'readonly') {
        assert.match(
          t().mock.toolResult(IDS.editApproved)?.text ?? '',
          /EACCES: permission denied/,
          'Copilot writes itself: the read-only mount refused it, and the model was told',
        );
        assert.equal(await fs.readFile(path.join(t().workspace, 'src/greet.js'), 'utf8'), GREET, 'nothing reached the workspace');
        assert.deepEqual(editsFor(t(), 'src/greet.js'), []);
      } else {
        assert.equal(t().mock.toolResult(IDS.editApproved)?.isError, false, t().mock.toolResult(IDS.editApproved)?.text);
        const [change, ...more] = editsFor(t(), 'src/greet.js');
        assert.ok(change, 'the change Copilot made in its copy was proposed');
        assert.deepEqual(more, [], 'one change for one edit');
        assert.equal(change.origin, 'sandbox/change');
        assert.equal(change.oldText, GREET, 'the reviewer compares against the current file');
        assert.equal(change.newText, GREET_AFTER, 'the reviewer sees the whole file after the edit');
        assert.equal(current(t(), change).state, 'applied');
        assert.match(
          current(t(), change).decision?.reason ?? '',
          new RegExp(`^approved as permission request ${approved.proposal.id} \\(by `),
          'the same bytes coming back from the copy were not asked about a second time',
        );
        const landed = await fs.readFile(path.join(t().workspace, 'src/greet.js'));
        assert.equal(landed.toString('utf8'), GREET_AFTER, 'the approved edit landed byte for byte');
        assert.equal(sha256Hex(landed), change.newHash, 'the bytes applied are the bytes reviewed');
      }
    });

    it('a command approved runs in the container with its output back to the model; one rejected never runs', async () => {
      const [approved, rejected] = [
        permissionsOf(t(), 'execute').find((p) => p.verdict === 'approve'),
        permissionsOf(t(), 'execute').find((p) => p.verdict === 'reject'),
      ];
      assert.ok(
        approved?.proposal.commandLine?.startsWith('touch /tmp/approved-proof'),
        `the reviewer sees the command line itself (${approved?.proposal.commandLine})`,
      );
      assert.ok(
        rejected?.proposal.commandLine?.startsWith('touch /tmp/rejected-proof'),
        `the reviewer sees the command line itself (${rejected?.proposal.commandLine})`,
      );
      assert.equal(t().approvedProofBeforeDecision, 1, 'the command had not run before approval');
      assert.equal((await inContainer(t().rig, 'test -e /tmp/approved-proof')).exitCode, 0, 'the approved command ran in the container');
      assert.match(
        t().mock.toolResult(IDS.bashApproved)?.text ?? '',
        /ran-42/,
        'the shell evaluated $((6*7)) and Copilot reported the output to the model',
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
        assert.deepEqual(await snapshot(t().workspace), t().before, 'the workspace is unchanged');
      } else {
        const [change] = editsFor(t(), 'proof.txt');
        assert.ok(change, 'the file the approved command wrote in the copy became a proposal');
        assert.equal(change.newText, 'ran-42\n');
        assert.equal(current(t(), change).state, 'applied', 'it landed once approved');
        assert.equal(await fs.readFile(path.join(t().workspace, 'proof.txt'), 'utf8'), 'ran-42\n');
      }
    });

    if (workspaceMode === 'readonly') {
      it('why the command sets COPILOT_ALLOW_ALL=false: bare `copilot --acp` with COPILOT_ALLOW_ALL=true in the container runs a command without asking Warden, while its allow-all option still says "off"', async () => {
        const bare = await runBareCommand({ ...COPILOT, command: 'copilot --acp' }, 'echo ran-$((6*7))');
        try {
          assert.deepEqual(
            bare.rig.store.all().map((p) => p.title),
            [],
            'no permission request reached Warden',
          );
          assert.match(bare.mock.toolResult(IDS.bashApproved)?.text ?? '', /ran-42/, 'the command ran unasked');
          const configOptions = (sessionNewResult(bare.rig)?.configOptions ?? []) as Array<{ id: string; currentValue: string }>;
          assert.equal(
            configOptions.find((o) => o.id === 'allow_all')?.currentValue,
            'off',
            'Copilot reports allow-all off although the environment turned it on: its option is no evidence',
          );
        } finally {
          await bare.rig.dispose();
          await bare.mock.close();
        }
      });
    }

    it('the audit log names Copilot, holds every proposal, decision and answer, and verifies', async () => {
      await assertAudit(t(), { name: 'Copilot', title: 'Copilot', version: VERSIONS.copilot });
      assert.ok(
        t().permissions.every(
          (p): p is { proposal: PermissionProposal; verdict: 'approve' | 'reject' } => p.proposal.kind === 'permission',
        ),
      );
    });
  });
}

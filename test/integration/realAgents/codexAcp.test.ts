import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { verifyAuditLog } from '../../../src/core/audit';
import type { PermissionProposal, Proposal } from '../../../src/core/proposals/model';
import { nextPending } from '../../support/proposals';
import { readAudit, snapshot } from '../../support/workspace';
import { decide, VERSIONS } from './harness';
import { ENGINE_LABEL } from '../engineUnderTest';
import { useCodexRig } from './codexRig';
import { CODEX_ACP_COMMAND, GREET, patchGreet } from './codexAcpScript';

/**
 * codex-acp (Zed's ACP adapter around Codex), unmodified, in the agents image. Its model is
 * the scripted mock of the OpenAI Responses API on the host, reached over an exec-stream forwarder to a
 * loopback port inside the `--network none` container. Codex runs commands and applies
 * patches itself after asking permission, so each permission request is the proposal; the
 * workspace is mounted read-only, so whatever Codex does on its own cannot reach it.
 */
const AGENT = `codex-acp ${VERSIONS.codexAcp}`;

/** Codex's reject option is "No, and tell Codex what to do differently": it stops the turn and waits for the user. */
const CANCELLED = `${AGENT} ends its turn as cancelled when its reject option (abort) is chosen`;

describe(`real agent: ${AGENT} over ACP, read-only workspace (mock Responses API, real Docker)` + ENGINE_LABEL, function () {
  this.timeout(180_000);
  const codex = useCodexRig({ agentCommand: CODEX_ACP_COMMAND });

  it('a command: approved once it runs in the container, rejected once it never runs; the workspace stays unchanged', async () => {
    const rig = await codex.start([
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
          callId: 'call_rejected',
          arguments: { cmd: 'touch /tmp/rejected-proof && echo should-not-run' },
        },
      ],
      () => [{ type: 'message', text: 'Both commands handled.' }],
    ]);
    const { store, workspace } = rig;
    const before = await snapshot(workspace);
    const seen = new Set<string>();
    const turn = rig.session.prompt('Run the proof commands');

    const approved = await nextPending(store, seen).catch((e: Error) => assert.fail(`${e.message}; ${codex.offered()}`));
    assertCommandPermission(approved, 'touch /tmp/approved-proof');
    assert.deepEqual(await snapshot(workspace), before, 'nothing changed while the command waits for review');
    assert.equal((await codex.inContainer('test -e /tmp/approved-proof')).exitCode, 1, 'the command has not run before approval');
    decide(store, approved.id, 'approve');

    const rejected = await nextPending(store, seen);
    assertCommandPermission(rejected, 'touch /tmp/rejected-proof');
    decide(store, rejected.id, 'reject');
    assert.equal(await turn, 'cancelled', CANCELLED);

    // The approved command ran inside the container, and Codex reported its output to the model.
    assert.equal((await codex.inContainer('test -e /tmp/approved-proof')).exitCode, 0, 'the approved command ran in the container');
    assert.match(codex.mock().toolOutput('call_approved') ?? '', /ran-42/, 'the shell evaluated $((6*7)): the command really ran');
    // The rejected one never ran, and Codex told the model it was rejected.
    assert.equal((await codex.inContainer('test -e /tmp/rejected-proof')).exitCode, 1, 'the rejected command never ran');
    assert.equal(codex.mock().toolOutput('call_rejected'), undefined, 'no output of the rejected command ever reached the model');

    assert.equal(store.get(approved.id)?.state, 'applied');
    assert.equal((store.get(approved.id) as PermissionProposal).chosenOptionId, 'approved', 'Codex received its own allow-once option');
    assert.equal(store.get(rejected.id)?.state, 'rejected');
    assert.equal((store.get(rejected.id) as PermissionProposal).chosenOptionId, 'abort', 'Codex received its own reject option');
    assert.deepEqual(await snapshot(workspace), before, 'the workspace is unchanged');
    await assertAudit(workspace, [approved.id, rejected.id]);
  });

  it('a patch: the permission carries the diff; approved or rejected, Codex cannot write the workspace itself', async () => {
    const rig = await codex.start([
      () => [
        {
          type: 'custom_tool_call',
          name: 'apply_patch',
          callId: 'call_patch_approved',
          input: patchGreet("  return 'Hello, ' + name;", "  return 'Hello, ' + name + '!';"),
        },
      ],
      () => [
        {
          type: 'custom_tool_call',
          name: 'apply_patch',
          callId: 'call_patch_rejected',
          input: patchGreet("  return 'Hello, ' + name;", "  return 'Hi, ' + name;"),
        },
      ],
      () => [{ type: 'message', text: 'Patches handled.' }],
    ]);
    const { store, workspace } = rig;
    const before = await snapshot(workspace);
    const seen = new Set<string>();
    const turn = rig.session.prompt('Patch the greeting');

    const approved = await nextPending(store, seen).catch((e: Error) => assert.fail(`${e.message}; ${codex.offered()}`));
    assertPatchPermission(approved, "+  return 'Hello, ' + name + '!';");
    assert.deepEqual(await snapshot(workspace), before, 'nothing changed while the patch waits for review');
    decide(store, approved.id, 'approve');

    const rejected = await nextPending(store, seen);
    assertPatchPermission(rejected, "+  return 'Hi, ' + name;");
    decide(store, rejected.id, 'reject');
    assert.equal(await turn, 'cancelled', CANCELLED);

    assert.equal(
      await fs.readFile(path.join(workspace, 'src/greet.js'), 'utf8'),
      GREET,
      'Codex could not write the read-only workspace on its own',
    );
    assert.deepEqual(await snapshot(workspace), before);
    // Approved: Codex tried to apply the patch itself and the read-only mount stopped it.
    assert.match(codex.mock().toolOutput('call_patch_approved') ?? '', /Failed to write file/);
    // Rejected: Codex never tried to apply it.
    assert.equal(codex.mock().toolOutput('call_patch_rejected'), undefined);
    assert.equal(store.get(approved.id)?.state, 'applied');
    assert.equal(store.get(rejected.id)?.state, 'rejected');
    await assertAudit(workspace, [approved.id, rejected.id]);
  });
});

function assertCommandPermission(proposal: Proposal, expected: string): asserts proposal is PermissionProposal {
  assert.equal(proposal.kind, 'permission', `${AGENT} asks permission for a command (got ${JSON.stringify(proposal)})`);
  assert.ok(proposal.kind === 'permission');
  assert.equal(proposal.toolKind, 'execute');
  assert.ok(proposal.commandLine?.includes(expected), `the reviewer sees the command line (${proposal.commandLine})`);
  assert.deepEqual(
    proposal.options.map((o) => o.kind).sort(),
    ['allow_always', 'allow_once', 'reject_once'],
    "the agent's own options are offered",
  );
}

function assertPatchPermission(proposal: Proposal, addedLine: string): asserts proposal is PermissionProposal {
  assert.equal(proposal.kind, 'permission', `${AGENT} asks permission for a patch (got ${JSON.stringify(proposal)})`);
  assert.ok(proposal.kind === 'permission');
  assert.equal(proposal.toolKind, 'edit');
  assert.equal(proposal.edit?.path, 'src/greet.js', `the permission carries the edit (${JSON.stringify(proposal.edit)})`);
  assert.ok(proposal.edit.diff.split('\n').includes(addedLine), `the reviewed diff adds ${addedLine}:\n${proposal.edit.diff}`);
  assert.ok(
    !proposal.edit.diff.split('\n').includes('-module.exports = { greet };'),
    `the reviewed diff is against the whole current file (a hunk fragment must not read as deleting the rest):\n${proposal.edit.diff}`,
  );
}

async function assertAudit(workspace: string, proposalIds: string[]): Promise<void> {
  const entries = await readAudit(workspace);
  const started = entries.find((e) => e.type === 'agent.started');
  assert.equal(
    (started?.data.agentInfo as { name?: string } | null)?.name,
    'codex-acp',
    `the audit names the agent (${JSON.stringify(started?.data.agentInfo)})`,
  );
  for (const id of proposalIds) {
    assert.ok(
      entries.some((e) => e.type === 'proposal' && e.data.id === id) ||
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

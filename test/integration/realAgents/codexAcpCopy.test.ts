import { strict as assert } from 'node:assert';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { verifyAuditLog } from '../../../src/core/audit';
import { decisionFor } from '../../../src/core/proposals/decisions';
import type { EditProposal, PermissionProposal, Proposal } from '../../../src/core/proposals/model';
import { sha256Hex } from '../../../src/core/util/hash';
import { readAudit, snapshot } from '../../support/workspace';
import { CODEX_ACP_COMMAND, GREET, patchGreet } from './codexAcpScript';
import { decide, nextPendingOrEnd, VERSIONS, type RealAgentRig } from './harness';
import { ENGINE_LABEL } from '../engineUnderTest';
import { useCodexRig } from './codexRig';

/**
 * codex-acp with the workspace as a private copy (`workspaceMode: 'copy'`): Codex runs its
 * approved commands and applies its approved patches itself, in the copy; Warden turns what
 * changed there into proposals, and only an approved one reaches the real workspace.
 */
const AGENT = `codex-acp ${VERSIONS.codexAcp} (workspace copy)`;
const GREET_AFTER = GREET.replace('name;', "name + '!';");

describe(`real agent: ${AGENT} (mock Responses API, real Docker)` + ENGINE_LABEL, function () {
  this.timeout(180_000);
  const codex = useCodexRig({ agentCommand: CODEX_ACP_COMMAND, workspaceMode: 'copy' });

  it('an approved command that writes a file: its change is a proposal, and lands byte for byte only once approved; a rejected one never runs', async () => {
    const rig = await codex.start([
      () => [{ type: 'function_call', name: 'exec_command', callId: 'call_approved', arguments: { cmd: 'echo ran-$((6*7)) > proof.txt' } }],
      () => [{ type: 'function_call', name: 'exec_command', callId: 'call_rejected', arguments: { cmd: 'echo nope > rejected.txt' } }],
      () => [{ type: 'message', text: 'Done.' }],
    ]);
    const { store, workspace } = rig;
    const before = await snapshot(workspace);
    const seen = new Set<string>();
    const turn = rig.session.prompt('Write the proof file');

    const approved = await nextPendingOrEnd(store, seen, turn);
    assert.ok(
      approved?.kind === 'permission' && approved.commandLine?.includes('proof.txt'),
      `the command asks first (got ${JSON.stringify(approved)})`,
    );
    decide(store, approved.id, 'approve');
    // Next, in whichever order Warden sees them: the file the approved command wrote in the
    // copy (a proposal of its own), and the second command's permission (rejected).
    let change: EditProposal | undefined;
    let rejected: PermissionProposal | undefined;
    const onProposal = async (p: Proposal): Promise<void> => {
      if (p.kind === 'permission' && p.commandLine?.includes('rejected.txt')) {
        rejected = p;
        decide(store, p.id, 'reject');
      } else if (p.kind === 'edit' && p.origin === 'sandbox/change' && p.path === 'proof.txt') {
        change = p;
        assert.equal(p.newText, 'ran-42\n', 'the shell really ran the approved command in the copy');
        assert.deepEqual(await snapshot(workspace), before, 'nothing reached the workspace before the change was approved');
        decide(store, p.id, 'approve');
      } else {
        assert.fail(`unexpected proposal ${JSON.stringify(p)}`);
      }
    };
    for (let p = await nextPendingOrEnd(store, seen, turn); p; p = await nextPendingOrEnd(store, seen, turn)) await onProposal(p);
    for (const p of store.pending().filter((q) => !seen.has(q.id))) await onProposal(p);
    assert.ok(rejected, 'the second command asked permission');
    assert.ok(
      change,
      `the file the approved command wrote became a proposal (proposals: ${store
        .all()
        .map((p) => `${p.origin} ${p.title} ${p.state}`)
        .join('; ')})`,
    );
    assert.ok(!store.all().some((p) => p.kind === 'edit' && p.path === 'rejected.txt'), 'the rejected command never ran');
    await waitForState(rig, change.id, 'applied');
    assert.equal(await fs.readFile(path.join(workspace, 'proof.txt'), 'utf8'), 'ran-42\n');
    assert.ok(!existsSync(path.join(workspace, 'rejected.txt')));
    assert.ok((await verifyAuditLog(workspace)).ok);
  });

  it("the reviewer's own decisions reach Codex truthfully: a change accepted with edited text and one rejected with a reason are told at its next instruction, and its tool call never failed", async () => {
    const rig = await codex.start([
      () => [
        {
          type: 'function_call',
          name: 'exec_command',
          callId: 'call_two',
          arguments: { cmd: 'printf "one\\ntwo\\n" > a.txt && echo b > b.txt' },
        },
      ],
      () => [{ type: 'message', text: 'Wrote a.txt and b.txt.' }],
      () => [{ type: 'message', text: 'Understood.' }],
    ]);
    const { store, workspace } = rig;
    const reviewer = { kind: 'human' as const, name: 'Ada', source: 'test' };
    const seen = new Set<string>();
    const turn = rig.session.prompt('Write two files');
    const permission = await nextPendingOrEnd(store, seen, turn);
    assert.ok(permission?.kind === 'permission', `the command asks first (got ${JSON.stringify(permission)})`);
    decide(store, permission.id, 'approve');
    const [a, b] = await Promise.all([waitForEdit(rig, 'a.txt'), waitForEdit(rig, 'b.txt')]);
    store.decide(a.id, decisionFor(a, { kind: 'editedText', text: 'ONE\ntwo\n', newHash: a.newHash }, reviewer));
    store.decide(b.id, decisionFor(b, { kind: 'verdict', verdict: 'reject', reason: 'b.txt is not needed' }, reviewer));
    await waitForState(rig, a.id, 'applied');
    await turn;
    // The note is made after the apply is on the record and before the copy is set back to what
    // landed (an instruction sent before that carries it next time): wait for the restore.
    for (let i = 0; i < 200 && !(await restoredBoth(workspace, a.id, b.id)); i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(await fs.readFile(path.join(workspace, 'a.txt'), 'utf8'), 'ONE\ntwo\n', "the reviewer's text landed");
    assert.ok(!existsSync(path.join(workspace, 'b.txt')), 'the rejected file never landed');
    assert.doesNotMatch(codex.mock().toolOutput('call_two') ?? '', /refused|rejected|error/i, "Codex's command was not reported as failed");

    await rig.session.prompt('Carry on');
    const told = JSON.stringify(codex.mock().requests[2]?.input ?? '');
    assert.match(told, /\[Warden\] Since your last turn/, 'the next instruction starts with what the reviewer did');
    assert.match(told, /a\.txt was applied with the reviewer's changes \(the reviewer edited your change to a\.txt/);
    assert.match(told, /your change to b\.txt was rejected by the reviewer: b\.txt is not needed; your copy was restored/);
    assert.match(told, /Carry on/, "then the human's instruction");
    const instructions = (await readAudit(workspace)).filter((e) => e.type === 'instruction');
    assert.equal(instructions.length, 2);
    assert.equal((instructions[1]?.data.notes as string[] | undefined)?.length, 2, 'the audit keeps what the agent was told');
    assert.ok((await verifyAuditLog(workspace)).ok);
  });

  it('partly accepted (one hunk of two): Codex is told its command succeeded, its copy holds what landed, the next instruction names the hunks, and it does not redo the rejected one', async () => {
    const numbers = Array.from({ length: 30 }, (_, i) => `${i + 1}\n`).join('');
    const rig = await codex.start(
      [
        () => [
          {
            type: 'function_call',
            name: 'exec_command',
            callId: 'call_sed',
            arguments: { cmd: "sed -i -e 's/^2$/two/' -e 's/^29$/twenty-nine/' numbers.txt" },
          },
        ],
        () => [{ type: 'message', text: 'Spelled out 2 and 29.' }],
        () => [{ type: 'message', text: 'Understood.' }],
      ],
      { 'numbers.txt': numbers },
    );
    const { store, workspace } = rig;
    const seen = new Set<string>();
    const turn = rig.session.prompt('Spell out 2 and 29');
    const permission = await nextPendingOrEnd(store, seen, turn);
    assert.ok(permission?.kind === 'permission', `the command asks first (got ${JSON.stringify(permission)})`);
    decide(store, permission.id, 'approve');
    const change = await waitForEdit(rig, 'numbers.txt');
    const reviewer = { kind: 'human' as const, name: 'Ada', source: 'test' };
    store.decide(change.id, decisionFor(change, { kind: 'hunks', accepted: [0], rejected: [1], newHash: change.newHash }, reviewer));
    await waitForState(rig, change.id, 'applied');
    await turn;
    const landed = numbers.replace(/^2$/m, 'two');
    assert.equal(await fs.readFile(path.join(workspace, 'numbers.txt'), 'utf8'), landed, 'only the accepted hunk landed');
    assert.doesNotMatch(codex.mock().toolOutput('call_sed') ?? '', /refused|rejected|error/i, "Codex's command was not reported as failed");
    // The copy is set back to what landed right after the apply (audited as sandbox.change.restored).
    for (
      let i = 0;
      i < 100 && !(await readAudit(workspace)).some((e) => e.type === 'sandbox.change.restored' && e.data.proposalId === change.id);
      i++
    )
      await new Promise((r) => setTimeout(r, 50));
    const copy = rig.provider.sandbox?.copyHostPath;
    assert.ok(copy, 'the session runs on a private copy');
    assert.equal(await fs.readFile(path.join(copy, 'numbers.txt'), 'utf8'), landed, "Codex's copy holds what landed, not its own version");

    await rig.session.prompt('Carry on');
    const told = JSON.stringify(codex.mock().requests[2]?.input ?? '');
    assert.match(told, /numbers\.txt was applied with the reviewer's changes \(the reviewer accepted hunk 1 and rejected hunk 2/);
    assert.equal(codex.mock().requests.length, 3, 'no further model call: Codex did not retry');
    assert.equal(await fs.readFile(path.join(workspace, 'numbers.txt'), 'utf8'), landed, 'nothing reverted or redid the reviewer’s choice');
    assert.equal(store.all().filter((p) => p.kind === 'edit' && p.path === 'numbers.txt').length, 1, 'no second change to numbers.txt');
    const applied = (await readAudit(workspace)).find((e) => e.type === 'edit.applied' && e.data.proposalId === change.id);
    assert.deepEqual(applied?.data.hunks, { accepted: [0], rejected: [1] });
    assert.ok((await verifyAuditLog(workspace)).ok);
  });

  it('an approved patch lands as reviewed (the permission diff is the change); a rejected patch changes nothing', async () => {
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
          input: patchGreet("  return 'Hello, ' + name + '!';", "  return 'Hi, ' + name;"),
        },
      ],
      () => [{ type: 'message', text: 'Done.' }],
    ]);
    const { store, workspace } = rig;
    const before = await snapshot(workspace);
    const seen = new Set<string>();
    const turn = rig.session.prompt('Patch the greeting');

    const approved = await nextPendingOrEnd(store, seen, turn);
    assert.ok(approved?.kind === 'permission' && approved.edit?.path === 'src/greet.js', JSON.stringify(approved));
    assert.equal(approved.edit.newText, GREET_AFTER, 'the reviewer sees the whole file after the patch');
    assert.deepEqual(await snapshot(workspace), before);
    decide(store, approved.id, 'approve');
    const rejected = await nextPendingOrEnd(store, seen, turn);
    assert.ok(rejected?.kind === 'permission' && rejected.edit?.path === 'src/greet.js', JSON.stringify(rejected));
    decide(store, rejected.id, 'reject');
    await turn;

    // Codex applied the approved patch in its copy; the change carries the earlier approval.
    const applied = await waitForEdit(rig, 'src/greet.js');
    assert.equal(
      applied.newHash,
      (store.get(approved.id) as PermissionProposal).edit?.newHash,
      'the bytes Codex wrote are the bytes the reviewer approved',
    );
    await waitForState(rig, applied.id, 'applied');
    const landed = await fs.readFile(path.join(workspace, 'src/greet.js'), 'utf8');
    assert.equal(landed, GREET_AFTER, 'the approved patch landed; the rejected one did not');
    assert.equal(sha256Hex(landed), applied.newHash);
    const entries = await readAudit(workspace);
    assert.ok(entries.some((e) => e.type === 'edit.applied' && e.data.proposalId === applied.id));
    assert.ok((await verifyAuditLog(workspace)).ok);
  });
});

/** Resolves once the proposal reaches `state` (store events, no sleeps); fails on a final other state. */
function waitForState(rig: RealAgentRig, id: string, state: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      const p = rig.store.get(id);
      if (p?.state === state) {
        sub.dispose();
        resolve();
      } else if (p && ['rejected', 'failed', 'stale', 'orphaned', 'applied'].includes(p.state)) {
        sub.dispose();
        reject(new Error(`proposal ${p.title} ended ${p.state}${p.stateDetail ? `: ${p.stateDetail}` : ''}, expected ${state}`));
      }
    };
    const sub = rig.store.onDidChange(check);
    check();
  });
}

/** The sandbox-change proposal for `relative` (it may be born approved through the earlier permission). */
function waitForEdit(rig: RealAgentRig, relative: string): Promise<EditProposal> {
  return new Promise((resolve) => {
    const check = (): void => {
      const found = rig.store
        .all()
        .find((p): p is EditProposal => p.kind === 'edit' && p.origin === 'sandbox/change' && p.path === relative);
      if (!found) return;
      sub.dispose();
      resolve(found);
    };
    const sub = rig.store.onDidChange(check);
    check();
  });
}

/** Both changes' copies were set back (each one's note to the agent is made before its restore). */
async function restoredBoth(workspace: string, ...proposalIds: string[]): Promise<boolean> {
  const restored = new Set((await readAudit(workspace)).filter((e) => e.type === 'sandbox.change.restored').map((e) => e.data.proposalId));
  return proposalIds.every((id) => restored.has(id));
}

import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { verifyAuditLog } from '../../../src/core/audit';
import { decisionFor } from '../../../src/core/proposals/decisions';
import type { CommandProposal, EditProposal } from '../../../src/core/proposals/model';
import { sha256Hex } from '../../../src/core/util/hash';
import { readAudit, snapshot } from '../../support/workspace';
import { decide, MODEL_PORT, nextPendingOrEnd, VERSIONS, type RealAgentRig } from './harness';
import { ENGINE_LABEL } from '../engineUnderTest';
import { useCodexRig } from './codexRig';

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

/** A file where two changed lines are two hunks of the reviewed diff (more than 6 lines apart). */
const NUMBERS = Array.from({ length: 30 }, (_, i) => `${i + 1}\n`).join('');
const NUMBERS_PATCH = [
  '*** Begin Patch',
  '*** Update File: numbers.txt',
  '@@',
  '-2',
  '+two',
  '@@',
  '-29',
  '+twenty-nine',
  '*** End Patch',
].join('\n');
const REVIEWER = { kind: 'human' as const, name: 'Ada Reviewer', email: 'ada@example.test', source: 'test' };

// Both ways Warden can show Codex the workspace: read-only, and a private copy it writes itself.
for (const workspaceMode of ['readonly', 'copy'] as const)
  describe(`real agent: ${AGENT} natively, ${workspaceMode} workspace (mock Responses API, real Docker)` + ENGINE_LABEL, function () {
    this.timeout(180_000);
    const codex = useCodexRig({ agentCommand: AGENT_COMMAND, agentProtocol: 'codex-app-server', workspaceMode });
    const exitCodeIn = async (script: string): Promise<number | null> => (await codex.inContainer(script)).exitCode;

    it('a command: approved it runs in the container with its output on the record; declined it never runs', async () => {
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
      assert.ok(
        approved?.kind === 'command',
        `${AGENT} asks approval for its command (got ${JSON.stringify(approved)}; ${codex.offered()})`,
      );
      assert.equal(approved.origin, 'item/commandExecution/requestApproval');
      assert.ok(approved.commandLine.includes('touch /tmp/approved-proof'), approved.commandLine);
      assert.equal(await exitCodeIn('test -e /tmp/approved-proof'), 1, 'not run before approval');
      decide(store, approved.id, 'approve');

      const declined = await nextPendingOrEnd(store, seen, turn);
      assert.ok(declined?.kind === 'command' && declined.commandLine.includes('touch /tmp/declined-proof'), JSON.stringify(declined));
      decide(store, declined.id, 'reject');
      assert.equal(await turn, 'end_turn');

      assert.equal(await exitCodeIn('test -e /tmp/approved-proof'), 0, 'the approved command ran in the container');
      assert.equal(await exitCodeIn('test -e /tmp/declined-proof'), 1, 'the declined command never ran');
      assert.match(codex.mock().toolOutput('call_approved') ?? '', /ran-42/);
      assert.doesNotMatch(codex.mock().toolOutput('call_declined') ?? '', /should-not-run/);
      assert.match(codex.mock().toolOutput('call_declined') ?? '', /rejected by user/, 'Codex told the model the command was declined');
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
      const rig = await codex.start([
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
      assert.ok(
        approved?.kind === 'edit',
        `${AGENT} asks approval for its file change (got ${JSON.stringify(approved)}; ${codex.offered()})`,
      );
      assert.equal(approved.origin, 'item/fileChange/requestApproval');
      assert.equal(approved.path, 'src/greet.js');
      assert.equal(approved.newText, GREET_AFTER, 'the reviewed edit is the whole file after the patch');
      assert.deepEqual(await snapshot(workspace), before, 'nothing changed while the file change waits');
      decide(store, approved.id, 'approve');

      const declined = await nextPendingOrEnd(store, seen, turn);
      assert.ok(declined?.kind === 'edit' && declined.path === 'src/greet.js', JSON.stringify(declined));
      decide(store, declined.id, 'reject');
      await turn;

      assert.match(codex.mock().toolOutput('call_patch_declined') ?? '', /rejected by user/, 'Codex told the model the patch was declined');
      // Read-only, Codex's own apply cannot write (it reports a failure): the model learns in the same turn that Warden wrote it.
      const afterApproved = JSON.stringify(codex.mock().requests[1]?.input ?? '');
      if (workspaceMode === 'readonly')
        assert.match(afterApproved, /src\/greet\.js was written by Warden as you wrote it; your workspace is read-only/);
      else assert.doesNotMatch(afterApproved, /\[Warden\]/, 'in the copy, Codex applied it itself: its own result is the truth');
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

    /**
     * Codex has no "accepted with changes": the patch is answered accept (the write happened) and
     * the truth goes into its running turn (turn/steer), so the model's very next request has it
     * next to the patch result; the copy holds what landed, so nothing is proposed again.
     */
    async function acceptWithChanges(options: {
      file: string;
      before: string;
      input: string;
      decide: (edit: EditProposal) => void;
      landed: string;
      told: RegExp;
    }): Promise<void> {
      const rig = await codex.start(
        [
          () => [{ type: 'custom_tool_call', name: 'apply_patch', callId: 'call_patch', input: options.input }],
          () => [{ type: 'message', text: 'Re-read the file; leaving it as the reviewer wrote it.' }],
        ],
        { [options.file]: options.before },
      );
      const { store, workspace } = rig;
      const seen = new Set<string>();
      const turn = rig.session.prompt(`Change ${options.file}`);
      const edit = await nextPendingOrEnd(store, seen, turn);
      assert.ok(edit?.kind === 'edit', `${AGENT} asks approval for its patch (got ${JSON.stringify(edit)}; ${codex.offered()})`);
      assert.equal(edit.path, options.file);
      options.decide(edit);
      assert.equal(await nextPendingOrEnd(store, seen, turn), undefined, 'nothing else is proposed: no retry, no revert, no copy change');
      assert.equal(await turn, 'end_turn');

      const next = JSON.stringify(codex.mock().requests[1]?.input ?? '');
      assert.match(next, /\[Warden\] About the patch you just applied/, "the model's next request carries Warden's message");
      assert.match(next, options.told);
      assert.match(next, /do not apply the patch again or revert what was written/);
      if (workspaceMode === 'copy')
        assert.match(
          codex.mock().toolOutput('call_patch') ?? '',
          /Success/,
          'in the copy, Codex applied its patch: the write did not fail',
        );
      assert.equal(codex.mock().requests.length, 2, 'Codex made no further model call (no retry)');

      assert.equal(
        await fs.readFile(path.join(workspace, options.file), 'utf8'),
        options.landed,
        'the workspace holds what the reviewer accepted',
      );
      const copy = rig.provider.sandbox?.copyHostPath;
      if (workspaceMode === 'copy') {
        assert.ok(copy, 'the session runs on a private copy');
        assert.equal(
          await fs.readFile(path.join(copy, options.file), 'utf8'),
          options.landed,
          "Codex's copy holds what landed, not its own version",
        );
      }
      assert.deepEqual(
        store.all().map((p) => [p.origin, p.state]),
        [['item/fileChange/requestApproval', 'applied']],
        "one proposal: the copy scan at the turn end did not propose Codex's version again",
      );
      const entries = await readAudit(workspace);
      const told = entries.find((e) => e.type === 'agent.told');
      assert.ok(told, 'what Codex was told is on the record');
      assert.deepEqual(told.data.proposalIds, [edit.id]);
      assert.equal(told.data.via, 'turn/steer');
      assert.ok(entries.some((e) => e.type === 'edit.applied' && e.data.proposalId === edit.id));
      assert.ok((await verifyAuditLog(workspace)).ok);
    }

    it('a patch accepted with edited text: Codex is answered accept and told in its turn what was written; it does not retry or revert', async () => {
      const edited = GREET.replace('name;', "name + '?';");
      await acceptWithChanges({
        file: 'src/greet.js',
        before: GREET,
        input: patch("  return 'Hello, ' + name;", "  return 'Hello, ' + name + '!';"),
        decide: (edit) => store().decide(edit.id, decisionFor(edit, { kind: 'editedText', text: edited, newHash: edit.newHash }, REVIEWER)),
        landed: edited,
        told: /src\/greet\.js was written by Warden with the reviewer's changes \(the reviewer edited your change to src\/greet\.js before applying it\)[^"]*\+ {2}return 'Hello, ' \+ name \+ '\?';/,
      });
    });

    it('a patch partly accepted (one hunk of two): Codex is told which hunk was dropped; the rejected hunk is not redone', async () => {
      await acceptWithChanges({
        file: 'numbers.txt',
        before: NUMBERS,
        input: NUMBERS_PATCH,
        decide: (edit) =>
          store().decide(edit.id, decisionFor(edit, { kind: 'hunks', accepted: [0], rejected: [1], newHash: edit.newHash }, REVIEWER)),
        landed: NUMBERS.replace(/^2$/m, 'two'),
        told: /numbers\.txt was written by Warden with the reviewer's changes \(the reviewer accepted hunk 1 and rejected hunk 2 of your change to numbers\.txt\)/,
      });
    });

    const store = (): RealAgentRig['store'] => codex.rig().store;
  });

import { strict as assert } from 'node:assert';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { verifyAuditLog } from '../../../src/core/audit';
import { decisionFor } from '../../../src/core/proposals/decisions';
import { sha256Hex } from '../../../src/core/util/hash';
import { nextPending } from '../../support/proposals';
import { readAudit, snapshot } from '../../support/workspace';
import {
  decide,
  ensureRealAgentPrerequisites,
  nextPendingOrEnd,
  makeAgentsFolder,
  makeWorkspace,
  reviewer as harnessReviewer,
  startRealAgent,
  VERSIONS,
  type RealAgentRig,
} from './harness';
import { ENGINE_LABEL } from '../engineUnderTest';

/**
 * Gemini CLI, unmodified, in the agents image, speaking ACP to Warden (`gemini --acp`). The
 * model is replaced by Gemini's own `--fake-responses FILE` (JSONL, one line per model call),
 * so no network and no key are needed. Gemini reads through fs/read_text_file, asks
 * permission with a whole-file diff, then writes through fs/write_text_file.
 */
const AGENT = `Gemini CLI ${VERSIONS.geminiCli}`;
const RESPONSES = 'gemini-responses.jsonl';
const GREET_BEFORE = "function greet(name) {\n  return 'Hello, ' + name;\n}\n\nmodule.exports = { greet };\n";
const GREET_AFTER = "function greet(name) {\n  return 'Hello, ' + name + '!';\n}\n\nmodule.exports = { greet };\n";
const FAREWELL = "module.exports = { farewell: (name) => 'Goodbye, ' + name };\n";

/** One model turn that calls a tool. */
const toolCall = (name: string, args: Record<string, unknown>): string =>
  JSON.stringify({
    method: 'generateContentStream',
    response: [{ candidates: [{ index: 0, finishReason: 'STOP', content: { role: 'model', parts: [{ functionCall: { name, args } }] } }] }],
  });
/** One model turn that only talks. */
const say = (text: string): string =>
  JSON.stringify({
    method: 'generateContentStream',
    response: [{ candidates: [{ index: 0, finishReason: 'STOP', content: { role: 'model', parts: [{ text }] } }] }],
  });

describe(`real agent: ${AGENT} over ACP (--fake-responses, real Docker)` + ENGINE_LABEL, function () {
  this.timeout(180_000);
  let rig: RealAgentRig | undefined;

  before(async function () {
    this.timeout(600_000);
    await ensureRealAgentPrerequisites();
  });

  afterEach(async () => {
    await rig?.dispose();
    rig = undefined;
  });

  /** A session whose model says `lines` in order (the workspace folder is known before the agent starts). */
  async function start(script: (root: string) => string[], files: Record<string, string> = {}): Promise<RealAgentRig> {
    const workspace = await makeWorkspace({ GEMINI_API_KEY: 'fake-key', GEMINI_CLI_HOME: '/home/warden' });
    for (const [name, text] of Object.entries(files)) await fs.writeFile(path.join(workspace, name), text);
    const root = `/workspaces/${path.basename(workspace)}`;
    const agentsFolder = await makeAgentsFolder({ [RESPONSES]: `${script(root).join('\n')}\n` });
    return startRealAgent({
      workspace,
      agentsFolder,
      agentCommand: `gemini --acp --model gemini-2.5-flash --fake-responses /opt/warden/agents/${RESPONSES}`,
    });
  }

  it('reads through fs/read_text_file; an approved edit lands through fs/write_text_file byte for byte; nothing changes before approval', async () => {
    rig = await start((root) => [
      toolCall('read_file', { file_path: `${root}/src/greet.js` }),
      toolCall('replace', {
        file_path: `${root}/src/greet.js`,
        old_string: "  return 'Hello, ' + name;",
        new_string: "  return 'Hello, ' + name + '!';",
        instruction: 'Greet with an exclamation mark',
      }),
      say('Greeting updated.'),
    ]);
    const { store, workspace } = rig;
    const before = await snapshot(workspace);
    const seen = new Set<string>();
    const turn = rig.session.prompt('Make the greeting enthusiastic');

    const permission = await nextPending(store, seen);
    assert.ok(
      permission.kind === 'permission' && permission.edit,
      `${AGENT} asks permission for its edit with a diff (got ${JSON.stringify(permission)})`,
    );
    assert.equal(permission.toolKind, 'edit');
    assert.equal(permission.edit.path, 'src/greet.js');
    assert.equal(permission.edit.newText, GREET_AFTER, 'Gemini sends the whole new file');
    assert.match(permission.edit.diff, /^- {2}return 'Hello, ' \+ name;$/m);
    assert.match(permission.edit.diff, /^\+ {2}return 'Hello, ' \+ name \+ '!';$/m);
    assert.deepEqual(await snapshot(workspace), before, 'the workspace is unchanged while the edit waits for review');
    decide(store, permission.id, 'approve');

    assert.equal(await turn, 'end_turn', rig.provider.failedToolTexts().join('\n'));
    assert.equal(await fs.readFile(path.join(workspace, 'src/greet.js'), 'utf8'), GREET_AFTER);
    const write = store.all().find((p) => p.kind === 'edit' && p.origin === 'fs/write_text_file');
    assert.ok(
      write?.kind === 'edit',
      `the write arrived through fs/write_text_file (proposals: ${store
        .all()
        .map((p) => `${p.origin} ${p.title} ${p.state}`)
        .join('; ')})`,
    );
    assert.equal(write.state, 'applied');
    assert.equal(write.newHash, permission.edit.newHash, 'the bytes written are the bytes reviewed');
    assert.equal(sha256Hex(await fs.readFile(path.join(workspace, 'src/greet.js'))), permission.edit.newHash);

    const entries = await readAudit(workspace);
    const read = entries.find((e) => e.type === 'file.read' && e.data.path === 'src/greet.js');
    assert.equal(read?.data.hash, sha256Hex(GREET_BEFORE), 'the read went through Warden and is on the record');
    const started = entries.find((e) => e.type === 'agent.started');
    assert.deepEqual(started?.data.agentInfo, { name: 'gemini-cli', title: 'Gemini CLI', version: VERSIONS.geminiCli });
    assert.ok(
      entries.some(
        (e) => e.type === 'decision' && e.data.proposalId === permission.id && e.data.verdict === 'approve' && e.actor.kind === 'human',
      ),
    );
    assert.ok(
      entries.some((e) => e.type === 'edit.applied' && e.data.path === 'src/greet.js' && e.data.diskHash === permission.edit!.newHash),
    );
    const report = await verifyAuditLog(workspace);
    assert.ok(report.ok, JSON.stringify(report));
  });

  it('a rejected edit is never written and Gemini is told', async () => {
    rig = await start((root) => [
      toolCall('read_file', { file_path: `${root}/src/greet.js` }),
      toolCall('replace', {
        file_path: `${root}/src/greet.js`,
        old_string: "  return 'Hello, ' + name;",
        new_string: "  return 'Bye, ' + name;",
        instruction: 'Say bye instead',
      }),
      say('Understood, leaving it.'),
    ]);
    const { store, workspace } = rig;
    const before = await snapshot(workspace);
    const seen = new Set<string>();
    const turn = rig.session.prompt('Say bye instead of hello');
    const permission = await nextPending(store, seen);
    assert.ok(permission.kind === 'permission' && permission.edit?.path === 'src/greet.js');
    decide(store, permission.id, 'reject');
    await turn;
    assert.deepEqual(await snapshot(workspace), before, 'a rejected edit changes nothing');
    const answered = store.get(permission.id);
    assert.ok(answered?.kind === 'permission');
    assert.equal(answered.state, 'rejected');
    assert.equal(answered.chosenOptionId, 'cancel', "Gemini received its own reject option ('cancel')");
    assert.ok(!store.all().some((p) => p.origin === 'fs/write_text_file'), 'Gemini did not try to write after the rejection');
    const entries = await readAudit(workspace);
    assert.ok(entries.some((e) => e.type === 'permission.answered' && e.data.proposalId === permission.id));
    assert.ok((await verifyAuditLog(workspace)).ok);
  });

  it("accepted with the reviewer's edit: Gemini is told it succeeded with changes, its tool call completes, it neither retries nor reverts, and its next instruction says what landed", async () => {
    // Gemini asks first with the whole-file diff; the reviewer accepts that edit with their own change, and the write carries it out.
    const reviewed = GREET_AFTER.replace("+ '!'", "+ '!!'");
    rig = await start((root) => [
      toolCall('read_file', { file_path: `${root}/src/greet.js` }),
      toolCall('replace', {
        file_path: `${root}/src/greet.js`,
        old_string: "  return 'Hello, ' + name;",
        new_string: "  return 'Hello, ' + name + '!';",
        instruction: 'Greet with an exclamation mark',
      }),
      say('Greeting updated.'),
      say('Understood.'),
    ]);
    const { store, provider, workspace } = rig;
    const turn = rig.session.prompt('Make the greeting enthusiastic');
    const permission = await nextPendingOrEnd(store, new Set(), turn);
    assert.ok(permission?.kind === 'permission' && permission.edit, `Gemini asks with its diff (got ${JSON.stringify(permission)})`);
    store.decide(
      permission.id,
      decisionFor(permission, { kind: 'editedText', text: reviewed, newHash: permission.edit.newHash }, harnessReviewer),
    );
    assert.equal(await turn, 'end_turn', provider.failedToolTexts().join('\n'));
    const write = store.all().find((p) => p.kind === 'edit' && p.origin === 'fs/write_text_file');
    assert.equal(
      write?.state,
      'applied',
      `the write carried out the permission (proposals: ${store
        .all()
        .map((p) => `${p.title} ${p.state}`)
        .join('; ')})`,
    );
    assert.equal(write?.decision?.editedText, reviewed, "the write carries the reviewer's edit of the permission");

    const writes = provider.agentFrames.map(parseFrame).filter((f) => f?.method === 'fs/write_text_file');
    assert.equal(writes.length, 1, 'Gemini wrote once: no retry');
    const reply = provider.wardenFrames.map(parseFrame).find((f) => f !== undefined && f.id === writes[0]?.id && f.method === undefined);
    assert.equal(reply?.error, undefined, `the write was answered as a success (got ${JSON.stringify(reply)})`);
    assert.match(JSON.stringify(reply?.result), /appliedWithChanges.*the reviewer edited your change to src\/greet\.js/);
    assert.deepEqual(provider.failedToolTexts(), [], "Gemini's tool call did not fail");
    assert.equal(await fs.readFile(path.join(workspace, 'src/greet.js'), 'utf8'), reviewed, "the reviewer's version landed");

    await rig.session.prompt('Carry on');
    assert.equal(await fs.readFile(path.join(workspace, 'src/greet.js'), 'utf8'), reviewed, 'Gemini did not revert it');
    assert.equal(provider.agentFrames.map(parseFrame).filter((f) => f?.method === 'fs/write_text_file').length, 1);
    const prompts = provider.wardenFrames.map(parseFrame).filter((f) => f?.method === 'session/prompt');
    assert.match(
      JSON.stringify(prompts[1]?.params),
      /\[Warden\] Since your last turn.*src\/greet\.js was written with the reviewer's changes.*Carry on/,
      'the next instruction Gemini received starts with what landed',
    );
    assert.ok((await verifyAuditLog(workspace)).ok);
  });

  it('partly accepted (one hunk of two): Gemini is told it succeeded with changes, writes once, and its next instruction names the dropped hunk', async () => {
    const numbers = Array.from({ length: 30 }, (_, i) => `${i + 1}\n`).join('');
    const proposed = numbers.replace(/^2$/m, 'two').replace(/^29$/m, 'twenty-nine');
    const landed = numbers.replace(/^2$/m, 'two');
    rig = await start(
      (root) => [
        toolCall('read_file', { file_path: `${root}/numbers.txt` }),
        toolCall('write_file', { file_path: `${root}/numbers.txt`, content: proposed }),
        say('Spelled out 2 and 29.'),
        say('Understood.'),
      ],
      { 'numbers.txt': numbers },
    );
    const { store, provider, workspace } = rig;
    const turn = rig.session.prompt('Spell out 2 and 29');
    const permission = await nextPendingOrEnd(store, new Set(), turn);
    assert.ok(permission?.kind === 'permission' && permission.edit, `Gemini asks with its diff (got ${JSON.stringify(permission)})`);
    store.decide(
      permission.id,
      decisionFor(permission, { kind: 'hunks', accepted: [0], rejected: [1], newHash: permission.edit.newHash }, harnessReviewer),
    );
    assert.equal(await turn, 'end_turn', provider.failedToolTexts().join('\n'));
    assert.equal(await fs.readFile(path.join(workspace, 'numbers.txt'), 'utf8'), landed, 'only the accepted hunk landed');
    const writes = provider.agentFrames.map(parseFrame).filter((f) => f?.method === 'fs/write_text_file');
    assert.equal(writes.length, 1, 'Gemini wrote once: no retry');
    const reply = provider.wardenFrames.map(parseFrame).find((f) => f !== undefined && f.id === writes[0]?.id && f.method === undefined);
    assert.equal(reply?.error, undefined, `the write was answered as a success (got ${JSON.stringify(reply)})`);
    assert.match(JSON.stringify(reply?.result), /appliedWithChanges.*accepted hunk 1 and rejected hunk 2/);
    assert.deepEqual(provider.failedToolTexts(), [], "Gemini's tool call did not fail");

    await rig.session.prompt('Carry on');
    assert.equal(await fs.readFile(path.join(workspace, 'numbers.txt'), 'utf8'), landed, 'Gemini did not redo the rejected hunk or revert');
    assert.equal(provider.agentFrames.map(parseFrame).filter((f) => f?.method === 'fs/write_text_file').length, 1);
    const prompts = provider.wardenFrames.map(parseFrame).filter((f) => f?.method === 'session/prompt');
    assert.match(
      JSON.stringify(prompts[1]?.params),
      /\[Warden\] Since your last turn.*numbers\.txt was written with the reviewer's changes \(the reviewer accepted hunk 1 and rejected hunk 2.*Carry on/,
    );
    assert.ok((await verifyAuditLog(workspace)).ok);
  });

  /** A session whose model writes a new file, src/farewell.js. */
  const startNewFile = (): Promise<RealAgentRig> =>
    start((root) => [
      toolCall('read_file', { file_path: `${root}/src/greet.js` }),
      toolCall('write_file', { file_path: `${root}/src/farewell.js`, content: FAREWELL }),
      say('Added farewell.js.'),
    ]);

  it("a missing file is answered with ACP's resource-not-found error (-32002)", async () => {
    rig = await startNewFile();
    const { store, provider } = rig;
    const turn = rig.session.prompt('Add a farewell module');
    const first = await nextPendingOrEnd(store, new Set(), turn);
    if (first?.kind === 'permission') decide(store, first.id, 'reject');
    await turn.catch(() => undefined);
    const probe = provider.agentFrames
      .map(parseFrame)
      .find((f) => f?.method === 'fs/read_text_file' && JSON.stringify(f.params).includes('src/farewell.js'));
    assert.ok(probe, `${AGENT} asked Warden for the missing file first`);
    const reply = provider.wardenFrames.map(parseFrame).find((f) => f !== undefined && f.id === probe.id && f.method === undefined);
    assert.equal(reply?.error?.code, -32002, `Warden answers a missing file with -32002 (got ${JSON.stringify(reply)})`);
    assert.match(reply.error.message, /not found/i);
  });

  it('a new file (workspace as a private copy): Gemini creates it with its own shell; the new file is a proposal that lands only once approved', async () => {
    // Gemini's write_file cannot create files through ACP today (its bundled SDK hands Warden's
    // -32002 on to write_file as a plain object, which it does not recognise as "not found"),
    // so the model creates the file the other way agents do: with a shell command, which
    // Gemini runs itself, in its sandbox, after asking. In copy mode that file is a change
    // Warden detects and proposes.
    const workspace = await makeWorkspace({ GEMINI_API_KEY: 'fake-key', GEMINI_CLI_HOME: '/home/warden' });
    const root = `/workspaces/${path.basename(workspace)}`;
    const command = `printf '%s\\n' "module.exports = { farewell: (name) => 'Goodbye, ' + name };" > ${root}/src/farewell.js`;
    const agentsFolder = await makeAgentsFolder({
      [RESPONSES]: `${[toolCall('run_shell_command', { command, description: 'Create src/farewell.js', dir_path: root }), say('Added farewell.js.')].join('\n')}\n`,
    });
    rig = await startRealAgent({
      workspace,
      agentsFolder,
      agentCommand: `gemini --acp --model gemini-2.5-flash --fake-responses /opt/warden/agents/${RESPONSES}`,
      workspaceMode: 'copy',
    });
    const { store } = rig;
    const before = await snapshot(workspace);
    const seen = new Set<string>();
    const turn = rig.session.prompt('Add a farewell module');

    const permission = await nextPendingOrEnd(store, seen, turn);
    assert.ok(
      permission?.kind === 'permission' && permission.toolKind === 'execute',
      `${AGENT} asks before running its shell command (got ${JSON.stringify(permission)}; tool errors: ${rig.provider.failedToolTexts().join(' | ')})`,
    );
    assert.deepEqual(await snapshot(workspace), before, 'nothing changes while the command waits');
    decide(store, permission.id, 'approve');
    let created = await nextPendingOrEnd(store, seen, turn);
    await turn;
    created ??= store.pending().find((p) => !seen.has(p.id));
    assert.ok(
      created?.kind === 'edit' && created.origin === 'sandbox/change' && created.path === 'src/farewell.js' && created.oldText === null,
      `the file Gemini's command created in the copy became a create proposal (proposals: ${store
        .all()
        .map((p) => `${p.origin} ${p.title} ${p.state}`)
        .join('; ')})`,
    );
    assert.equal(created.newText, FAREWELL, 'the shell really ran in the sandbox');
    assert.ok(!existsSync(path.join(workspace, 'src/farewell.js')), 'the new file is not written before approval');
    decide(store, created.id, 'approve');
    await waitForState(rig, created.id, 'applied');
    assert.equal(await fs.readFile(path.join(workspace, 'src/farewell.js'), 'utf8'), FAREWELL);
    // The state changes a moment before its audit entry is appended: wait for the entry (bounded).
    let applied = false;
    for (let attempt = 0; attempt < 50 && !applied; attempt++) {
      applied = (await readAudit(workspace)).some((e) => e.type === 'edit.applied' && e.data.proposalId === created.id);
      if (!applied) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.ok(applied, 'the applied create is on the record');
    assert.ok((await verifyAuditLog(workspace)).ok);
  });
});

/** Resolves once the proposal reaches `state`; fails when it ends in another one. */
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

interface Frame {
  id?: number | string;
  method?: string;
  params?: unknown;
  result?: unknown;
  error?: { code: number; message: string };
}

function parseFrame(line: string): Frame | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null ? value : undefined;
  } catch {
    return undefined;
  }
}

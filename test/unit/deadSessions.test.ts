import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AuditLog, readAuditLog, verifyAuditLog } from '../../src/core/audit';
import type { AuditActor, AuditEntry } from '../../src/core/audit/types';
import type { EditProposal } from '../../src/core/proposals/model';
import { saveSession, sessionFile } from '../../src/core/proposals/persistence';
import { AGENTS_FOLDER, KEEPALIVE_SCRIPT, LEASE_LOST_EXIT_CODE, toContainerSpec } from '../../src/core/sandbox/devcontainer';
import { STARTUP_REPORT_SCRIPT } from '../../src/core/sandbox/startupCheck';
import type { SandboxFate } from '../../src/core/sandbox/types';
import { recordDeadSessions, supervisorGone, unendedSessions } from '../../src/core/session/deadSessions';
import { sha256Hex } from '../../src/core/util/hash';

const WARDEN: AuditActor = { kind: 'warden', id: 'warden' };
const DEAD_PID = 2 ** 22 + 7; // above pid_max's default: no such process
const alive = (pid: number): boolean => pid !== DEAD_PID;

function edit(id: string, sessionId: string): EditProposal {
  return {
    kind: 'edit',
    id,
    sessionId,
    createdAt: '2026-01-01T00:00:00Z',
    state: 'pending',
    title: 'Edit a.txt',
    origin: 'fs/write_text_file',
    path: 'a.txt',
    oldText: 'a\n',
    newText: 'b\n',
    baseHash: sha256Hex('a\n'),
    newHash: sha256Hex('b\n'),
    diff: '-a\n+b\n',
  };
}

describe('sessions whose supervisor died (issue 24)', () => {
  let root: string;
  let log: AuditLog;
  /** Every entry of every chain. */
  const entries = async (): Promise<AuditEntry[]> => {
    const out: AuditEntry[] = [];
    for await (const record of readAuditLog(root)) out.push(record.entry);
    return out;
  };
  const start = (sessionId: string, owner: unknown) =>
    log.append({
      sessionId,
      actor: WARDEN,
      type: 'session.starting',
      data: { workspace: root, reviewer: { kind: 'human', name: 'Ada', source: 'test' }, ...(owner ? { owner } : {}) },
    });

  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'warden-dead-'));
    // Sketches of a log (only the fields the dead-session check reads), not whole events.
    log = AuditLog.forWorkspace(root, { schemaCheck: 'off' });
  });
  afterEach(async () => {
    await fs.rm(root, { recursive: true, force: true });
  });

  it('the next start closes the record of a session whose process is gone: when, its container, its undecided proposals orphaned (once)', async () => {
    const here = os.hostname();
    await start('dead', { host: here, pid: DEAD_PID });
    await log.append({ sessionId: 'dead', actor: WARDEN, type: 'sandbox.started', data: { containerId: 'c-dead' } });
    await log.append({ sessionId: 'dead', actor: WARDEN, type: 'proposal', data: { proposalId: 'p1' } });
    await log.append({ sessionId: 'dead', actor: WARDEN, type: 'proposal', data: { proposalId: 'p2' } });
    await log.append({ sessionId: 'dead', actor: WARDEN, type: 'decision', data: { proposalId: 'p2', verdict: 'reject' } });
    const last = await log.append({ sessionId: 'dead', actor: WARDEN, type: 'proposal', data: { proposalId: 'p3' } });
    await start('ended', { host: here, pid: DEAD_PID });
    await log.append({ sessionId: 'ended', actor: WARDEN, type: 'session.ended', data: { reason: 'stopped by the user' } });
    await start('live', { host: here, pid: process.ppid });
    await start('elsewhere', { host: 'another-host', pid: DEAD_PID });
    await start('old', undefined);
    await start('new', { host: here, pid: process.pid });
    await saveSession(root, 'dead', [edit('p1', 'dead'), edit('p3', 'dead')]);

    assert.deepEqual((await unendedSessions(root)).map((s) => s.sessionId).sort(), ['dead', 'elsewhere', 'live', 'new', 'old']);
    const fate: SandboxFate = { status: 'exited', exitCode: LEASE_LOST_EXIT_CODE, finishedAt: '2026-01-01T00:00:09Z', leaseLost: true };
    const inspected: string[] = [];
    const found = await recordDeadSessions({
      workspaceRoot: root,
      foundBy: 'new',
      append: (e) => log.append(e),
      inspect: async (id) => (inspected.push(id), fate),
      isAlive: alive,
    });
    assert.deepEqual(found, ['dead']);
    assert.deepEqual(inspected, ['c-dead']);
    const ended = (await entries()).filter((e) => e.type === 'session.ended' && e.sessionId === 'dead');
    assert.equal(ended.length, 1);
    assert.match(String(ended[0]!.data.reason), new RegExp(`process ${DEAD_PID} on .* died; the last entry it wrote is from ${last.time}`));
    assert.deepEqual(ended[0]!.data.orphanedProposals, ['p1', 'p3']);
    assert.deepEqual(ended[0]!.data.supervisorDied, {
      foundBy: 'new',
      owner: { host: here, pid: DEAD_PID },
      lastEntry: { seq: last.seq, time: last.time, type: 'proposal' },
      container: { id: 'c-dead', ...fate },
    });
    const saved = JSON.parse(await fs.readFile(sessionFile(root, 'dead'), 'utf8')) as {
      proposals: Array<{ state: string; stateDetail: string }>;
    };
    assert.deepEqual(
      saved.proposals.map((p) => p.state),
      ['orphaned', 'orphaned'],
    );
    assert.match(saved.proposals[0]!.stateDetail, /supervisor died/);

    assert.deepEqual(
      await recordDeadSessions({ workspaceRoot: root, foundBy: 'new', append: (e) => log.append(e), isAlive: alive }),
      [],
      'recorded once',
    );
    assert.equal((await verifyAuditLog(root)).ok, true);
  });

  it("only a certain death counts: a lost lease (any host), or a gone process of this host; never this process, another host's or an unknown owner alone", () => {
    const lost: SandboxFate = { status: 'exited', exitCode: LEASE_LOST_EXIT_CODE, leaseLost: true };
    const stopped: SandboxFate = { status: 'exited', exitCode: 0, leaseLost: false };
    assert.equal(supervisorGone({ owner: { host: 'another-host', pid: 1 } }, lost, alive), true);
    assert.equal(supervisorGone({ owner: undefined }, lost, alive), true);
    assert.equal(supervisorGone({ owner: { host: os.hostname(), pid: DEAD_PID } }, undefined, alive), true);
    assert.equal(supervisorGone({ owner: { host: os.hostname(), pid: process.ppid } }, stopped, alive), false);
    assert.equal(
      supervisorGone({ owner: { host: os.hostname(), pid: process.pid } }, undefined, () => false),
      false,
    );
    assert.equal(supervisorGone({ owner: { host: 'another-host', pid: DEAD_PID } }, stopped, alive), false);
    assert.equal(supervisorGone({ owner: undefined }, undefined, alive), false);
  });

  it('the sandbox holds a lease: stdin open once (StdinOnce), PID 1 reports the startup check, then reads stdin and exits with the lease-lost code at EOF', () => {
    const spec = toContainerSpec({ image: 'x' }, { workspaceHostPath: '/w/p', agentsHostPath: '/a', sessionId: 's', image: 'x' });
    assert.equal(spec.OpenStdin, true);
    assert.equal(spec.StdinOnce, true);
    assert.deepEqual(spec.Entrypoint, [
      '/bin/sh',
      '-c',
      `${STARTUP_REPORT_SCRIPT}; ${KEEPALIVE_SCRIPT}`,
      'warden-sandbox',
      '/workspaces/p',
      AGENTS_FOLDER,
    ]);
    // The report ends with PID 1's stdout sent to /dev/null: nothing written later reaches Warden.
    assert.match(STARTUP_REPORT_SCRIPT, /; exec >\/dev\/null 2>&1$/);
    // EOF on the lease ends PID 1 with exit 3; a reader killed by a signal (> 128) is started again.
    assert.match(KEEPALIVE_SCRIPT, /while read -r _; do :; done <&3 & wait \$!; \[ \$\? -gt 128 \] \|\| exit 3; done$/);
    assert.equal(LEASE_LOST_EXIT_CODE, 3);
    assert.equal(spec.HostConfig?.RestartPolicy?.Name, 'no', 'a lost lease is never undone by a restart policy');
  });
});

import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AuditLog, resumableSessions } from '../../src/core/audit';

describe('Resume Agent Session: the agent sessions on record', () => {
  let root: string;
  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'warden-resumable-'));
  });
  afterEach(() => fs.rm(root, { recursive: true, force: true }));

  const started = (sessionId: string, agentSessionId: string, instruction: string) => async (): Promise<void> => {
    const log = AuditLog.forWorkspace(root, { chain: sessionId });
    await log.append({
      sessionId,
      actor: { kind: 'agent', id: 'codex' },
      type: 'agent.started',
      data: { command: ['codex-acp'], protocol: 'acp', protocolVersion: 1, agentSessionId },
    });
    await log.append({ sessionId, actor: { kind: 'human', id: 'ada' }, type: 'instruction', data: { text: instruction } });
  };

  it('lists each agent session once, newest first, with the full ids and its first instruction', async () => {
    await started('s-20261206100000-aaaaaaaa', 'agent-1', 'add a farewell function')();
    await started('s-20261206110000-bbbbbbbb', 'agent-2', 'write the tests')();
    await started('s-20261206120000-cccccccc', 'agent-1', 'carry on')(); // agent-1 resumed later
    const listed = await resumableSessions(root);
    assert.deepEqual(
      listed.map((s) => [s.agentSessionId, s.sessionId, s.instruction]),
      [
        ['agent-1', 's-20261206120000-cccccccc', 'carry on'],
        ['agent-2', 's-20261206110000-bbbbbbbb', 'write the tests'],
      ],
    );
  });

  it('is empty without an audit log', async () => {
    assert.deepEqual(await resumableSessions(root), []);
  });
});

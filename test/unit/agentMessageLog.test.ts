import { strict as assert } from 'node:assert';
import { AgentMessageLog } from '../../src/vscode/agentMessageLog';

/** Issue 21: the agent's activity reaches the output channel in a few calls, not one per chunk or tool-call update. */
describe('AgentMessageLog (the agent activity in the output channel, batched)', () => {
  function recorder(): { log: AgentMessageLog; writes: string[][] } {
    const writes: string[][] = [];
    return { log: new AgentMessageLog((lines) => writes.push(lines)), writes };
  }

  it('joins message chunks into one line per message run and keeps every line in order', () => {
    const { log, writes } = recorder();
    for (const word of ['Reading ', 'the ', 'tests. ']) log.chunk(word);
    log.line('read: Read src/a.js (in_progress)');
    log.line('read: Read src/a.js (completed)');
    log.chunk('Done.');
    assert.deepEqual(writes, [], 'nothing is written before the batch is due');
    log.flush();
    assert.deepEqual(writes, [['Reading the tests.', 'read: Read src/a.js (in_progress)', 'read: Read src/a.js (completed)', 'Done.']]);
  });

  it('sends a batch once it is due, in one write', async () => {
    const { log, writes } = recorder();
    for (let i = 0; i < 400; i++) log.line(`read: Read f${i} (completed)`);
    assert.equal(writes.length, 2, 'two full batches went out at once');
    await new Promise((resolve) => setTimeout(resolve, AgentMessageLog.FLUSH_MS + 100));
    assert.equal(writes.length, 3, 'the rest after FLUSH_MS');
    assert.deepEqual(
      writes.flat(),
      Array.from({ length: 400 }, (_, i) => `read: Read f${i} (completed)`),
    );
  });

  it('a long message run is cut into lines of MAX_CHARS and nothing is lost', () => {
    const { log, writes } = recorder();
    const chunk = 'word '.repeat(100);
    for (let i = 0; i < 20; i++) log.chunk(chunk);
    log.flush();
    assert.ok(writes.length >= 2, 'written as it grew, not only at the end');
    assert.equal(writes.flat().join(' ').replace(/\s+/g, ' ').trim(), chunk.repeat(20).replace(/\s+/g, ' ').trim());
  });

  it('flush with nothing waiting writes nothing', () => {
    const { log, writes } = recorder();
    log.chunk('   ');
    log.flush();
    assert.deepEqual(writes, []);
  });
});

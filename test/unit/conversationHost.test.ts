import { strict as assert } from 'node:assert';
import { Conversation, type ConversationSource } from '../../src/vscode/conversation';
import type { ExtensionMessage } from '../../src/shared/reviewProtocol';

/** A session source as the SessionController is one: a running session or none, and what it was told. */
function fakeSource(
  running: boolean,
  instruct: (text: string) => 'sent' | 'queued' = () => 'sent',
): ConversationSource & { told: string[] } {
  const told: string[] = [];
  return {
    told,
    activeSession: running ? {} : undefined,
    summary: () => null,
    feedChanges: () => ({ version: 0, changed: [], seqs: [] }),
    queued: () => [],
    onDidChange: () => ({ dispose: () => undefined }),
    onDidReturnInstruction: () => ({ dispose: () => undefined }),
    instruct: (text) => {
      told.push(text);
      return instruct(text);
    },
    cancel: () => Promise.resolve(),
    answer: () => Promise.reject(new Error('the question was withdrawn')),
  };
}

describe('Warden panel conversation (extension side): every instruction is answered with what became of it', () => {
  const errors: string[] = [];
  const log = { error: (message: string) => errors.push(message) };

  it('a running session gets the instruction: sent, or queued behind the turn under way', async () => {
    const posted: ExtensionMessage[] = [];
    const source = fakeSource(true, (text) => (text === 'later' ? 'queued' : 'sent'));
    const conversation = new Conversation({ source, start: () => Promise.reject(new Error('not here')) }, (m) => posted.push(m), log);
    await conversation.handle({ type: 'prompt', id: 1, text: 'now' });
    await conversation.handle({ type: 'prompt', id: 2, text: 'later' });
    assert.deepEqual(source.told, ['now', 'later']);
    assert.deepEqual(posted, [
      { type: 'promptResult', id: 1, outcome: 'sent' },
      { type: 'promptResult', id: 2, outcome: 'queued' },
    ]);
  });

  it('without a session the box starts one; a cancelled start or a failure keeps the text (said as such)', async () => {
    const posted: ExtensionMessage[] = [];
    const starts: string[] = [];
    const results = ['s-1', undefined];
    const start = (text: string): Promise<string | undefined> => {
      starts.push(text);
      return results.length > 0 ? Promise.resolve(results.shift()) : Promise.reject(new Error('Docker is not running'));
    };
    const conversation = new Conversation({ source: fakeSource(false), start }, (m) => posted.push(m), log);
    for (const id of [1, 2, 3]) await conversation.handle({ type: 'prompt', id, text: `task ${id}` });
    assert.deepEqual(starts, ['task 1', 'task 2', 'task 3']);
    assert.deepEqual(posted, [
      { type: 'promptResult', id: 1, outcome: 'started' },
      { type: 'promptResult', id: 2, outcome: 'cancelled' },
      { type: 'promptResult', id: 3, outcome: 'failed', message: 'Docker is not running' },
    ]);
    assert.ok(errors.some((e) => e.includes('Docker is not running')));
  });

  it('an answer that cannot be recorded is shown at its question', async () => {
    const posted: ExtensionMessage[] = [];
    const conversation = new Conversation(
      { source: fakeSource(true), start: () => Promise.resolve(undefined) },
      (m) => posted.push(m),
      log,
    );
    await conversation.handle({ type: 'answer', proposalId: 'q-1', answer: 'tabs' });
    assert.deepEqual(posted, [{ type: 'error', message: 'Could not send your answer: the question was withdrawn', proposalId: 'q-1' }]);
  });
});

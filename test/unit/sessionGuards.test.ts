import { strict as assert } from 'node:assert';
import { TerminalRegistry } from '../../src/core/agent/terminals';
import type { AuditEventInput } from '../../src/core/audit/types';
import { classifyGitCommand } from '../../src/core/git/branchGuard';
import { SessionScope } from '../../src/core/git/scope';
import { ProposalStore } from '../../src/core/proposals/store';
import { WorkspacePathMapper } from '../../src/core/sandbox/paths';
import type { Sandbox } from '../../src/core/sandbox/types';
import { ProposalGate, type ApplyBatch } from '../../src/core/session/gate';
import { ProposalHandlers } from '../../src/core/session/proposalHandlers';
import { sha256Hex } from '../../src/core/util/hash';
import type { WorkspaceFiles } from '../../src/core/workspace/files';
import { nextPending } from '../support/proposals';

const CONTAINER = '/workspaces/app';
const reviewer = { kind: 'human' as const, name: 'Ada', email: 'ada@example.test', source: 'test' };

/** Proposal handlers with the git hooks wired as the supervisor wires them, and in-memory everything else. */
function setup(options: { branch?: string; scope?: SessionScope } = {}) {
  const store = new ProposalStore();
  const records: Array<Omit<AuditEventInput, 'sessionId'>> = [];
  const order: string[] = [];
  const disk = new Map<string, string>([['src/a.js', 'a\n']]);
  const files: WorkspaceFiles = {
    read: async (p) => disk.get(p) ?? null,
    write: async (p, text) => {
      order.push(`write ${p}`);
      disk.set(p, text);
      return { diskHash: sha256Hex(text) };
    },
  };
  const scope = options.scope ?? SessionScope.unrestricted();
  const sandbox = {
    workspaceFolder: CONTAINER,
    runCommand: async () => assert.fail('nothing may run in these tests'),
  } as unknown as Sandbox;
  const record = async (event: Omit<AuditEventInput, 'sessionId'>): Promise<void> => void records.push(event);
  const agentActor = () => ({ kind: 'agent' as const, id: 'test-agent' });
  const gate = new ProposalGate({
    sessionId: 's-unit',
    store,
    files,
    record,
    agentActor,
    beforeApply: async (batch: ApplyBatch) => void order.push(`checkpoint ${batch.paths.join(',')} ${batch.proposalIds.length}`),
    scope: { checkWrite: async (path) => scope.check({ folder: { name: 'app', path: '/host/app' }, path, branch: options.branch }) },
    classifyCommand: async (command) => classifyGitCommand(command, { currentBranch: options.branch }),
  });
  const handlers = new ProposalHandlers({
    sessionId: 's-unit',
    gate,
    sandbox,
    mapper: new WorkspacePathMapper('/host/app', CONTAINER),
    store,
    files,
    terminals: new TerminalRegistry(),
    record,
    agentActor,
    onEvent: () => undefined,
  });
  return { store, records, order, disk, handlers };
}

describe('session guards in the proposal handlers', () => {
  it('a git command that writes a protected branch is refused before any proposal, naming the rule, and audited', async () => {
    const { store, records, handlers } = setup({ branch: 'main' });
    await assert.rejects(handlers.createTerminal({ sessionId: 'x', command: 'git', args: ['push', 'origin', 'main'] }), (error: Error) => {
      assert.match(error.message, /Refused \(rule git\.push\.protected\): git push pushes to "main", a protected branch/);
      return true;
    });
    await assert.rejects(
      handlers.createTerminal({ sessionId: 'x', command: 'npm test && git commit -am wip' }),
      /rule git\.commit\.protected/,
    );
    assert.equal(store.all().length, 0, 'no proposal was created');
    const refused = records.filter((r) => r.type === 'refused');
    assert.deepEqual(
      refused.map((r) => r.data.ruleId),
      ['git.push.protected', 'git.commit.protected'],
    );
    assert.equal(refused[0]?.data.commandLine, 'git push origin main');
  });

  it('other git commands become proposals as usual (a human decides)', async () => {
    const { store, handlers } = setup({ branch: 'warden/s-unit' });
    const pending = handlers.createTerminal({ sessionId: 'x', command: 'git', args: ['push', 'origin', 'warden/s-unit'] });
    const proposal = await nextPending(store, new Set(), 5000);
    assert.equal(proposal.kind, 'command');
    // Orphaned before the handler even starts waiting: it must still end, never hang.
    store.orphanSession('s-unit', 'test over');
    await assert.rejects(pending, /orphaned|test over/);
  });

  it('an out-of-scope write is refused before any proposal, with the rule, and audited', async () => {
    const { store, records, disk, handlers } = setup({ scope: new SessionScope([{ source: 'settings', rules: { include: ['src/**'] } }]) });
    await assert.rejects(handlers.writeTextFile({ sessionId: 'x', path: `${CONTAINER}/package.json`, content: '{}' }), (error: Error) => {
      assert.match(
        error.message,
        /Out of this session's scope \(rule settings:scope\.include\): package\.json matches none of the patterns/,
      );
      return true;
    });
    assert.equal(store.all().length, 0);
    assert.equal(disk.has('package.json'), false);
    const refused = records.find((r) => r.type === 'refused');
    assert.deepEqual([refused?.data.ruleId, refused?.data.path, refused?.data.action], ['settings:scope.include', 'package.json', 'write']);
  });

  it('an approved in-scope write takes its checkpoint first, then is written', async () => {
    const { store, order, handlers } = setup({ scope: new SessionScope([{ source: 'settings', rules: { include: ['src/**'] } }]) });
    const write = handlers.writeTextFile({ sessionId: 'x', path: `${CONTAINER}/src/a.js`, content: 'b\n' });
    const proposal = await nextPending(store, new Set(), 5000);
    store.decide(proposal.id, { verdict: 'approve', reviewer, decidedAt: new Date().toISOString() });
    await write;
    assert.deepEqual(order, ['checkpoint src/a.js 1', 'write src/a.js']);
  });
});

describe('ProposalStore.waitForDecision after an orphaning', () => {
  it('rejects at once instead of waiting forever (a session that ended between proposing and waiting)', async () => {
    const store = new ProposalStore();
    store.add({
      id: 'p-1',
      sessionId: 's-1',
      kind: 'command',
      state: 'pending',
      createdAt: new Date().toISOString(),
      title: 'Run x',
      origin: 'terminal/create',
      argv: ['x'],
      commandLine: 'x',
      cwd: '/',
      env: {},
    });
    store.orphanSession('s-1', 'Session ended: stopped');
    await assert.rejects(store.waitForDecision('p-1'), /Session ended: stopped/);
  });
});

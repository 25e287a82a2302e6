import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { promises as fs, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { CLI_GIT } from '../../src/cli/run';
import { resolveAgent } from '../../src/core/agent/presets';
import { configureAuditRedaction, redactSecrets, RedactionConfigError } from '../../src/core/audit';
import { NO_SESSION_BRANCH_REASON } from '../../src/core/git/sessionGit';
import { mergePolicies } from '../../src/core/policy';
import { ProposalStore } from '../../src/core/proposals/store';
import { DEFAULT_WORKSPACE_MODE, workspaceModeOr } from '../../src/core/sandbox/types';
import { sessionOptions, type SessionAssembly } from '../../src/core/session/assembly';
import { configureAuditSecrets, REDACTED_ENV_VARS } from '../../src/core/session/auditSecrets';
import { rejectAsks } from '../../src/core/session/headlessAsks';
import type { Proposal } from '../../src/core/proposals/model';
import { pendingEdit } from '../support/proposals';

const git = promisify(execFile);

interface ManifestSetting {
  default?: unknown;
}

function setting(key: string): ManifestSetting {
  const manifest = JSON.parse(readFileSync('package.json', 'utf8')) as {
    contributes: { configuration: { properties: Record<string, ManifestSetting> } };
  };
  const found = manifest.contributes.configuration.properties[key];
  assert.ok(found, key);
  return found;
}

function assembly(overrides: Partial<SessionAssembly> = {}): SessionAssembly {
  return {
    workspace: { root: '/nonexistent/ws' },
    agentsHostPath: '/nonexistent/agents',
    agent: resolveAgent({}),
    sandboxProvider: { start: async () => assert.fail('not started in these tests') },
    store: new ProposalStore(),
    audit: { append: async () => undefined },
    files: { read: async () => null, write: async () => ({ diskHash: '' }) },
    reviewer: { kind: 'human', name: 'Ada', source: 'test' },
    policy: { current: () => mergePolicies({ team: { status: 'absent' } }) },
    git: CLI_GIT,
    secrets: { env: {} },
    reuseSandbox: false,
    asks: 'human',
    ...overrides,
  };
}

describe('session assembly: one default, one list, named differences', () => {
  it('copy is the one default workspace mode: the assembly, the setting (package.json) and its reader agree', () => {
    assert.equal(DEFAULT_WORKSPACE_MODE, 'copy');
    assert.equal(setting('warden.sandbox.workspaceMode').default, DEFAULT_WORKSPACE_MODE);
    assert.equal(sessionOptions(assembly()).workspaceMode, DEFAULT_WORKSPACE_MODE);
    assert.equal(sessionOptions(assembly({ workspaceMode: 'readonly' })).workspaceMode, 'readonly');
    assert.equal(workspaceModeOr(undefined), DEFAULT_WORKSPACE_MODE);
    assert.equal(workspaceModeOr('nonsense'), DEFAULT_WORKSPACE_MODE);
    assert.equal(workspaceModeOr('readonly'), 'readonly');
  });

  it('the secret-name list lives in the core; the setting warden.audit.redact.envVars defaults to it', () => {
    assert.deepEqual(setting('warden.audit.redact.envVars').default, [...REDACTED_ENV_VARS]);
  });

  it('every session gets git support: the guard and the protected branches, whatever the named choices', () => {
    const cli = sessionOptions(assembly());
    const editor = sessionOptions(assembly({ git: { sessionBranch: true, checkpoints: { keepLast: 3 } }, reuseSandbox: true }));
    assert.ok(cli.git, 'warden run has git support');
    assert.ok(editor.git);
    assert.deepEqual([cli.reuseSandbox, editor.reuseSandbox], [false, true]);
    assert.deepEqual(cli.git.protectedBranches, ['main', 'master', 'release/*']);
  });

  describe('sessionBranch and checkpoints off (warden run)', () => {
    let workspace: string;
    before(async () => {
      workspace = await fs.mkdtemp(path.join(os.tmpdir(), 'warden-assembly-'));
      await fs.writeFile(path.join(workspace, 'a.txt'), 'a\n');
      const run = (...args: string[]) =>
        git('git', ['-c', 'user.name=Ada', '-c', 'user.email=ada@example.test', ...args], { cwd: workspace });
      await run('init', '--quiet', '--initial-branch=main');
      await run('add', '.');
      await run('commit', '--quiet', '-m', 'initial');
    });
    after(() => fs.rm(workspace, { recursive: true, force: true }));

    it('stays on the branch checked out, takes no checkpoint, and still denies git writes to a protected branch', async () => {
      const sessionGit = sessionOptions(assembly({ workspace: { root: workspace } })).git!;
      const start = await sessionGit.begin('s-cli');
      assert.deepEqual(start, { branch: { status: 'none', reason: NO_SESSION_BRANCH_REASON }, pruned: [] });
      assert.equal(await sessionGit.checkpoint('s-cli', { paths: ['a.txt'], label: 'x' }), undefined);
      const { stdout } = await git('git', ['for-each-ref', '--format=%(refname)'], { cwd: workspace });
      assert.deepEqual(stdout.trim().split('\n'), ['refs/heads/main'], 'no session branch, no checkpoint ref');
      assert.equal((await sessionGit.classifyCommand('git commit -am wip'))?.rule, 'git.commit.protected');
    });
  });

  describe('configureAuditSecrets', () => {
    afterEach(() => {
      configureAuditSecrets({ env: {} });
      configureAuditRedaction({});
    });

    it("masks the named variables' values and the agent's secrets", () => {
      const masked = configureAuditSecrets(
        { env: { GH_TOKEN: 'gh-value-123456', OTHER: 'other-value-1' } },
        { MY_KEY: 'agent-key-5f0c2a' },
      );
      assert.equal(masked.envValues, 1);
      assert.equal(masked.envVars, REDACTED_ENV_VARS.length);
      assert.deepEqual(redactSecrets({ a: 'x gh-value-123456 y', b: 'agent-key-5f0c2a', c: 'other-value-1' }), {
        a: 'x [REDACTED:configured] y',
        b: '[REDACTED:configured]',
        c: 'other-value-1',
      });
    });

    it('a bad pattern throws and keeps the previous host secrets; the agent secrets are masked all the same', () => {
      configureAuditSecrets({ env: { SECRET_A: 'host-secret-aaaa' }, envVars: ['SECRET_A'] });
      assert.throws(
        () => configureAuditSecrets({ env: {}, envVars: [], patterns: ['(unclosed'] }, { K: 'agent-key-91be77' }),
        RedactionConfigError,
      );
      assert.equal(redactSecrets('host-secret-aaaa agent-key-91be77'), '[REDACTED:configured] [REDACTED:configured]');
    });
  });

  it('headless asks: a pending proposal is rejected by the named reviewer with the reason, never approved', async () => {
    const store = new ProposalStore();
    const seen: Proposal[] = [];
    const reviewer = { kind: 'warden' as const, name: 'warden cli', source: 'cli --on-ask reject' };
    const subscription = rejectAsks(store, { reviewer, onAsk: (p) => void seen.push(p) });
    store.add(
      pendingEdit({ id: 'p-1', sessionId: 's', createdAt: new Date().toISOString(), path: 'a.txt', oldText: 'a\n', newText: 'b\n' }),
    );
    for (let i = 0; i < 20 && seen.length === 0; i++) await new Promise((resolve) => setImmediate(resolve));
    const decided = store.get('p-1');
    assert.equal(decided?.decision?.verdict, 'reject');
    assert.deepEqual(decided?.decision?.reviewer, reviewer);
    assert.match(decided?.decision?.reason ?? '', /Nobody is there to answer in a headless run \(cli --on-ask reject\)/);
    assert.deepEqual(
      seen.map((p) => p.id),
      ['p-1'],
    );
    subscription.dispose();
    store.dispose();
  });
});

import { strict as assert } from 'node:assert';
import { mkdtempSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SessionScope, scopeRulesSchema, type WriteTarget } from '../../src/core/git/scope';
import { SessionGit } from '../../src/core/git/sessionGit';
import { describeEffectivePolicy, loadPolicyText, mergePolicies, policyScopeLayers, TighteningRules } from '../../src/core/policy';

const target = (over: Partial<WriteTarget> = {}): WriteTarget => ({
  folder: { name: 'app', path: '/work/app' },
  path: 'src/index.ts',
  branch: 'warden/s-1',
  ...over,
});

describe('SessionScope', () => {
  it('allows everything when unrestricted', () => {
    assert.deepEqual(SessionScope.unrestricted().check(target()), { allowed: true });
    assert.equal(SessionScope.unrestricted().restricted, false);
  });

  it('refuses a write outside the allowed folders of a multi-root workspace, naming the rule', () => {
    const scope = new SessionScope([{ source: 'settings', rules: { folders: ['web', '/work/docs'] } }]);
    const verdict = scope.check(target());
    assert.equal(verdict.allowed, false);
    assert.ok(!verdict.allowed);
    assert.equal(verdict.rule, 'settings:scope.folders');
    assert.match(verdict.reason, /workspace folder "app", outside the folders this session may touch \(web, \/work\/docs\)/);
    assert.ok(scope.check(target({ folder: { name: 'docs', path: '/work/docs' } })).allowed, 'absolute paths match too');
    assert.ok(scope.check(target({ folder: { name: 'web', path: '/elsewhere/web' } })).allowed);
  });

  it('refuses writes on a branch outside the allowed globs, and when no branch is checked out', () => {
    const scope = new SessionScope([{ source: 'policy', rules: { branches: ['warden/*', 'feature/*'] } }]);
    assert.ok(scope.check(target()).allowed);
    const onMain = scope.check(target({ branch: 'main' }));
    assert.ok(!onMain.allowed);
    assert.equal(onMain.rule, 'policy:scope.branches');
    assert.match(onMain.reason, /"main" is not one this session may write on/);
    const detached = scope.check(target({ branch: undefined }));
    assert.ok(!detached.allowed && /no branch is checked out/.test(detached.reason));
  });

  it('file patterns: exclude wins, include must match', () => {
    const scope = new SessionScope([
      { source: 'settings', rules: { include: ['src/**', 'test/'], exclude: ['**/*.secret', 'src/generated/'] } },
    ]);
    assert.ok(scope.check(target({ path: 'test/a.test.ts' })).allowed);
    const excluded = scope.check(target({ path: 'src/generated/api.ts' }));
    assert.ok(!excluded.allowed);
    assert.equal(excluded.rule, 'settings:scope.exclude');
    assert.match(excluded.reason, /matches the excluded pattern "src\/generated\/"/);
    const outside = scope.check(target({ path: 'package.json' }));
    assert.ok(!outside.allowed);
    assert.equal(outside.rule, 'settings:scope.include');
  });

  it('layers only narrow: the policy and the settings must both allow a write', () => {
    const scope = new SessionScope([{ source: 'policy', rules: { include: ['src/**'] } }]).with({
      source: 'settings',
      rules: { exclude: ['src/secret/**'] },
    });
    assert.ok(scope.check(target()).allowed);
    const verdict = scope.check(target({ path: 'src/secret/key.ts' }));
    assert.ok(!verdict.allowed && verdict.rule === 'settings:scope.exclude');
    const policyRefuses = scope.check(target({ path: 'README.md' }));
    assert.ok(!policyRefuses.allowed && policyRefuses.rule === 'policy:scope.include');
  });

  it('the rules schema rejects malformed settings', () => {
    assert.ok(scopeRulesSchema.safeParse({ include: ['src/**'] }).success);
    assert.ok(!scopeRulesSchema.safeParse({ include: 'src/**' }).success);
    assert.ok(!scopeRulesSchema.safeParse({ folders: [''] }).success);
  });
});

describe('scope in the team policy', () => {
  const policyWith = (team: string, user?: string) => {
    const loaded = loadPolicyText(team);
    assert.ok(loaded.ok, 'the team policy parses');
    return mergePolicies({
      team: { status: 'loaded', policy: loaded.value },
      ...(user ? { user: { rules: TighteningRules.parse(JSON.parse(user)) } } : {}),
    });
  };

  it('the policy file has a scope section, validated like every other section', () => {
    assert.ok(loadPolicyText('{"scope": {"include": ["src/**"], "branches": ["warden/*"]}}').ok);
    const bad = loadPolicyText('{"scope": {"include": "src/**"}}');
    assert.ok(!bad.ok && bad.problems[0]!.message.includes('scope.include'), 'a string where a list belongs is reported at the key');
    assert.ok(!loadPolicyText('{"scope": {"paths": ["src/**"]}}').ok, 'unknown keys are errors');
  });

  it('team and user layers both narrow, and a refusal names the layer and the rule', async () => {
    const policy = policyWith('{"scope": {"include": ["src/**", "docs/**"]}}', '{"scope": {"exclude": ["docs/**"]}}');
    const layers = policyScopeLayers(policy);
    assert.deepEqual(
      layers.map((l) => l.source),
      ['policy', 'user'],
    );
    const folder = mkdtempSync(path.join(os.tmpdir(), 'warden-scope-'));
    const scope = SessionGit.scopeOnly(folder, () => layers);
    assert.deepEqual(await scope.checkWrite('src/a.ts'), { allowed: true });
    const outside = await scope.checkWrite('package.json');
    assert.ok(!outside.allowed && outside.rule === 'policy:scope.include', JSON.stringify(outside));
    const excluded = await scope.checkWrite('docs/readme.md');
    assert.ok(!excluded.allowed && excluded.rule === 'user:scope.exclude', JSON.stringify(excluded));
  });

  it('branches in the policy scope need a checked-out branch: outside git, writes are refused', async () => {
    const policy = policyWith('{"scope": {"branches": ["warden/*"]}}');
    const scope = SessionGit.scopeOnly(mkdtempSync(path.join(os.tmpdir(), 'warden-scope-')), () => policyScopeLayers(policy));
    const verdict = await scope.checkWrite('src/a.ts');
    assert.ok(!verdict.allowed && verdict.rule === 'policy:scope.branches', JSON.stringify(verdict));
  });

  it('an edited policy applies at once: the layers are read at each write', async () => {
    let policy = policyWith('{}');
    const scope = SessionGit.scopeOnly(mkdtempSync(path.join(os.tmpdir(), 'warden-scope-')), () => policyScopeLayers(policy));
    assert.deepEqual(await scope.checkWrite('infra/main.tf'), { allowed: true });
    policy = policyWith('{"scope": {"exclude": ["infra/**"]}}');
    assert.equal((await scope.checkWrite('infra/main.tf')).allowed, false);
  });

  it('Show Effective Policy lists the scope layers with their source', () => {
    const text = describeEffectivePolicy(policyWith('{"scope": {"include": ["src/**"]}}'));
    assert.match(text, /"scope": \[\s*\{\s*"include": \[\s*"src\/\*\*"\s*\],\s*"source": "team"/);
  });
});

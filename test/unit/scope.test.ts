import { strict as assert } from 'node:assert';
import { SessionScope, scopeRulesSchema, type WriteTarget } from '../../src/core/git/scope';

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
    const scope = new SessionScope([{ source: 'settings', rules: { include: ['src/**', 'test/'], exclude: ['**/*.secret', 'src/generated/'] } }]);
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
    const scope = new SessionScope([{ source: 'policy', rules: { include: ['src/**'] } }]).with({ source: 'settings', rules: { exclude: ['src/secret/**'] } });
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

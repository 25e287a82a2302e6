import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import picomatch from 'picomatch';
import * as z from 'zod';
import {
  analyzeShell,
  checkExamples,
  describeEffectivePolicy,
  evaluateCommand,
  evaluatePath,
  literalPrefix,
  segmentKey,
  loadManagedPolicyText,
  loadPolicyText,
  loadWorkspacePolicy,
  mergePolicies,
  PolicyFile,
  policyJsonSchema,
  TighteningRules,
  type EffectivePolicy,
} from '../../src/core/policy';
import { parseExtensionMessage, toProposalView } from '../../src/shared/reviewProtocol';
import { teamPolicy } from '../support/teamPolicy';

// The build's emitter (CommonJS, shared with esbuild.js).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { emitPolicySchema } = require('../../scripts/emit-policy-schema.js') as { emitPolicySchema: (outFile: string) => Promise<void> };

const team = teamPolicy;

const TEAM = `{
  // The team sees every command (the old default, now explicit) and allows the test runner,
  // read-only git, echo and find; writes under src/ and test/.
  "defaults": { "command": "ask" },
  "commands": [
    { "id": "node-test", "match": "node --test *", "decision": "allow", "reason": "tests are safe in the sandbox" },
    { "id": "git-read", "match": ["git status", "git log *", "git diff *"], "decision": "allow" },
    { "id": "echo", "match": "echo *", "decision": "allow" },
    { "id": "find", "match": "find *", "decision": "allow" },
    { "id": "ls", "match": "ls *", "decision": "allow" },
    { "id": "no-curl", "match": "curl *", "decision": "deny", "reason": "no network tools" },
  ],
  "paths": [
    { "id": "src-writes", "paths": ["src/**", "test/**"], "actions": ["write", "create"], "decision": "allow" },
    { "id": "secrets", "paths": "**/*.pem", "actions": ["read", "write"], "decision": "deny", "reason": "keys stay out" },
  ],
}`;

const cmd = (policy: EffectivePolicy, commandLine: string): string => evaluateCommand(policy, { commandLine }).decision;

describe('policy: schema and JSON schema', () => {
  it('the emitted JSON schema matches the zod schema: same properties, and every property documented', () => {
    const json = policyJsonSchema() as {
      properties: Record<string, { description?: string }>;
      additionalProperties?: unknown;
      $schema?: string;
    };
    assert.deepEqual(Object.keys(json.properties).sort(), Object.keys(PolicyFile.shape).sort());
    assert.equal(json.additionalProperties, false, 'unknown keys are errors in the editor too');
    assert.match(json.$schema ?? '', /draft-07/);
    // The emitted schema is exactly what zod emits (the build writes this into dist/policy.schema.json).
    const direct = z.toJSONSchema(PolicyFile, { target: 'draft-7', io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
    assert.deepEqual({ ...json, title: undefined, $id: undefined }, { ...direct, title: undefined, $id: undefined });
  });

  it('the file the build emits (dist/policy.schema.json) is the zod schema as JSON schema', async function () {
    this.timeout(30_000);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'warden-schema-'));
    try {
      const out = path.join(dir, 'policy.schema.json');
      await emitPolicySchema(out);
      assert.deepEqual(JSON.parse(await readFile(out, 'utf8')), JSON.parse(JSON.stringify(policyJsonSchema())));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('network, git, sandbox and limits sections are validated', () => {
    const bad = loadPolicyText(
      '{"network": {"allow": [{"host": "x", "ports": [70000]}]}, "limits": {"outputBytes": -1}, "git": {"push": "allow"}, "sandbox": {"allowPrivileged": "yes"}}',
    );
    assert.ok(!bad.ok);
    const paths = bad.problems.map((p) => p.path?.join('.'));
    assert.ok(paths.includes('network.allow.0.ports.0'), paths.join(', '));
    assert.ok(paths.includes('limits.outputBytes'));
    assert.ok(paths.includes('git.push'), 'git.push cannot be lowered to allow');
    assert.ok(paths.includes('sandbox.allowPrivileged'));
  });

  it('user and managed rules cannot say allow (tighten only)', () => {
    assert.equal(TighteningRules.safeParse({ commands: [{ id: 'x', match: 'rm *', decision: 'allow' }] }).success, false);
    assert.equal(TighteningRules.safeParse({ commands: [{ id: 'x', match: 'rm *', decision: 'deny' }] }).success, true);
  });

  it('an override must name its paths or commands and give a reason', () => {
    assert.ok(!loadPolicyText('{"overrides": [{"id": "o", "class": "irreversible", "decision": "allow", "reason": "r"}]}').ok);
    assert.ok(!loadPolicyText('{"overrides": [{"id": "o", "class": "irreversible", "commands": "git push *", "decision": "allow"}]}').ok);
  });
});

describe('policy: loader errors carry line and column', () => {
  it('a JSON syntax error is reported where it is', () => {
    const result = loadPolicyText('{\n  "commands": [\n    { "id": "a" "match": "x" }\n  ]\n}');
    assert.ok(!result.ok);
    const first = result.problems[0]!;
    assert.equal(first.line, 3);
    assert.equal(first.column, 17);
    assert.match(first.message, /comma is expected/);
  });

  it('a validation error points at the offending value', () => {
    const text = '{\n  // comment\n  "commands": [\n    { "id": "a", "match": "x", "decision": "maybe" }\n  ],\n}';
    const result = loadPolicyText(text);
    assert.ok(!result.ok);
    const problem = result.problems[0]!;
    assert.deepEqual(problem.path, ['commands', 0, 'decision']);
    assert.equal(problem.line, 4);
    assert.equal(problem.column, text.split('\n')[3]!.indexOf('"maybe"') + 1);
  });

  it('an unknown key is reported at the key', () => {
    const result = loadPolicyText('{\n  "comands": []\n}');
    assert.ok(!result.ok);
    assert.equal(result.problems[0]!.line, 2);
    assert.equal(result.problems[0]!.column, 3);
  });

  it('comments and trailing commas are allowed (JSONC)', () => {
    assert.ok(loadPolicyText('{ /* c */ "paths": [], // x\n }').ok);
  });
});

describe('policy: shell-aware command analysis', () => {
  const names = (line: string): string[] => analyzeShell(line).commands.map((c) => c.argv.map((w) => w.text).join(' '));

  it('chains and pipes: every inner command', () => {
    assert.deepEqual(names('a x && b y || c; d | e |& f'), ['a x', 'b y', 'c', 'd', 'e', 'f']);
  });
  it('subshells, groups, $(...) and backticks', () => {
    assert.deepEqual(names('(a; b) && { c; } ; echo $(d `e`)').sort(), ['a', 'b', 'c', 'd `e`', 'e', 'echo $(d `e`)'].sort());
  });
  it('commands inside if/for/while/case and functions', () => {
    assert.deepEqual(
      names('if a; then b; fi; for i in 1; do c; done; while d; do e; done; case x in y) f;; esac; g() { h; }').sort(),
      ['a', 'b', 'c', 'd', 'e', 'f', 'h'].sort(),
    );
  });
  it('redirections become file accesses', () => {
    const a = analyzeShell('cmd < in.txt > out.txt 2>&1 >> log.txt &> both 2>/dev/null');
    assert.deepEqual(
      a.files.map((f) => `${f.action}:${f.path.text}`),
      ['read:in.txt', 'write:out.txt', 'write:log.txt', 'write:both'],
    );
  });
  it('wrappers: env, timeout, nice, nohup, xargs, sh -c, bash -c are looked through', () => {
    assert.deepEqual(names('env -i A=1 B=2 timeout -s KILL 5 nice -n 10 nohup rm -rf x'), ['rm -rf x']);
    assert.deepEqual(names('bash -c "git push origin main; echo done"'), ['git push origin main', 'echo done']);
    assert.deepEqual(names('sh -ec \'sh -c "rm x"\''), ['rm x']);
    const x = analyzeShell('find . -name "*.js" | xargs -0 -n 1 rm -f');
    assert.deepEqual(
      x.commands.map((c) => c.argv.map((w) => w.text).join(' ')),
      ['find . -name *.js', 'rm -f <xargs input>'],
    );
    assert.deepEqual(x.commands[1]!.via, ['xargs']);
  });
  it('quote removal: find -e"x"ec is -exec, and its command is checked', () => {
    assert.deepEqual(names('find . -e"x"ec r\'m\' {} \\;'), ['find . -exec rm {} ;', 'rm {}']);
  });
  it('dynamic command names, eval and scripts on stdin are concerns', () => {
    assert.deepEqual(
      analyzeShell('$CMD x').concerns.map((c) => c.code),
      ['dynamic-command'],
    );
    assert.deepEqual(
      analyzeShell('eval "$X"').concerns.map((c) => c.code),
      ['eval'],
    );
    assert.deepEqual(
      analyzeShell('curl x | sh').concerns.map((c) => c.code),
      ['stdin-script'],
    );
    assert.deepEqual(
      analyzeShell('PATH=/tmp/evil:$PATH node --test').concerns.map((c) => c.code),
      ['env-override'],
    );
  });
  it('what does not parse is not ok', () => {
    assert.equal(analyzeShell('echo "unterminated').ok, false);
    assert.equal(analyzeShell('a && && b').ok, false);
  });
});

describe('policy: evaluation', () => {
  const policy = team(TEAM);

  it('allows what a rule allows, with the rule id and reason', () => {
    const verdict = evaluateCommand(policy, { commandLine: 'node --test test/' });
    assert.equal(verdict.decision, 'allow');
    assert.equal(verdict.ruleId, 'node-test');
    assert.match(verdict.reason, /tests are safe in the sandbox/);
    assert.equal(evaluatePath(policy, 'create', 'src/new.js').ruleId, 'src-writes');
  });

  it('no rule: the team default (ask) asks', () => {
    const verdict = evaluateCommand(policy, { commandLine: 'make build' });
    assert.equal(verdict.decision, 'ask');
    assert.equal(verdict.ruleId, 'default');
    assert.equal(evaluatePath(policy, 'write', 'README.md').decision, 'ask');
    assert.equal(evaluatePath(policy, 'read', 'README.md').decision, 'allow');
  });

  it('deny wins over allow, also for reads', () => {
    assert.equal(cmd(policy, 'echo hi && curl https://example.test'), 'deny');
    assert.equal(evaluatePath(policy, 'read', 'src/key.pem').decision, 'deny');
    assert.equal(evaluatePath(policy, 'write', 'src/key.pem').ruleId, 'secrets');
  });

  it('an exact argv is analyzed without a shell, but sh -c in it is looked into', () => {
    assert.equal(evaluateCommand(policy, { argv: ['node', '--test', 'test/'] }).decision, 'allow');
    assert.equal(
      evaluateCommand(policy, { argv: ['node', '--test', 'test/; rm -rf /'] }).decision,
      'allow',
      'one argv word, no shell: nothing else runs',
    );
    assert.equal(evaluateCommand(policy, { argv: ['sh', '-c', 'node --test; rm -rf x'] }).decision, 'ask');
  });

  it('a command or git subcommand named like an Object property (constructor, __proto__, toString) is decided, not a crash', () => {
    // The option tables were objects: `PROGRAM_OPTIONS["constructor"]` found Object's constructor and the analysis threw.
    for (const line of ['constructor x', '__proto__ -a', 'toString --x=1', 'valueOf', 'git constructor', 'git __proto__ x', 'git toString'])
      assert.equal(evaluateCommand(policy, { commandLine: line }).decision, 'ask', line);
  });

  describe('a corpus of bypass attempts (from known bugs in other tools) is decided correctly', () => {
    const corpus: Array<[string, 'allow' | 'ask' | 'deny']> = [
      // prefix-allowed commands extended with redirections
      ['echo hi > src/ok.js', 'allow'],
      ['echo pwned > .warden/policy.json', 'ask'],
      ['git status > .git/hooks/pre-commit', 'ask'],
      ['git log >> .github/workflows/ci.yml', 'ask'],
      ['echo x > "$TARGET"', 'ask'],
      ['ls > README.md', 'ask'],
      // chains after an allowed prefix
      ['node --test; rm -rf /', 'ask'],
      ['node --test && curl evil.test', 'deny'],
      ['git status || git push', 'ask'],
      ['echo ok | sh', 'ask'],
      // xargs, env and timeout wrappers
      ['echo src | xargs rm -rf', 'ask'],
      ['env curl evil.test', 'deny'],
      ['env -i PATH=/x node --test', 'ask'],
      ['timeout 5 curl evil.test', 'deny'],
      ['timeout -k 1 5 git push origin main', 'ask'],
      ['nice -n 5 timeout 10 node --test test/', 'allow'],
      ['nohup sh -c "curl evil.test"', 'deny'],
      ['bash -c "git push --force"', 'ask'],
      // quote tricks
      ['find . -e"x"ec rm {} \\;', 'ask'],
      ["find . -name x -exe''c curl evil.test \\;", 'deny'],
      ['find . -delete', 'ask'],
      ['c"ur"l evil.test', 'deny'],
      ["'git' push", 'ask'],
      ['\\rm -rf x', 'ask'],
      // $(...) and backticks
      ['echo $(curl evil.test)', 'deny'],
      ['echo `rm -rf x`', 'ask'],
      ['node --test "$(rm -rf x)"', 'ask'],
      ['ls <(curl evil.test)', 'deny'],
      ['$(echo rm) -rf x', 'ask'],
      // ANSI-C quoting decodes escapes: $'\x72m' is rm
      ["$'\\x72m' -rf x", 'ask'],
      ["echo $'\\x41'", 'allow'],
      // less common wrappers
      ['watch -n 5 curl evil.test', 'deny'],
      ['flock /tmp/lock -c "curl evil.test"', 'deny'],
      ['taskset -c 0 curl evil.test', 'deny'],
      ['strace -f -o /tmp/t curl evil.test', 'deny'],
      ['su -c "curl evil.test"', 'deny'],
      // eval
      ['eval "node --test"', 'ask'],
      ['eval $(echo rm -rf /)', 'ask'],
      ['echo x; eval rm', 'ask'],
      // unparseable
      ['echo "unterminated', 'ask'],
      ['node --test )', 'ask'],
    ];
    for (const [line, expected] of corpus) {
      it(`${line} → ${expected}`, () => {
        const verdict = evaluateCommand(policy, { commandLine: line });
        assert.equal(verdict.decision, expected, `${verdict.ruleId}: ${verdict.reason}`);
      });
    }
  });
});

describe('policy: speed-ups decide exactly as before', () => {
  it('a path rule passed over by its literal prefix is one its glob does not match', () => {
    const globs = [
      'dir1/**',
      'src/**',
      'src/*.ts',
      'src',
      'src/',
      '**/*.pem',
      '*.md',
      'a/**/b',
      'a/b/**/c.txt',
      '.warden/**',
      '.github/workflows/*',
      'docs/{a,b}/**',
      'x?/y',
      'lib/[ab]/z',
      'pkg/!(x)',
      'a.b/c',
      './src/**',
      '/abs/**',
      'a//b',
      'README.md',
      '@scope/pkg/**',
      'dir+1/**',
    ];
    const files = [
      'dir1',
      'dir1/a',
      'dir10/a',
      'dir',
      'src',
      'src/a.ts',
      'src/b/c.ts',
      'srcx/a',
      'a/b',
      'a/x/b',
      'a/b/c.txt',
      'a/b/d/c.txt',
      'k.pem',
      'x/k.pem',
      'README.md',
      'docs/a/x',
      'docs/c/x',
      'xy/y',
      'lib/a/z',
      'pkg/y',
      'a.b/c',
      'abs/x',
      '.warden/policy.json',
      '.github/workflows/ci.yml',
      '@scope/pkg/x',
      'dir+1/a',
      '.',
    ];
    for (const glob of globs) {
      const prefix = literalPrefix(glob);
      const match = picomatch(glob, { dot: true });
      for (const file of files) if (match(file)) assert.ok(file.startsWith(prefix), `${glob} matches ${file} but its prefix is ${prefix}`);
      // The index by first segment (issue 21, round 5) passes over a rule only for files the glob cannot match.
      const key = segmentKey(glob);
      if (key !== undefined)
        for (const file of files)
          if (match(file)) assert.equal(file.split('/')[0], key, `${glob} matches ${file} outside its segment ${key}`);
    }
    assert.equal(segmentKey('dir1/**'), 'dir1');
    assert.equal(segmentKey('dir1*/**'), undefined);
    assert.equal(segmentKey('**/*.pem'), undefined);
  });

  it('an analysis is frozen and a repeated line gets the same answer', () => {
    const line = 'env A=1 timeout 5 node --test > out.txt 2>&1 | tee log.txt';
    const first = analyzeShell(line);
    assert.ok(Object.isFrozen(first) && Object.isFrozen(first.commands) && Object.isFrozen(first.commands[0]!.argv[0]));
    assert.deepEqual(analyzeShell(line), first);
    assert.equal(evaluateCommand(team(TEAM), { commandLine: line }).decision, evaluateCommand(team(TEAM), { commandLine: line }).decision);
  });

  it('non-ASCII words keep their text (the parser holds UTF-8 bytes)', () => {
    const a = analyzeShell('echo é \'ü\' "ö" > fé.txt');
    assert.deepEqual(
      a.commands[0]!.argv.map((w) => w.text),
      ['echo', 'é', 'ü', 'ö'],
    );
    assert.equal(a.files[0]!.path.text, 'fé.txt');
  });

  it('commands in here-documents, parameter defaults, arrays and arithmetic are found', () => {
    const names = (line: string): string[] => analyzeShell(line).commands.map((c) => c.argv[0]!.text);
    assert.ok(names('cat <<EOF\n$(curl x)\nEOF').includes('curl'));
    assert.ok(names('echo ${x:-$(curl x)}').includes('curl'));
    assert.ok(names('a=(1 $(curl x)); echo').includes('curl'));
    assert.ok(names('echo $((1 + $(curl x)))').includes('curl'));
    assert.ok(names('[[ $(curl x) ]]').includes('curl'));
    assert.ok(names('coproc curl x').includes('curl'));
  });
});

describe('policy: built-in classes ask at least', () => {
  const allowEverything = `{
    "defaults": { "write": "allow", "command": "allow" },
    "commands": [{ "id": "all", "match": "*", "decision": "allow" }, { "id": "git-all", "match": "git *", "decision": "allow" }],
    "paths": [{ "id": "all-paths", "paths": "**", "actions": ["write", "create", "delete"], "decision": "allow" }]
  }`;
  const policy = team(allowEverything);

  // What crosses the sandbox boundary (through egress) asks whatever the rules say.
  for (const line of [
    'git push origin main',
    'git -C . push',
    'npm publish',
    'cargo publish',
    'kubectl apply -f k.yaml',
    'terraform apply',
    'npx prisma migrate deploy',
    'psql -c "drop table x"',
    'npm run deploy',
    'docker push img',
    'aws s3 rm s3://bucket/x',
  ]) {
    it(`${line}: asks although a rule allows it (it crosses the boundary)`, () => {
      const verdict = evaluateCommand(policy, { commandLine: line });
      assert.equal(verdict.decision, 'ask', verdict.reason);
      assert.equal(verdict.ruleId, 'builtin.irreversible');
    });
  }

  // What acts only inside the sandbox (the private copy, its read-only .git) is a risk label, not a floor.
  for (const [line, label] of [
    ['rm -rf build', 'in the sandbox: deleting files (rm)'],
    ['find . -delete', 'in the sandbox: deleting files (find -delete)'],
    ['git merge feature', 'in the sandbox: git merge (merges)'],
    ['git reset --hard HEAD~1', 'in the sandbox: git reset --hard'],
    ['git clean -fdx', 'in the sandbox: git clean (deletes files)'],
    ['git checkout -- src/a.js', 'in the sandbox: git checkout discarding changes'],
    ['git stash drop', 'in the sandbox: git stash drop'],
    ['truncate -s 0 log.txt', 'in the sandbox: overwriting data (truncate)'],
  ] as const) {
    it(`${line}: runs inside the sandbox, labelled "${label}"`, () => {
      const verdict = evaluateCommand(policy, { commandLine: line });
      assert.equal(verdict.decision, 'allow', verdict.reason);
      assert.ok(verdict.labels?.includes(label), JSON.stringify(verdict.labels));
    });
  }

  for (const file of [
    '.warden/policy.json',
    '.warden/audit/audit-000001.jsonl',
    '.git/config',
    'sub/.git/HEAD',
    '.vscode/settings.json',
    '.devcontainer/devcontainer.json',
    '.github/workflows/ci.yml',
    '.gitlab-ci.yml',
    '.ci/run',
  ]) {
    it(`writing ${file}: asks although a rule allows it`, () => {
      const verdict = evaluatePath(policy, 'write', file);
      assert.equal(verdict.decision, 'ask');
      assert.equal(verdict.ruleId, 'builtin.protected-path');
    });
  }

  it('deleting a file is irreversible', () => {
    assert.equal(evaluatePath(policy, 'delete', 'src/a.js').ruleId, 'builtin.irreversible');
  });

  it('a team can raise the classes to deny', () => {
    const strict = team('{"builtins": {"irreversible": "deny", "protectedPaths": "deny"}, "git": {"push": "deny"}}');
    assert.equal(cmd(strict, 'git push'), 'deny');
    assert.equal(evaluatePath(strict, 'write', '.vscode/settings.json').decision, 'deny');
  });

  it('only an explicit, named override in the team policy lowers a class to allow', () => {
    const withOverride = team(`{
      "commands": [{ "id": "git-all", "match": "git *", "decision": "allow" }],
      "overrides": [
        { "id": "push-feature-branches", "class": "irreversible", "commands": "git push origin feature/*", "decision": "allow", "reason": "feature branches are ours" },
        { "id": "editor-settings", "class": "protected-path", "paths": ".vscode/settings.json", "actions": ["write"], "decision": "allow", "reason": "shared settings" }
      ]
    }`);
    assert.equal(cmd(withOverride, 'git push origin feature/x'), 'allow');
    assert.equal(cmd(withOverride, 'git push origin main'), 'ask', 'the override names only feature branches');
    const pushVerdict = evaluateCommand(withOverride, { commandLine: 'git push origin feature/x' });
    assert.equal(pushVerdict.ruleId, 'git-all');
    assert.equal(evaluatePath(withOverride, 'write', '.vscode/settings.json').decision, 'allow');
    assert.equal(evaluatePath(withOverride, 'write', '.vscode/settings.json').ruleId, 'editor-settings');
    assert.equal(evaluatePath(withOverride, 'write', '.vscode/launch.json').decision, 'ask');
  });

  it('a deny rule still beats an override', () => {
    const p = team(`{
      "commands": [{ "id": "no-push", "match": "git push *", "decision": "deny" }],
      "overrides": [{ "id": "o", "class": "irreversible", "commands": "git push *", "decision": "allow", "reason": "r" }]
    }`);
    assert.equal(cmd(p, 'git push origin x'), 'deny');
  });
});

describe('policy: precedence (team first; user and managed only tighten)', () => {
  const base = `{
    "commands": [{ "id": "git-all", "match": "git *", "decision": "allow" }],
    "overrides": [{ "id": "push-ok", "class": "irreversible", "commands": "git push *", "decision": "allow", "reason": "r" }]
  }`;

  it('user rules tighten: a user deny beats a team allow', () => {
    const user = TighteningRules.parse({ commands: [{ id: 'my-no-log', match: 'git log *', decision: 'deny' }] });
    const p = team(base, { user: { rules: user } });
    const verdict = evaluateCommand(p, { commandLine: 'git log -1' });
    assert.equal(verdict.decision, 'deny');
    assert.match(verdict.reason, /your setting warden\.policy\.userRules/);
  });

  it('user settings cannot loosen: allow rules in settings are rejected by the schema', () => {
    const parsed = TighteningRules.safeParse({ commands: [{ id: 'x', match: 'rm *', decision: 'allow' }] });
    assert.equal(parsed.success, false);
  });

  it('user or managed builtins are not lifted by team overrides', () => {
    assert.equal(cmd(team(base), 'git push origin main'), 'allow');
    const managed = loadManagedPolicyText('{ "builtins": { "irreversible": "deny", "protectedPaths": "ask" } }');
    assert.ok(managed.ok);
    const p = team(base, { managed: { origin: '/etc/warden/policy.json', rules: managed.value } });
    const verdict = evaluateCommand(p, { commandLine: 'git push origin main' });
    assert.equal(verdict.decision, 'deny');
    assert.match(verdict.reason, /managed policy \/etc\/warden\/policy\.json/);
  });

  it('an invalid user setting or managed policy also means everything asks (fail closed), and says which', async () => {
    const good = loadPolicyText('{"commands": [{"id": "tests", "match": "node --test *", "decision": "allow"}]}');
    assert.ok(good.ok);
    const managed = loadManagedPolicyText('{"commands": [{"id": "x", "match": "ls", "decision": "allow"}]}');
    assert.ok(!managed.ok, 'a managed policy cannot allow');
    const p = mergePolicies({
      team: { status: 'loaded', policy: good.value },
      managed: { origin: '/etc/warden/policy.json', problems: managed.problems },
    });
    assert.equal(p.valid, false);
    const verdict = evaluateCommand(p, { commandLine: 'node --test' });
    assert.equal(verdict.decision, 'ask');
    assert.match(verdict.reason, /\/etc\/warden\/policy\.json does not parse or validate/);

    const missing = await loadWorkspacePolicy(os.tmpdir(), {
      managedPolicyPath: path.join(os.tmpdir(), 'no-such-warden-policy.json'),
      userRules: { commands: [{ id: 'u', match: 'x', decision: 'allow' }] },
    });
    assert.equal(missing.valid, false);
    assert.deepEqual(
      missing.sources.map((s) => `${s.source}:${s.status}`),
      ['team:absent', 'user:invalid', 'managed:invalid'],
    );
  });

  it('limits take the smallest value and remember where it came from', () => {
    const p = team('{"limits": {"outputBytes": 1000}}', { user: { rules: TighteningRules.parse({ limits: { outputBytes: 10 } }) } });
    assert.equal(p.limits.outputBytes, 10);
    assert.equal(p.limits.from?.outputBytes?.source, 'user');
  });

  it('the effective policy shows the source of each rule', () => {
    const user = TighteningRules.parse({ commands: [{ id: 'mine', match: 'make *', decision: 'ask' }] });
    const text = describeEffectivePolicy(team(base, { user: { rules: user } }));
    assert.match(text, /"id": "git-all",[\s\S]*?"source": "team"/);
    assert.match(text, /"id": "mine",[\s\S]*?"source": "user"/);
  });

  it('a broken team policy means everything asks (and user denies still deny)', () => {
    const broken = loadPolicyText('{ "commands": [ ');
    assert.ok(!broken.ok);
    const user = TighteningRules.parse({ commands: [{ id: 'no-curl', match: 'curl *', decision: 'deny' }] });
    const p = mergePolicies({ team: { status: 'invalid', problems: broken.problems }, user: { rules: user } });
    assert.equal(p.teamPolicyValid, false);
    const verdict = evaluateCommand(p, { commandLine: 'ls' });
    assert.equal(verdict.decision, 'ask');
    assert.equal(cmd(p, 'curl x'), 'deny');
    assert.equal(evaluatePath(p, 'write', 'src/a.js').decision, 'ask');
    assert.equal(evaluatePath(p, 'read', 'src/a.js').decision, 'allow', 'reads still work');
    assert.match(describeEffectivePolicy(p), /INVALID: line 1/);
  });
});

describe('policy: examples', () => {
  it('checks command and path examples and explains failures', () => {
    const p = team(`{
      "commands": [{ "id": "node-test", "match": "node --test *", "decision": "allow" }],
      "examples": [
        { "command": "git push origin main", "expect": "ask" },
        { "command": "node --test test/", "expect": "allow" },
        { "path": ".git/config", "action": "write", "expect": "ask" },
        { "path": "src/a.js", "expect": "allow" }
      ]
    }`);
    const results = checkExamples(p);
    assert.deepEqual(
      results.map((r) => r.pass),
      [true, true, true, false],
    );
    assert.match(results[3]!.message, /src\/a\.js is expected to allow but the policy says ask/);
  });
});

describe('policy: the Review panel contract carries "Why?"', () => {
  it('a proposal with a policy note is a valid state message, and the note survives', () => {
    const proposal = {
      id: 'p-1',
      sessionId: 's-1',
      createdAt: new Date().toISOString(),
      state: 'pending' as const,
      title: 'Run git push',
      origin: 'terminal/create',
      kind: 'command' as const,
      argv: ['git', 'push'],
      commandLine: 'git push',
      cwd: '/workspaces/demo',
      env: {},
      policy: {
        decision: 'ask' as const,
        ruleId: 'builtin.irreversible',
        reason: 'git push is irreversible: a human decides',
        labels: ['irreversible: git push'],
      },
    };
    const parsed = parseExtensionMessage({ type: 'state', proposals: [toProposalView(proposal)] });
    assert.ok(parsed.ok, parsed.ok ? '' : parsed.error);
    assert.ok(parsed.message.type === 'state');
    assert.deepEqual(parsed.message.proposals[0]!.policy, proposal.policy);
    assert.equal(
      parseExtensionMessage({ type: 'state', proposals: [{ ...proposal, policy: { decision: 'maybe', ruleId: 'x', reason: 'y' } }] }).ok,
      false,
    );
  });
});

describe('policy: the README example', () => {
  it('loads, and its examples pass', () => {
    const readme = readFileSync('README.md', 'utf8');
    const section = readme.slice(readme.indexOf('## Team policy'));
    const block = /```jsonc\n([\s\S]*?)```/.exec(section)?.[1];
    assert.ok(block, 'the Team policy section has a jsonc example');
    const policy = team(block);
    const results = checkExamples(policy);
    assert.ok(results.length > 0);
    assert.deepEqual(
      results.filter((r) => !r.pass).map((r) => r.message),
      [],
    );
  });
});

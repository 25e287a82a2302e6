import { strict as assert } from 'node:assert';
import {
  analyzeShell,
  checkExamples,
  describeEffectivePolicy,
  evaluateCommand,
  evaluatePath,
  loadPolicyText,
  mergePolicies,
  PolicyFile,
  type EffectivePolicy,
  type PolicyVerdict,
} from '../../src/core/policy';
import { scanOptions, sedScriptRisks } from '../../src/core/policy/options';
import { STARTER_POLICY } from '../../src/core/policy/starter';
import { teamPolicy } from '../support/teamPolicy';

/** Issue #18: decide at the boundary. Commands run inside the sandbox; what crosses it asks. */

const team = teamPolicy;
const NONE = mergePolicies({ team: { status: 'absent' } });
const OLD = team('{ "defaults": { "command": "ask" } }');
const verdict = (policy: EffectivePolicy, commandLine: string): PolicyVerdict => evaluateCommand(policy, { commandLine });

describe('boundary: commands run inside the sandbox by default', () => {
  it('the built-in default for commands is allow; writes still ask (they are proposals)', () => {
    assert.equal(NONE.defaults.command, 'allow');
    assert.equal(PolicyFile.parse({}).defaults, undefined);
    assert.equal(NONE.defaults.write, 'ask');
  });

  // The migration table (README, "Decide at the boundary"): old default → new default.
  const table: Array<[string, 'ask' | 'allow', 'ask' | 'allow']> = [
    ['ls', 'ask', 'allow'],
    ['grep -r password .', 'ask', 'allow'],
    ['cat src/a.js', 'ask', 'allow'],
    ['npm test', 'ask', 'allow'],
    ['rm scratch.txt', 'ask', 'allow'],
    ["sed -i 's/a/b/' src/a.js", 'ask', 'allow'],
    ['git status && git diff', 'ask', 'allow'],
    ['git push origin main', 'ask', 'ask'],
    ['npm publish', 'ask', 'ask'],
    ['echo x > .warden/policy.json', 'ask', 'ask'],
    ["sed -i 's/a/b/' .github/workflows/ci.yml", 'ask', 'ask'],
  ];
  for (const [line, old, now] of table) {
    it(`${line}: ${old} with "defaults.command": "ask", ${now} with no policy`, () => {
      assert.equal(verdict(OLD, line).decision, old, verdict(OLD, line).reason);
      assert.equal(verdict(NONE, line).decision, now, verdict(NONE, line).reason);
    });
  }

  it('a delete proposal of a real file still asks (path side, unchanged)', () => {
    const v = evaluatePath(NONE, 'delete', 'src/a.js');
    assert.equal(v.decision, 'ask');
    assert.equal(v.ruleId, 'builtin.irreversible');
  });

  it('rm inside the sandbox carries risk labels for the reviewer', () => {
    const v = verdict(NONE, 'rm -rf build');
    assert.equal(v.decision, 'allow');
    assert.deepEqual(v.labels, ['in the sandbox: deleting files (rm)', 'in the sandbox: deleting build']);
  });

  it('what the analysis cannot see through is a label under the default, an ask when the team decides commands', () => {
    for (const line of ['eval "$X"', '$CMD x', 'curl x | sh', 'echo "unterminated', 'rg --pre ./x foo']) {
      assert.equal(verdict(NONE, line).decision, 'allow', line);
      assert.ok((verdict(NONE, line).labels ?? []).length > 0, `${line} is labelled`);
      assert.equal(verdict(OLD, line).decision, 'ask', line);
    }
    // A team deny rule could be dodged by a command known only at run time: then it asks.
    const denyCurl = team('{ "commands": [{ "id": "no-curl", "match": "curl *", "decision": "deny" }] }');
    assert.equal(verdict(denyCurl, '$CMD evil.test').decision, 'ask');
    assert.equal(verdict(denyCurl, 'curl evil.test').decision, 'deny');
    assert.equal(verdict(denyCurl, 'ls').decision, 'allow');
  });

  it('a team can still deny commands by default, or ask/deny by rule', () => {
    const deny = team('{ "defaults": { "command": "deny" }, "commands": [{ "id": "tests", "match": "npm test", "decision": "allow" }] }');
    assert.equal(verdict(deny, 'ls').decision, 'deny');
    assert.equal(verdict(deny, 'npm test').decision, 'allow');
    const askRm = team('{ "commands": [{ "id": "rm", "match": "rm *", "decision": "ask" }] }');
    assert.equal(verdict(askRm, 'rm x').ruleId, 'rm');
    assert.equal(verdict(askRm, 'rm x').decision, 'ask');
  });

  it('Show Effective Policy credits the built-in classes to the built-in defaults when no policy file sets them', () => {
    const text = describeEffectivePolicy(NONE);
    assert.match(text, /No \.warden\/policy\.json: the defaults and built-in classes below are Warden's built-in defaults/);
    assert.deepEqual(
      [NONE.builtins.irreversible[0]?.origin, NONE.builtins.protectedPaths[0]?.origin],
      ['built-in defaults', 'built-in defaults'],
    );
    assert.equal(team('{ "builtins": { "irreversible": "deny" } }').builtins.irreversible[0]?.origin, '.warden/policy.json');
    assert.equal(team('{ "paths": [] }').builtins.irreversible[0]?.origin, 'built-in defaults');
  });

  it('Show Effective Policy explains the boundary model and which default applies', () => {
    const text = describeEffectivePolicy(NONE);
    assert.match(text, /Decide at the boundary/);
    assert.match(text, /Commands run inside the sandbox without asking \(defaults\.command "allow"\)/);
    assert.match(text, /held by the egress proxy until a human approves/);
    assert.match(describeEffectivePolicy(OLD), /defaults\.command is "ask", so every command without an allow rule asks/);
    assert.match(
      describeEffectivePolicy(team('{ "network": { "allow": [], "unlisted": "deny" } }')),
      /is refused \(network\.unlisted "deny"\)/,
    );
  });

  it('a broken team policy still means every command asks (fail closed)', () => {
    const broken = loadPolicyText('{ "commands": [ ');
    assert.ok(!broken.ok);
    const p = mergePolicies({ team: { status: 'invalid', problems: broken.problems } });
    assert.equal(verdict(p, 'ls').decision, 'ask');
    assert.equal(verdict(p, 'eval x').decision, 'ask');
  });
});

describe('boundary: options that run programs or write files never ride on a prefix allow rule', () => {
  // A team that sees every command, with the natural prefix rules for readers.
  const prefix = team(`{
    "defaults": { "command": "ask" },
    "commands": [
      { "id": "rg", "match": "rg *", "decision": "allow" },
      { "id": "grep", "match": "grep *", "decision": "allow" },
      { "id": "sed", "match": "sed *", "decision": "allow" },
      { "id": "sort", "match": "sort *", "decision": "allow" },
      { "id": "find", "match": "find *", "decision": "allow" },
      { "id": "cat", "match": "cat *", "decision": "allow" },
      { "id": "tar", "match": "tar *", "decision": "allow" },
      { "id": "awk", "match": "awk *", "decision": "allow" },
      { "id": "curl", "match": "curl *", "decision": "allow" },
      { "id": "dd", "match": "dd *", "decision": "allow" },
      { "id": "tee", "match": "tee *", "decision": "allow" },
      { "id": "echo", "match": "echo *", "decision": "allow" },
      { "id": "git-read", "match": ["git log *", "git grep *", "git diff *", "git show *", "git status"], "decision": "allow" },
      { "id": "git-config", "match": "git -c *", "decision": "allow" }
    ],
    "paths": [{ "id": "out", "paths": "out/**", "actions": ["write", "create"], "decision": "allow" }]
  }`);

  // [command line, expected decision, expected rule id (or a prefix of it)]
  const corpus: Array<[string, 'allow' | 'ask', string]> = [
    // still allowed: the readers the rules were written for
    ['rg foo src', 'allow', 'rg'],
    ['rg -n -i --glob "*.ts" foo', 'allow', 'rg'],
    ['sed -n 1,20p src/a.js', 'allow', 'sed'],
    ["sed 's/a/b/g; /x/d' src/a.js", 'allow', 'sed'],
    ['sort -u -k2 names.txt', 'allow', 'sort'],
    ['find . -name "*.ts" -type f', 'allow', 'find'],
    ['git log --oneline -5', 'allow', 'git-read'],
    ['git diff --stat', 'allow', 'git-read'],
    ['git diff --no-ext-diff --no-textconv', 'allow', 'git-read'],
    ['git grep -n foo', 'allow', 'git-read'],
    ['sort -o out/sorted.txt names.txt', 'allow', 'sort'], // the write is allowed by the path rule "out"
    ['curl -o out/page.html http://x.test', 'allow', 'curl'],
    // options that run programs (GTFOBins-style)
    ['rg --pre ./x foo', 'ask', 'builtin.option.exec'],
    ['rg --pre=sh foo', 'ask', 'builtin.option.exec'],
    ['rg -z foo', 'ask', 'builtin.option.exec'],
    ['rg --hostname-bin=./x foo', 'ask', 'builtin.option.exec'],
    ["sed -n '1e id' f", 'ask', 'builtin.option.exec'],
    ["sed 's/a/b/e' f", 'ask', 'builtin.option.exec'],
    ["sed -e p -e '1e id' f", 'ask', 'builtin.option.exec'],
    ["sed '1!G;h;$!d;e id' f", 'ask', 'builtin.option.exec'],
    ['sed -f script.sed f', 'ask', 'builtin.option.exec'],
    ['sed "$S" f', 'ask', 'builtin.'],
    ['sort --compress-program=sh f', 'ask', 'builtin.option.exec'],
    ['sort --compress-prog sh f', 'ask', 'builtin.option.exec'],
    ["git grep -O'sh -c id' x", 'ask', 'builtin.option.exec'],
    ['git grep --open-files-in-pager=id x', 'ask', 'builtin.option.exec'],
    ['git diff --ext-diff', 'ask', 'builtin.option.exec'],
    ['git log -p --ext-diff', 'ask', 'builtin.option.exec'],
    ['git log --textconv -p', 'ask', 'builtin.option.exec'],
    ['git show --textconv HEAD:x', 'ask', 'builtin.option.exec'],
    ['git -c core.pager=id log', 'ask', 'builtin.option.exec'],
    ['git -c diff.external=./x diff', 'ask', 'builtin.option.exec'],
    ["PAGER='sh -c id' git log", 'ask', 'builtin.shell.env-override'],
    ['GIT_PAGER=id git log', 'ask', 'builtin.shell.env-override'],
    ['GIT_EXTERNAL_DIFF=./x git diff', 'ask', 'builtin.shell.env-override'],
    ['LESSOPEN="|id %s" git log', 'ask', 'builtin.shell.env-override'],
    ['RIPGREP_CONFIG_PATH=./rc rg foo', 'ask', 'builtin.shell.env-override'],
    ['export PAGER=id; git log', 'ask', 'builtin.shell.env-override'],
    ['find . -exec id \\;', 'ask', 'builtin.option.exec'],
    ['find . -execdir cat {} +', 'ask', 'builtin.option.exec'],
    ['find . -ok rm {} \\;', 'ask', 'builtin.option.exec'],
    ['tar --to-command=sh -xf a.tar', 'ask', 'builtin.option.exec'],
    ['tar -cf a.tar --checkpoint=1 --checkpoint-action=exec=id .', 'ask', 'builtin.option.exec'],
    ['tar -I ./x -cf a.tar .', 'ask', 'builtin.option.exec'],
    ['awk \'BEGIN {system("id")}\'', 'ask', 'builtin.option.exec'],
    ['awk \'{print | "sh"}\' f', 'ask', 'builtin.option.exec'],
    ['awk -f prog.awk f', 'ask', 'builtin.option.exec'],
    // options that write files: judged by the path rules (no rule: the command default)
    ["sed -i 's/a/b/' src/a.js", 'ask', 'default'],
    ["sed -i.bak 's/a/b/' src/a.js", 'ask', 'default'],
    ["sed -ni 's/a/b/p' src/a.js", 'ask', 'default'],
    ["sed 's/a/b/w written.txt' f", 'ask', 'default'],
    ['sort -o sorted.txt f', 'ask', 'default'],
    ['sort -uo sorted.txt f', 'ask', 'default'],
    ['sort --output=sorted.txt f', 'ask', 'default'],
    ['find . -fprint list.txt', 'ask', 'default'],
    ['find . -fprintf list.txt %p', 'ask', 'default'],
    ['find . -fls list.txt', 'ask', 'default'],
    ['cat a | tee b.txt', 'ask', 'default'],
    ['curl -o page.html http://x.test', 'ask', 'default'],
    ['curl -O http://x.test/page.html', 'ask', 'builtin.shell.dynamic-path'],
    ['dd if=a of=b', 'ask', 'default'],
    ['git log --output=log.txt', 'ask', 'default'],
    ['echo x > b.txt', 'ask', 'default'],
    // ... and writes to protected paths through an option ask as protected paths
    ["sed -i 's/a/b/' .warden/policy.json", 'ask', 'builtin.protected-path'],
    ['sort -o .git/config f', 'ask', 'builtin.protected-path'],
    ['sort --output=.github/workflows/x.yml f', 'ask', 'builtin.protected-path'],
    ['find . -fprint .git/hooks/pre-commit', 'ask', 'builtin.protected-path'],
    ["sed -n 's/x/y/w .vscode/settings.json' f", 'ask', 'builtin.protected-path'],
    ['curl -o .devcontainer/devcontainer.json http://x.test', 'ask', 'builtin.protected-path'],
    ['dd if=a of=.warden/policy.json', 'ask', 'builtin.protected-path'],
    ['git log --output=.github/workflows/ci.yml', 'ask', 'builtin.protected-path'],
    ['cat a | tee .warden/policy.json', 'ask', 'builtin.protected-path'],
    ['echo x >> .git/config', 'ask', 'builtin.protected-path'],
  ];
  for (const [line, expected, rule] of corpus) {
    it(`${line} → ${expected} (${rule})`, () => {
      const v = verdict(prefix, line);
      assert.equal(v.decision, expected, `${v.ruleId}: ${v.reason}`);
      assert.ok(v.ruleId.startsWith(rule), `rule ${v.ruleId}, expected ${rule}: ${v.reason}`);
    });
  }

  it('with no policy the same options run inside the sandbox, labelled; protected writes still ask', () => {
    const v = verdict(NONE, 'rg --pre ./x foo');
    assert.equal(v.decision, 'allow');
    assert.deepEqual(v.labels, ['runs a program: rg --pre ./x']);
    assert.equal(verdict(NONE, 'sort -o .git/config f').decision, 'ask');
    assert.equal(verdict(NONE, "sed -i 's/a/b/' .warden/policy.json").ruleId, 'builtin.protected-path');
    assert.equal(verdict(NONE, "sed -i 's/a/b/' src/a.js").decision, 'allow');
  });
});

describe('boundary: the option catalog', () => {
  const options = (line: string): string[] => analyzeShell(line).commands.flatMap((c) => (c.runs ?? []).map((r) => r.option));
  const writes = (line: string): string[] =>
    analyzeShell(line)
      .files.filter((f) => f.action === 'write')
      .map((f) => `${f.by}:${f.path.text}`);

  it('reads values attached, separate, after = and in clusters', () => {
    assert.deepEqual(writes('sort -o a f'), ['sort -o:a']);
    assert.deepEqual(writes('sort -oa f'), ['sort -o:a']);
    assert.deepEqual(writes('sort -ruo a f'), ['sort -o:a']);
    assert.deepEqual(writes('sort --output=a f'), ['sort --output:a']);
    assert.deepEqual(writes('sort --output a f'), ['sort --output:a']);
    assert.deepEqual(writes('sort -- -o a'), [], 'after -- it is an operand');
  });

  it('sed -i writes the file operands, not the script', () => {
    assert.deepEqual(writes("sed -i 's/a/b/' x y"), ['sed -i:x', 'sed -i:y']);
    assert.deepEqual(writes("sed -i -e 's/a/b/' x"), ['sed -i:x']);
    assert.deepEqual(writes("sed -ne 's/a/b/p' -i x"), ['sed -i:x']);
    assert.deepEqual(writes("sed --in-place=.bak 's/a/b/' x"), ['sed --in-place:x']);
    assert.deepEqual(writes("sed -n 's/a/b/p' x"), []);
  });

  it('git options are read after the subcommand; -u and -x mean other things in diff and cherry-pick', () => {
    assert.deepEqual(options('git diff -u'), []);
    assert.deepEqual(options('git cherry-pick -x abc'), []);
    assert.deepEqual(options('git rebase -x "npm test" main'), ['git rebase -x']);
    assert.deepEqual(options('git clone -u ./x repo'), ['git clone -u']);
    assert.deepEqual(options('git difftool'), ['git difftool']);
    assert.deepEqual(options('git bisect run ./t.sh'), ['git bisect run']);
    assert.deepEqual(options('git submodule foreach id'), ['git submodule foreach']);
  });

  it('sed scripts: e and w commands and flags are found; a script it cannot read counts as running', () => {
    assert.deepEqual(sedScriptRisks('s/a/b/g'), { writes: [] });
    assert.deepEqual(sedScriptRisks('1,5p;$d'), { writes: [] });
    assert.deepEqual(sedScriptRisks('/e/s|e|w|g'), { writes: [] }, 'e and w inside patterns are text');
    assert.equal(sedScriptRisks('1e id').exec, 'e');
    assert.equal(sedScriptRisks('s/a/b/ge').exec, 's///e');
    assert.equal(sedScriptRisks('/x/{\ne id\n}').exec, 'e');
    assert.deepEqual(
      sedScriptRisks('s/a/b/w out.txt').writes.map((w) => w.text),
      ['out.txt'],
    );
    assert.deepEqual(sedScriptRisks('w /dev/stdout').writes, []);
    assert.ok(sedScriptRisks('s/a/b').exec, 'unterminated s');
    assert.ok(sedScriptRisks('k').exec, 'unknown command');
  });

  it('every catalogued program is found behind wrappers too', () => {
    assert.deepEqual(options('timeout 5 env A=1 rg --pre ./x foo'), ['rg --pre']);
    assert.deepEqual(options("bash -c 'sort --compress-program=sh f'"), ['sort --compress-program']);
    assert.deepEqual(
      scanOptions([
        { text: '/usr/bin/rg', dynamic: false },
        { text: '--pre', dynamic: false },
        { text: 'x', dynamic: false },
      ]).map((f) => `${f.option} ${f.value?.text}`),
      ['rg --pre x'],
    );
  });
});

describe('the starter policy Test Policy offers to create', () => {
  it('parses, and every one of its examples passes under it', () => {
    const loaded = loadPolicyText(STARTER_POLICY);
    assert.ok(loaded.ok, loaded.ok ? '' : JSON.stringify(loaded.problems));
    const policy = mergePolicies({ team: { status: 'loaded', policy: loaded.value } });
    const results = checkExamples(policy);
    assert.ok(results.length >= 4);
    assert.deepEqual(
      results.filter((r) => !r.pass).map((r) => r.message),
      [],
    );
  });
});

import { strict as assert } from 'node:assert';
import {
  evaluateCommand,
  evaluatePath,
  loadManagedPolicyText,
  mergePolicies,
  setPlainPolicyEvaluation,
  type EffectivePolicy,
  type PathAction,
  type PolicyVerdict,
} from '../../src/core/policy';
import { corpusLines } from '../support/policyCorpus';
import { teamPolicy } from '../support/teamPolicy';

/**
 * Issue 21, round 6: the evaluator reads each policy once (command rules indexed by command
 * name with their patterns compiled, path rules indexed by first segment with their matchers),
 * and decides with that. The plain evaluation (every rule, each pattern and glob read at the
 * call) is the reference: on a large corpus of lines and paths, both must give the same verdict,
 * reason and labels included.
 */

const team = teamPolicy;

/** The benchmark's policy (bench/policy.ts): 450 command rules, a third deny, and 50 path rules. */
function benchPolicy(): EffectivePolicy {
  const commands = Array.from({ length: 450 }, (_, i) => ({
    id: `c${i}`,
    match: `tool${i} sub *`,
    decision: i % 3 === 0 ? 'deny' : 'allow',
  }));
  const paths = Array.from({ length: 50 }, (_, i) => ({ id: `p${i}`, paths: `dir${i}/**`, actions: ['write'], decision: 'allow' }));
  return team(JSON.stringify({ commands, paths }));
}

/** Rules of every shape the index treats apart: wildcard and path-like command names, several patterns, globs with and without a first segment. */
const MIXED = `{
  "defaults": { "command": "ask", "write": "ask" },
  "commands": [
    { "id": "any-echo", "match": "*cho *", "decision": "allow" },
    { "id": "node-test", "match": ["node --test *", "node --test"], "decision": "allow" },
    { "id": "git-read", "match": ["git status", "git log *", "git diff *", "/usr/bin/git show *"], "decision": "allow" },
    { "id": "git-push", "match": "git push *", "decision": "deny", "reason": "no pushing" },
    { "id": "tool", "match": ["tool3 sub *", "tool3 a.b x+y c? [z] *"], "decision": "allow" },
    { "id": "tool-ask", "match": "tool3 sub danger*", "decision": "ask" },
    { "id": "scripts", "match": ["./run.sh *", "bin/*.sh *"], "decision": "allow" },
    { "id": "everything-rm", "match": "* -rf *", "decision": "ask" },
    { "id": "bare-star", "match": "*", "decision": "allow" },
    { "id": "curl", "match": "curl *", "decision": "deny" },
    { "id": "xargs-tool", "match": "tool3 sub", "decision": "deny" },
  ],
  "paths": [
    { "id": "src", "paths": ["src/**", "test/**"], "actions": ["write", "create"], "decision": "allow" },
    { "id": "pem", "paths": "**/*.pem", "actions": ["read", "write"], "decision": "deny" },
    { "id": "dirs", "paths": "dir*/**", "actions": ["write", "delete"], "decision": "ask" },
    { "id": "dir1", "paths": "dir1/**", "actions": ["write"], "decision": "allow" },
    { "id": "docs", "paths": "docs/{a,b}/**", "actions": ["write"], "decision": "allow" },
    { "id": "dot", "paths": "./build/**", "actions": ["write"], "decision": "allow" },
    { "id": "readme", "paths": "README.md", "actions": ["write", "delete"], "decision": "allow" },
    { "id": "vscode", "paths": ".vscode/*.json", "actions": ["write"], "decision": "allow" },
  ],
  "overrides": [
    { "id": "editor-settings", "class": "protected-path", "paths": ".vscode/settings.json", "reason": "the team shares editor settings", "decision": "allow" },
    { "id": "push-tags", "class": "irreversible", "commands": "git push --tags", "reason": "tags are fine", "decision": "allow" },
  ],
}`;

function mixedPolicy(): EffectivePolicy {
  const managed = loadManagedPolicyText(
    JSON.stringify({
      commands: [{ id: 'm-tool', match: 'tool3 *', decision: 'ask' }],
      paths: [{ id: 'm-src', paths: 'src/secret/**', actions: ['write'], decision: 'deny' }],
    }),
  );
  assert.ok(managed.ok, managed.ok ? '' : JSON.stringify(managed.problems));
  return team(MIXED, {
    user: {
      rules: {
        commands: [{ id: 'u-echo', match: 'echo *', decision: 'ask' }],
        paths: [{ id: 'u-dir1', paths: 'dir1/x/**', actions: ['write'], decision: 'ask' }],
      },
    },
    managed: { origin: '/etc/warden/policy.json', rules: managed.value },
  });
}

/** Every command rule allows and so does the default: what the analysis cannot see through is only a label. */
const ALLOWING = team(`{ "defaults": { "command": "allow" }, "commands": [{ "id": "t", "match": "tool* *", "decision": "allow" }] }`);

/** Each policy, and how many different outcomes (decision and rule) the corpus must reach in it at least. */
const POLICIES: Array<[string, () => EffectivePolicy, number]> = [
  ['the benchmark policy (500 rules)', benchPolicy, 100],
  ['a policy of mixed rule shapes, with user and managed rules', mixedPolicy, 15],
  ['an all-allow policy', () => ALLOWING, 3],
  ['no policy', () => mergePolicies({ team: { status: 'absent' } }), 3],
  ['a broken team policy', () => mergePolicies({ team: { status: 'invalid', problems: [] } }), 2],
];

/** Lines that reach the rules from many sides: the benchmark's lines, the unit tier's corpora, and words that test each pattern form. */
function lines(): string[] {
  const out = corpusLines();
  for (let i = 0; i < 500; i++)
    out.push(`env A=1 timeout 5 tool${i % 450} sub x${i} && node --test > dir${i % 50}/out.txt 2>&1 | tee dir1/log.txt`);
  const words = [
    'tool3',
    '/opt/tool3',
    'tool30',
    'TOOL3',
    'git',
    '/usr/bin/git',
    'echo',
    'becho',
    'node',
    './run.sh',
    'bin/a.sh',
    'run.sh',
  ];
  const tails = [
    '',
    'sub',
    'sub x',
    'sub danger',
    'sub dangerous now',
    'a.b x+y c? [z] q',
    'axb x+y cd [z]',
    '--test',
    'status',
    'show HEAD',
  ];
  const more = ['push origin', 'push --tags', 'log -1', '-rf x', 'sub "$X"', 'sub $(curl x)'];
  for (const w of words) for (const t of [...tails, ...more]) out.push(`${w} ${t}`.trim());
  out.push(
    'echo x | xargs tool3 sub',
    'echo x | xargs tool3',
    'rm -rf dir7/x src/a.js README.md',
    'echo > ./dir1/a; echo > dir10/../dir1/b; echo > src/secret/k.pem',
    'cp a .vscode/settings.json && mv .vscode/launch.json b',
    'sed -i s/a/b/ docs/a/x docs/c/x dir1/x/y',
    'touch build/x ./build/y /tmp/z ../out',
  );
  return out;
}

const FILES = [
  'src/a.js',
  'src/secret/k.pem',
  'x/k.pem',
  'dir1/a',
  'dir1/x/y',
  'dir10/a',
  'dir7',
  'dirx/a',
  'docs/a/x',
  'docs/c/x',
  'build/x',
  'README.md',
  'README.md.bak',
  '.vscode/settings.json',
  '.vscode/launch.json',
  '.git/config',
  '.warden/policy.json',
  '.',
];
const ACTIONS: PathAction[] = ['read', 'write', 'create', 'delete'];

function both<T>(decide: () => T): [T, T] {
  const indexed = decide();
  setPlainPolicyEvaluation(true);
  try {
    return [indexed, decide()];
  } finally {
    setPlainPolicyEvaluation(false);
  }
}

describe('policy: the indexed evaluation decides exactly as the plain one', () => {
  const corpus = lines();

  for (const [name, make, outcomes] of POLICIES) {
    it(`${name}: every corpus line (${corpus.length}) and path gets the same verdict`, () => {
      const policy = make();
      const verdicts = new Set<string>();
      for (const commandLine of corpus) {
        const [indexed, plain] = both((): PolicyVerdict => evaluateCommand(policy, { commandLine }));
        assert.deepStrictEqual(indexed, plain, `line ${JSON.stringify(commandLine)}`);
        verdicts.add(`${indexed.decision} ${indexed.ruleId}`);
      }
      for (const file of FILES)
        for (const action of ACTIONS)
          for (const inSandbox of [false, true]) {
            const [indexed, plain] = both(() => evaluatePath(policy, action, file, inSandbox));
            assert.deepStrictEqual(indexed, plain, `${action} ${file}${inSandbox ? ' in the sandbox' : ''}`);
          }
      // The comparison means something only if the lines reach many rules and outcomes.
      assert.ok(verdicts.size >= outcomes, `only ${verdicts.size} outcomes: ${[...verdicts].join(', ')}`);
    });
  }

  it('the corpus holds the unit tier’s bypass corpora', () => {
    assert.ok(corpus.includes('find . -e"x"ec rm {} \\;'));
    assert.ok(corpus.length > 800, `${corpus.length} lines`);
  });
});

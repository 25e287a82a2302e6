import { strict as assert } from 'node:assert';
import picomatch from 'picomatch';
import { analyzeShell, evaluateCommand, loadPolicyText, mergePolicies, PROTECTED_PATHS, protectedPath } from '../../src/core/policy';
import { analyzeShellFast, analyzeShellFull, setShellFastPathCheck } from '../../src/core/policy/shell';
import { parseSimpleLine } from '../../src/core/policy/simpleLine';

/**
 * Issue 21: plain command lines are read by a fast reader instead of mvdan-sh. For every line it
 * answers, the analysis must equal mvdan-sh's; everything else must go to mvdan-sh.
 *
 * A root-level hook: while the unit tier runs, every line any test analyzes (the bypass and
 * boundary corpora, risk labels, the session gate's commands) that the fast reader answers is
 * analyzed by mvdan-sh too, and a difference throws inside that test.
 */
before(() => setShellFastPathCheck(true));
after(() => setShellFastPathCheck(false));

/** mulberry32: a small seeded generator, so a failure names a reproducible line. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ATOMS = [
  ...['git', 'echo', 'env', 'timeout', '5', 'sh', '-c', 'bash', 'find', '.', '-exec', 'rm', '-rf', 'sed', '-i', 'tee', 'xargs', 'curl'],
  ...['node', '--test', 'A=1', 'PATH=/x', 'x', 'src/a.js', '.git/config', '2', '10', '-', '--', '-o', 'out.txt', 'sudo', 'nice', '-n'],
  ...['nohup', '-delete', 'cp', 'mv', 'a=b', '=x', 'A+=1', 'if', 'time', 'done', 'export', 'let', '{', '}', 'é', 'ü"ö"', 'sort', '-uo'],
  ...['push', '-C', 'npm', 'publish', 'rg', '--pre', 'tar', '-I', 'awk', '{print}', 'dd', 'of=x', 'chroot', 'su', 'watch', 'flock'],
  ...['|', '&&', '||', ';', '>', '>>', '<', '2>&1', '>&', '&>', '&>>', '>|', '<>', '<&', '1', '!', '#', '$X', '*', '~', '\\;', '(', ')'],
  ...['&', '|&', ';;', '<<', '<<<', 'x>y', '2>f', 'a2>f', '"2">f', 'e"f"2>f', '>&-', '-e"x"ec', "r'm'", '"$x"', '\t', '  ', '>/dev/null'],
  ...['"sh -c"', '"rm x; curl y"', "'git push'", '"echo a && curl b"', '"a\\"b"', "'a\nb'", '"\u00a0"', '\u2028', "''", '""'],
];
const CHARS = [...' \t|&;<>()$`\\"\'*?[]{}~#!=abc12-/.\u00a0é\n\r'];

function randomLine(next: () => number): string {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  let line = '';
  if (next() < 0.8) {
    const words = Array.from({ length: 1 + Math.floor(next() * 8) }, () => pick(ATOMS));
    line = words.join(next() < 0.8 ? ' ' : pick(['', ' ', '  ', '\t']));
  } else {
    for (let j = 1 + Math.floor(next() * 12); j > 0; j--) line += next() < 0.5 ? pick(CHARS) : `${pick(ATOMS)} `;
  }
  return line;
}

describe('shell fast reader: decides exactly as mvdan-sh', () => {
  it('a differential fuzz: on 10,000 random lines, every line the fast reader answers has mvdan-sh’s analysis', function () {
    this.timeout(120_000); // about 2 s on a quiet machine, mvdan-sh parsing each answered line
    const next = random(21);
    let answered = 0;
    for (let k = 0; k < 10_000; k++) {
      const line = randomLine(next);
      const fast = analyzeShellFast(line);
      if (!fast) continue;
      answered++;
      assert.deepStrictEqual(fast, analyzeShellFull(line), `line ${JSON.stringify(line)}`);
    }
    // The fuzz means something only if the fast reader answers a good share of it.
    assert.ok(answered > 1500, `the fast reader answered only ${answered} of 10,000 lines`);
  });

  it('the lines agents send most are answered by the fast reader, with the same analysis', () => {
    for (const line of [
      'env A=1 timeout 5 tool7 sub x1 && node --test > dir7/out.txt 2>&1 | tee dir1/log.txt',
      'npm test',
      'git status && git diff --stat',
      "sed -n '1,20p' src/a.js",
      'node --test test/ 2>&1 | tail -n 20',
      'rm -rf build; mkdir build',
      'echo "done" >> log.txt',
    ]) {
      assert.ok(parseSimpleLine(line), `${line} is a plain line`);
      assert.deepStrictEqual(analyzeShellFast(line), analyzeShellFull(line), line);
    }
  });

  it('anything with more shell syntax goes to mvdan-sh (fail closed stays with the full parser)', () => {
    for (const line of [
      'echo $(curl x)',
      'echo `rm x`',
      'echo $HOME',
      'ls *.js',
      'cat ~/.ssh/id_rsa',
      '\\rm -rf x',
      'echo {a,b}',
      'a & b',
      'a |& b',
      '(a; b)',
      'cat <<EOF\nx\nEOF',
      'cat <<< x',
      'diff <(a) <(b)',
      'if a; then b; fi',
      'time curl x',
      'coproc curl x',
      'export PATH=/x',
      'A+=1 cmd',
      'echo "unterminated',
      "echo 'unterminated",
      'a && && b',
      'node --test )',
      '! curl x',
      'echo x # comment',
      'a;; b',
      'a &&',
      '| a',
      '> 2>f',
      'e"f"2>f',
      "$'\\x72m' -rf x",
      'echo "$x"',
      'echo "a\\"b"',
      'a\nb',
      'a\rb',
      '',
      '   ',
    ]) {
      assert.equal(parseSimpleLine(line), undefined, `${JSON.stringify(line)} must go to mvdan-sh`);
    }
  });

  it('a cached analysis is frozen all the way down (the freeze follows its shape)', () => {
    const unfrozen = (value: unknown, where: string): string[] =>
      typeof value !== 'object' || value === null
        ? []
        : Object.isFrozen(value)
          ? Object.entries(value).flatMap(([key, item]) => unfrozen(item, `${where}.${key}`))
          : [where];
    for (const line of [
      'env A=1 timeout 5 rg --pre ./x foo > out.txt 2>&1 | tee log.txt',
      'PATH=/x eval "$Y"; sort -o .git/config f; rm -rf build; find . -exec curl {} \\;',
      "sed -i 's/a/b/' src/a.js && curl -O http://x.test/page.html",
      'echo "unterminated',
    ]) {
      assert.deepEqual(unfrozen(analyzeShell(line), 'analysis'), [], line);
    }
  });

  it('a line mvdan-sh cannot parse still asks when the team decides commands (the fast reader never answers it)', () => {
    const loaded = loadPolicyText('{ "defaults": { "command": "ask" } }');
    assert.ok(loaded.ok);
    const old = mergePolicies({ team: { status: 'loaded', policy: loaded.value } });
    for (const line of ['echo "unterminated', 'a && && b', 'node --test )', 'a &&']) {
      assert.equal(analyzeShell(line).ok, false, line);
      assert.equal(evaluateCommand(old, { commandLine: line }).decision, 'ask', line);
    }
  });
});

describe('policy speed-ups decide exactly as before (issue 21)', () => {
  it('a protected path passed over by its glob’s literal is one its glob does not match', () => {
    const matchers = PROTECTED_PATHS.map((p) => ({ ...p, test: picomatch(p.glob, { dot: true }) }));
    const paths = [
      ...['.git', '.git/config', 'a/.git', 'a/b/.git/hooks/x', '.gitignore', 'x.git', '.github/workflows', '.github/workflows/ci.yml'],
      ...[
        '.github/actions/a/b',
        '.github/other',
        '.warden',
        '.warden/policy.json',
        '.warden/audit',
        '.warden/audit/s/1.jsonl',
        '.warden/x',
      ],
      ...['.vscode', '.vscode/settings.json', '.devcontainer/devcontainer.json', '.devcontainer.json', '.gitlab-ci.yml', '.gitlab/ci/a'],
      ...['.ci/run', '.circleci/config.yml', 'azure-pipelines.yml', 'Jenkinsfile', 'a/Jenkinsfile', '.buildkite/x', '.travis.yml'],
      ...['src/a.js', 'README.md', '.', 'dir1/out.txt', './.git/config', 'src/.vscode/x', 'src/.warden/policy.json', '.WARDEN/policy.json'],
    ];
    for (const file of paths) {
      const plain = matchers.find((m) => m.test(file));
      assert.deepEqual(protectedPath(file), plain ? { glob: plain.glob, what: plain.what } : undefined, file);
    }
  });
});

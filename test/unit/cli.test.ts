import { strict as assert } from 'node:assert';
import { promises as fs, readdirSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { commandHelp, mainHelp, parseCommandLine, type CommandName } from '../../src/cli/args';
import { EXIT } from '../../src/cli/exitCodes';
import type { CliIO } from '../../src/cli/io';
import { runCli } from '../../src/cli/main';
import { AuditLog } from '../../src/core/audit';

interface Captured {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(argv: string[], cwd = os.tmpdir()): Promise<Captured> {
  let stdout = '';
  let stderr = '';
  const io: CliIO = {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    cwd,
    env: {},
    agentsHostPath: path.join(cwd, 'no-agents'),
  };
  const code = await runCli(argv, io);
  return { code, stdout, stderr };
}

const COMMANDS: CommandName[] = [
  'run',
  'agent setup',
  'audit verify',
  'audit export',
  'audit blame',
  'policy check',
  'policy test',
  'policy explain',
];

const VALID = `{
  // comments are fine: JSONC
  "commands": [{ "id": "node-test", "match": "node --test *", "decision": "allow", "reason": "tests run in the sandbox" }],
  "paths": [{ "id": "no-secrets", "paths": "secrets/**", "actions": ["write"], "decision": "deny", "reason": "never" }],
  "examples": [
    { "command": "node --test test/", "expect": "allow" },
    { "command": "git push origin main", "expect": "ask" }
  ]
}`;

describe('warden CLI: arguments, help and exit codes', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'warden-cli-unit-'));
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('exit codes are distinct', () => {
    const codes = Object.values(EXIT);
    assert.equal(new Set(codes).size, codes.length);
    assert.equal(EXIT.ok, 0);
    assert.equal(EXIT.usage, 2);
  });

  it('--help exists for every command and names its options; the main help lists every command and exit code', async () => {
    for (const name of COMMANDS) {
      const out = await cli([...name.split(' '), '--help']);
      assert.equal(out.code, 0, name);
      assert.equal(out.stdout, commandHelp(name));
      assert.match(out.stdout, new RegExp(`^Usage: warden ${name}`), name);
      assert.equal(out.stderr, '');
    }
    for (const args of [[], ['--help'], ['-h'], ['help']]) assert.equal((await cli(args)).stdout, mainHelp());
    for (const name of COMMANDS) assert.ok(mainHelp().includes(name), name);
    for (const code of Object.values(EXIT)) assert.match(mainHelp(), new RegExp(`^  ${code}  `, 'm'));
    assert.match((await cli(['audit', '--help'])).stdout, /warden audit verify[\s\S]*warden audit export/);
    assert.match((await cli(['help', 'policy', 'test'])).stdout, /^Usage: warden policy test/);
  });

  it('run: the options of the issue, with defaults (demo agent, --on-ask reject, cwd)', () => {
    assert.deepEqual(
      parseCommandLine([
        'run',
        '--workspace',
        'w',
        '--agent',
        'gemini --acp',
        '--prompt',
        'do it',
        '--policy',
        'p.json',
        '--on-ask',
        'fail',
        '--timeout',
        '90',
        '--json',
      ]),
      {
        command: 'run',
        workspace: 'w',
        agent: 'gemini --acp',
        prompt: 'do it',
        policy: 'p.json',
        onAsk: 'fail',
        timeoutSeconds: 90,
        json: true,
      },
    );
    assert.deepEqual(parseCommandLine(['run', '-p', 'x', '--agent', 'demo']), {
      command: 'run',
      workspace: '.',
      agent: '',
      prompt: 'x',
      onAsk: 'reject',
      json: false,
    });
    assert.equal(
      (parseCommandLine(['run', '-p', 'x', '--workspace-mode', 'readonly']) as { workspaceMode?: string }).workspaceMode,
      'readonly',
    );
  });

  const usageCases: Array<[string[], RegExp]> = [
    [['frobnicate'], /unknown command "frobnicate"/],
    [['audit'], /"warden audit" needs a subcommand: verify, export/],
    [['policy', 'lint'], /unknown command "warden policy lint"/],
    [['run'], /missing --prompt/],
    [['run', '--prompt', 'x', '--on-ask', 'maybe'], /--on-ask must be "reject" or "fail"/],
    [['run', '--prompt', 'x', '--workspace-mode', 'rw'], /--workspace-mode must be "copy" or "readonly"/],
    [['run', '--prompt', 'x', '--timeout=-3'], /--timeout must be a positive number/],
    [['run', '--prompt', 'x', '--timeout', '-3'], /Option '--timeout' argument is ambiguous/],
    [['run', '--prompt', 'x', '--timeout', '0'], /--timeout must be a positive number/],
    [['run', '--prompt', 'x', '--timeout', 'soon'], /--timeout must be a positive number/],
    [['run', '--prompt', 'x', '--bogus'], /Unknown option '--bogus'.*warden run --help/],
    [['run', '--prompt'], /--prompt/],
    [['audit', 'export'], /missing --format json\|csv/],
    [['audit', 'export', '--format', 'xml'], /--format must be "json" or "csv"/],
    [['audit', 'blame'], /missing REV or A\.\.B/],
    [['audit', 'blame', 'a', 'b'], /unexpected argument "b"/],
    [['audit', 'blame', 'no-such-rev', '-w', '.'], /git could not read no-such-rev/],
    [['policy', 'explain'], /exactly one of --command TEXT or --write PATH/],
    [['policy', 'explain', '--command', 'ls', '--write', 'a'], /exactly one of/],
    [['policy', 'check', 'a.json', 'b.json'], /unexpected argument "b.json"/],
    [['audit', 'verify', '--workspace', '/no/such/folder'], /the workspace \/no\/such\/folder is not a folder/],
  ];
  for (const [argv, message] of usageCases) {
    it(`bad usage exits 2 with one line on stderr: warden ${argv.join(' ')}`, async () => {
      const out = await cli(argv, dir);
      assert.equal(out.code, EXIT.usage, out.stderr);
      assert.equal(out.stdout, '');
      assert.match(out.stderr, /^warden: [^\n]+\n$/, 'exactly one line');
      assert.match(out.stderr, message);
    });
  }

  it('policy check: a valid file exits 0; an invalid one prints FILE:LINE:COLUMN problems and exits with the policy code', async () => {
    await fs.writeFile(path.join(dir, 'good.json'), VALID);
    const good = await cli(['policy', 'check', 'good.json'], dir);
    assert.equal(good.code, EXIT.ok, good.stderr);
    assert.match(good.stdout, /good\.json is valid: 1 path rules, 1 command rules, 0 overrides, 2 examples/);

    await fs.writeFile(path.join(dir, 'bad.json'), '{\n  "commands": [{ "id": "x", "match": "ls", "decision": "maybe" }]\n}\n');
    const bad = await cli(['policy', 'check', 'bad.json'], dir);
    assert.equal(bad.code, EXIT.policy);
    assert.match(bad.stderr, new RegExp(`^${path.join(dir, 'bad.json').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:2:\\d+: `, 'm'));
    assert.match(bad.stderr, /is invalid \(1 problem\)\n$/);

    const missing = await cli(['policy', 'check', '--workspace', dir], dir);
    assert.equal(missing.code, EXIT.policy);
    assert.match(missing.stderr, /^warden: no policy file at .*\.warden\/policy\.json\n$/);
  });

  it('policy check reads .warden/policy.json of the workspace by default, and --json is one object', async () => {
    await fs.mkdir(path.join(dir, '.warden'));
    await fs.writeFile(path.join(dir, '.warden', 'policy.json'), VALID);
    const out = await cli(['policy', 'check', '--json'], dir);
    assert.equal(out.code, 0);
    assert.deepEqual(JSON.parse(out.stdout), {
      file: path.join(dir, '.warden', 'policy.json'),
      valid: true,
      rules: { paths: 1, commands: 1, overrides: 0 },
      examples: 2,
    });
  });

  it('policy test: passing examples exit 0; a failing example exits with the policy code and says which', async () => {
    await fs.writeFile(path.join(dir, 'p.json'), VALID);
    const ok = await cli(['policy', 'test', 'p.json'], dir);
    assert.equal(ok.code, EXIT.ok, ok.stderr);
    assert.match(ok.stdout, /2 passed, 0 failed/);

    await fs.writeFile(path.join(dir, 'p.json'), VALID.replace('"expect": "ask"', '"expect": "allow"'));
    const failed = await cli(['policy', 'test', 'p.json', '--json'], dir);
    assert.equal(failed.code, EXIT.policy);
    const report = JSON.parse(failed.stdout) as {
      passed: number;
      failed: number;
      results: Array<{ pass: boolean; decision: string; ruleId: string }>;
    };
    assert.equal(report.passed, 1);
    assert.equal(report.failed, 1);
    assert.deepEqual(report.results[1], { ...report.results[1], pass: false, decision: 'ask', ruleId: 'builtin.irreversible' });
    assert.match(failed.stderr, /^warden: 1 policy example of .*p\.json failed\n$/);
  });

  it('policy explain names the decision, the rule and the reason for a command and a write', async () => {
    await fs.writeFile(path.join(dir, 'p.json'), VALID);
    const allow = await cli(['policy', 'explain', '--policy', 'p.json', '--command', 'node --test test/'], dir);
    assert.equal(allow.code, 0);
    assert.match(allow.stdout, /^allow \(rule node-test\)\n/);
    const chained = await cli(
      ['policy', 'explain', '--policy', 'p.json', '--command', 'node --test test/ && git push origin main', '--json'],
      dir,
    );
    assert.deepEqual(
      { ...JSON.parse(chained.stdout), reason: undefined, labels: undefined, file: undefined },
      {
        command: 'node --test test/ && git push origin main',
        decision: 'ask',
        ruleId: 'builtin.irreversible',
        reason: undefined,
        labels: undefined,
        file: undefined,
      },
    );
    const deny = await cli(['policy', 'explain', '--policy', 'p.json', '--write', 'secrets/key.pem'], dir);
    assert.match(deny.stdout, /^deny \(rule no-secrets\)\n/);
    const protectedPath = await cli(['policy', 'explain', '--policy', 'p.json', '--write', '.git/config'], dir);
    assert.match(protectedPath.stdout, /^ask \(rule builtin\.protected-path\)\n/);
    const noFile = await cli(['policy', 'explain', '--write', 'src/a.ts'], dir);
    assert.equal(noFile.code, 0);
    assert.match(noFile.stdout, /^ask \(rule default\)\n/);
  });

  it('audit verify: 0 on a good log, the audit code on a tampered one, naming file and line', async () => {
    const log = AuditLog.forWorkspace(dir);
    for (let i = 0; i < 3; i++)
      await log.append({
        sessionId: 's-1',
        actor: { kind: 'warden', id: 'warden' },
        type: 'error',
        data: { message: 'agent crashed', n: i },
      });
    const good = await cli(['audit', 'verify', '--workspace', dir]);
    assert.equal(good.code, EXIT.ok, good.stderr);
    assert.match(good.stdout, /verified: 3 entries/);

    const segment = path.join(dir, '.warden', 'audit', 'sessions', 's-1', 'audit-000001.jsonl');
    await fs.writeFile(segment, (await fs.readFile(segment, 'utf8')).replace('"n":1', '"n":7'));
    const bad = await cli(['audit', 'verify', '--workspace', dir, '--json']);
    assert.equal(bad.code, EXIT.audit);
    assert.equal((JSON.parse(bad.stdout) as { ok: boolean }).ok, false);
    assert.match(bad.stderr, /^warden: audit chain s-1 does not verify: \.warden\/audit\/sessions\/s-1\/audit-000001\.jsonl:3: [^\n]+\n$/);
  });

  it('audit export writes JSON with the verify report, or CSV, to stdout or --output', async () => {
    const log = AuditLog.forWorkspace(dir);
    await log.append({ sessionId: 's-1', actor: { kind: 'warden', id: 'warden' }, type: 'error', data: { message: '=cmd()' } });
    const json = await cli(['audit', 'export', '--format', 'json', '-w', dir]);
    assert.equal(json.code, 0);
    const parsed = JSON.parse(json.stdout) as { format: string; verify: { ok: boolean }; entries: unknown[] };
    assert.equal(parsed.format, 'warden-audit-export');
    assert.equal(parsed.verify.ok, true);
    assert.equal(parsed.entries.length, 1);
    const csv = await cli(['audit', 'export', '--format', 'csv', '-w', dir, '-o', 'out.csv'], dir);
    assert.equal(csv.code, 0);
    assert.equal(csv.stdout, '');
    const text = await fs.readFile(path.join(dir, 'out.csv'), 'utf8');
    assert.match(text, /^seq,time,sessionId,type/);
    assert.equal(text.trim().split('\n').length, 2);
  });

  it('run fails closed before starting anything when the policy is invalid or the demo agent is missing', async () => {
    await fs.writeFile(path.join(dir, 'bad.json'), '{ "defaults": { "write": "sometimes" } }');
    const bad = await cli(['run', '-w', dir, '-p', 'x', '--policy', 'bad.json'], dir);
    assert.equal(bad.code, EXIT.policy);
    assert.match(bad.stderr, /^warden: the policy is invalid, nothing was run: .*bad\.json:1:\d+: [^\n]+\n$/);
    const noAgent = await cli(['run', '-w', dir, '-p', 'x'], dir);
    assert.equal(noAgent.code, EXIT.internal);
    assert.match(noAgent.stderr, /^warden: the built-in demo agent is missing from /);
    await assert.rejects(fs.stat(path.join(dir, '.warden', 'audit')), 'nothing was audited: nothing ran');
  });

  it('the README documents every exit code, with the meaning the code gives it', () => {
    const readme = readFileSync('README.md', 'utf8');
    const section = readme.slice(readme.indexOf('## Command line'), readme.indexOf('## Development'));
    const documented = [...section.matchAll(/^\| (\d+) \| ([^|]+) \|$/gm)].map((m) => Number(m[1]));
    assert.deepEqual(documented, Object.values(EXIT));
    for (const name of COMMANDS) assert.ok(section.includes(`warden ${name}`), name);
  });

  it('nothing under src/cli imports vscode', () => {
    const offenders = readdirSync('src/cli').filter((f) => /from\s+['"]vscode['"]/.test(readFileSync(path.join('src/cli', f), 'utf8')));
    assert.deepEqual(offenders, []);
  });
});

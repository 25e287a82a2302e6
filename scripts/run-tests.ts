/**
 * Runs Warden's test tiers in order and prints one closing line: `total: N passed, M failed`.
 * `npx tsx scripts/run-tests.ts [tier ...]` — tiers: unit integration extension e2e package.
 * Bootstrapping (Docker engine, images, Chromium) is done by scripts/test.sh; the VS Code server's
 * install runs here, beside the unit and integration tiers, and the tiers that need it wait for it.
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { failureDigest } from './testing/failureDigest';

interface Tier {
  name: string;
  command: string[];
  /** Pulls passed/failed/skipped counts out of the tier's output. */
  parse(output: string): Counts | undefined;
  /** Runs in the offline VS Code server (scripts/bootstrap/vscode-server.sh must have finished). */
  needsVSCodeServer?: boolean;
  /** Extra environment for the tier (the VM engine pass sets WARDEN_TEST_ENGINE). */
  env?: Record<string, string>;
}

interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

const root = path.resolve(__dirname, '..');
const tsx = path.join(root, 'node_modules', '.bin', 'tsx');
const mocha = path.join(root, 'node_modules', '.bin', 'mocha');

function mochaCounts(output: string): Counts | undefined {
  const passing = /^\s*(\d+) passing/m.exec(output);
  if (!passing) return undefined;
  const failing = /^\s*(\d+) failing/m.exec(output);
  const pending = /^\s*(\d+) pending/m.exec(output);
  return { passed: Number(passing[1]), failed: Number(failing?.[1] ?? 0), skipped: Number(pending?.[1] ?? 0) };
}

function summaryCounts(tier: string): (output: string) => Counts | undefined {
  return (output) => {
    const match = new RegExp(`^${tier}: (\\d+) passed, (\\d+) failed`, 'm').exec(output);
    return match ? { passed: Number(match[1]), failed: Number(match[2]), skipped: 0 } : undefined;
  };
}

const tiers: Tier[] = [
  // --exit: a failed test can leave a proposal waiting on its 30-minute decision timer; the
  // tier must end with its report, not hang until the timer fires.
  // --timeout: unit tests that spawn git, dpkg or write files can take seconds on a loaded machine
  // (the VS Code server builds beside this tier); a test's speed is a benchmark's business, not a test's.
  {
    name: 'unit',
    command: [mocha, '--import=tsx', '--exit', '--reporter', 'spec', '--timeout', '30000', 'test/unit/**/*.test.ts'],
    parse: mochaCounts,
  },
  {
    name: 'integration',
    command: [mocha, '--import=tsx', '--exit', '--reporter', 'spec', '--timeout', '180000', 'test/integration/**/*.test.ts'],
    parse: mochaCounts,
  },
  {
    // The suites parametrised by engine, again on the simulated VM-backed engine (issue 23;
    // test/support/vmEngine.ts: a second dockerd in its own mount namespace, one shared tree).
    name: 'integration-vm',
    command: [
      mocha,
      '--import=tsx',
      '--exit',
      '--reporter',
      'spec',
      '--timeout',
      '300000',
      'test/integration/egress.test.ts',
      'test/integration/startupCheck.test.ts',
      'test/integration/session.test.ts',
      'test/integration/sandboxLifecycle.test.ts',
      'test/integration/withhold.test.ts',
      'test/integration/realAgents/codexAcp.test.ts',
      'test/integration/realAgents/codexAcpCopy.test.ts',
      'test/integration/realAgents/gemini.test.ts',
      'test/integration/realAgents/codexAppServer.test.ts',
    ],
    env: { WARDEN_TEST_ENGINE: 'vm' },
    parse: mochaCounts,
  },
  { name: 'extension', command: [tsx, 'scripts/run-extension-tests.ts'], parse: summaryCounts('extension'), needsVSCodeServer: true },
  { name: 'e2e', command: [tsx, 'scripts/run-e2e-tests.ts'], parse: summaryCounts('e2e'), needsVSCodeServer: true },
  { name: 'package', command: [tsx, 'scripts/check-package.ts'], parse: summaryCounts('package'), needsVSCodeServer: true },
];

function runTier(tier: Tier): Promise<{ counts: Counts | undefined; exitCode: number; seconds: number; failures: string[] }> {
  const started = Date.now();
  return new Promise((resolve) => {
    const [command, ...args] = tier.command as [string, ...string[]];
    const child = spawn(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...tier.env } });
    let output = '';
    const forward = (chunk: Buffer, to: NodeJS.WriteStream): void => {
      output += chunk.toString('utf8');
      to.write(chunk);
    };
    child.stdout.on('data', (c: Buffer) => forward(c, process.stdout));
    child.stderr.on('data', (c: Buffer) => forward(c, process.stderr));
    child.on('close', (code) =>
      resolve({ counts: tier.parse(output), exitCode: code ?? 1, seconds: (Date.now() - started) / 1000, failures: failureDigest(output) }),
    );
  });
}

/**
 * The VS Code server's bootstrap (a first install is minutes of native builds) runs while the
 * unit and integration tiers run, and the tiers that need the server wait for it. Its output is
 * printed when it is awaited, so it does not interleave with a tier's.
 */
function bootstrapVSCodeServer(): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', [path.join(root, 'scripts', 'bootstrap', 'vscode-server.sh')], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: process.env,
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (output += c.toString('utf8')));
    child.on('close', (code) => resolve({ ok: code === 0, output }));
    child.on('error', (error) => resolve({ ok: false, output: `${output}${error.message}\n` }));
  });
}

async function main(): Promise<void> {
  const requested = process.argv.slice(2);
  const unknown = requested.filter((name) => !tiers.some((t) => t.name === name));
  if (unknown.length > 0) {
    console.error(`Unknown tier(s): ${unknown.join(', ')}. Tiers: ${tiers.map((t) => t.name).join(', ')}`);
    process.exit(2);
  }
  const selected = requested.length > 0 ? tiers.filter((t) => requested.includes(t.name)) : tiers;
  const rows: string[] = [];
  const digests: string[] = [];
  let passed = 0;
  let failed = 0;
  const vscodeServer = selected.some((t) => t.needsVSCodeServer) ? bootstrapVSCodeServer() : undefined;
  let vscodeServerShown = false;
  for (const tier of selected) {
    console.log(`\n=== ${tier.name} tests ===`);
    if (tier.needsVSCodeServer && vscodeServer) {
      const bootstrap = await vscodeServer;
      if (!vscodeServerShown) process.stderr.write(bootstrap.output);
      vscodeServerShown = true;
      if (!bootstrap.ok) {
        console.error(
          `[test] the ${tier.name} tier needs the offline VS Code server, and scripts/bootstrap/vscode-server.sh failed (above)`,
        );
        failed += 1;
        rows.push(`${tier.name.padEnd(12)}    0 passed   1 failed (the VS Code server bootstrap failed)`);
        continue;
      }
    }
    const { counts, exitCode, seconds, failures } = await runTier(tier);
    // A tier that crashed before reporting counts as one failure, so it can never pass silently.
    const c = counts ?? { passed: 0, failed: 1, skipped: 0 };
    const tierFailed = c.failed + c.skipped + (exitCode !== 0 && c.failed === 0 ? 1 : 0);
    passed += c.passed;
    failed += tierFailed;
    rows.push(
      `${tier.name.padEnd(12)} ${String(c.passed).padStart(4)} passed ${String(tierFailed).padStart(3)} failed` +
        `${c.skipped ? ` (${c.skipped} skipped: skipping is not allowed)` : ''}${counts ? '' : ' (no results: the tier crashed)'}  ${seconds.toFixed(1)}s`,
    );
    if (tierFailed > 0 && failures.length > 0) digests.push(`[${tier.name}] what failed:`, ...failures);
  }
  console.log('\n=== summary ===');
  for (const row of rows) console.log(row);
  if (digests.length > 0) {
    console.log('\n=== failures ===');
    for (const line of digests) console.log(line);
    console.log('');
  }
  console.log(`total: ${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

void main();

/**
 * Runs Warden's test tiers in order and prints one closing line: `total: N passed, M failed`.
 * `npx tsx scripts/run-tests.ts [tier ...]` — tiers: unit integration extension e2e package.
 * Bootstrapping (Docker engine, images, VS Code server, Chromium) is done by scripts/test.sh.
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';

interface Tier {
  name: string;
  command: string[];
  /** Pulls passed/failed/skipped counts out of the tier's output. */
  parse(output: string): Counts | undefined;
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
  { name: 'unit', command: [mocha, '--import=tsx', '--exit', '--reporter', 'spec', 'test/unit/**/*.test.ts'], parse: mochaCounts },
  {
    name: 'integration',
    command: [mocha, '--import=tsx', '--exit', '--reporter', 'spec', '--timeout', '180000', 'test/integration/**/*.test.ts'],
    parse: mochaCounts,
  },
  { name: 'extension', command: [tsx, 'scripts/run-extension-tests.ts'], parse: summaryCounts('extension') },
  { name: 'e2e', command: [tsx, 'scripts/run-e2e-tests.ts'], parse: summaryCounts('e2e') },
  { name: 'package', command: [tsx, 'scripts/check-package.ts'], parse: summaryCounts('package') },
];

function runTier(tier: Tier): Promise<{ counts: Counts | undefined; exitCode: number; seconds: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    const [command, ...args] = tier.command as [string, ...string[]];
    const child = spawn(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
    let output = '';
    const forward = (chunk: Buffer, to: NodeJS.WriteStream): void => {
      output += chunk.toString('utf8');
      to.write(chunk);
    };
    child.stdout.on('data', (c: Buffer) => forward(c, process.stdout));
    child.stderr.on('data', (c: Buffer) => forward(c, process.stderr));
    child.on('close', (code) => resolve({ counts: tier.parse(output), exitCode: code ?? 1, seconds: (Date.now() - started) / 1000 }));
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
  let passed = 0;
  let failed = 0;
  for (const tier of selected) {
    console.log(`\n=== ${tier.name} tests ===`);
    const { counts, exitCode, seconds } = await runTier(tier);
    // A tier that crashed before reporting counts as one failure, so it can never pass silently.
    const c = counts ?? { passed: 0, failed: 1, skipped: 0 };
    const tierFailed = c.failed + c.skipped + (exitCode !== 0 && c.failed === 0 ? 1 : 0);
    passed += c.passed;
    failed += tierFailed;
    rows.push(
      `${tier.name.padEnd(12)} ${String(c.passed).padStart(4)} passed ${String(tierFailed).padStart(3)} failed` +
        `${c.skipped ? ` (${c.skipped} skipped: skipping is not allowed)` : ''}${counts ? '' : ' (no results: the tier crashed)'}  ${seconds.toFixed(1)}s`,
    );
  }
  console.log('\n=== summary ===');
  for (const row of rows) console.log(row);
  console.log(`total: ${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

void main();

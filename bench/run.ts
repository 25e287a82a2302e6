/**
 * `npm run bench`: runs every benchmark, each beside its reference in the same run, prints one
 * table (figure, Warden, reference, ratio, target) and writes the same data as JSON to
 * bench/results/. A benchmark never fails the test suite; one that cannot run is reported.
 * `npm run bench -- diff sandbox` runs only those.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as acpStream from './acpStream';
import * as activation from './activation';
import * as agentStream from './agentStream';
import * as asks from './asks';
import * as audit from './audit';
import * as auditTeam from './auditTeam';
import * as diff from './diff';
import * as extensionHost from './extensionHost';
import { type BenchFigure, formatTable, ratio } from './lib';
import * as policy from './policy';
import * as reviewPanel from './reviewPanel';
import * as sandbox from './sandbox';
import * as shellParsers from './shellParsers';

const suites: Record<string, () => Promise<BenchFigure[]>> = {
  acpStream: acpStream.run,
  activation: activation.run,
  agentStream: agentStream.run,
  asks: asks.run,
  audit: audit.run,
  auditTeam: auditTeam.run,
  diff: diff.run,
  extensionHost: extensionHost.run,
  policy: policy.run,
  reviewPanel: reviewPanel.run,
  sandbox: sandbox.run,
  shellParsers: shellParsers.run,
};

async function main(): Promise<void> {
  const requested = process.argv.slice(2);
  const names = requested.length > 0 ? requested : Object.keys(suites);
  const figures: BenchFigure[] = [];
  const errors: Record<string, string> = {};
  for (const name of names) {
    const suite = suites[name];
    if (!suite) {
      errors[name] = `unknown benchmark; known: ${Object.keys(suites).join(', ')}`;
      continue;
    }
    process.stderr.write(`[bench] ${name}…\n`);
    try {
      figures.push(...(await suite()));
    } catch (error) {
      errors[name] = error instanceof Error ? error.message : String(error);
    }
  }
  console.log(formatTable(figures));
  for (const [name, message] of Object.entries(errors)) console.log(`(${name} did not run: ${message})`);
  const dir = path.join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(
    file,
    `${JSON.stringify({ at: new Date().toISOString(), figures: figures.map((f) => ({ ...f, ratio: ratio(f) })), errors }, null, 2)}\n`,
  );
  console.log(`\nJSON: ${path.relative(process.cwd(), file)}`);
}

void main();

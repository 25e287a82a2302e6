/**
 * The shell parser comparison behind the policy's choice (issue 21), all candidates in one run
 * on the same lines: mvdan-sh (the full parser), Warden's fast reader with mvdan-sh behind it
 * (what `analyzeShell` does), and tree-sitter-bash as WebAssembly through
 * `@vscode/tree-sitter-wasm` (what VS Code uses to split terminal command lines) and through
 * `web-tree-sitter` + `tree-sitter-bash`. The tree-sitter packages are not project
 * dependencies: the first run installs them into ~/.cache/warden-dev/shell-parsers with npm.
 *
 * Lines: the policy benchmark's line (new each time, as there) and every command line of the
 * unit tier's policy corpora (bypass, boundary, analysis tests), read from the test files.
 * Speed: median and p99 per line, in microseconds. Correctness, per parser, against mvdan-sh on
 * the corpora: lines where the parse error status or the simple commands found (their first
 * words, in order) differ; the disagreements go to stderr.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import type * as MvdanSh from 'mvdan-sh';
import { analyzeShellFast, analyzeShellFull, analyzeShellUncached } from '../src/core/policy/shell';
import { corpusLines } from '../test/support/policyCorpus';
import { type BenchFigure, percentile } from './lib';

const exec = promisify(execFile);
const CACHE_DIR = path.join(os.homedir(), '.cache', 'warden-dev', 'shell-parsers');
const PACKAGES = ['@vscode/tree-sitter-wasm@0.3.1', 'web-tree-sitter@0.25.10', 'tree-sitter-bash@0.25.1'];
const RUNS = Number(process.env.WARDEN_BENCH_PARSER_RUNS ?? 2000);

/** The subset of web-tree-sitter's API used here (both packages ship the same 0.25 API). */
interface TsNode {
  type: string;
  text: string;
  hasError: boolean;
  descendantsOfType(type: string): TsNode[];
  childForFieldName(name: string): TsNode | null;
}
interface TsTree {
  rootNode: TsNode;
  walk(): { gotoFirstChild(): boolean; gotoNextSibling(): boolean; gotoParent(): boolean; nodeType: string };
  delete(): void;
}
interface TsModule {
  Parser: { init(options?: { locateFile: (file: string) => string }): Promise<void>; new (): TsParser };
  Language: { load(input: string | Uint8Array): Promise<unknown> };
}
interface TsParser {
  setLanguage(language: unknown): void;
  parse(text: string): TsTree | null;
}

async function installTreeSitter(): Promise<void> {
  const marker = path.join(CACHE_DIR, 'node_modules', 'tree-sitter-bash', 'tree-sitter-bash.wasm');
  if (existsSync(marker)) return;
  process.stderr.write(`[bench] installing ${PACKAGES.join(', ')} into ${CACHE_DIR}\n`);
  await fs.mkdir(CACHE_DIR, { recursive: true });
  await exec('npm', ['install', '--prefix', CACHE_DIR, '--no-audit', '--no-fund', '--no-save', '--ignore-scripts', ...PACKAGES], {
    maxBuffer: 16 * 1024 * 1024,
  });
}

async function loadTreeSitter(moduleFile: string, runtimeWasm: string, bashWasm: string): Promise<TsParser> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ts = require(moduleFile) as TsModule;
  await ts.Parser.init({ locateFile: () => runtimeWasm });
  const language = await ts.Language.load(readFileSync(bashWasm));
  const parser = new ts.Parser();
  parser.setLanguage(language);
  return parser;
}

function benchLine(i: number): string {
  return `env A=1 timeout 5 tool${i % 450} sub x${i} && node --test > dir${i % 50}/out.txt 2>&1 | tee dir1/log.txt`;
}

function timeEach(runs: number, body: (line: string) => unknown): { median: number; p99: number } {
  for (let i = 0; i < 200; i++) body(benchLine(1e6 + i)); // warm up
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const line = benchLine(i);
    const start = process.hrtime.bigint();
    body(line);
    times.push(Number(process.hrtime.bigint() - start) / 1e3);
  }
  return { median: percentile(times, 0.5), p99: percentile(times, 0.99) };
}

/** The simple commands mvdan-sh finds (first word's source text), in order; null when it does not parse. */
function mvdanCommands(parser: MvdanSh.ShParser, syntax: (typeof MvdanSh)['syntax'], line: string): string[] | null {
  let file: MvdanSh.ShNode;
  try {
    file = parser.Parse(line, 'bench');
  } catch {
    return null;
  }
  const bytes = Buffer.from(line, 'utf8');
  const out: string[] = [];
  syntax.Walk(file, (node) => {
    if (node && syntax.NodeType(node) === 'CallExpr') {
      const first = (node as unknown as { Args: MvdanSh.ShNode[] }).Args[0];
      if (first) out.push(bytes.subarray(first.Pos().Offset(), first.End().Offset()).toString('utf8'));
    }
    return true;
  });
  return out;
}

/** The simple commands tree-sitter finds (their `name` field's text), in order; null when the tree has an error or a missing node. */
function treeSitterCommands(parser: TsParser, line: string): string[] | null {
  const tree = parser.parse(line);
  if (!tree) return null;
  try {
    if (tree.rootNode.hasError) return null;
    return tree.rootNode.descendantsOfType('command').map((c) => c.childForFieldName('name')?.text ?? '');
  } finally {
    tree.delete();
  }
}

/** Parse and visit every node with a cursor (no analysis): the floor of an analysis on tree-sitter. */
function treeSitterWalk(parser: TsParser, line: string): number {
  const tree = parser.parse(line)!;
  const cursor = tree.walk();
  let count = 0;
  for (;;) {
    count++;
    if (cursor.gotoFirstChild()) continue;
    while (!cursor.gotoNextSibling()) {
      if (!cursor.gotoParent()) {
        tree.delete();
        return count;
      }
    }
  }
}

function fileKiB(file: string): number {
  return Math.round(statSync(file).size / 1024);
}

export async function run(): Promise<BenchFigure[]> {
  await installTreeSitter();
  const modules = path.join(CACHE_DIR, 'node_modules');
  const vscodeWasm = path.join(modules, '@vscode', 'tree-sitter-wasm', 'wasm');
  const vscodeTs = await loadTreeSitter(
    path.join(vscodeWasm, 'tree-sitter.js'),
    path.join(vscodeWasm, 'tree-sitter.wasm'),
    path.join(vscodeWasm, 'tree-sitter-bash.wasm'),
  );
  const webTs = await loadTreeSitter(
    path.join(modules, 'web-tree-sitter', 'tree-sitter.cjs'),
    path.join(modules, 'web-tree-sitter', 'tree-sitter.wasm'),
    path.join(modules, 'tree-sitter-bash', 'tree-sitter-bash.wasm'),
  );
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mvdan = require('mvdan-sh') as typeof MvdanSh;
  const mvdanParser = mvdan.syntax.NewParser();

  // Speed, interleaved per candidate on the same lines.
  const speed = {
    'mvdan-sh parse': timeEach(RUNS, (line) => mvdanParser.Parse(line, 'bench')),
    'mvdan-sh analysis': timeEach(RUNS, analyzeShellFull),
    'fast reader + mvdan-sh analysis': timeEach(RUNS, analyzeShellUncached),
    'tree-sitter (@vscode/tree-sitter-wasm) parse': timeEach(RUNS, (line) => vscodeTs.parse(line)!.delete()),
    'tree-sitter (@vscode/tree-sitter-wasm) parse + walk': timeEach(RUNS, (line) => treeSitterWalk(vscodeTs, line)),
    'tree-sitter (web-tree-sitter) parse': timeEach(RUNS, (line) => webTs.parse(line)!.delete()),
    'tree-sitter (web-tree-sitter) parse + walk': timeEach(RUNS, (line) => treeSitterWalk(webTs, line)),
  };

  // Correctness on the corpora, against mvdan-sh.
  const lines = corpusLines();
  const disagreements = { vscode: 0, web: 0, fast: 0, fastAnswered: 0 };
  for (const line of lines) {
    const reference = JSON.stringify(mvdanCommands(mvdanParser, mvdan.syntax, line));
    for (const [name, parser] of [
      ['vscode', vscodeTs],
      ['web', webTs],
    ] as const) {
      const theirs = JSON.stringify(treeSitterCommands(parser, line));
      if (theirs !== reference) {
        disagreements[name]++;
        process.stderr.write(`[bench] ${name} tree-sitter differs on ${JSON.stringify(line)}: ${theirs} vs mvdan-sh ${reference}\n`);
      }
    }
    const fast = analyzeShellFast(line);
    if (fast) {
      disagreements.fastAnswered++;
      if (JSON.stringify(fast) !== JSON.stringify(analyzeShellFull(line))) {
        disagreements.fast++;
        process.stderr.write(`[bench] the fast reader differs on ${JSON.stringify(line)}\n`);
      }
    }
  }
  process.stderr.write(
    `[bench] corpora: ${lines.length} lines; the fast reader answered ${disagreements.fastAnswered}, mvdan-sh the rest\n` +
      `[bench] sizes: mvdan-sh ${fileKiB(require.resolve('mvdan-sh'))} KiB JavaScript; @vscode/tree-sitter-wasm tree-sitter.js ${fileKiB(path.join(vscodeWasm, 'tree-sitter.js'))} + tree-sitter.wasm ${fileKiB(path.join(vscodeWasm, 'tree-sitter.wasm'))} + tree-sitter-bash.wasm ${fileKiB(path.join(vscodeWasm, 'tree-sitter-bash.wasm'))} KiB; web-tree-sitter tree-sitter.cjs ${fileKiB(path.join(modules, 'web-tree-sitter', 'tree-sitter.cjs'))} + tree-sitter.wasm ${fileKiB(path.join(modules, 'web-tree-sitter', 'tree-sitter.wasm'))} + tree-sitter-bash.wasm ${fileKiB(path.join(modules, 'tree-sitter-bash', 'tree-sitter-bash.wasm'))} KiB\n`,
  );

  const mvdanMedian = speed['mvdan-sh parse'].median;
  const figures: BenchFigure[] = [];
  for (const [name, t] of Object.entries(speed)) {
    figures.push({
      figure: `shell line: ${name}, median`,
      unit: 'µs',
      warden: t.median,
      reference: mvdanMedian,
      referenceLabel: 'mvdan-sh parse',
      target: 'report',
    });
    figures.push({ figure: `shell line: ${name}, p99`, unit: 'µs', warden: t.p99, reference: null, referenceLabel: '', target: 'report' });
  }
  for (const [name, count] of [
    ['tree-sitter (@vscode/tree-sitter-wasm)', disagreements.vscode],
    ['tree-sitter (web-tree-sitter)', disagreements.web],
    [`fast reader (${disagreements.fastAnswered} lines answered)`, disagreements.fast],
  ] as const) {
    figures.push({
      figure: `corpus lines where ${name} and mvdan-sh differ`,
      unit: `of ${lines.length}`,
      warden: count,
      reference: null,
      referenceLabel: '',
      target: name.startsWith('fast') ? '0' : 'report',
    });
  }
  return figures;
}

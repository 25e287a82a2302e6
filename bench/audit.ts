/**
 * Audit log benchmarks, each beside a reference measured in the same run:
 *
 * - append latency with fsync (p50, p99): `AuditLog.append` vs a raw `write` + `fsync` of
 *   the same line bytes to a plain file in the same directory;
 * - verify throughput on 1,000,000 entries: `verifyAuditLog` vs `sha256sum` over the same
 *   segment files (the floor for any verifier: it must at least read and hash every byte).
 *
 * Both run the shipped code: `src/core/audit` bundled and minified as the extension's build does.
 *
 * `npx tsx bench/audit.ts` prints a table and writes JSON to bench/results/;
 * `npm run bench -- audit` runs it with the other benchmarks. WARDEN_BENCH_ENTRIES and
 * WARDEN_BENCH_APPENDS override the sizes (for a quick look).
 */
import { execFileSync } from 'node:child_process';
import { closeSync, fsyncSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildSync } from 'esbuild';
import type * as AuditModule from '../src/core/audit';
import type { AuditEntry } from '../src/core/audit';
import { GENESIS_PREV, segmentName, serializeEntry } from '../src/core/audit/segments';
import { sha256Hex } from '../src/core/util/hash';
import { type BenchFigure, formatTable, ratio } from './lib';

const VERIFY_ENTRIES = Number(process.env.WARDEN_BENCH_ENTRIES ?? 1_000_000);
const APPENDS = Number(process.env.WARDEN_BENCH_APPENDS ?? 2000);
const SEGMENT_BYTES = 8 * 1024 * 1024;

/**
 * The audit log as Warden ships it: bundled and minified by esbuild like `node esbuild.js
 * --production`, not as tsx runs the sources (its per-module transform keeps every function's
 * name with a wrapper call, CPU the shipped code does not spend).
 */
function shippedAudit(): typeof AuditModule {
  const outfile = path.join(__dirname, 'results', 'tmp', 'audit-shipped.js');
  buildSync({
    entryPoints: [path.join(__dirname, '..', 'src', 'core', 'audit', 'index.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    minify: true,
    mainFields: ['module', 'main'],
    logLevel: 'warning',
  });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(outfile) as typeof AuditModule;
}
const { AuditLog, verifyAuditLog } = shippedAudit();

/** Work in the benchmark folder's file system (not a tmpfs /tmp, where fsync costs nothing). */
function workDir(): string {
  const base = path.join(__dirname, 'results', 'tmp');
  mkdirSync(base, { recursive: true });
  return mkdtempSync(path.join(base, 'audit-'));
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** A typical entry: a proposal with a small diff (about 600 bytes a line). */
function sampleData(i: number): Record<string, unknown> {
  return {
    proposalId: `p-${i}`,
    kind: 'edit',
    title: `Edit src/module${i % 50}.ts`,
    origin: 'fs/write_text_file',
    path: `src/module${i % 50}.ts`,
    baseHash: sha256Hex(`base ${i}`),
    newHash: sha256Hex(`new ${i}`),
    diff: `--- a/src/module${i % 50}.ts\n+++ b/src/module${i % 50}.ts\n@@ -1,3 +1,3 @@\n const a = 1;\n-const b = ${i};\n+const b = ${i + 1};\n const c = 3;\n`,
  };
}

async function appendLatency(dir: string): Promise<BenchFigure[]> {
  const log = AuditLog.forWorkspace(dir);
  const warden: number[] = [];
  const kept: number[] = [];
  const reopened: number[] = [];
  // Reference 1: the same bytes to a file kept open (O_APPEND), then fsync: what any durable
  // append log pays at least, and what Warden itself does between appends.
  const keptFd = openSync(path.join(dir, 'raw-kept.jsonl'), 'a');
  // Reference 2 (issue 21's): open + write + fsync + close of the same bytes.
  const reopenedFile = path.join(dir, 'raw-reopened.jsonl');
  const time = (body: () => void): number => {
    const start = process.hrtime.bigint();
    body();
    return Number(process.hrtime.bigint() - start) / 1e6;
  };
  // Interleaved so all see the same disk conditions; the first 50 of each warm up.
  for (let i = 0; i < APPENDS + 50; i++) {
    const event = { sessionId: 'bench', actor: { kind: 'agent' as const, id: 'bench-agent' }, type: 'proposal', data: sampleData(i) };
    const start = process.hrtime.bigint();
    const entry = await log.append(event);
    const w = Number(process.hrtime.bigint() - start) / 1e6;
    const bytes = Buffer.from(`${serializeEntry(entry)}\n`);
    const k = time(() => {
      writeSync(keptFd, bytes);
      fsyncSync(keptFd);
    });
    const r = time(() => {
      const fd = openSync(reopenedFile, 'a');
      writeSync(fd, bytes);
      fsyncSync(fd);
      closeSync(fd);
    });
    if (i >= 50) {
      warden.push(w);
      kept.push(k);
      reopened.push(r);
    }
  }
  closeSync(keptFd);
  for (const sample of [warden, kept, reopened]) sample.sort((a, b) => a - b);
  const figure = (p: number, reference: number[], referenceLabel: string, target: string): BenchFigure => ({
    figure: `audit append with fsync, p${p} (${APPENDS} appends)`,
    unit: 'ms',
    warden: percentile(warden, p),
    reference: percentile(reference, p),
    referenceLabel,
    target,
  });
  return [
    figure(50, kept, 'write+fsync to an open fd, same bytes', 'ratio <= 2'),
    figure(99, kept, 'write+fsync to an open fd, same bytes', 'ratio <= 5'),
    figure(50, reopened, 'open+write+fsync+close, same bytes', 'p50 < 5 ms'),
    figure(99, reopened, 'open+write+fsync+close, same bytes', 'p99 < 25 ms'),
  ];
}

/** Writes a valid chain of `count` entries directly (1M fsynced appends would take an hour). */
export function writeChain(dir: string, count: number): { files: string[]; bytes: number } {
  const auditDir = path.join(dir, '.warden', 'audit');
  mkdirSync(auditDir, { recursive: true });
  const files: string[] = [];
  let prev = GENESIS_PREV;
  let segment = 1;
  let chunks: Buffer[] = [];
  let size = 0;
  let total = 0;
  const flush = (): void => {
    const file = path.join(auditDir, segmentName(segment++));
    writeFileSync(file, Buffer.concat(chunks));
    files.push(file);
    chunks = [];
    size = 0;
  };
  const t0 = Date.parse('2026-01-01T00:00:00.000Z');
  for (let seq = 1; seq <= count; seq++) {
    const entry: AuditEntry = {
      v: 1,
      seq,
      time: new Date(t0 + seq * 10).toISOString(),
      sessionId: `session-${Math.floor(seq / 1000)}`,
      actor: { kind: 'agent', id: 'bench-agent' },
      type: 'proposal',
      data: sampleData(seq),
      prev,
    };
    const line = Buffer.from(`${serializeEntry(entry)}\n`);
    prev = sha256Hex(line.subarray(0, line.length - 1));
    if (size > 0 && size + line.length > SEGMENT_BYTES) flush();
    chunks.push(line);
    size += line.length;
    total += line.length;
  }
  if (chunks.length > 0) flush();
  return { files, bytes: total };
}

function seconds(body: () => unknown): number {
  const start = process.hrtime.bigint();
  body();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

async function verifyThroughput(dir: string): Promise<BenchFigure[]> {
  process.stderr.write(`[bench] writing a chain of ${VERIFY_ENTRIES.toLocaleString('en')} entries…\n`);
  const { files, bytes } = writeChain(dir, VERIFY_ENTRIES);
  const mib = bytes / 1024 / 1024;
  // Warm the page cache for both, then measure each three times, alternating, and keep the fastest run of each.
  execFileSync('cat', files, { stdio: ['ignore', 'ignore', 'inherit'], maxBuffer: 1024 });
  const sha = (): number => seconds(() => execFileSync('sha256sum', files, { stdio: ['ignore', 'ignore', 'inherit'] }));
  let shaSeconds = Number.POSITIVE_INFINITY;
  let verifySeconds = Number.POSITIVE_INFINITY;
  for (let run = 0; run < 3; run++) {
    shaSeconds = Math.min(shaSeconds, sha());
    const start = process.hrtime.bigint();
    const report = await verifyAuditLog(dir);
    verifySeconds = Math.min(verifySeconds, Number(process.hrtime.bigint() - start) / 1e9);
    if (!report.ok || report.entries !== VERIFY_ENTRIES)
      throw new Error(`the generated chain does not verify: ${JSON.stringify(report.firstBreak)}`);
  }
  process.stderr.write(
    `[bench] ${files.length} segments, ${mib.toFixed(0)} MiB; verify ${verifySeconds.toFixed(2)} s, sha256sum ${shaSeconds.toFixed(2)} s\n`,
  );
  return [
    {
      figure: `audit verify, ${(VERIFY_ENTRIES / 1e6).toFixed(VERIFY_ENTRIES % 1e6 ? 2 : 0)}M entries (${mib.toFixed(0)} MiB), throughput`,
      unit: 'MiB/s',
      warden: mib / verifySeconds,
      reference: mib / shaSeconds,
      referenceLabel: 'sha256sum, same files',
      target: 'ratio >= 0.1',
    },
    {
      figure: `audit verify, ${(VERIFY_ENTRIES / 1e6).toFixed(VERIFY_ENTRIES % 1e6 ? 2 : 0)}M entries, wall time`,
      unit: 's',
      warden: verifySeconds,
      reference: shaSeconds,
      referenceLabel: 'sha256sum, same files',
      target: '< 60 s',
    },
  ];
}

export async function run(): Promise<BenchFigure[]> {
  const dir = workDir();
  try {
    const figures = await appendLatency(dir);
    rmSync(path.join(dir, '.warden'), { recursive: true, force: true });
    figures.push(...(await verifyThroughput(dir)));
    return figures;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  void (async () => {
    const started = Date.now();
    const figures = await run();
    console.log(formatTable(figures));
    const dir = path.join(__dirname, 'results');
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `audit-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    const machine = {
      cpus: os.cpus()[0]?.model ?? 'unknown',
      cores: os.cpus().length,
      platform: `${os.platform()} ${os.release()}`,
      node: process.version,
    };
    writeFileSync(
      file,
      `${JSON.stringify({ at: new Date().toISOString(), machine, seconds: (Date.now() - started) / 1000, figures: figures.map((f) => ({ ...f, ratio: ratio(f) })) }, null, 2)}\n`,
    );
    console.log(`\nJSON: ${path.relative(process.cwd(), file)} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
  })().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}

/**
 * Runs inside a real VS Code extension host (as `extensionTestsPath`) for `bench/extensionHost.ts`:
 * Warden's activation time beside a built-in extension's, and the extension host's heap growth
 * over a 1,000-proposal session with the Review panel open beside the heap the same proposals
 * take in a plain array. Writes its figures as JSON to `$WARDEN_BENCH_RESULTS`.
 */
import { writeFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import * as vscode from 'vscode';
import type { WardenApi } from '../../src/extension';
import type { EditProposal } from '../../src/core/proposals/model';
import { unifiedDiff } from '../../src/core/proposals/diff';
import { sha256Hex } from '../../src/core/util/hash';

export const BENCH_RESULTS_ENV = 'WARDEN_BENCH_RESULTS';
const PROPOSALS = 1000;
/** Built-in extensions that activate on demand only, tried in order as the activation reference. */
const REFERENCE_EXTENSIONS = ['vscode.emmet', 'vscode.markdown-language-features', 'vscode.npm', 'vscode.references-view'];

export interface HostBenchResults {
  activation: { wardenMs: number; reference: { id: string; ms: number } | null; wardenWasActive: boolean };
  memory: { proposals: number; growthBytes: number; plainArrayBytes: number; rssGrowthBytes: number };
}

export async function run(): Promise<void> {
  const file = process.env[BENCH_RESULTS_ENV];
  try {
    const results: HostBenchResults = { activation: await activation(), memory: await memoryGrowth() };
    if (file) writeFileSync(file, JSON.stringify(results));
  } catch (error) {
    if (file) writeFileSync(file, JSON.stringify({ error: error instanceof Error ? (error.stack ?? error.message) : String(error) }));
    throw error;
  }
}

async function activation(): Promise<HostBenchResults['activation']> {
  const warden = vscode.extensions.getExtension<WardenApi>('warden-dev.warden');
  if (!warden) throw new Error('warden-dev.warden is not loaded');
  const wardenWasActive = warden.isActive;
  const wardenMs = await timed(() => warden.activate());
  let reference: { id: string; ms: number } | null = null;
  for (const id of REFERENCE_EXTENSIONS) {
    const extension = vscode.extensions.getExtension(id);
    if (!extension || extension.isActive) continue;
    reference = { id, ms: await timed(() => extension.activate()) };
    break;
  }
  return { wardenMs, reference, wardenWasActive };
}

async function memoryGrowth(): Promise<HostBenchResults['memory']> {
  const api = vscode.extensions.getExtension<WardenApi>('warden-dev.warden')!.exports;
  await vscode.commands.executeCommand('warden.showReview');
  await settle();
  const gc = collector();
  const before = measure(gc);
  const sessionId = `s-bench-${Date.now()}`;
  for (let i = 0; i < PROPOSALS; i++) api.proposals.add(editProposal(sessionId, i));
  await settle(); // the panel renders, the status bar and CodeLens update, persistence writes
  const after = measure(gc);

  // The reference: the same proposals held in a plain array, nothing else.
  const baseline = measure(gc);
  const plain = Array.from({ length: PROPOSALS }, (_, i) => editProposal(sessionId, i));
  const held = measure(gc);
  if (plain.length !== PROPOSALS) throw new Error('unreachable');

  api.proposals.orphanSession(sessionId, 'benchmark finished');
  return {
    proposals: PROPOSALS,
    growthBytes: after.heap - before.heap,
    plainArrayBytes: held.heap - baseline.heap,
    rssGrowthBytes: after.rss - before.rss,
  };
}

/** A realistic pending edit: a 200-line file with a few changed lines. */
function editProposal(sessionId: string, i: number): EditProposal {
  const lines = Array.from({ length: 200 }, (_, n) => `export const value${n} = ${n * i}; // line ${n} of file ${i}`);
  const oldText = `${lines.join('\n')}\n`;
  const changed = [...lines];
  for (const n of [10, 90, 170]) changed[n] = `export const value${n} = compute(${n}, ${i}); // changed`;
  const newText = `${changed.join('\n')}\n`;
  const path = `src/generated/file${i}.ts`;
  return {
    id: `p-bench-${i}`,
    sessionId,
    createdAt: new Date().toISOString(),
    state: 'pending',
    title: `Edit ${path}`,
    origin: 'fs/write_text_file',
    kind: 'edit',
    path,
    oldText,
    newText,
    baseHash: sha256Hex(oldText),
    newHash: sha256Hex(newText),
    diff: unifiedDiff(path, oldText, newText),
  };
}

function collector(): () => void {
  setFlagsFromString('--expose-gc');
  const gc: unknown = runInNewContext('gc');
  if (typeof gc !== 'function') throw new Error('could not expose the garbage collector');
  return () => {
    (gc as () => void)();
    (gc as () => void)();
  };
}

function measure(gc: () => void): { heap: number; rss: number } {
  gc();
  const usage = process.memoryUsage();
  return { heap: usage.heapUsed, rss: usage.rss };
}

async function timed(body: () => Thenable<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await body();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** Lets queued work (webview posts, file writes, listeners) run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 1500));
}

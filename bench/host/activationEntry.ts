/**
 * Runs inside a real VS Code extension host (as `extensionTestsPath`) for `bench/activation.ts`:
 * Warden's `activate()` and the built-in `vscode.emmet`'s, in the order `$WARDEN_BENCH_ORDER`
 * gives (`warden-first` or `reference-first`, so runs can alternate who pays for what the host
 * loads first), each timed from the call to the resolved promise. Writes JSON to `$WARDEN_BENCH_RESULTS`.
 */
import { writeFileSync } from 'node:fs';
import * as vscode from 'vscode';

const RESULTS_ENV = 'WARDEN_BENCH_RESULTS';
const REFERENCE = 'vscode.emmet';

export interface ActivationResults {
  wardenMs: number;
  referenceMs: number;
  order: 'warden-first' | 'reference-first';
  /** Either was active before the entry ran (its figure would be no activation at all). */
  alreadyActive: string[];
}

export async function run(): Promise<void> {
  const file = process.env[RESULTS_ENV];
  try {
    const results = await measure(process.env.WARDEN_BENCH_ORDER === 'reference-first' ? 'reference-first' : 'warden-first');
    if (file) writeFileSync(file, JSON.stringify(results));
  } catch (error) {
    if (file) writeFileSync(file, JSON.stringify({ error: error instanceof Error ? (error.stack ?? error.message) : String(error) }));
    throw error;
  }
}

async function measure(order: ActivationResults['order']): Promise<ActivationResults> {
  const warden = vscode.extensions.getExtension('warden-dev.warden');
  const reference = vscode.extensions.getExtension(REFERENCE);
  if (!warden) throw new Error('warden-dev.warden is not loaded');
  if (!reference) throw new Error(`the built-in ${REFERENCE} is not in this VS Code`);
  const alreadyActive = [warden, reference].filter((e) => e.isActive).map((e) => e.id);
  const first = order === 'warden-first' ? warden : reference;
  const second = order === 'warden-first' ? reference : warden;
  const firstMs = await timed(() => first.activate());
  const secondMs = await timed(() => second.activate());
  return {
    wardenMs: order === 'warden-first' ? firstMs : secondMs,
    referenceMs: order === 'warden-first' ? secondMs : firstMs,
    order,
    alreadyActive,
  };
}

async function timed(body: () => Thenable<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await body();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

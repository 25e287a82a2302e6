/**
 * Runs inside a real VS Code extension host (as `extensionTestsPath`) for `bench/activation.ts`:
 * Warden's `activate()` and a built-in extension's, in the order `$WARDEN_BENCH_ORDER` gives
 * (`warden-first` or `reference-first`, so windows can alternate who pays for what the host
 * loads first), each timed from the call to the resolved promise. The reference is
 * `vscode.emmet` when it is not active yet (bench/activation.ts installs a copy of it that activates
 * only on its command, which replaces the built-in, whose `onLanguage` event the workbench fires
 * for any document before the entry runs); if it is active all the same, the next is `vscode.github-authentication` (a Node bundle of
 * emmet's size, 230 KiB against 232 KiB, but the workbench usually asks it for sessions at
 * start), then `vscode.references-view` (27 KiB, activated only by its commands).
 * Writes JSON to `$WARDEN_BENCH_RESULTS`.
 */
import { writeFileSync } from 'node:fs';
import * as vscode from 'vscode';

const RESULTS_ENV = 'WARDEN_BENCH_RESULTS';
const REFERENCES = ['vscode.emmet', 'vscode.github-authentication', 'vscode.references-view'];

export interface ActivationResults {
  wardenMs: number;
  /** `path`: where the reference was loaded from (for emmet, the on-demand copy bench/activation.ts makes). */
  reference: { id: string; ms: number; path: string };
  order: 'warden-first' | 'reference-first';
  /** Warden was active before the entry ran (no activation to time). */
  wardenWasActive: boolean;
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
  if (!warden) throw new Error('warden-dev.warden is not loaded');
  const reference = REFERENCES.map((id) => vscode.extensions.getExtension(id)).find((e) => e !== undefined && !e.isActive);
  if (!reference) throw new Error(`none of ${REFERENCES.join(', ')} is in this VS Code and not active yet`);
  const wardenWasActive = warden.isActive;
  const first = order === 'warden-first' ? warden : reference;
  const second = order === 'warden-first' ? reference : warden;
  const firstMs = await timed(() => first.activate());
  const secondMs = await timed(() => second.activate());
  const [wardenMs, referenceMs] = order === 'warden-first' ? [firstMs, secondMs] : [secondMs, firstMs];
  return { wardenMs, reference: { id: reference.id, ms: referenceMs, path: reference.extensionPath }, order, wardenWasActive };
}

async function timed(body: () => Thenable<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await body();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/**
 * Shared shape of benchmark figures: each Warden figure is measured next to its reference in
 * the same run, so the ratio means something on a shared, noisy machine.
 */
export interface BenchFigure {
  figure: string;
  unit: string;
  /** NaN when Warden's side cannot be measured yet (the figure's name says why); printed as n/a. */
  warden: number;
  /** The reference measured in the same run; null when the figure has none (e.g. bundle size). */
  reference: number | null;
  referenceLabel: string;
  /** What we aim for, as text (e.g. "ratio <= 2"). */
  target: string;
}

export function ratio(f: BenchFigure): number | null {
  return f.reference && Number.isFinite(f.warden) ? f.warden / f.reference : null;
}

/** Median of repeated timings, in milliseconds. */
export async function medianMs(runs: number, body: () => unknown): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    await body();
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] ?? Number.NaN;
}

/** The q-quantile (0..1) of a sample, nearest rank: percentile(values, 0.95) is the p95. */
export function percentile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
}

export function formatTable(figures: BenchFigure[]): string {
  const rows = [['figure', 'Warden', 'reference', 'ratio', 'target']];
  for (const f of figures) {
    const r = ratio(f);
    rows.push([
      f.figure,
      Number.isFinite(f.warden) ? `${round(f.warden)} ${f.unit}` : 'n/a', // NaN: not measurable yet (the row says why)
      f.reference === null ? '—' : `${round(f.reference)} ${f.unit} (${f.referenceLabel})`,
      r === null ? '—' : r.toFixed(2),
      f.target,
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ')).join('\n');
}

function round(value: number): string {
  return value >= 100 ? value.toFixed(0) : value >= 1 ? value.toFixed(2) : value.toPrecision(3);
}

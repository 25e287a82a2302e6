/* @jsxRuntime automatic @jsxImportSource preact */
/** Small pieces the Audit panel's views share: times, durations, counts. */
import type { JSX } from 'preact';

/** One formatter for every time on the page (toLocaleString builds a new one per call: slow for 1,000 sessions). */
const TIME_FORMAT = new Intl.DateTimeFormat(undefined, {
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

/** A recorded time in the reader's locale; the exact ISO string in its tooltip. */
export function Time({ iso }: { iso: string }): JSX.Element {
  const date = new Date(iso);
  return (
    <time dateTime={iso} title={iso}>
      {Number.isNaN(date.getTime()) ? iso : TIME_FORMAT.format(date)}
    </time>
  );
}

export function duration(ms: number | null): string {
  if (ms === null) return '–';
  return ms < 1000 ? `${Math.round(ms)} ms` : ms < 120_000 ? `${(ms / 1000).toFixed(1)} s` : `${(ms / 60_000).toFixed(1)} min`;
}

export const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** A commit hash as people quote it. */
export const shortCommit = (commit: string | null): string => (commit ? commit.slice(0, 10) : 'uncommitted');

/* @jsxRuntime automatic @jsxImportSource preact */
import type { JSX } from 'preact';

// toLocale*String builds a new formatter on every call (tens of ms for a long queue); these are built once.
const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const dayTimeFormat = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

let todayCache = { at: 0, text: '' };
function today(): string {
  const now = Date.now();
  if (now - todayCache.at > 1000) todayCache = { at: now, text: new Date(now).toDateString() };
  return todayCache.text;
}

export function formatTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return (date.toDateString() === today() ? timeFormat : dayTimeFormat).format(date);
}

/** The full date is a tooltip, written when the pointer first reaches it (formatting 1,000 up front is slow). */
export function Time({ iso }: { iso: string }): JSX.Element {
  return <time dateTime={iso}>{formatTime(iso)}</time>;
}

export function addTimeTitle(event: Event): void {
  const target = event.target;
  if (!(target instanceof HTMLTimeElement) || target.title !== '') return;
  const date = new Date(target.dateTime);
  target.title = Number.isNaN(date.getTime()) ? target.dateTime : fullFormat.format(date);
}

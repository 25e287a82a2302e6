import { Emitter } from '../util/events';
import { clip, type SessionEvent } from './sessionEvents';

/** How many entries the feed keeps; older ones drop off the top (the audit log keeps the record). */
export const FEED_LIMIT = 400;
const TEXT_LIMIT = 32 * 1024;

/** Feed versions are unique across feeds: a new session's feed never repeats an older one's. */
let lastVersion = 0;

/** What changed in the feed since a version: the entries added or changed since, and the seqs of all it holds, in order. */
export interface FeedChanges {
  version: number;
  changed: FeedEntry[];
  seqs: number[];
}

/** One row of the conversation: what the agent did, and the human's instructions (`user-message`, with the turn it started). */
export type FeedEntry =
  | ({ seq: number; at: string } & Exclude<SessionEvent, { type: 'ended' }>)
  | { seq: number; at: string; type: 'ended'; reason: string }
  | { seq: number; at: string; type: 'user-message'; text: string; turn: number };

/**
 * What the conversation shows, built from a session's events: message and thought chunks are
 * joined into one entry, a tool call's updates replace its entry, and the whole is bounded,
 * so a flood of updates costs the view a fixed amount of memory and work.
 */
export class SessionFeed {
  private entries: FeedEntry[] = [];
  private seq = 0;
  /** The version at which each entry last changed (a message entry grows in place). */
  private readonly changedAt = new WeakMap<FeedEntry, number>();
  private version = ++lastVersion;
  /** Message entries cut at TEXT_LIMIT: the text they keep, and how many characters came after it. */
  private readonly clipped = new WeakMap<FeedEntry, { kept: string; hidden: number }>();
  private readonly changed = new Emitter<void>();
  readonly onDidChange = this.changed.event;

  push(event: SessionEvent): void {
    const last = this.entries[this.entries.length - 1];
    if ((event.type === 'agent-message' || event.type === 'thought') && last?.type === event.type) {
      this.grow(last, event.text);
    } else if (event.type === 'tool-call' && event.toolCallId) {
      const index = this.entries.findIndex((e) => e.type === 'tool-call' && e.toolCallId === event.toolCallId);
      const previous = index >= 0 ? (this.entries[index] as Extract<FeedEntry, { type: 'tool-call' }>) : undefined;
      const merged = {
        ...previous,
        ...event,
        content: event.content ?? previous?.content,
        seq: ++this.seq,
        at: new Date().toISOString(),
      } as FeedEntry;
      if (index >= 0) this.entries.splice(index, 1);
      this.entries.push(merged);
    } else if (event.type === 'plan' || event.type === 'commands' || event.type === 'mode') {
      // One current plan / command list / mode: the newest replaces the older one.
      this.entries = this.entries.filter((e) => e.type !== event.type);
      this.entries.push({ ...event, seq: ++this.seq, at: new Date().toISOString() });
    } else {
      if (event.type === 'agent-message' || event.type === 'thought') {
        const entry: FeedEntry = { ...event, text: '', seq: ++this.seq, at: new Date().toISOString() };
        this.grow(entry, event.text);
        this.entries.push(entry);
      } else this.entries.push({ ...event, seq: ++this.seq, at: new Date().toISOString() });
    }
    this.lastChanged();
  }

  /** The human's instruction for `turn`, where it was given in the conversation. */
  instruction(text: string, turn: number): void {
    this.entries.push({ type: 'user-message', text: clip(text, TEXT_LIMIT), turn, seq: ++this.seq, at: new Date().toISOString() });
    this.lastChanged();
  }

  /**
   * Adds a chunk to a message entry, keeping its first TEXT_LIMIT characters and counting the
   * rest. Past the limit the kept text is never copied again (cutting `text + chunk` each time
   * copied 32 KiB per streamed chunk, and counted the notice itself as hidden text).
   */
  private grow(entry: Extract<FeedEntry, { type: 'agent-message' | 'thought' }>, chunk: string): void {
    let cut = this.clipped.get(entry);
    if (!cut) {
      const text = entry.text + chunk;
      if (text.length <= TEXT_LIMIT) {
        entry.text = text;
        return;
      }
      cut = { kept: text.slice(0, TEXT_LIMIT), hidden: 0 };
      this.clipped.set(entry, cut);
      chunk = text.slice(TEXT_LIMIT);
    }
    cut.hidden += chunk.length;
    entry.text = `${cut.kept}\n… (${cut.hidden} more characters not shown)`;
  }

  /** Bounds the feed and marks its last entry changed (every change adds or changes the last one). */
  private lastChanged(): void {
    // In place: the engine trims an array's front without copying the rest.
    if (this.entries.length > FEED_LIMIT) this.entries.splice(0, this.entries.length - FEED_LIMIT);
    const newest = this.entries[this.entries.length - 1];
    this.version = ++lastVersion;
    if (newest) this.changedAt.set(newest, this.version);
    this.changed.fire();
  }

  all(): FeedEntry[] {
    return this.entries.map((e) => ({ ...e }));
  }

  /** What changed since `version` (issue 21: the conversation gets this instead of every entry again). */
  changes(since: number): FeedChanges {
    const changed = this.entries.filter((e) => (this.changedAt.get(e) ?? this.version) > since).map((e) => ({ ...e }));
    return { version: this.version, changed, seqs: this.entries.map((e) => e.seq) };
  }

  dispose(): void {
    this.changed.dispose();
  }
}

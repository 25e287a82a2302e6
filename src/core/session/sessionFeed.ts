import { Emitter } from '../util/events';
import { clip, type SessionEvent } from './sessionEvents';

/** How many entries the feed keeps; older ones drop off the top (the audit log keeps the record). */
export const FEED_LIMIT = 400;
const TEXT_LIMIT = 32 * 1024;

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
  private readonly changed = new Emitter<void>();
  readonly onDidChange = this.changed.event;

  push(event: SessionEvent): void {
    const last = this.entries[this.entries.length - 1];
    if ((event.type === 'agent-message' || event.type === 'thought') && last?.type === event.type) {
      last.text = clip(last.text + event.text, TEXT_LIMIT);
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
      const copy = event.type === 'agent-message' || event.type === 'thought' ? { ...event, text: clip(event.text, TEXT_LIMIT) } : event;
      this.entries.push({ ...copy, seq: ++this.seq, at: new Date().toISOString() });
    }
    if (this.entries.length > FEED_LIMIT) this.entries = this.entries.slice(-FEED_LIMIT);
    this.changed.fire();
  }

  /** The human's instruction for `turn`, where it was given in the conversation. */
  instruction(text: string, turn: number): void {
    this.entries.push({ type: 'user-message', text: clip(text, TEXT_LIMIT), turn, seq: ++this.seq, at: new Date().toISOString() });
    if (this.entries.length > FEED_LIMIT) this.entries = this.entries.slice(-FEED_LIMIT);
    this.changed.fire();
  }

  all(): FeedEntry[] {
    return this.entries.map((e) => ({ ...e }));
  }

  dispose(): void {
    this.changed.dispose();
  }
}

/**
 * What a webview holds of a list of immutable items (proposals: the store replaces an object
 * when it changes), so a change is sent as what changed rather than the whole list (issue 21).
 * Each message gets a number (`rev`); a delta names the one it follows (`base`), so a webview
 * that holds another state (it was reloaded in between) can tell and ask for a full one.
 */
export class SentItems<T extends { id: string }> {
  private sent = new Map<string, T>();
  private rev = 0;

  /** Everything is sent (a new document): remembers it and numbers the message. */
  full(items: readonly T[]): { rev: number } {
    this.sent = new Map(items.map((item) => [item.id, item]));
    return { rev: ++this.rev };
  }

  /** What changed since the last message: items new or replaced (another object) and ids gone. */
  delta(items: readonly T[]): { base: number; rev: number; upsert: T[]; remove: string[] } {
    const previous = this.sent;
    this.sent = new Map(items.map((item) => [item.id, item]));
    const upsert = items.filter((item) => previous.get(item.id) !== item);
    const remove = [...previous.keys()].filter((id) => !this.sent.has(id));
    const base = this.rev;
    return { base, rev: ++this.rev, upsert, remove };
  }
}

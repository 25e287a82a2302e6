/**
 * Text that keeps its beginning and its end within a fixed size. An agent's message for one
 * turn arrives in chunks the agent controls; a flood of them must not grow Warden's memory or
 * one audit entry without bound. The cut is marked, with the number of characters left out.
 */
export class BoundedText {
  private head = '';
  private tail = '';
  private dropped = 0;

  constructor(private readonly half: number = 32 * 1024) {}

  append(text: string): void {
    if (this.head.length < this.half) {
      const room = this.half - this.head.length;
      this.head += text.slice(0, room);
      text = text.slice(room);
    }
    if (!text) return;
    this.tail += text;
    // Cut only once the tail holds twice what it keeps: cutting copies the kept half, so cutting
    // on every chunk copied 32 KiB per streamed chunk once a message was long (issue 21: most of
    // what the extension host allocated while an agent streamed); this way each character is
    // copied a bounded number of times, and memory stays within twice the bound.
    if (this.tail.length > 2 * this.half) this.cut();
  }

  toString(): string {
    if (this.tail.length > this.half) this.cut();
    return this.dropped > 0 ? `${this.head}\n[… ${this.dropped} characters not kept …]\n${this.tail}` : this.head + this.tail;
  }

  private cut(): void {
    this.dropped += this.tail.length - this.half;
    this.tail = this.tail.slice(-this.half);
  }
}

/**
 * The agent's activity in the output channel, a few calls per second at most: an agent that
 * streams word by word and calls tools as it goes would otherwise cost one output-channel call
 * (an IPC round to the window) per word and per tool-call update, thousands per turn (issue
 * 21), and the log would be one word per line. Message chunks are joined into one line per
 * message run; lines wait in a batch that goes out as one call `FLUSH_MS` after the first of
 * them, when it grows past `MAX_CHARS`, or on `flush()` (before anything else is logged
 * about the session, so the log keeps its order).
 */
export class AgentMessageLog {
  static readonly MAX_CHARS = 4096;
  static readonly FLUSH_MS = 500;
  /** The message run so far. */
  private text = '';
  /** Finished lines not yet written, and their length. */
  private lines: string[] = [];
  private batchChars = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;

  /** `write` gets the lines of one batch, in order. */
  constructor(private readonly write: (lines: string[]) => void) {}

  /** A streamed chunk of the agent's message. */
  chunk(text: string): void {
    this.text += text;
    if (this.text.length >= AgentMessageLog.MAX_CHARS) this.endMessage();
    this.due();
  }

  /** One line of activity (a tool call, a plan), after the message so far. */
  line(text: string): void {
    this.endMessage();
    this.lines.push(text);
    this.batchChars += text.length;
    this.due();
  }

  flush(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.endMessage();
    if (this.lines.length === 0) return;
    const lines = this.lines;
    this.lines = [];
    this.batchChars = 0;
    this.write(lines);
  }

  private endMessage(): void {
    const text = this.text.trimEnd();
    this.text = '';
    if (text === '') return;
    this.lines.push(text);
    this.batchChars += text.length;
  }

  private due(): void {
    if (this.batchChars >= AgentMessageLog.MAX_CHARS) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), AgentMessageLog.FLUSH_MS);
  }
}

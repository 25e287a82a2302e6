/**
 * Joins an agent's streamed message chunks into one log line per message run: an agent that
 * streams word by word would otherwise cost one output-channel call (an IPC round to the
 * window) per word, thousands per turn (issue 21), and the log would be one word per line.
 * The text so far goes out when another kind of event comes, when it grows past `MAX_CHARS`,
 * or `FLUSH_MS` after the last chunk.
 */
export class AgentMessageLog {
  static readonly MAX_CHARS = 4096;
  static readonly FLUSH_MS = 500;
  private text = '';
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly write: (text: string) => void) {}

  chunk(text: string): void {
    this.text += text;
    if (this.text.length >= AgentMessageLog.MAX_CHARS) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), AgentMessageLog.FLUSH_MS);
  }

  flush(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const text = this.text.trimEnd();
    this.text = '';
    if (text !== '') this.write(text);
  }
}

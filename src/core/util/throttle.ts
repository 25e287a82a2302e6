/**
 * Coalesces bursts of changes into one flush at most every `intervalMs`. The first change after a
 * quiet period flushes in a microtask (a lone proposal reaches the panel without waiting, and
 * changes made in the same tick still go out together); changes during the interval are batched
 * into one flush at its end.
 */
export class LeadingThrottle {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private queued = false;
  private lastFlush = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly intervalMs: number,
    private readonly flush: () => void,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Something changed: flush now, or at the end of the current interval. */
  schedule(): void {
    if (this.timer !== undefined || this.queued) return;
    const wait = this.lastFlush + this.intervalMs - this.now();
    if (wait <= 0) {
      this.queued = true;
      queueMicrotask(() => {
        if (this.queued) this.run();
      });
      return;
    }
    this.timer = setTimeout(() => this.run(), wait);
  }

  /** A flush happened by other means (e.g. a full refresh): the pending one is no longer needed. */
  flushed(): void {
    this.cancel();
    this.lastFlush = this.now();
  }

  cancel(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.queued = false;
  }

  private run(): void {
    this.timer = undefined;
    this.queued = false;
    this.lastFlush = this.now();
    this.flush();
  }
}

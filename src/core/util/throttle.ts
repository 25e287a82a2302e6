/**
 * Coalesces bursts of changes into one flush at most every `intervalMs`. The first change after a
 * quiet period flushes in a microtask (a lone proposal reaches the panel without waiting, and
 * changes made in the same tick still go out together); changes during the interval are batched
 * into one flush at its end. A flush that takes long stretches the interval after it, so flushes
 * never take more than `maxShare` of the time: a Review panel holding hundreds of proposals (each
 * snapshot costs milliseconds to serialize) still leaves the extension host responsive while an
 * agent streams (issue 21).
 */
export class LeadingThrottle {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private queued = false;
  private lastFlush = Number.NEGATIVE_INFINITY;
  /** The interval after the last flush: `intervalMs`, or longer when that flush was slow. */
  private gap: number;

  constructor(
    private readonly intervalMs: number,
    private readonly flush: () => void,
    private readonly now: () => number = () => performance.now(),
    private readonly maxShare = 0.2,
  ) {
    this.gap = intervalMs;
  }

  /** Something changed: flush now, or at the end of the current interval. */
  schedule(): void {
    if (this.timer !== undefined || this.queued) return;
    const wait = this.lastFlush + this.gap - this.now();
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
    const started = this.now();
    this.lastFlush = started;
    try {
      this.flush();
    } finally {
      this.gap = Math.max(this.intervalMs, (this.now() - started) / this.maxShare);
    }
  }
}

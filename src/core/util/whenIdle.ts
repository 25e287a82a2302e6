/** How often the loop is looked at, and how late a timer may fire for the loop to count as quiet. */
const CHECK_MS = 500;
const QUIET_LATENESS_MS = 15;
/** Quiet checks in a row before the work runs. */
const QUIET_CHECKS = 2;
/** After this many checks the work runs anyway (a window that never calms still gets it before most sessions). */
const MAX_CHECKS = 20;

/**
 * Runs `work` once, in a task of its own, when the event loop has been quiet for a moment: two
 * timers in a row that fired on time. For work that would otherwise land at a bad moment (issue
 * 21: loading the Docker client at the session's start held the extension host for about 100 ms
 * while the agent's first messages streamed in). Returns a function that cancels it if it has not
 * run yet. The timers do not keep a process alive.
 */
export function whenIdle(work: () => void): () => void {
  let timer: NodeJS.Timeout | undefined;
  let checks = 0;
  let quiet = 0;
  const schedule = (): void => {
    const due = performance.now() + CHECK_MS;
    timer = setTimeout(() => {
      checks++;
      quiet = performance.now() - due <= QUIET_LATENESS_MS ? quiet + 1 : 0;
      if (quiet >= QUIET_CHECKS || checks >= MAX_CHECKS) {
        timer = undefined;
        work();
      } else schedule();
    }, CHECK_MS);
    timer.unref();
  };
  schedule();
  return () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
  };
}

import * as vscode from 'vscode';
import type { ProposalStore } from '../../core/proposals/store';

export interface ReviewNotifierOptions {
  store: ProposalStore;
  /** Whether the Review panel is open and visible (then the reviewer already sees everything). */
  panelVisible(): boolean;
  /** Opens the Review panel. */
  showReview(): unknown;
  /** Shows the notification; resolves when it is closed (with the chosen action, if any). */
  show?: (message: string, ...actions: string[]) => Thenable<string | undefined>;
  /** At most one notification per this many ms. */
  throttleMs?: number;
}

export const REVIEW_ACTION = 'Review';
/** A notification nobody closed (it sits in the notification centre) no longer blocks a new one after this. */
const OPEN_FOR_AT_MOST_MS = 5 * 60 * 1000;

/**
 * Tells the reviewer when something new waits for them while the Review panel is hidden:
 * "Warden: 2 proposals need your review" with a Review button. One notification at a time
 * (none while one is open), at most one per throttle window, never while the panel is visible.
 */
export class ReviewNotifier implements vscode.Disposable {
  private readonly subscription: { dispose(): void };
  private readonly known = new Set<string>();
  /** When the open notification was shown; one left in the notification centre stops counting after a while. */
  private openSince: number | undefined;
  private lastShownAt = Number.NEGATIVE_INFINITY;
  private deferred: ReturnType<typeof setTimeout> | undefined;
  /** Every message shown, newest last (what tests and the log read). */
  readonly shown: string[] = [];

  constructor(private readonly options: ReviewNotifierOptions) {
    for (const p of options.store.pending()) this.known.add(p.id);
    this.subscription = options.store.onDidChange((proposal) => {
      if (proposal.state !== 'pending' || this.known.has(proposal.id)) return;
      this.known.add(proposal.id);
      this.consider();
    });
  }

  dispose(): void {
    this.subscription.dispose();
    if (this.deferred !== undefined) clearTimeout(this.deferred);
    this.deferred = undefined;
  }

  private consider(): void {
    if (this.deferred !== undefined) return;
    if (this.openSince !== undefined && Date.now() - this.openSince < OPEN_FOR_AT_MOST_MS) return;
    const wait = this.lastShownAt + (this.options.throttleMs ?? 30_000) - Date.now();
    if (wait > 0) {
      // Within the throttle window: one summary when it ends, if still needed.
      this.deferred = setTimeout(() => {
        this.deferred = undefined;
        this.consider();
      }, wait);
      return;
    }
    const count = this.options.store.pending().length;
    if (count === 0 || this.options.panelVisible()) return;
    const message = `Warden: ${count === 1 ? '1 proposal needs' : `${count} proposals need`} your review`;
    const shownAt = Date.now();
    this.openSince = shownAt;
    this.lastShownAt = shownAt;
    this.shown.push(message);
    const show = this.options.show ?? ((m: string, ...actions: string[]) => vscode.window.showInformationMessage(m, ...actions));
    show(message, REVIEW_ACTION).then(
      (choice) => {
        if (this.openSince === shownAt) this.openSince = undefined;
        if (choice === REVIEW_ACTION) this.options.showReview();
      },
      () => {
        if (this.openSince === shownAt) this.openSince = undefined;
      },
    );
  }
}

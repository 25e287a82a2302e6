/* @jsxRuntime automatic @jsxImportSource preact */
/**
 * The conversation's feed as its own scrolling region that follows the agent: while the reader
 * is at the bottom, each new message, tool call or proposal scrolls into view; once they scroll
 * up (or type in a field inside the feed) it stays put and offers "Jump to latest (N new)".
 * Scrolling sets `scrollTop` only, so the focus stays where it is (the instruction box, a reason
 * box). What it tracks is view-only (where the reader is), so it lives here, not in the reducer.
 */
import { Component, createRef, type ComponentChildren, type JSX } from 'preact';

export interface FollowFeedProps {
  /** The keys of the feed's rows, in order: rows not seen while the reader was away are counted. */
  keys: readonly string[];
  /** What the rows are made of: any item changing identity means the feed may have grown (a row streamed more text). */
  content: readonly unknown[];
  /** A new session starts following again. */
  sessionId: string;
  children: ComponentChildren;
}

/** How close to the bottom still counts as "at the bottom" (px): sub-pixel layouts and a last half line. */
const AT_BOTTOM_SLACK = 24;

export class FollowFeed extends Component<FollowFeedProps> {
  private readonly feed = createRef<HTMLOListElement>();
  private following = true;
  /** The rows on screen when the reader left the bottom. */
  private seen: ReadonlySet<string> = new Set();

  override componentDidMount(): void {
    this.toBottom();
  }

  override componentDidUpdate(previous: FollowFeedProps): void {
    if (previous.sessionId !== this.props.sessionId) {
      this.toBottom();
      if (!this.following) {
        this.following = true;
        this.forceUpdate();
      }
      return;
    }
    // The keys are a new array each render; what they derive from is kept by reference.
    const grew = previous.content.some((c, i) => c !== this.props.content[i]);
    if (!grew || !this.following) return;
    if (this.typingInFeed()) {
      // Scrolling would carry the field being typed in (a question's answer) out of view.
      this.leave(previous.keys);
      return;
    }
    this.toBottom();
  }

  private typingInFeed(): boolean {
    const feed = this.feed.current;
    const active = feed?.ownerDocument.activeElement;
    return !!feed && !!active && feed.contains(active) && (active.tagName === 'TEXTAREA' || active.tagName === 'INPUT');
  }

  private toBottom(): void {
    const feed = this.feed.current;
    if (feed) feed.scrollTop = feed.scrollHeight;
  }

  private leave(seen: readonly string[]): void {
    this.following = false;
    this.seen = new Set(seen);
    this.forceUpdate();
  }

  private onScroll = (): void => {
    const feed = this.feed.current;
    if (!feed) return;
    const atBottom = feed.scrollHeight - feed.scrollTop - feed.clientHeight <= AT_BOTTOM_SLACK;
    if (atBottom === this.following) return;
    if (atBottom) {
      this.following = true;
      this.forceUpdate();
    } else this.leave(this.props.keys);
  };

  private jump = (): void => {
    this.following = true;
    this.toBottom();
    // The button goes away: the feed keeps the focus (arrow keys scroll it), not the page's body.
    this.feed.current?.focus({ preventScroll: true });
    this.forceUpdate();
  };

  render(): JSX.Element {
    const unseen = this.following ? 0 : this.props.keys.filter((key) => !this.seen.has(key)).length;
    return (
      <div class="feed-frame">
        {/* Focusable so the keyboard can scroll it (a scrolling region must be reachable). */}
        <ol class="feed" ref={this.feed} tabIndex={0} aria-label="The conversation with the agent" onScroll={this.onScroll}>
          {this.props.children}
        </ol>
        {!this.following && (
          <button type="button" class="button small jump-latest" data-action="jumpToLatest" onClick={this.jump}>
            <span class="codicon codicon-arrow-down" aria-hidden="true" />
            {unseen > 0 ? ` Jump to latest (${unseen} new)` : ' Jump to latest'}
          </button>
        )}
      </div>
    );
  }
}

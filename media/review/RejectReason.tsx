/* @jsxRuntime automatic @jsxImportSource preact */
/**
 * The reject reason box: opened by Reject (a card, a file group, a turn, everything waiting) or
 * `r` / Shift+R, it takes the focus; Enter or its Reject button rejects with the reason typed
 * (optional), Escape or Cancel closes it, decides nothing and gives the focus back to the
 * button that opened it. The agent is told the reason, the audit keeps it.
 */
import { Component, createRef, type JSX } from 'preact';
import { MAX_REASON } from '../../src/shared/reviewProtocol';
import type { ReviewAction } from './state';

export interface RejectReasonProps {
  /** The target's key (decide.ts `rejectKey`); also on the opening button's `data-reject-target`. */
  targetKey: string;
  /** What is rejected, for the labels, e.g. "Edit src/a.js" or "all 3 waiting in turn 2". */
  what: string;
  text: string;
  /** The confirm button's text, e.g. "Reject" or "Reject 3". */
  confirmLabel: string;
  dispatch: (action: ReviewAction) => void;
}

let boxes = 0;

export class RejectReason extends Component<RejectReasonProps> {
  private readonly input = createRef<HTMLInputElement>();
  private readonly id = `reject-reason-${++boxes}`;

  override componentDidMount(): void {
    this.input.current?.focus();
  }

  private confirm = (): void => {
    const { targetKey, dispatch } = this.props;
    dispatch({ type: 'confirmReject', key: targetKey, text: this.input.current?.value ?? this.props.text });
  };

  private cancel = (): void => {
    const { targetKey, dispatch } = this.props;
    const doc = this.input.current?.ownerDocument;
    dispatch({ type: 'cancelReject', key: targetKey });
    // The box is gone (renders are synchronous): the focus goes back where the reviewer was.
    const opener = [...(doc?.querySelectorAll<HTMLElement>('button[data-reject-target]') ?? [])].find(
      (b) => b.dataset.rejectTarget === targetKey,
    );
    opener?.focus();
  };

  private onKeyDown = (event: KeyboardEvent): void => {
    if (event.key === 'Enter' && !event.isComposing) {
      event.preventDefault();
      this.confirm();
    } else if (event.key === 'Escape') {
      event.preventDefault();
      event.stopPropagation();
      this.cancel();
    }
  };

  render(): JSX.Element {
    const { targetKey, what, text, confirmLabel, dispatch } = this.props;
    return (
      <div class="reject-reason" role="group" aria-label={`Reject ${what}`} data-reject-target={targetKey}>
        <label class="reject-reason-label" for={this.id}>
          Why reject? <span class="muted">(optional: the agent is told, the audit keeps it)</span>
        </label>
        <input
          ref={this.input}
          id={this.id}
          type="text"
          class="reject-reason-input"
          maxLength={MAX_REASON}
          value={text}
          spellcheck={true}
          placeholder="e.g. keep the old name; write the test first"
          aria-describedby={`${this.id}-hint`}
          onInput={(event) => dispatch({ type: 'reasonInput', key: targetKey, text: event.currentTarget.value })}
          onKeyDown={this.onKeyDown}
        />
        <div class="actions">
          <button
            type="button"
            class="button primary"
            data-action="confirmReject"
            aria-label={`${confirmLabel}: ${what}`}
            onClick={this.confirm}
          >
            {confirmLabel}
          </button>
          <button
            type="button"
            class="button secondary"
            data-action="cancelReject"
            aria-label={`Cancel rejecting ${what}`}
            onClick={this.cancel}
          >
            Cancel
          </button>
        </div>
        <p class="hint" id={`${this.id}-hint`}>
          Enter rejects, Escape cancels.
        </p>
      </div>
    );
  }
}

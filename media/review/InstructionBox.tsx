/* @jsxRuntime automatic @jsxImportSource preact */
/**
 * The instruction box at the bottom of the Warden panel: sends to the running session (queued
 * behind a turn under way) or starts one when none runs. The text stays until the extension
 * says it went out (conversationUpdate.ts); Enter sends, Shift+Enter is a new line.
 */
import type { JSX } from 'preact';
import type { ReviewAction, ReviewState } from './state';

export function InstructionBox({ state, dispatch }: { state: ReviewState; dispatch: (action: ReviewAction) => void }): JSX.Element | null {
  const { session, sending, boxError, boxNote } = state.conversation;
  if (session === undefined) return null;
  const running = session !== null && session.state !== 'ended';
  const working = session?.state === 'prompting';
  const label = running ? 'Next instruction for the agent' : 'Instruction for a new agent session';
  const placeholder = !running
    ? 'What should the agent do? Sending starts a session in the sandbox.'
    : working
      ? 'The agent is working; what you send now goes to it when this turn ends.'
      : 'What should the agent do next?';
  return (
    <form
      class="instruction-box"
      aria-label="Instruction box"
      onSubmit={(event) => {
        event.preventDefault();
        dispatch({ type: 'sendPrompt' });
      }}
    >
      {boxError !== undefined && (
        <p class="callout error box-error" role="alert">
          {boxError}
        </p>
      )}
      {boxNote !== undefined && (
        <p class="box-note" role="status">
          {boxNote}
        </p>
      )}
      <div class="box-row">
        <textarea
          rows={2}
          aria-label={label}
          placeholder={placeholder}
          value={state.ui.prompt}
          readOnly={sending !== undefined}
          onInput={(event) => dispatch({ type: 'promptInput', text: event.currentTarget.value })}
          onKeyDown={(event) => {
            if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
              event.preventDefault();
              dispatch({ type: 'sendPrompt' });
            }
          }}
        />
        <button
          type="submit"
          class="button primary"
          data-action="sendPrompt"
          disabled={sending !== undefined || state.ui.prompt.trim() === ''}
        >
          {sending ? 'Sending…' : running ? 'Send' : 'Start'}
        </button>
      </div>
    </form>
  );
}

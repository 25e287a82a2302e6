/* @jsxRuntime automatic @jsxImportSource preact */
/** The Session view's page: the session, questions waiting for an answer, the agent's feed and the instruction box. */
import type { JSX, VNode } from 'preact';
import type { FeedEntryView, QuestionView } from '../../src/shared/sessionProtocol';
import { AgentText, HiddenCharactersWarning } from '../common/AgentText';
import { containsHiddenCharacters } from '../common/hiddenCharacters';
import type { SessionAction, SessionState } from './update';

type Dispatch = (action: SessionAction) => void;

export function view(state: SessionState, dispatch: Dispatch): VNode {
  const snapshot = state.snapshot;
  const session = snapshot?.session ?? null;
  return (
    <>
      <header class="session-header">
        {!session ? (
          <>
            <h1>No agent session</h1>
            <p class="muted">Start one with "Warden: Start Agent Session".</p>
          </>
        ) : (
          <>
            <h1>
              <AgentText text={session.agent} />
            </h1>
            <p class="muted">
              <AgentText
                text={`${session.protocol} · ${session.state}${session.agentSessionId ? ` · agent session ${session.agentSessionId}` : ''}`}
              />
            </p>
            {session.pendingReviews > 0 && (
              <button type="button" class="link" onClick={() => dispatch({ type: 'showReview' })}>
                {`${session.pendingReviews} waiting for review`}
              </button>
            )}
          </>
        )}
      </header>
      <div class="callout error" id="error" role="alert" hidden={state.error === undefined}>
        {state.error !== undefined && <AgentText text={state.error} />}
      </div>
      {snapshot && containsHiddenCharacters([snapshot.entries, snapshot.questions]) && (
        <HiddenCharactersWarning what="The agent's output" />
      )}
      {snapshot && snapshot.questions.length > 0 && (
        <Questions questions={snapshot.questions} answers={state.answers} dispatch={dispatch} />
      )}
      <ol class="feed" aria-live="polite">
        {(snapshot?.entries ?? []).map((entry) => (
          <Entry key={entry.seq} entry={entry} />
        ))}
      </ol>
      {session && session.state !== 'ended' && <PromptBox ready={session.state === 'ready'} text={state.prompt} dispatch={dispatch} />}
    </>
  );
}

function Questions(props: { questions: QuestionView[]; answers: SessionState['answers']; dispatch: Dispatch }): JSX.Element {
  const { dispatch } = props;
  return (
    <section class="questions">
      <h2>Needs your input</h2>
      {props.questions.map((q) => (
        <form
          key={q.proposalId}
          class="question"
          data-proposal-id={q.proposalId}
          onSubmit={(event) => {
            event.preventDefault();
            dispatch({ type: 'answer', proposalId: q.proposalId });
          }}
        >
          <p class="question-text">
            <AgentText text={q.question} />
          </p>
          {q.choices && (
            <div class="choices">
              {q.choices.map((choice, i) => (
                <button
                  key={i}
                  type="button"
                  class="secondary"
                  onClick={() => dispatch({ type: 'answerInput', proposalId: q.proposalId, text: choice })}
                >
                  <AgentText text={choice} />
                </button>
              ))}
            </div>
          )}
          <textarea
            rows={2}
            aria-label="Your answer"
            value={props.answers[q.proposalId] ?? ''}
            onInput={(event) => dispatch({ type: 'answerInput', proposalId: q.proposalId, text: event.currentTarget.value })}
          />
          <button type="submit" class="primary">
            Answer
          </button>
          <button
            type="button"
            class="secondary"
            data-action="decline"
            onClick={() => dispatch({ type: 'decline', proposalId: q.proposalId })}
          >
            Decline to answer
          </button>
        </form>
      ))}
    </section>
  );
}

function Entry({ entry }: { entry: FeedEntryView }): JSX.Element {
  return (
    <li class={`entry ${entry.type}${entry.type === 'notice' ? ` notice-${entry.level}` : ''}`}>
      <EntryBody entry={entry} />
    </li>
  );
}

function EntryBody({ entry }: { entry: FeedEntryView }): JSX.Element {
  switch (entry.type) {
    case 'agent-message':
    case 'notice':
      return (
        <div class="text">
          <AgentText text={entry.text} />
        </div>
      );
    case 'thought':
      return (
        <details>
          <summary>Thinking</summary>
          <div class="text">
            <AgentText text={entry.text} />
          </div>
        </details>
      );
    case 'tool-call':
      return (
        <>
          <div class="tool-head">
            <span class={`badge kind-${safeClass(entry.kind)}`}>
              <AgentText text={entry.kind} />
            </span>
            <span class="tool-title">
              <AgentText text={entry.title} />
            </span>
            <span class={`status status-${safeClass(entry.status)}`}>
              <AgentText text={entry.status} />
            </span>
          </div>
          {entry.locations?.length ? (
            <div class="muted">
              <AgentText text={entry.locations.join(', ')} />
            </div>
          ) : null}
          {(entry.content ?? []).map((c, i) =>
            c.type === 'text' ? (
              <pre key={i} class="output">
                <AgentText text={c.text} />
              </pre>
            ) : c.type === 'diff' ? (
              <Diff key={i} path={c.path} text={c.diff} />
            ) : (
              <div key={i} class="muted">
                <AgentText text={`terminal ${c.terminalId}`} />
              </div>
            ),
          )}
        </>
      );
    case 'plan':
      return (
        <>
          <h2>Plan</h2>
          <ul class="plan">
            {entry.entries.map((step, i) => (
              <li key={i} class={`step step-${safeClass(step.status)}`}>
                <AgentText text={`${step.status === 'completed' ? '✓' : step.status === 'in_progress' ? '▶' : '○'} ${step.content}`} />
              </li>
            ))}
          </ul>
        </>
      );
    case 'commands':
      return (
        <div class="muted">
          <AgentText text={`Agent commands: ${entry.commands.map((c) => `/${c.name}`).join(' ')}`} />
        </div>
      );
    case 'mode':
      return (
        <div class="muted">
          <AgentText text={`Mode: ${entry.modeId}`} />
        </div>
      );
    case 'ended':
      return (
        <div class="muted">
          <AgentText text={`Session ended: ${entry.reason}`} />
        </div>
      );
  }
}

/** Agent-chosen words used in a class name: letters, digits and dashes only. */
function safeClass(value: string): string {
  return value.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 40);
}

function Diff({ path, text }: { path: string; text: string }): JSX.Element {
  return (
    <div class="diff">
      <div class="diff-path">
        <AgentText text={path} />
      </div>
      <pre>
        {text.split('\n').map((line, i) => {
          const cls =
            line.startsWith('+') && !line.startsWith('+++')
              ? 'add'
              : line.startsWith('-') && !line.startsWith('---')
                ? 'del'
                : line.startsWith('@@')
                  ? 'hunk'
                  : 'ctx';
          return (
            <span key={i} class={`line ${cls}`}>
              <AgentText text={`${line}\n`} />
            </span>
          );
        })}
      </pre>
    </div>
  );
}

function PromptBox({ ready, text, dispatch }: { ready: boolean; text: string; dispatch: Dispatch }): JSX.Element {
  return (
    <form
      class="prompt"
      onSubmit={(event) => {
        event.preventDefault();
        dispatch({ type: 'sendPrompt' });
      }}
    >
      <textarea
        rows={3}
        placeholder={ready ? 'Next instruction for the agent' : 'The agent is working…'}
        aria-label="Next instruction"
        value={text}
        onInput={(event) => dispatch({ type: 'promptInput', text: event.currentTarget.value })}
      />
      <button type="submit" class="primary" disabled={!ready}>
        Send
      </button>
      <button type="button" class="secondary" disabled={ready} onClick={() => dispatch({ type: 'cancel' })}>
        Cancel turn
      </button>
    </form>
  );
}

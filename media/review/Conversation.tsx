/* @jsxRuntime automatic @jsxImportSource preact */
/**
 * The conversation in the Warden panel: the session, the human's instructions and what the agent
 * said and did, each proposal where it arose (a compact card: Accept / Reject, or Review to open
 * its full card in the queue), questions answered in place, and the instructions queued behind
 * the running turn. The instruction box (InstructionBox.tsx) sits at the bottom of the panel.
 */
import type { JSX } from 'preact';
import type { ProposalView } from '../../src/shared/reviewProtocol';
import { AgentText, HiddenCharactersWarning } from '../common/AgentText';
import { containsHiddenCharacters } from '../common/hiddenCharacters';
import { Pure } from '../common/Pure';
import { conversationItems, type ConversationItem } from './conversationUpdate';
import { FeedEntry } from './FeedEntry';
import { FollowFeed } from './FollowFeed';
import { KIND_LABELS, stateLabel } from './model';
import type { ReviewAction, ReviewState } from './state';

type Dispatch = (action: ReviewAction) => void;

export function Conversation({ state, dispatch }: { state: ReviewState; dispatch: Dispatch }): JSX.Element | null {
  const { session, entries, queued } = state.conversation;
  if (session === undefined) return null; // hosted without a session source
  const items = session ? conversationItems(entries, state.proposals ?? [], session.id) : [];
  const keys = [...items.map(itemKey), ...queued.map((_, i) => `q${i}`)];
  return (
    <section class="conversation" aria-labelledby="conversation-heading">
      <header class="conversation-header">
        <h2 class="group-heading" id="conversation-heading">
          <span>Conversation</span>
        </h2>
        {session ? (
          <p class="session-line">
            <span class="codicon codicon-hubot" aria-hidden="true" />{' '}
            <AgentText
              text={`${session.agent} · ${session.protocol} · ${describeState(session.state)}${session.agentSessionId ? ` · agent session ${session.agentSessionId}` : ''}`}
            />
            {session.state === 'prompting' && (
              <button
                type="button"
                class="button small secondary"
                data-action="cancelTurn"
                onClick={() => dispatch({ type: 'cancelTurn' })}
              >
                Cancel turn
              </button>
            )}
          </p>
        ) : (
          <p class="hint">No agent session yet: type what the agent should do in the box below, or run "Warden: Start Agent Session".</p>
        )}
      </header>
      {containsHiddenCharacters([entries, queued]) && <HiddenCharactersWarning what="The conversation" />}
      <FollowFeed keys={keys} content={[entries, queued, state.proposals]} sessionId={session?.id ?? ''}>
        {items.map((item) =>
          item.kind === 'entry' ? (
            <FeedEntry key={itemKey(item)} entry={item.entry} />
          ) : (
            <InlineProposal
              key={itemKey(item)}
              proposal={item.proposal}
              busy={state.busy[item.proposal.id] !== undefined}
              answer={state.conversation.answers[item.proposal.id]}
              dispatch={dispatch}
            />
          ),
        )}
        {queued.map((text, i) => (
          <li key={`q${i}`} class="entry user-message queued">
            <div class="who">You · queued: sent when the agent's turn ends</div>
            <div class="text">
              <AgentText text={text} />
            </div>
          </li>
        ))}
      </FollowFeed>
      {session?.state === 'prompting' && (
        <p class="working" role="status">
          <span class="codicon codicon-loading codicon-modifier-spin" aria-hidden="true" /> The agent is working…
        </p>
      )}
    </section>
  );
}

const itemKey = (item: ConversationItem): string => (item.kind === 'entry' ? `e${item.entry.seq}` : `p${item.proposal.id}`);

function describeState(state: 'starting' | 'ready' | 'prompting' | 'ended'): string {
  return state === 'prompting' ? 'working' : state === 'ready' ? 'waiting for your next instruction' : state;
}

interface InlineProps {
  proposal: ProposalView;
  busy: boolean;
  /** A question's answer being typed. */
  answer: string | undefined;
  dispatch: Dispatch;
}

/** A proposal where it arose: what it is, where it stands, and the way to its full card. Redrawn only when one of these changed (a long conversation holds hundreds). */
class InlineProposal extends Pure<InlineProps> {
  render(): JSX.Element {
    return inlineProposal(this.props);
  }
}

function inlineProposal({ proposal, busy, answer, dispatch }: InlineProps): JSX.Element {
  const id = proposal.id;
  const pending = proposal.state === 'pending';
  const where = pending ? 'in the queue' : 'in the history';
  return (
    <li class={`entry proposal state-${proposal.state}`} data-conv-proposal-id={id}>
      <div class="inline-proposal">
        <span class={`badge kind-badge kind-${proposal.kind}`}>{KIND_LABELS[proposal.kind]}</span>
        <span class="inline-title">
          <AgentText text={proposal.title} />
        </span>
        <span class={`state-pill ${proposal.state}`}>{busy ? 'Sending…' : stateLabel(proposal)}</span>
        <span class="inline-actions">
          {pending && proposal.kind !== 'question' && (
            <>
              <button
                type="button"
                class="button small"
                data-action="inlineApprove"
                disabled={busy}
                aria-label={`Accept ${proposal.title}`}
                onClick={() => dispatch({ type: 'decide', proposalId: id, verdict: 'approve' })}
              >
                Accept
              </button>
              <button
                type="button"
                class="button small secondary"
                data-action="inlineReject"
                disabled={busy}
                aria-label={`Reject ${proposal.title}`}
                // As on the full card: the reason box opens there first (the agent is told, the audit keeps it).
                onClick={() => dispatch({ type: 'startReject', target: { kind: 'proposal', proposalId: id } })}
              >
                Reject
              </button>
            </>
          )}
          <button
            type="button"
            class="link-button"
            data-action="showCard"
            aria-label={`Review ${proposal.title} ${where}`}
            onClick={() => dispatch({ type: 'showCard', proposalId: id })}
          >
            {pending ? 'Review' : 'Details'}
          </button>
        </span>
      </div>
      {proposal.kind === 'question' && <Question proposal={proposal} busy={busy} answer={answer} dispatch={dispatch} />}
    </li>
  );
}

function Question(props: {
  proposal: Extract<ProposalView, { kind: 'question' }>;
  busy: boolean;
  answer: string | undefined;
  dispatch: Dispatch;
}): JSX.Element {
  const { proposal: q, busy, dispatch } = props;
  return (
    <form
      class="question"
      onSubmit={(event) => {
        event.preventDefault();
        dispatch({ type: 'answer', proposalId: q.id });
      }}
    >
      <p class="question-text">
        <AgentText text={q.question} />
      </p>
      {q.answer !== undefined && (
        <p class="muted">
          <AgentText text={`Your answer: ${q.answer}`} />
        </p>
      )}
      {q.state === 'pending' && (
        <>
          {q.choices && (
            <div class="choices">
              {q.choices.map((choice, i) => (
                <button
                  key={i}
                  type="button"
                  class="button small secondary"
                  onClick={() => dispatch({ type: 'answerInput', proposalId: q.id, text: choice })}
                >
                  <AgentText text={choice} />
                </button>
              ))}
            </div>
          )}
          <textarea
            rows={2}
            aria-label="Your answer"
            value={props.answer ?? ''}
            disabled={busy}
            onInput={(event) => dispatch({ type: 'answerInput', proposalId: q.id, text: event.currentTarget.value })}
          />
          <span class="inline-actions">
            <button type="submit" class="button small" data-action="answer" disabled={busy}>
              Answer
            </button>
            <button
              type="button"
              class="button small secondary"
              data-action="decline"
              disabled={busy}
              onClick={() => dispatch({ type: 'decline', proposalId: q.id })}
            >
              Decline to answer
            </button>
          </span>
        </>
      )}
    </form>
  );
}

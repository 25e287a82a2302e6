/* @jsxRuntime automatic @jsxImportSource preact */
/**
 * The Warden panel's page: summary, errors, the conversation with the agent (its proposals in it),
 * the queue (by session and file, or by turn), the history, and the instruction box at the bottom.
 */
import type { JSX, VNode } from 'preact';
import type { ProposalView } from '../../src/shared/reviewProtocol';
import { AgentText } from '../common/AgentText';
import { Pure } from '../common/Pure';
import { Card } from './Card';
import { Conversation } from './Conversation';
import { InstructionBox } from './InstructionBox';
import { rejectKey, type RejectTarget } from './decide';
import { isOpen, layout, stateLabel, type FileGroupData, type SessionGroupData } from './model';
import { CommandBlock, CommandResult } from './parts';
import { RejectReason } from './RejectReason';
import type { ReviewAction, ReviewState } from './state';

type Dispatch = (action: ReviewAction) => void;

export function view(state: ReviewState, dispatch: Dispatch): VNode {
  const proposals = state.proposals ?? [];
  const { pending, history, groups } = layout(state);
  const total = proposals.length;
  const card = (proposal: ProposalView): JSX.Element => cardFor(state, proposal, dispatch);
  return (
    <>
      <header class="page-header">
        <div class="page-heading">
          <h1>Warden agent</h1>
          <p class="subtitle">Nothing the agent proposes changes your workspace or runs until you accept it.</p>
        </div>
        <div class="summary">
          <span class={`summary-chip${pending.length > 0 ? ' attention' : ''}`}>{`${pending.length} waiting`}</span>
          <span class="summary-chip">{`${history.length} decided`}</span>
        </div>
      </header>
      <div class="banners">
        {state.banners.map((banner) => (
          <div key={banner.key} class="callout error banner" role="alert" data-banner-key={String(banner.key)}>
            <span class="banner-message">
              <AgentText text={banner.message} />
            </span>
            <button
              type="button"
              class="link-button"
              data-action="dismissError"
              aria-label="Dismiss this error"
              onClick={() => dispatch({ type: 'dismissBanner', key: banner.key })}
            >
              Dismiss
            </button>
          </div>
        ))}
      </div>
      <Conversation state={state} dispatch={dispatch} />
      <section class="loading" role="status" hidden={!(state.loading && total === 0)}>
        <span class="codicon codicon-loading codicon-modifier-spin" aria-hidden="true" />{' '}
        <span>Loading the proposals saved by the last window…</span>
      </section>
      <section class="empty" hidden={total > 0 || state.loading}>
        <span class="codicon codicon-shield empty-icon" aria-hidden="true" />
        <h2>No proposals yet…</h2>
        <p>When the agent wants to edit a file, run a command or use a tool, the request appears here for you to accept or reject.</p>
        <p class="hint">
          Keys while this panel has focus: j / k next and previous, a accept, r reject, e edit; in turn review Shift+A / Shift+R accept or
          reject the whole turn.
        </p>
      </section>
      <section class="group" aria-labelledby="pending-heading" hidden={total === 0}>
        <h2 class="group-heading" id="pending-heading">
          <span>Waiting for your review</span>
          <span class="count">{String(pending.length)}</span>
          <button
            type="button"
            class="button secondary small"
            data-action="rejectAll"
            data-reject-target="all"
            aria-label="Reject every proposal waiting for review"
            aria-expanded={state.rejecting.all !== undefined}
            hidden={pending.length < 2}
            onClick={() => dispatch({ type: 'startReject', target: { kind: 'all' } })}
          >
            Reject all…
          </button>
        </h2>
        <ReasonBox
          state={state}
          target={{ kind: 'all' }}
          what={`all ${pending.length} waiting proposals`}
          count={pending.length}
          dispatch={dispatch}
        />
        <p class="hint">By session and file, in the order the agent asked.</p>
        <p class="none" hidden={pending.length > 0}>
          Nothing is waiting for your review.
        </p>
        <ol class="session-groups">
          {groups.map((group) =>
            group.turn ? (
              <TurnGroup key={`t|${group.turn.key}`} group={group} state={state} card={card} dispatch={dispatch} />
            ) : (
              <SessionGroup key={`s|${group.sessionId}`} group={group} state={state} card={card} dispatch={dispatch} />
            ),
          )}
        </ol>
      </section>
      <section class="group history-group" aria-labelledby="history-heading" hidden={history.length === 0}>
        <h2 class="group-heading" id="history-heading">
          <span>History</span>
          <span class="count">{String(history.length)}</span>
        </h2>
        <p class="hint">Newest first.</p>
        <ol class="cards">{history.map(card)}</ol>
      </section>
      <div class="visually-hidden" id="live" role="status" aria-live="polite" />
      <InstructionBox state={state} dispatch={dispatch} />
    </>
  );
}

function cardFor(state: ReviewState, proposal: ProposalView, dispatch: Dispatch): JSX.Element {
  const id = proposal.id;
  const prefix = `${id}#`;
  const sending = Object.keys(state.busyHunks)
    .filter((k) => k.startsWith(prefix))
    .map((k) => k.slice(prefix.length))
    .join(' ');
  const selected = state.selected === id ? '' : state.selected?.startsWith(prefix) ? state.selected.slice(prefix.length) : undefined;
  return (
    <Card
      key={id}
      proposal={proposal}
      open={isOpen(state, proposal)}
      filled={state.filled[id] === true}
      showAll={state.ui.fullDiff[id] === true}
      busy={state.busy[id]}
      error={state.cardErrors[id]}
      choices={state.hunkChoices[id]}
      risks={state.risks[id]}
      draft={state.ui.drafts[id]}
      awaitingContent={state.awaitingContent[id] === true}
      sendingHunks={sending}
      selected={selected}
      rejecting={state.rejecting[rejectKey({ kind: 'proposal', proposalId: id })]}
      picks={state.optionPicks[id]}
      dispatch={dispatch}
    />
  );
}

interface GroupProps {
  group: SessionGroupData;
  state: ReviewState;
  card: (proposal: ProposalView) => JSX.Element;
  dispatch: Dispatch;
}

function SessionGroup({ group, state, card, dispatch }: GroupProps): JSX.Element {
  const count = group.files.reduce((n, f) => n + f.proposals.length, 0);
  const headingId = `group-s-${group.sessionId.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  return (
    <li class="session-group-item">
      <section class="session-group" aria-labelledby={headingId} data-session={group.sessionId}>
        <header class="session-group-header">
          <h3 class="session-group-heading" id={headingId} title={`Session ${group.sessionId}`}>
            <span class="codicon codicon-hubot" aria-hidden="true" />
            {' Session '}
            <code class="session-id">
              <AgentText text={group.sessionId} />
            </code>
            {` · ${count} waiting`}
          </h3>
          <span class="group-actions" />
        </header>
        <ol class="file-groups">
          {group.files.map((file) => (
            <FileGroup key={file.key} group={file} state={state} card={card} dispatch={dispatch} />
          ))}
        </ol>
      </section>
    </li>
  );
}

/** One turn as one changeset: Accept all / Reject all, its files (per hunk), and the commands it ran, collapsed. */
function TurnGroup({ group, state, card, dispatch }: GroupProps): JSX.Element {
  const turn = group.turn!;
  const all = group.files.flatMap((f) => f.proposals);
  const count = all.length;
  const bulkBusy = all.every((p) => state.busy[p.id] !== undefined);
  const headingId = `group-t-${turn.key.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  const where = `turn ${turn.turn}`;
  return (
    <li class="session-group-item">
      <section class="session-group" aria-labelledby={headingId} data-session={group.sessionId} data-turn-key={turn.key} tabIndex={-1}>
        <header class="session-group-header">
          <h3 class="session-group-heading" id={headingId}>
            <span class="codicon codicon-checklist" aria-hidden="true" />
            {` ${turn.turn === 0 ? 'Before the first turn' : `Turn ${turn.turn}`} · `}
            <code class="session-id">
              <AgentText text={group.sessionId} />
            </code>
            {` · ${count} waiting${turn.running ? ' · the agent is still working' : ''}`}
          </h3>
          <span class="group-actions">
            <button
              type="button"
              class="button small"
              data-action="acceptTurn"
              data-turn-key={turn.key}
              aria-label={`Accept all ${count} waiting in ${where} (Shift+A)`}
              disabled={bulkBusy}
              onClick={() => dispatch({ type: 'decideTurn', turnKey: turn.key, verdict: 'approve' })}
            >
              Accept all
            </button>
            <button
              type="button"
              class="button small secondary"
              data-action="rejectTurn"
              data-turn-key={turn.key}
              data-reject-target={rejectKey({ kind: 'turn', turnKey: turn.key })}
              aria-label={`Reject all ${count} waiting in ${where} (Shift+R)`}
              aria-expanded={state.rejecting[rejectKey({ kind: 'turn', turnKey: turn.key })] !== undefined}
              disabled={bulkBusy}
              onClick={() => dispatch({ type: 'startReject', target: { kind: 'turn', turnKey: turn.key } })}
            >
              Reject all
            </button>
          </span>
        </header>
        <ReasonBox
          state={state}
          target={{ kind: 'turn', turnKey: turn.key }}
          what={`all ${count} waiting in ${where}`}
          count={count}
          dispatch={dispatch}
        />
        <RanCommands ran={turn.ran} />
        <ol class="file-groups">
          {group.files.map((file) => (
            <FileGroup key={file.key} group={file} state={state} card={card} dispatch={dispatch} />
          ))}
        </ol>
      </section>
    </li>
  );
}

/** The commands that ran in the turn, with their output: collapsed, read on demand. */
class RanCommands extends Pure<{ ran: ProposalView[] }> {
  render(): JSX.Element {
    const { ran } = this.props;
    return (
      <details class="turn-commands" hidden={ran.length === 0}>
        <summary>{`${ran.length} command${ran.length === 1 ? '' : 's'} ran in this turn`}</summary>
        {ran.map((command) =>
          command.kind !== 'command' ? null : (
            <div key={command.id} class="turn-command">
              <CommandBlock commandLine={command.commandLine} label="Command" />
              {command.result ? <CommandResult result={command.result} /> : <p class="muted">{stateLabel(command)}</p>}
            </div>
          ),
        )}
      </details>
    );
  }
}

function FileGroup({ group, state, card, dispatch }: Omit<GroupProps, 'group'> & { group: FileGroupData }): JSX.Element {
  const acceptable = group.proposals.filter((p) => p.kind !== 'question').length;
  const bulkBusy = group.proposals.every((p) => state.busy[p.id] !== undefined);
  const headingId = `group-f-${group.key.replace(/[^A-Za-z0-9_-]/g, (c) => `_${(c.codePointAt(0) ?? 0).toString(16)}_`)}`;
  const where = group.file === '' ? group.label.toLowerCase() : group.label;
  return (
    <li class="file-group-item">
      <section class="file-group" aria-labelledby={headingId} data-file={group.file}>
        <header class="file-group-header">
          <h4 class="file-group-heading" id={headingId}>
            <span class={`codicon ${group.file === '' ? 'codicon-terminal' : 'codicon-file'}`} aria-hidden="true" />{' '}
            <span class={group.file === '' ? 'group-label' : 'group-label file-path'}>
              <AgentText text={group.label} />
            </span>
            <span class="count">{String(group.proposals.length)}</span>
          </h4>
          <span class="group-actions">
            {group.proposals.length >= 2 && (
              <>
                <button
                  type="button"
                  class="button small secondary"
                  data-action="acceptFile"
                  data-group={group.key}
                  aria-label={`Accept all ${acceptable} in ${where}`}
                  disabled={bulkBusy || acceptable === 0}
                  onClick={() => dispatch({ type: 'decideGroup', groupKey: group.key, verdict: 'approve' })}
                >
                  {group.file === '' ? 'Accept all' : 'Accept all in file'}
                </button>
                <button
                  type="button"
                  class="button small secondary"
                  data-action="rejectFile"
                  data-group={group.key}
                  data-reject-target={rejectKey({ kind: 'group', groupKey: group.key })}
                  aria-label={`Reject all ${group.proposals.length} in ${where}`}
                  aria-expanded={state.rejecting[rejectKey({ kind: 'group', groupKey: group.key })] !== undefined}
                  disabled={bulkBusy}
                  onClick={() => dispatch({ type: 'startReject', target: { kind: 'group', groupKey: group.key } })}
                >
                  {group.file === '' ? 'Reject all' : 'Reject all in file'}
                </button>
              </>
            )}
          </span>
        </header>
        <ReasonBox
          state={state}
          target={{ kind: 'group', groupKey: group.key }}
          what={`all ${group.proposals.length} in ${where}`}
          count={group.proposals.length}
          dispatch={dispatch}
        />
        <ol class="cards">{group.proposals.map(card)}</ol>
      </section>
    </li>
  );
}

/** A bulk reject's reason box, while it is open. */
function ReasonBox(props: {
  state: ReviewState;
  target: RejectTarget;
  what: string;
  count: number;
  dispatch: Dispatch;
}): JSX.Element | null {
  const key = rejectKey(props.target);
  const text = props.state.rejecting[key];
  if (text === undefined) return null;
  return <RejectReason targetKey={key} what={props.what} text={text} confirmLabel={`Reject ${props.count}`} dispatch={props.dispatch} />;
}

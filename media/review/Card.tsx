/* @jsxRuntime automatic @jsxImportSource preact */
/** One proposal's card: header, meta line, and (when open and drawn) its body with the actions or the draft editor. */
import type { JSX } from 'preact';
import type { ProposalView, Verdict } from '../../src/shared/reviewProtocol';
import { commandIsEditable } from '../../src/core/proposals/editable';
import type { RiskLabel } from '../../src/core/proposals/riskLabel';
import { AgentText, HiddenCharactersWarning } from '../common/AgentText';
import { containsHiddenCharacters } from '../common/hiddenCharacters';
import { Pure } from '../common/Pure';
import { DiffTable, FileHeader } from './DiffTable';
import { DIFF_ROW_LIMIT, parsedDiff } from './diff';
import { canEditText, decidableHunks, decisionSummary, hasEdit, KIND_LABELS, stateLabel } from './model';
import { CommandDetails, Field, Outcome, PermissionDetails, RiskBadge, RiskList, Text } from './parts';
import type { Draft, ReviewAction } from './state';
import { Time } from './time';

export interface CardProps {
  proposal: ProposalView;
  open: boolean;
  /** Drawn: a far card gets a placeholder of about the right height until it nears the viewport. */
  filled: boolean;
  showAll: boolean;
  busy: Verdict | undefined;
  error: string | undefined;
  choices: Record<string, Verdict> | undefined;
  risks: RiskLabel[] | undefined;
  draft: Draft | undefined;
  awaitingContent: boolean;
  /** Hunk ids with a choice on its way, space separated. */
  sendingHunks: string;
  /** '' when the card itself is selected, a hunk id when one of its hunks is, undefined otherwise. */
  selected: string | undefined;
  dispatch: (action: ReviewAction) => void;
}

const NO_RISKS: RiskLabel[] = [];

export class Card extends Pure<CardProps> {
  render(): JSX.Element {
    const { proposal, open, filled, risks = NO_RISKS } = this.props;
    const domId = domIdOf(proposal.id);
    const decided = decisionSummary(proposal);
    const result = proposal.kind === 'command' ? proposal.result : undefined;
    return (
      <li class={`card-item${filled ? '' : ' far'}`}>
        <article
          class={`card kind-${proposal.kind} state-${proposal.state}${this.props.selected === '' ? ' selected' : ''}`}
          data-proposal-id={proposal.id}
          data-state={proposal.state}
          tabIndex={-1}
          aria-labelledby={`title-${domId}`}
        >
          <header class="card-header">
            <button
              type="button"
              class="toggle"
              data-action="toggle"
              data-proposal-id={proposal.id}
              aria-label={`${open ? 'Hide' : 'Show'} details: ${proposal.title}`}
              aria-expanded={open}
              aria-controls={`body-${domId}`}
              onClick={() => this.props.dispatch({ type: 'toggle', proposalId: proposal.id })}
            />
            <span class={`badge kind-badge kind-${proposal.kind}`}>{KIND_LABELS[proposal.kind]}</span>
            <h3 class="card-title" id={`title-${domId}`}>
              <AgentText text={proposal.title} />
            </h3>
            {risks.length > 0 && (
              <span class="risks">
                {risks.map((risk, i) => (
                  <RiskBadge key={i} risk={risk} />
                ))}
              </span>
            )}
            <span class={`state-pill ${proposal.state}`}>{stateLabel(proposal)}</span>
          </header>
          <div class="card-meta">
            {'Asked '}
            <Time iso={proposal.createdAt} />
            {' via '}
            <Text class="origin" text={proposal.origin} />
            {decided && (
              <>
                {' · '}
                <Text class={`meta-decision ${proposal.decision?.verdict ?? ''}`} text={decided} />
              </>
            )}
            {result && (
              <>
                {' · '}
                <span class={result.exitCode === 0 ? 'exit-ok' : 'exit-fail'}>
                  {result.exitCode === null ? 'no exit code' : `exit ${result.exitCode}`}
                </span>
              </>
            )}
          </div>
          {filled ? (
            <div class="card-body" id={`body-${domId}`} hidden={!open}>
              {this.body(risks)}
            </div>
          ) : (
            <div
              class="card-body"
              id={`body-${domId}`}
              hidden={!open}
              data-deferred="true"
              style={open ? { minHeight: `${estimatedBodyHeight(proposal)}px` } : undefined}
            />
          )}
        </article>
      </li>
    );
  }

  private body(risks: RiskLabel[]): JSX.Element {
    const { proposal, dispatch, showAll, error, draft } = this.props;
    return (
      <>
        {containsHiddenCharacters([proposal, risks]) && <HiddenCharactersWarning what="This proposal" />}
        <RiskList risks={risks} />
        {proposal.kind === 'edit' && this.edit(proposal)}
        {proposal.kind === 'command' && <CommandDetails proposal={proposal} />}
        {proposal.kind === 'permission' && <PermissionDetails proposal={proposal} showAll={showAll} dispatch={dispatch} />}
        {proposal.kind === 'question' && (
          <>
            <Field label="Question">
              <Text class="question" text={proposal.question} />
            </Field>
            {proposal.answer !== undefined ? (
              <Field label="Answer">
                <Text class="answer" text={proposal.answer} />
              </Field>
            ) : (
              proposal.state === 'pending' && (
                <p class="muted">
                  Answer it in the conversation above (or with "Warden: Answer Agent Question"); Reject declines to answer.
                </p>
              )
            )}
          </>
        )}
        {proposal.kind === 'network' && (
          // A host not on the allow-list: the proxy holds the connection until Accept (it goes through) or Reject (403).
          <>
            <Field label="Host">
              <Text tag="code" class="host" text={`${proposal.host}:${proposal.port}`} />
            </Field>
            <Field label="Request">
              <Text class="method" text={proposal.method} />
            </Field>
            <Field label="Command">
              <Text tag="code" class="command" text={proposal.command} />
            </Field>
          </>
        )}
        <Outcome proposal={proposal} />
        {error !== undefined && (
          <div class="callout error card-error" role="alert">
            <AgentText text={error} />
          </div>
        )}
        {proposal.state === 'pending' && (draft ? <DraftEditor {...this.props} draft={draft} /> : <Actions {...this.props} />)}
        {proposal.state === 'orphaned' && <OrphanActions proposal={proposal} dispatch={dispatch} />}
      </>
    );
  }

  private edit(proposal: Extract<ProposalView, { kind: 'edit' }>): JSX.Element {
    const diff = parsedDiff(proposal.diff);
    const count = decidableHunks(proposal);
    const choices = this.props.choices ?? {};
    const hunks =
      count > 0
        ? {
            proposalId: proposal.id,
            title: proposal.title,
            choices,
            count,
            sending: this.props.sendingHunks,
            selected: this.props.selected === '' ? undefined : this.props.selected,
          }
        : undefined;
    return (
      <>
        <FileHeader path={proposal.path} diff={diff} />
        <DiffTable
          proposalId={proposal.id}
          path={proposal.path}
          diff={diff}
          showAll={this.props.showAll}
          hunks={hunks}
          dispatch={this.props.dispatch}
        />
        {hunks && (
          <p class="hint hunk-hint">{`${Object.keys(choices).length} of ${count} hunks chosen. Decide each hunk, or the whole edit below; nothing is written until every hunk has a choice.`}</p>
        )}
      </>
    );
  }
}

/** An id attribute from a proposal id (which may hold any character; aria-labelledby splits on spaces). */
function domIdOf(proposalId: string): string {
  return `c-${proposalId.replace(/[^A-Za-z0-9_-]/g, (c) => `_${(c.codePointAt(0) ?? 0).toString(16)}_`)}`;
}

function estimatedBodyHeight(proposal: ProposalView): number {
  const diff = proposal.kind === 'edit' ? proposal.diff : proposal.kind === 'permission' ? (proposal.edit?.diff ?? '') : '';
  let rows = 0;
  for (let at = diff.indexOf('\n'); at >= 0 && rows < DIFF_ROW_LIMIT; at = diff.indexOf('\n', at + 1)) rows++;
  return 90 + rows * 19;
}

function Actions({ proposal, busy, awaitingContent, dispatch }: CardProps): JSX.Element {
  const id = proposal.id;
  return (
    <div class="actions">
      <button
        type="button"
        class="button primary"
        data-action="approve"
        data-proposal-id={id}
        aria-label={`Accept: ${proposal.title}`}
        disabled={busy !== undefined}
        onClick={() => dispatch({ type: 'decide', proposalId: id, verdict: 'approve' })}
      >
        {busy === 'approve' ? 'Accepting…' : 'Accept'}
      </button>
      <button
        type="button"
        class="button secondary"
        data-action="reject"
        data-proposal-id={id}
        aria-label={`Reject: ${proposal.title}`}
        disabled={busy !== undefined}
        onClick={() => dispatch({ type: 'decide', proposalId: id, verdict: 'reject' })}
      >
        {busy === 'reject' ? 'Rejecting…' : 'Reject'}
      </button>
      {canEditText(proposal) && (
        <button
          type="button"
          class="button secondary"
          data-action="edit"
          data-proposal-id={id}
          aria-label={`Edit before accepting: ${proposal.title}`}
          aria-keyshortcuts="E"
          disabled={busy !== undefined || awaitingContent}
          onClick={() => dispatch({ type: 'startEdit', proposalId: id })}
        >
          {awaitingContent ? 'Opening…' : 'Edit…'}
        </button>
      )}
      {commandIsEditable(proposal) && (
        <button
          type="button"
          class="button secondary"
          data-action="editCommand"
          data-proposal-id={id}
          aria-label={`Edit the command before running it: ${proposal.title}`}
          aria-keyshortcuts="E"
          disabled={busy !== undefined}
          onClick={() => dispatch({ type: 'startEdit', proposalId: id })}
        >
          Edit command…
        </button>
      )}
      {hasEdit(proposal) && (
        <button
          type="button"
          class="button secondary"
          data-action="openDiff"
          data-proposal-id={id}
          aria-label={`Open diff: ${proposal.title}`}
          onClick={() => dispatch({ type: 'openDiff', proposalId: id })}
        >
          Open Diff
        </button>
      )}
    </div>
  );
}

/** An orphaned proposal (its agent is gone): Apply anyway (edits; the extension asks first) or Discard, as the editor's lenses offer. */
function OrphanActions({ proposal, dispatch }: Pick<CardProps, 'proposal' | 'dispatch'>): JSX.Element {
  return (
    <div class="actions">
      {proposal.kind === 'edit' && (
        <button
          type="button"
          class="button secondary"
          data-action="applyAnyway"
          data-proposal-id={proposal.id}
          aria-label={`Apply anyway: ${proposal.title}`}
          onClick={() => dispatch({ type: 'orphan', proposalId: proposal.id, action: 'applyAnyway' })}
        >
          Apply anyway…
        </button>
      )}
      <button
        type="button"
        class="button secondary"
        data-action="discard"
        data-proposal-id={proposal.id}
        aria-label={`Discard: ${proposal.title}`}
        onClick={() => dispatch({ type: 'orphan', proposalId: proposal.id, action: 'discard' })}
      >
        Discard
      </button>
    </div>
  );
}

/** The editor for "Edit before accepting": the draft's text area, and what accepting it does. */
function DraftEditor({ proposal, draft, busy, dispatch }: CardProps & { draft: Draft }): JSX.Element {
  const isCommand = draft.kind === 'command';
  const id = `draft-${proposal.id}`;
  const submit = (event: Event): void => {
    const area = (event.currentTarget as HTMLElement).closest('.draft')?.querySelector('textarea');
    dispatch({ type: 'submitDraft', proposalId: proposal.id, ...(area ? { text: area.value } : {}) });
  };
  return (
    <div class="draft">
      <label class="draft-label" for={id}>
        {isCommand
          ? 'Command line to run instead (the policy checks it again):'
          : 'Content to write instead (what you accept is what gets written and audited):'}
      </label>
      <textarea
        id={id}
        class={isCommand ? 'edit-command' : 'edit-text'}
        data-proposal-id={proposal.id}
        spellcheck={false}
        value={draft.text}
        rows={isCommand ? 2 : Math.min(30, Math.max(6, draft.text.split('\n').length + 1))}
        aria-describedby={`${id}-hint`}
        onInput={(event) => dispatch({ type: 'draftInput', proposalId: proposal.id, text: event.currentTarget.value })}
      />
      <p class="hint" id={`${id}-hint`}>
        {isCommand
          ? 'The agent is told that the command it asked for was edited.'
          : 'The agent is told that you edited its change, and to read the file again.'}
      </p>
      <div class="actions">
        <button
          type="button"
          class="button primary"
          data-action={isCommand ? 'runEditedCommand' : 'acceptEdited'}
          data-proposal-id={proposal.id}
          aria-label={`${isCommand ? 'Run the edited command' : 'Accept your edited content'}: ${proposal.title}`}
          disabled={busy !== undefined}
          onClick={submit}
        >
          {busy ? (isCommand ? 'Running…' : 'Accepting…') : isCommand ? 'Run edited command' : 'Accept edited'}
        </button>
        <button
          type="button"
          class="button secondary"
          data-action="cancelEdit"
          data-proposal-id={proposal.id}
          aria-label={`Cancel editing: ${proposal.title}`}
          disabled={busy !== undefined}
          onClick={() => dispatch({ type: 'cancelEdit', proposalId: proposal.id })}
        >
          Cancel
        </button>
      </div>
    </div>
  );
}

/* @jsxRuntime automatic @jsxImportSource preact */
/** One proposal's card: header, meta line, and (when open and drawn) its body with the actions or the draft editor. */
import type { JSX } from 'preact';
import type { ProposalView, Verdict } from '../../src/shared/reviewProtocol';
import type { RiskLabel } from '../../src/core/proposals/riskLabel';
import { AgentText, HiddenCharactersWarning } from '../common/AgentText';
import { containsHiddenCharacters } from '../common/hiddenCharacters';
import { Pure } from '../common/Pure';
import { DiffTable, FileHeader, type HunkControls } from './DiffTable';
import { DIFF_ROW_LIMIT, parsedDiff } from './diff';
import { decidableHunks, decisionSummary, KIND_LABELS, stateLabel } from './model';
import { Actions, DraftEditor, OrphanActions } from './CardActions';
import { CommandDetails, Field, Outcome, RiskBadge, RiskList, Text } from './parts';
import { PermissionDetails } from './PermissionDetails';
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
  /** The reject reason typed so far, while its box is open. */
  rejecting: string | undefined;
  /** A permission request: the agent's option the reviewer picked for Accept and for Reject. */
  picks: Partial<Record<Verdict, string>> | undefined;
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
          {filled && open ? (
            <div class="card-body" id={`body-${domId}`}>
              {this.body(risks)}
            </div>
          ) : filled ? (
            // A closed card draws nothing inside (a decided one moves to the history closed: its diff is not rebuilt there).
            <div class="card-body" id={`body-${domId}`} hidden />
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
        {proposal.kind === 'permission' && (
          <>
            <PermissionDetails
              proposal={proposal}
              showAll={showAll}
              hunks={this.hunks()}
              marks={hunkMarks(proposal)}
              picks={this.props.picks}
              dispatch={dispatch}
            />
            <HunkHint {...this.props} />
          </>
        )}
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

  /** Accept / Reject hunk controls, when the edit's hunks can be decided one by one. */
  private hunks(): HunkControls | undefined {
    const { proposal } = this.props;
    const count = decidableHunks(proposal);
    if (count === 0) return undefined;
    return {
      proposalId: proposal.id,
      title: proposal.title,
      choices: this.props.choices ?? {},
      count,
      sending: this.props.sendingHunks,
      selected: this.props.selected === '' ? undefined : this.props.selected,
    };
  }

  private edit(proposal: Extract<ProposalView, { kind: 'edit' }>): JSX.Element {
    const diff = parsedDiff(proposal.diff);
    const { showAll, dispatch } = this.props;
    const decision = proposal.decision;
    // Written with the reviewer's own text: the history shows what was written, the agent's diff on demand.
    if (proposal.state !== 'pending' && decision?.editedText !== undefined && proposal.appliedDiff !== undefined) {
      const written = parsedDiff(proposal.appliedDiff);
      return (
        <>
          <p class="written-note">What was written (the reviewer’s edit):</p>
          <FileHeader path={proposal.path} diff={written} />
          <DiffTable proposalId={proposal.id} path={proposal.path} diff={written} showAll={showAll} hunks={undefined} dispatch={dispatch} />
          <details class="agent-proposal">
            <summary>What the agent proposed</summary>
            <DiffTable proposalId={proposal.id} path={proposal.path} diff={diff} showAll={showAll} hunks={undefined} dispatch={dispatch} />
          </details>
        </>
      );
    }
    const marks = hunkMarks(proposal);
    return (
      <>
        {marks && <p class="written-note">Only the accepted hunks were written; the rejected ones are marked.</p>}
        <FileHeader path={proposal.path} diff={diff} />
        <DiffTable
          proposalId={proposal.id}
          path={proposal.path}
          diff={diff}
          showAll={showAll}
          hunks={this.hunks()}
          marks={marks}
          dispatch={dispatch}
        />
        <HunkHint {...this.props} />
      </>
    );
  }
}

/** A decided edit (or permission) accepted in part: each hunk's fate, by hunk id. */
export function hunkMarks(proposal: ProposalView): Record<string, Verdict> | undefined {
  const hunks = proposal.state === 'pending' ? undefined : proposal.decision?.hunks;
  if (!hunks) return undefined;
  const marks: Record<string, Verdict> = {};
  for (const i of hunks.accepted) marks[`h${i}`] = 'approve';
  for (const i of hunks.rejected) marks[`h${i}`] = 'reject';
  return marks;
}

function HunkHint({ proposal, choices }: CardProps): JSX.Element | null {
  const count = decidableHunks(proposal);
  if (count === 0) return null;
  return (
    <p class="hint hunk-hint">{`${Object.keys(choices ?? {}).length} of ${count} hunks chosen. Decide each hunk, or the whole edit below; nothing is written until every hunk has a choice.`}</p>
  );
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

/* @jsxRuntime automatic @jsxImportSource preact */
/**
 * A tool permission request: the tool, the edit or command it asks about, and the answer the
 * agent gets. The agent's own options (allow once, always, reject…) are never buttons beside
 * Accept and Reject: they are a labelled choice of what Accept and what Reject answer (radio
 * groups, arrow keys), preset to what Warden sends by default. "Always" is answered as once:
 * a standing grant is a policy rule a human adds, so Warden suggests one instead.
 */
import type { JSX } from 'preact';
import type { PermissionProposalView, Verdict } from '../../src/shared/reviewProtocol';
import { AgentText } from '../common/AgentText';
import { DiffTable, FileHeader, type HunkControls } from './DiffTable';
import { parsedDiff } from './diff';
import { CommandBlock, Field, Text } from './parts';
import type { ReviewAction } from './state';

type Option = PermissionProposalView['options'][number];

const SIDE_KINDS: Record<Verdict, string[]> = { approve: ['allow_once', 'allow_always'], reject: ['reject_once', 'reject_always'] };

/** The option Warden answers with for a verdict when the reviewer picked none (as the session's answerOption does). */
export function defaultOption(options: readonly Option[], verdict: Verdict): Option | undefined {
  for (const kind of SIDE_KINDS[verdict]) {
    const option = options.find((o) => o.kind === kind);
    if (option) return option;
  }
  return undefined;
}

function sideOf(option: Option): Verdict | undefined {
  if (option.kind.startsWith('allow')) return 'approve';
  if (option.kind.startsWith('reject')) return 'reject';
  return undefined;
}

function optionNote(option: Option): string {
  switch (option.kind) {
    case 'allow_once':
      return 'this time only';
    case 'allow_always':
      return 'answered as “once”: Warden suggests a policy rule for you to add instead';
    case 'reject_once':
      return 'this time';
    case 'reject_always':
      return 'the agent should not ask for this again';
    default:
      return option.kind;
  }
}

export interface PermissionDetailsProps {
  proposal: PermissionProposalView;
  showAll: boolean;
  hunks: HunkControls | undefined;
  /** Decided with some hunks only: which were accepted and which rejected. */
  marks: Record<string, Verdict> | undefined;
  /** The reviewer's pick per verdict (option ids), while pending. */
  picks: Partial<Record<Verdict, string>> | undefined;
  dispatch: (a: ReviewAction) => void;
}

export function PermissionDetails({ proposal, showAll, hunks, marks, picks, dispatch }: PermissionDetailsProps): JSX.Element {
  const chosen = proposal.options.find((o) => o.optionId === proposal.chosenOptionId);
  const others = proposal.options.filter((o) => sideOf(o) === undefined);
  return (
    <>
      <Field label="Tool">
        <Text tag="code" class="code-inline" text={proposal.toolKind} />
      </Field>
      {proposal.edit && (
        <>
          <FileHeader path={proposal.edit.path} diff={parsedDiff(proposal.edit.diff)} />
          <DiffTable
            proposalId={proposal.id}
            path={proposal.edit.path}
            diff={parsedDiff(proposal.edit.diff)}
            showAll={showAll}
            hunks={hunks}
            marks={marks}
            dispatch={dispatch}
          />
        </>
      )}
      {proposal.commandLine !== undefined && (
        <CommandBlock commandLine={proposal.commandLine} label={`Command line: ${proposal.commandLine}`} />
      )}
      {proposal.state === 'pending' && (
        <div class="permission-answer">
          <AnswerChoice proposal={proposal} verdict="approve" picks={picks} dispatch={dispatch} />
          <AnswerChoice proposal={proposal} verdict="reject" picks={picks} dispatch={dispatch} />
          {others.length > 0 && (
            <p class="muted other-options">
              {'Also offered by the agent (not sent by Accept or Reject): '}
              {others.map((o, i) => (
                <span key={o.optionId}>
                  {i > 0 && ', '}
                  <AgentText text={`${o.name} (${o.kind})`} />
                </span>
              ))}
            </p>
          )}
        </div>
      )}
      {proposal.chosenOptionId !== undefined && (
        <Field label="Agent was answered">
          <Text tag="strong" class="chosen-option" text={chosen ? `${chosen.name} (${chosen.kind})` : proposal.chosenOptionId} />
        </Field>
      )}
    </>
  );
}

/** What Accept (or Reject) answers: a radio group when the agent offered a choice, a sentence otherwise. */
function AnswerChoice(props: Omit<PermissionDetailsProps, 'showAll' | 'hunks' | 'marks'> & { verdict: Verdict }): JSX.Element | null {
  const { proposal, verdict, picks, dispatch } = props;
  const side = proposal.options.filter((o) => sideOf(o) === verdict);
  const verb = verdict === 'approve' ? 'Accept' : 'Reject';
  if (side.length === 0)
    return (
      <p class="answer-line muted">
        {verdict === 'approve'
          ? 'Accept: the agent offered no allow option, so Warden cannot allow this.'
          : 'Reject: the agent offered no reject option; it is told the request was cancelled.'}
      </p>
    );
  const current = side.find((o) => o.optionId === picks?.[verdict]) ?? defaultOption(side, verdict) ?? side[0]!;
  if (side.length === 1)
    return (
      <p class="answer-line">
        {`${verb} answers `}
        <Text tag="strong" text={`“${current.name}”`} />
        {` (${optionNote(current)}).`}
      </p>
    );
  const name = `answer-${verdict}-${proposal.id}`;
  return (
    <fieldset class="answer-choice" data-verdict={verdict}>
      <legend>{`${verb} answers the agent with`}</legend>
      {side.map((option) => (
        <label key={option.optionId} class="answer-option">
          <input
            type="radio"
            name={name}
            value={option.optionId}
            data-option-id={option.optionId}
            checked={option.optionId === current.optionId}
            onChange={() => dispatch({ type: 'pickOption', proposalId: proposal.id, verdict, optionId: option.optionId })}
          />{' '}
          <AgentText text={option.name} /> <span class="muted">{`(${optionNote(option)})`}</span>
        </label>
      ))}
    </fieldset>
  );
}

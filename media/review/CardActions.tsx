/* @jsxRuntime automatic @jsxImportSource preact */
/** A pending card's buttons (Accept, Reject with its reason box, Edit, Open Diff), the draft editor, and an orphan's Apply anyway / Discard. */
import type { JSX } from 'preact';
import { commandIsEditable } from '../../src/core/proposals/editable';
import type { CardProps } from './Card';
import { rejectKey } from './decide';
import { canEditText, hasEdit } from './model';
import { RejectReason } from './RejectReason';
import type { Draft } from './state';

export function Actions({ proposal, busy, awaitingContent, rejecting, dispatch }: CardProps): JSX.Element {
  const id = proposal.id;
  const target = rejectKey({ kind: 'proposal', proposalId: id });
  return (
    <>
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
          data-reject-target={target}
          aria-label={`Reject: ${proposal.title}`}
          aria-expanded={rejecting !== undefined}
          aria-keyshortcuts="R"
          disabled={busy !== undefined}
          onClick={() => dispatch({ type: 'startReject', target: { kind: 'proposal', proposalId: id } })}
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
      {rejecting !== undefined && busy === undefined && (
        <RejectReason targetKey={target} what={proposal.title} text={rejecting} confirmLabel="Reject" dispatch={dispatch} />
      )}
    </>
  );
}

/** An orphaned proposal (its agent is gone): Apply anyway (edits; the extension asks first) or Discard, as the editor's lenses offer. */
export function OrphanActions({ proposal, dispatch }: Pick<CardProps, 'proposal' | 'dispatch'>): JSX.Element {
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
export function DraftEditor({ proposal, draft, busy, dispatch }: CardProps & { draft: Draft }): JSX.Element {
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

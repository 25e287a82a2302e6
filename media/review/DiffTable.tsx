/* @jsxRuntime automatic @jsxImportSource preact */
/** A proposal's diff as a table, one `tbody.hunk` per hunk, with Accept / Reject hunk buttons when hunks are decided alone. */
import type { JSX } from 'preact';
import type { Verdict } from '../../src/shared/reviewProtocol';
import { AgentText } from '../common/AgentText';
import { bodyRows, DIFF_ROW_LIMIT, type DiffRow, type ParsedDiff } from './diff';
import type { ReviewAction } from './state';

export interface HunkControls {
  proposalId: string;
  title: string;
  choices: Record<string, Verdict>;
  count: number;
  /** Hunk ids with a choice on its way. */
  sending: string;
  /** The selected hunk id, if the selection is in this card. */
  selected: string | undefined;
}

export function FileHeader({ path, diff }: { path: string; diff: ParsedDiff }): JSX.Element {
  return (
    <div class="file-header">
      <span class="file-path">
        <AgentText text={path} />
      </span>
      {diff.newFile && <span class="tag tag-new">new file</span>}
      {diff.deletedFile && <span class="tag tag-deleted">deleted</span>}
      <span class="diff-stats" aria-label={`${diff.added} lines added, ${diff.removed} lines removed`}>
        <span class="stat-add">{`+${diff.added}`}</span>
        <span class="stat-del">{`−${diff.removed}`}</span>
      </span>
    </div>
  );
}

interface DiffProps {
  proposalId: string;
  path: string;
  diff: ParsedDiff;
  showAll: boolean;
  hunks: HunkControls | undefined;
  /** A decided edit: which hunks were written and which rejected (marked, never controls). */
  marks?: Readonly<Record<string, Verdict>> | undefined;
  dispatch: (action: ReviewAction) => void;
}

export function DiffTable({ proposalId, path, diff, showAll, hunks, marks, dispatch }: DiffProps): JSX.Element {
  const body = bodyRows(diff);
  const visible = showAll ? body : body.slice(0, DIFF_ROW_LIMIT);
  const sections: Array<{ header: string | undefined; rows: DiffRow[] }> = [{ header: undefined, rows: [] }];
  for (const row of visible) {
    if (row.kind === 'hunk') sections.push({ header: row.text, rows: [] });
    else sections[sections.length - 1]!.rows.push(row);
  }
  let hunkIndex = -1;
  return (
    <div class="diff">
      {!body.some((row) => row.kind === 'add' || row.kind === 'del') && <p class="diff-empty">No change to the file content.</p>}
      <table class="diff-table" aria-label={`Changes to ${path}`}>
        <colgroup>
          <col class="col-ln" />
          <col class="col-ln" />
          <col class="col-sign" />
          <col class="col-code" />
        </colgroup>
        {sections.map((section) => {
          if (section.header === undefined) return section.rows.length > 0 ? <tbody key="pre">{section.rows.map(Row)}</tbody> : null;
          hunkIndex++;
          return (
            <HunkBody
              key={`h${hunkIndex}`}
              index={hunkIndex}
              header={section.header}
              hunks={hunks}
              mark={marks?.[`h${hunkIndex}`]}
              dispatch={dispatch}
            >
              {section.rows.map(Row)}
            </HunkBody>
          );
        })}
      </table>
      {visible.length < body.length && (
        <div class="diff-more">
          <span>{`${body.length - visible.length} more lines not shown${hunks ? ' (their hunks are decided after you show them)' : ''}. `}</span>
          <button
            type="button"
            class="link-button"
            data-action="showFullDiff"
            data-proposal-id={proposalId}
            aria-label={`Show all lines of the diff of ${path}`}
            onClick={() => dispatch({ type: 'showFullDiff', proposalId })}
          >
            Show all lines
          </button>
        </div>
      )}
    </div>
  );
}

function Row(row: DiffRow, i: number): JSX.Element {
  if (row.kind === 'meta' || row.kind === 'note' || row.kind === 'hunk')
    return (
      <tr key={i} class={`diff-row ${row.kind}`}>
        <td class="diff-wide" colSpan={4}>
          <AgentText text={row.kind === 'note' ? `\\ ${row.text}` : row.text} />
        </td>
      </tr>
    );
  return (
    <tr key={i} class={`diff-row ${row.kind}`}>
      <td class="ln ln-old">{row.oldLine === undefined ? '' : String(row.oldLine)}</td>
      <td class="ln ln-new">{row.newLine === undefined ? '' : String(row.newLine)}</td>
      <td class="sign">{row.kind === 'add' ? '+' : row.kind === 'del' ? '-' : ' '}</td>
      <td class="code">
        <AgentText text={row.text} />
      </td>
    </tr>
  );
}

interface HunkProps {
  index: number;
  header: string;
  hunks: HunkControls | undefined;
  mark: Verdict | undefined;
  dispatch: (action: ReviewAction) => void;
  children: JSX.Element[];
}

/** A hunk's `tbody`: its @@ header row, with the hunk's choice and buttons when it can be decided alone. */
function HunkBody({ index, header, hunks, mark, dispatch, children }: HunkProps): JSX.Element {
  const id = `h${index}`;
  const range = (
    <span class="hunk-range">
      <AgentText text={header} />
    </span>
  );
  if (!hunks)
    return (
      <tbody class={`hunk${mark ? ` decided-${mark}` : ''}`} data-hunk-id={id} data-written={mark && String(mark === 'approve')}>
        <tr class="diff-row hunk">
          <td class="diff-wide hunk-header" colSpan={4}>
            {range}
            {mark && <span class={`hunk-choice ${mark}`}>{mark === 'approve' ? 'Accepted · written' : 'Rejected · not written'}</span>}
          </td>
        </tr>
        {children}
      </tbody>
    );
  const choice = hunks.choices[id];
  const name = `hunk ${index + 1} of ${hunks.count}`;
  const sending = hunks.sending.split(' ').includes(id);
  const choose = (verdict: Verdict) => () => dispatch({ type: 'chooseHunk', proposalId: hunks.proposalId, hunkId: id, verdict });
  return (
    <tbody
      class={`hunk${hunks.selected === id ? ' selected' : ''}`}
      data-hunk-id={id}
      data-proposal-id={hunks.proposalId}
      data-choice={choice}
      tabIndex={-1}
      role="group"
      aria-label={`H${name.slice(1)} of ${hunks.title}${choice ? `, ${choice === 'approve' ? 'accepted' : 'rejected'}` : ''}`}
    >
      <tr class="diff-row hunk">
        <td class="diff-wide hunk-header" colSpan={4}>
          {range}
          <span class="hunk-actions">
            {choice && <span class={`hunk-choice ${choice}`}>{choice === 'approve' ? 'Accepted' : 'Rejected'}</span>}
            <button
              type="button"
              class={`button small ${choice === 'approve' ? 'primary' : 'secondary'}`}
              data-action="hunkApprove"
              data-proposal-id={hunks.proposalId}
              data-hunk-id={id}
              aria-label={`Accept ${name}`}
              aria-pressed={choice === 'approve'}
              disabled={sending}
              onClick={choose('approve')}
            >
              Accept hunk
            </button>
            <button
              type="button"
              class="button small secondary"
              data-action="hunkReject"
              data-proposal-id={hunks.proposalId}
              data-hunk-id={id}
              aria-label={`Reject ${name}`}
              aria-pressed={choice === 'reject'}
              disabled={sending}
              onClick={choose('reject')}
            >
              Reject hunk
            </button>
          </span>
        </td>
      </tr>
      {children}
    </tbody>
  );
}

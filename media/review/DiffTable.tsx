/* @jsxRuntime automatic @jsxImportSource preact */
/** A proposal's diff, one table (with its `tbody.hunk`) per hunk, with Accept / Reject hunk buttons when hunks are decided alone. */
import type { JSX } from 'preact';
import type { Verdict } from '../../src/shared/reviewProtocol';
import { AgentText } from '../common/AgentText';
import { Pure } from '../common/Pure';
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
  const { sections, changed, hiddenRows } = diffSections(diff, showAll);
  return (
    <div class="diff">
      {!changed && <p class="diff-empty">No change to the file content.</p>}
      <div class="diff-hunks" role="group" aria-label={`Changes to ${path}`}>
        {sections.map((section) =>
          section.index < 0 ? (
            <HunkBox key="pre" rows={section.rows.length}>
              <tbody>{section.rows.map(Row)}</tbody>
            </HunkBox>
          ) : (
            <Hunk
              key={`h${section.index}`}
              index={section.index}
              header={section.header}
              rows={section.rows}
              proposalId={proposalId}
              controls={hunks !== undefined}
              title={hunks?.title ?? ''}
              count={hunks?.count ?? 0}
              choice={hunks?.choices[`h${section.index}`]}
              selected={hunks?.selected === `h${section.index}`}
              sending={hunks?.sending.split(' ').includes(`h${section.index}`) === true}
              mark={marks?.[`h${section.index}`]}
              dispatch={dispatch}
            />
          ),
        )}
      </div>
      {hiddenRows > 0 && (
        <div class="diff-more">
          <span>{`${hiddenRows} more lines not shown${hunks ? ' (their hunks are decided after you show them)' : ''}. `}</span>
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

interface Section {
  /** -1: the lines before the first hunk. */
  index: number;
  header: string;
  rows: DiffRow[];
}

interface Sections {
  sections: Section[];
  changed: boolean;
  /** Rows past DIFF_ROW_LIMIT, until "Show all lines". */
  hiddenRows: number;
}

const sectionCache = new WeakMap<ParsedDiff, { all?: Sections; limited?: Sections }>();

/** The diff's rows cut into hunks, once per diff (and per "show all"): unchanged hunks keep their row arrays, so they are not redrawn. */
function diffSections(diff: ParsedDiff, showAll: boolean): Sections {
  let cached = sectionCache.get(diff);
  if (!cached) sectionCache.set(diff, (cached = {}));
  const known = showAll ? cached.all : cached.limited;
  if (known) return known;
  const body = bodyRows(diff);
  const visible = showAll ? body : body.slice(0, DIFF_ROW_LIMIT);
  const sections: Section[] = [];
  let current: Section = { index: -1, header: '', rows: [] };
  for (const row of visible) {
    if (row.kind !== 'hunk') {
      current.rows.push(row);
      continue;
    }
    if (current.index >= 0 || current.rows.length > 0) sections.push(current);
    current = { index: current.index + 1, header: row.text, rows: [] };
  }
  if (current.index >= 0 || current.rows.length > 0) sections.push(current);
  const result = {
    sections,
    changed: body.some((row) => row.kind === 'add' || row.kind === 'del'),
    hiddenRows: body.length - visible.length,
  };
  if (showAll) cached.all = result;
  else cached.limited = result;
  return result;
}

/**
 * Each hunk is its own small table in a box the browser lays out and paints only near the viewport
 * (`content-visibility: auto`, review.css): a 2,000-line file's diff with 20 hunks costs about a
 * screenful of layout when it arrives, while every line stays in the page (find, screen readers,
 * focus and scrolling to a hunk draw it). The columns have fixed widths, so the tables line up.
 */
function HunkBox({ rows, children }: { rows: number; children: JSX.Element }): JSX.Element {
  return (
    <div class="hunk-box" style={{ '--hunk-rows': String(rows) }}>
      <table class="diff-table">
        <colgroup>
          <col class="col-ln" />
          <col class="col-ln" />
          <col class="col-sign" />
          <col class="col-code" />
        </colgroup>
        {children}
      </table>
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
  rows: DiffRow[];
  proposalId: string;
  /** Accept / Reject buttons: the edit's hunks are decided one by one. */
  controls: boolean;
  title: string;
  count: number;
  choice: Verdict | undefined;
  selected: boolean;
  /** Its choice is on its way to the extension. */
  sending: boolean;
  /** A decided edit: whether this hunk was written (marked, never controls). */
  mark: Verdict | undefined;
  dispatch: (action: ReviewAction) => void;
}

/** A hunk's `tbody`: its @@ header row, with the hunk's choice and buttons when it can be decided alone. Redrawn only when its props change (a choice, the selection). */
class Hunk extends Pure<HunkProps> {
  render(): JSX.Element {
    const { index, header, rows, proposalId, controls, choice, mark, dispatch } = this.props;
    const id = `h${index}`;
    const range = (
      <span class="hunk-range">
        <AgentText text={header} />
      </span>
    );
    if (!controls)
      return (
        <HunkBox rows={rows.length + 1}>
          <tbody class={`hunk${mark ? ` decided-${mark}` : ''}`} data-hunk-id={id} data-written={mark && String(mark === 'approve')}>
            <tr class="diff-row hunk">
              <td class="diff-wide hunk-header" colSpan={4}>
                {range}
                {mark && <span class={`hunk-choice ${mark}`}>{mark === 'approve' ? 'Accepted · written' : 'Rejected · not written'}</span>}
              </td>
            </tr>
            {rows.map(Row)}
          </tbody>
        </HunkBox>
      );
    const name = `hunk ${index + 1} of ${this.props.count}`;
    const choose = (verdict: Verdict) => () => dispatch({ type: 'chooseHunk', proposalId, hunkId: id, verdict });
    return (
      <HunkBox rows={rows.length + 1}>
        <tbody
          class={`hunk${this.props.selected ? ' selected' : ''}`}
          data-hunk-id={id}
          data-proposal-id={proposalId}
          data-choice={choice}
          tabIndex={-1}
          role="group"
          aria-label={`H${name.slice(1)} of ${this.props.title}${choice ? `, ${choice === 'approve' ? 'accepted' : 'rejected'}` : ''}`}
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
                  data-proposal-id={proposalId}
                  data-hunk-id={id}
                  aria-label={`Accept ${name}`}
                  aria-pressed={choice === 'approve'}
                  disabled={this.props.sending}
                  onClick={choose('approve')}
                >
                  Accept hunk
                </button>
                <button
                  type="button"
                  class="button small secondary"
                  data-action="hunkReject"
                  data-proposal-id={proposalId}
                  data-hunk-id={id}
                  aria-label={`Reject ${name}`}
                  aria-pressed={choice === 'reject'}
                  disabled={this.props.sending}
                  onClick={choose('reject')}
                >
                  Reject hunk
                </button>
              </span>
            </td>
          </tr>
          {rows.map(Row)}
        </tbody>
      </HunkBox>
    );
  }
}

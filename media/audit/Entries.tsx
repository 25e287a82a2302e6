/* @jsxRuntime automatic @jsxImportSource preact */
/** The matching entries, newest first: what happened, who decided, the diff and the entry's data. */
import type { JSX } from 'preact';
import type { AuditRowView } from '../../src/shared/auditProtocol';
import { AgentText } from '../common/AgentText';
import { Pure } from '../common/Pure';
import { Time } from './format';
import type { AuditAction } from './update';

type Dispatch = (action: AuditAction) => void;

function meta(row: AuditRowView): string {
  return [
    `session ${row.sessionId}`,
    row.agent ? `agent ${row.agent}` : '',
    row.path ?? '',
    row.reviewer ? `by ${row.reviewer}` : '',
    row.ruleId && row.reviewer !== `policy rule ${row.ruleId}` ? `rule ${row.ruleId}` : '',
  ]
    .filter(Boolean)
    .join(' · ');
}

/** One entry; unchanged entries are not re-rendered while the lead types a filter. */
class Entry extends Pure<{ row: AuditRowView; open: boolean; dispatch: Dispatch }> {
  render(): JSX.Element {
    const { row, open, dispatch } = this.props;
    const verdict = row.decision === 'approve' ? 'approved' : row.decision === 'reject' ? 'rejected' : undefined;
    const ref = { seq: row.seq, hash: row.hash };
    return (
      <li class={`entry type-${row.type.replace(/[^a-z0-9-]/gi, '-')}`} data-seq={String(row.seq)} data-type={row.type}>
        <div class="entry-head">
          <span class="seq">{`#${row.seq}`}</span>
          <Time iso={row.time} />
          <span class="badge type">
            <AgentText text={row.type} />
          </span>
          {row.kind && (
            <span class="badge kind">
              <AgentText text={row.kind} />
            </span>
          )}
          {verdict && <span class={`badge decision ${verdict}`}>{`${verdict}${row.automatic ? ' · automatic' : ''}`}</span>}
          {row.exitCode !== null && <span class={`badge ${row.exitCode === 0 ? 'ok' : 'bad'}`}>{`exit ${row.exitCode}`}</span>}
          <span class="actor">
            <AgentText text={`${row.actorKind}: ${row.actorName ?? row.actorId}`} />
          </span>
        </div>
        <p class="summary">
          <AgentText text={row.summary} />
        </p>
        <p class="entry-meta muted">
          <AgentText text={meta(row)} />
        </p>
        <div class="entry-actions">
          {row.hasDiff && (
            <button
              type="button"
              class="button secondary"
              aria-label={`Open the diff of entry ${row.seq}`}
              onClick={() => dispatch({ type: 'post', message: { type: 'openDiff', ...ref } })}
            >
              Open Diff
            </button>
          )}
        </div>
        <details
          class="entry-detail"
          open={open}
          onToggle={(event) => dispatch({ type: 'toggleEntry', hash: row.hash, open: event.currentTarget.open })}
        >
          <summary>Entry data</summary>
          {open && (
            <>
              <pre class="detail">
                <AgentText text={row.detail} />
              </pre>
              <p class="muted">
                <AgentText text={`${row.file}:${row.line} · sha256 ${row.hash.slice(0, 16)}… `} />
                <button
                  type="button"
                  class="link-button"
                  onClick={() => dispatch({ type: 'post', message: { type: 'openEntry', ...ref } })}
                >
                  Open in file
                </button>
              </p>
            </>
          )}
        </details>
      </li>
    );
  }
}

export function Entries(props: { rows: AuditRowView[]; expanded: ReadonlySet<string>; dispatch: Dispatch }): JSX.Element {
  return (
    <ol class="entries" id="entries">
      {props.rows.map((row) => (
        <Entry key={row.hash} row={row} open={props.expanded.has(row.hash)} dispatch={props.dispatch} />
      ))}
    </ol>
  );
}

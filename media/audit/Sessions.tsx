/* @jsxRuntime automatic @jsxImportSource preact */
/** The sessions timeline (newest first, each with the commits it produced) and the team summaries. */
import type { JSX } from 'preact';
import type { AuditSessionView, GroupSummaryView } from '../../src/shared/auditProtocol';
import { AgentText } from '../common/AgentText';
import { Pure } from '../common/Pure';
import { Time, duration, plural, shortCommit } from './format';
import type { AuditAction } from './update';

type Dispatch = (action: AuditAction) => void;

const SUMMARY_COLUMNS = ['Sessions', 'Asks', 'Approvals', 'Rejections', 'Automatic', 'Median time to decide', 'p90 time to decide'];

function Groups({ title, groups, id }: { title: string; groups: GroupSummaryView[]; id: string }): JSX.Element {
  return (
    <table class="summary" id={id}>
      <caption>{title}</caption>
      <thead>
        <tr>
          {[title, ...SUMMARY_COLUMNS].map((h) => (
            <th key={h}>{h}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {groups.map((g) => (
          <tr key={g.key}>
            <td>
              <AgentText text={g.key} />
            </td>
            {[g.sessions, g.asks, g.approvals, g.rejections, g.automatic].map((n, i) => (
              <td key={i}>{String(n)}</td>
            ))}
            <td>{duration(g.medianDecideMs)}</td>
            <td>{duration(g.p90DecideMs)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Per-developer and per-agent totals over the sessions the filters keep. */
export function Team({ byDeveloper, byAgent }: { byDeveloper: GroupSummaryView[]; byAgent: GroupSummaryView[] }): JSX.Element {
  return (
    <section class="team" id="team-summary" hidden={byDeveloper.length === 0 && byAgent.length === 0}>
      <h2>Team</h2>
      <div class="team-tables">
        <Groups title="Developer" groups={byDeveloper} id="by-developer" />
        <Groups title="Agent" groups={byAgent} id="by-agent" />
      </div>
    </section>
  );
}

/** One session of the timeline; re-rendered only when it or its selection changed (1,000-session logs). */
class SessionItem extends Pure<{ session: AuditSessionView; selected: boolean; dispatch: Dispatch }> {
  render(): JSX.Element {
    const { session: s, selected, dispatch } = this.props;
    return (
      <li class={`session${selected ? ' selected' : ''}`} data-session-id={s.sessionId}>
        <button
          type="button"
          class="session-button"
          aria-pressed={selected}
          onClick={() => dispatch({ type: 'pickSession', sessionId: s.sessionId })}
        >
          <span class="session-line">
            <Time iso={s.start} />
            <span class="session-developer">
              <AgentText text={s.developer ?? 'unknown developer'} />
            </span>
            <span class="session-agent">
              <AgentText text={s.agent ?? 'unknown agent'} />
            </span>
            <code class="session-id">
              <AgentText text={s.sessionId} />
            </code>
          </span>
          <span class="session-instruction">
            <AgentText text={s.instruction ?? '(no instruction recorded)'} />
          </span>
          <span class="session-stats">
            <span class="chip">{plural(s.proposals, 'proposal')}</span>
            {s.asks > 0 && <span class="chip">{plural(s.asks, 'ask')}</span>}
            <span class="chip ok">{`${s.approved} approved`}</span>
            <span class={`chip ${s.rejected ? 'bad' : ''}`}>{`${s.rejected} rejected`}</span>
            {s.automatic > 0 && <span class="chip">{`${s.automatic} automatic`}</span>}
            {s.errors > 0 && <span class="chip bad">{plural(s.errors, 'error')}</span>}
            {s.commits.length > 0 && (
              <span class="chip commits" title={s.commits.join('\n')}>
                <AgentText text={`commits ${s.commits.map(shortCommit).join(', ')}`} />
              </span>
            )}
            <span class="muted">
              <AgentText text={s.ended ? `ended: ${s.ended}` : 'no end recorded'} />
            </span>
          </span>
        </button>
      </li>
    );
  }
}

export function Sessions(props: {
  sessions: AuditSessionView[];
  total: number;
  selected: string | undefined;
  dispatch: Dispatch;
}): JSX.Element {
  const { sessions, total } = props;
  return (
    <section class="sessions">
      <h2>{sessions.length === total ? `Sessions (${total})` : `Sessions (${sessions.length} of ${total})`}</h2>
      <ol class="timeline" id="sessions">
        {sessions.map((s) => (
          <SessionItem key={s.sessionId} session={s} selected={props.selected === s.sessionId} dispatch={props.dispatch} />
        ))}
      </ol>
    </section>
  );
}

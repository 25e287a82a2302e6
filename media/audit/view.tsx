/* @jsxRuntime automatic @jsxImportSource preact */
/**
 * The Audit panel's page: header with exports, verify status on top, notices, team summaries,
 * sessions timeline, blame, filters and the matching entries (newest first).
 */
import type { JSX, VNode } from 'preact';
import type { AuditStateMessage, ExportFormat } from '../../src/shared/auditProtocol';
import { AgentText, HiddenCharactersWarning } from '../common/AgentText';
import { Blame } from './Blame';
import { Entries } from './Entries';
import { Filters } from './Filters';
import { Sessions, Team } from './Sessions';
import { Verify } from './Verify';
import { exportMessage, type AuditAction, type AuditState } from './update';

type Dispatch = (action: AuditAction) => void;

function countText(s: AuditStateMessage): string {
  if (s.total === 0) return 'The audit log has no entries yet.';
  const filtered = Object.keys(s.filters).length > 0;
  return `${filtered ? `${s.matched} of ${s.total} entries match` : `${s.total} entries`}${s.rows.length < s.matched ? `; showing the newest ${s.rows.length}` : ''}${s.problems ? ` · ${s.problems} unreadable lines skipped` : ''}`;
}

const EXPORTS: ReadonlyArray<readonly [ExportFormat, string, string]> = [
  ['json', 'Export JSON', 'Exports the entries matching the filters, with the verify report'],
  ['csv', 'Export CSV', 'Exports the entries matching the filters, one row each'],
  ['otlp', 'Send to OpenTelemetry', 'Sends the entries matching the filters to the configured OpenTelemetry endpoint'],
];

function Header({ otlp, dispatch }: { otlp: boolean; dispatch: Dispatch }): JSX.Element {
  return (
    <header class="page-header">
      <div class="page-heading">
        <h1>Audit log</h1>
        <p class="subtitle">Every instruction, proposal, decision and result, hash-chained in .warden/audit/.</p>
      </div>
      <div class="header-actions">
        {EXPORTS.map(([format, label, title]) => (
          <button
            key={format}
            type="button"
            id={`export-${format}`}
            class="button secondary"
            title={title}
            hidden={format === 'otlp' && !otlp}
            onClick={() => dispatch(exportMessage(format))}
          >
            {label}
          </button>
        ))}
      </div>
    </header>
  );
}

export function view(state: AuditState, dispatch: Dispatch): VNode {
  const s = state.snapshot;
  return (
    <div class="audit" aria-busy={state.busy ? 'true' : undefined}>
      <Header otlp={s?.otlpConfigured ?? false} dispatch={dispatch} />
      <Verify verify={s?.verify} dispatch={dispatch} />
      <div class="notices" id="notices">
        {state.notices.map((n) => (
          <div key={n.id} class={`callout ${n.tone}`} role={n.tone === 'error' ? 'alert' : 'status'}>
            <span>
              <AgentText text={n.text} />
            </span>
            <button type="button" class="link-button" onClick={() => dispatch({ type: 'dismissNotice', id: n.id })}>
              Dismiss
            </button>
          </div>
        ))}
      </div>
      {state.hidden && <HiddenCharactersWarning what="The audit log" />}
      <Team byDeveloper={s?.byDeveloper ?? []} byAgent={s?.byAgent ?? []} />
      <Sessions sessions={s?.sessions ?? []} total={s?.sessionsTotal ?? 0} selected={state.filters.sessionId} dispatch={dispatch} />
      <Blame input={state.blameInput} status={state.blame} dispatch={dispatch} />
      <Filters snapshot={s} filters={state.filters} dispatch={dispatch} />
      <p class="count" id="result-count" aria-live="polite">
        {s ? countText(s) : ''}
      </p>
      <p class="none" hidden={!(s && s.total > 0 && s.matched === 0)}>
        No entry matches the filters.
      </p>
      <Entries rows={s?.rows ?? []} expanded={state.expanded} dispatch={dispatch} />
    </div>
  );
}

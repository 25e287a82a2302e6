/* @jsxRuntime automatic @jsxImportSource preact */
/** The verify status on top of the Audit panel: intact or broken, per chain, and the git anchors. */
import type { JSX } from 'preact';
import type { VerifyStatusView } from '../../src/shared/auditProtocol';
import { AgentText } from '../common/AgentText';
import { Time } from './format';
import type { AuditAction } from './update';

function headline(v: VerifyStatusView): string {
  if (!v.ok) return 'Chain broken';
  if (v.entries === 0) return 'Empty log';
  return v.anchors.ok ? 'Chain intact' : 'Chain intact, but a git anchor does not match';
}

export function Verify({ verify: v, dispatch }: { verify: VerifyStatusView | undefined; dispatch: (a: AuditAction) => void }): JSX.Element {
  if (!v)
    return (
      <section class="verify" id="verify-status" role="status" aria-live="polite">
        Verifying the chain…
      </section>
    );
  const good = v.ok && v.anchors.ok;
  const head = v.head ? ` · ${v.ok ? 'head' : 'last good entry'} #${v.headSeq} ${v.head.slice(0, 16)}…` : '';
  const broken = v.chains.filter((c) => !c.ok);
  return (
    <section class={`verify ${good ? 'ok' : 'broken'}`} id="verify-status" role="status" aria-live="polite" data-ok={String(good)}>
      <div class="verify-title">
        <span class="verify-icon" aria-hidden="true">
          {good ? '✔' : '✘'}
        </span>
        <strong>{headline(v)}</strong>
      </div>
      <p class="verify-message" id="verify-message">
        <AgentText text={v.message} />
      </p>
      <p class="muted">{`${v.chains.length} chain${v.chains.length === 1 ? '' : 's'}, ${v.chains.length - broken.length} intact`}</p>
      {/* One line per chain that does not verify, and per failed anchor: a break in one hides no other. */}
      <ul class="verify-chains" id="verify-chains">
        {broken.map((c) => (
          <li key={c.chain} class="bad">
            <AgentText
              text={`chain ${c.chain}: ${c.firstBreak ? `${c.firstBreak.file}:${c.firstBreak.line}: ${c.firstBreak.reason}` : 'broken'}`}
            />
          </li>
        ))}
        {v.anchorFailures.map((failure, i) => (
          <li key={`anchor-${i}`} class="bad">
            <AgentText text={failure} />
          </li>
        ))}
      </ul>
      <p class={`verify-anchors ${v.anchors.ok ? '' : 'bad'}`}>
        <AgentText text={v.anchors.message} />
      </p>
      <p class="muted">
        {'Checked '}
        <Time iso={v.checkedAt} />
        {head}
      </p>
      <div class="verify-actions">
        <button type="button" class="button secondary" onClick={() => dispatch({ type: 'post', message: { type: 'verify' } })}>
          Verify again
        </button>
        {v.firstBreak && (
          <button type="button" class="button secondary" onClick={() => dispatch({ type: 'post', message: { type: 'openBreak' } })}>
            <AgentText text={`Open ${v.firstBreak.file.split('/').pop() ?? 'segment'}:${v.firstBreak.line}`} />
          </button>
        )}
        {v.repairable && (
          <button type="button" id="repair" class="button primary" onClick={() => dispatch({ type: 'post', message: { type: 'repair' } })}>
            Repair torn last line…
          </button>
        )}
      </div>
    </section>
  );
}

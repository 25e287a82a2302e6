/* @jsxRuntime automatic @jsxImportSource preact */
/**
 * Audit blame in the panel: for a commit or a range (default: the current branch's own commits),
 * each changed file and line range with the session, agent, approver and rule behind it, linking
 * to that session's entries. Lines no approved edit added are said to be unexplained.
 */
import type { JSX } from 'preact';
import type { AuditBlameMessage, BlameApprovalView, BlameRangeView } from '../../src/shared/auditProtocol';
import { AgentText, HiddenCharactersWarning } from '../common/AgentText';
import { plural, shortCommit } from './format';
import type { AuditAction, BlameStatus } from './update';

type Dispatch = (action: AuditAction) => void;

function decidedBy(a: BlameApprovalView): string {
  if (a.automatic && a.ruleId && a.approvedBy === `policy rule ${a.ruleId}`) return `automatic (policy rule ${a.ruleId})`;
  return `${a.automatic ? 'automatic' : 'approved'} by ${a.approvedBy}${a.ruleId ? ` (rule ${a.ruleId})` : ''}`;
}

function SessionLink({ sessionId, dispatch }: { sessionId: string; dispatch: Dispatch }): JSX.Element {
  return (
    <button
      type="button"
      class="link-button session-link"
      data-session-id={sessionId}
      title="Show this session's entries"
      onClick={() => dispatch({ type: 'showSession', sessionId })}
    >
      <AgentText text={sessionId} />
    </button>
  );
}

function Range(props: { range: BlameRangeView; approval: BlameApprovalView | undefined; dispatch: Dispatch }): JSX.Element {
  const { range: r, approval: a } = props;
  const lines = r.start === r.end ? `line ${r.start}` : `lines ${r.start}–${r.end}`;
  return (
    <li class={`blame-range ${a ? 'explained' : 'unexplained'}`} data-start={String(r.start)} data-end={String(r.end)}>
      <span class="blame-lines">{lines}</span>
      <code class="blame-commit" title={r.commit ?? 'not committed yet'}>
        {shortCommit(r.commit)}
      </code>
      {a ? (
        <span class="blame-source">
          {'session '}
          <SessionLink sessionId={a.sessionId} dispatch={props.dispatch} />
          <AgentText text={`${a.agent ? ` · agent ${a.agent}` : ''} · ${decidedBy(a)}${a.developer ? ` · for ${a.developer}` : ''}`} />
          {!r.linked && (
            <span class="chip" title="The commit does not name this session; the lines match what the approval added">
              matched by content
            </span>
          )}
        </span>
      ) : (
        <span class="blame-source none">No session explains these lines (written by other means)</span>
      )}
      <code class="blame-text">
        <AgentText text={r.firstLine} />
      </code>
    </li>
  );
}

function Result({ result, dispatch }: { result: AuditBlameMessage; dispatch: Dispatch }): JSX.Element {
  const approvals = new Map(result.approvals.map((a) => [a.id, a]));
  return (
    <div class="blame-result" id="blame-result" data-target={result.target}>
      <ul class="blame-commits">
        {result.commits.map((c) => (
          <li key={c.commit} data-commit={c.commit}>
            <code>{shortCommit(c.commit)}</code> <AgentText text={`${c.subject} (${c.author})`} />
            {' · '}
            {c.sessions.length === 0 ? (
              <span class="muted">no agent session</span>
            ) : (
              c.sessions.map((s) => <SessionLink key={s} sessionId={s} dispatch={dispatch} />)
            )}
            {c.approvedBy.length > 0 && <AgentText text={` · approved by ${c.approvedBy.join(', ')}`} />}
          </li>
        ))}
      </ul>
      {result.files.length === 0 && <p class="none">No changed lines outside the audit log.</p>}
      {result.files.map((f) => (
        <section key={f.path} class="blame-file" data-path={f.path}>
          <h3>
            <AgentText text={f.path} />
            <span class="muted">{` ${f.attributed} of ${plural(f.lines, 'changed line')} from approved edits`}</span>
          </h3>
          <ol class="blame-ranges">
            {f.ranges.map((r) => (
              <Range key={r.start} range={r} approval={r.approval === null ? undefined : approvals.get(r.approval)} dispatch={dispatch} />
            ))}
          </ol>
        </section>
      ))}
      {result.omittedRanges > 0 && (
        <p class="muted">{`${plural(result.omittedRanges, 'more range')} not shown: run "warden audit blame ${result.target}" for all.`}</p>
      )}
    </div>
  );
}

export function Blame(props: { input: string; status: BlameStatus; dispatch: Dispatch }): JSX.Element {
  const { status, dispatch } = props;
  return (
    <section class="blame" id="blame">
      <h2>Blame a commit or branch</h2>
      <form
        class="blame-form"
        onSubmit={(event) => {
          event.preventDefault();
          dispatch({ type: 'blame' });
        }}
      >
        <label for="blame-target">Commit or range</label>
        <input
          id="blame-target"
          type="text"
          autocomplete="off"
          spellcheck={false}
          placeholder="the current branch against its upstream or main (else HEAD); or e.g. main..HEAD, a1b2c3d"
          value={props.input}
          onInput={(event) => dispatch({ type: 'blameInput', text: event.currentTarget.value })}
        />
        <button type="submit" id="blame-run" class="button secondary" disabled={status.kind === 'loading'}>
          Blame
        </button>
        {status.kind !== 'idle' && (
          <button type="button" class="link-button" onClick={() => dispatch({ type: 'closeBlame' })}>
            Close
          </button>
        )}
      </form>
      {status.kind === 'loading' && (
        <p class="muted" role="status">
          <AgentText text={`Reading the blame of ${status.target || 'the current branch'}…`} />
        </p>
      )}
      {status.kind === 'failed' && (
        <div class="callout error" role="alert">
          <AgentText text={`Blame of ${status.target}: ${status.message}`} />
        </div>
      )}
      {status.kind === 'shown' && status.hidden && <HiddenCharactersWarning what="The blamed text" />}
      {status.kind === 'shown' && <Result result={status.result} dispatch={dispatch} />}
    </section>
  );
}

/** What a drawn blame lists (the `rendered` message; tests wait on it). */
export function blameCounts(result: AuditBlameMessage): { target: string; files: number; ranges: number; unexplained: number } {
  const ranges = result.files.flatMap((f) => f.ranges);
  return {
    target: result.target,
    files: result.files.length,
    ranges: ranges.length,
    unexplained: ranges.filter((r) => r.approval === null).length,
  };
}

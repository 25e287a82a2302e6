/* @jsxRuntime automatic @jsxImportSource preact */
/** Pieces of a card's body: commands and their output, permission requests, the policy's "why", the outcome. */
import type { ComponentChildren, JSX } from 'preact';
import type { ProposalView } from '../../src/shared/reviewProtocol';
import type { RiskLabel } from '../../src/core/proposals/riskLabel';
import { AgentText } from '../common/AgentText';
import { decidedBy, humanVerb, stateLabel } from './model';
import { Time } from './time';

type CommandView = Extract<ProposalView, { kind: 'command' }>;

/** Terminal colour and title sequences: noise in an output excerpt. */
// eslint-disable-next-line no-control-regex -- ESC and BEL start and end the sequences it strips
const ANSI_SEQUENCES = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)/g;

export function Field({ label, children }: { label: string; children: ComponentChildren }): JSX.Element {
  return (
    <div class="field">
      <span class="field-label">{label}</span>
      {children}
    </div>
  );
}

export function Text({
  tag: Tag = 'span',
  class: className,
  text,
}: {
  tag?: 'span' | 'code' | 'strong' | 'div' | 'li';
  class?: string;
  text: string;
}): JSX.Element {
  return (
    <Tag class={className}>
      <AgentText text={text} />
    </Tag>
  );
}

export function CommandBlock({ commandLine, label }: { commandLine: string; label: string }): JSX.Element {
  return (
    <pre class="command-line" aria-label={label}>
      <span class="prompt" aria-hidden="true">
        $
      </span>{' '}
      <code>
        <AgentText text={commandLine} />
      </code>
    </pre>
  );
}

export function CommandResult({ result }: { result: NonNullable<CommandView['result']> }): JSX.Element {
  const output = result.outputExcerpt.replace(ANSI_SEQUENCES, '').replace(/\r\n/g, '\n');
  return (
    <div class="result">
      <div class="result-status">
        {result.exitCode !== null ? (
          <span class={`exit ${result.exitCode === 0 ? 'exit-ok' : 'exit-fail'}`}>{`Exit code ${result.exitCode}`}</span>
        ) : result.signal !== null ? (
          <Text class="exit exit-fail" text={`Killed by ${result.signal}`} />
        ) : (
          <span class="exit">No exit code</span>
        )}
        {result.truncated && <span class="muted">Output truncated; the full output’s hash is in the audit log.</span>}
      </div>
      {output.trim() === '' ? (
        <p class="muted">No output.</p>
      ) : (
        // Scrollable region: reachable by keyboard.
        <pre class="output" tabIndex={0} aria-label="Command output">
          <AgentText text={output} />
        </pre>
      )}
    </div>
  );
}

export function CommandDetails({ proposal }: { proposal: CommandView }): JSX.Element {
  const env = Object.entries(proposal.env);
  return (
    <>
      <CommandBlock commandLine={proposal.commandLine} label={`Command line: ${proposal.commandLine}`} />
      <div class="cwd">
        in <Text tag="code" class="path" text={proposal.cwd} />
      </div>
      {proposal.argv.join(' ') !== proposal.commandLine && (
        <details class="argv">
          <summary>{`Exact argv (${proposal.argv.length} arguments)`}</summary>
          <ol class="argv-list">
            {proposal.argv.map((arg, i) => (
              <Text key={i} tag="li" class="code-inline" text={arg} />
            ))}
          </ol>
        </details>
      )}
      {env.length > 0 && (
        <details class="env">
          <summary>{`Environment (${env.length} variable${env.length === 1 ? '' : 's'})`}</summary>
          <ul class="env-list">
            {env.map(([name, value]) => (
              <Text key={name} tag="li" class="code-inline" text={`${name}=${value}`} />
            ))}
          </ul>
        </details>
      )}
      {proposal.result && <CommandResult result={proposal.result} />}
    </>
  );
}

/** "Why?": what the team policy said (allow and deny decided it; ask left it to you), with the rule. */
function PolicyWhy({ policy }: { policy: NonNullable<ProposalView['policy']> }): JSX.Element {
  return (
    <details class={`policy-why ${policy.decision}`}>
      <summary>
        {'Why? '}
        <span class="tag">{`policy: ${policy.decision}`}</span>
        {' rule '}
        <Text tag="code" class="policy-rule" text={policy.ruleId} />
      </summary>
      <Text tag="div" class="reason" text={policy.reason} />
      {(policy.labels ?? []).map((label) => (
        <Text key={label} class="tag policy-label" text={label} />
      ))}
    </details>
  );
}

export function Outcome({ proposal }: { proposal: ProposalView }): JSX.Element {
  const decision = proposal.decision;
  const tone = proposal.state === 'failed' ? 'error' : proposal.state === 'stale' || proposal.state === 'orphaned' ? 'warning' : 'info';
  return (
    <>
      {proposal.policy && <PolicyWhy policy={proposal.policy} />}
      {decision && (
        <div class={`decision ${decision.verdict}`}>
          {decision.reviewer.kind === 'human' ? (
            <div class="decision-line" title={`Identity from ${decision.reviewer.source}`}>
              <span class="decision-verb">{humanVerb(decision)}</span>
              {' by '}
              <Text tag="strong" class="reviewer" text={decision.reviewer.name} />
              {decision.reviewer.email && (
                <>
                  {' '}
                  <Text class="muted" text={`<${decision.reviewer.email}>`} />
                </>
              )}
              {' · '}
              <Time iso={decision.decidedAt} />
            </div>
          ) : (
            <div class="decision-line automatic">
              <Text class="decision-verb" text={decidedBy(decision)} />
              {' · '}
              <Time iso={decision.decidedAt} />
            </div>
          )}
          {decision.reason && <Text tag="div" class="reason" text={decision.reason} />}
        </div>
      )}
      {proposal.stateDetail && (
        <div class={`callout ${tone} state-detail`}>
          <strong>{`${stateLabel(proposal)}: `}</strong>
          <AgentText text={proposal.stateDetail} />
        </div>
      )}
    </>
  );
}

const RISK_ICONS: Record<RiskLabel['kind'], string> = {
  protected: 'codicon-lock',
  irreversible: 'codicon-warning',
  network: 'codicon-globe',
  'outside-scope': 'codicon-circle-slash',
  unclear: 'codicon-question',
  limit: 'codicon-dashboard',
};

export function RiskBadge({ risk }: { risk: RiskLabel }): JSX.Element {
  return (
    <span class={`risk risk-${risk.kind}`} data-risk={risk.kind} title={risk.reason}>
      <span class={`codicon ${RISK_ICONS[risk.kind]}`} aria-hidden="true" /> <AgentText text={risk.label} />
    </span>
  );
}

/** The risks with their reasons, as text in the card (the badges' titles are not read by everyone). */
export function RiskList({ risks }: { risks: RiskLabel[] }): JSX.Element | null {
  if (risks.length === 0) return null;
  return (
    <ul class="risk-list" aria-label="Risks">
      {risks.map((risk, i) => (
        <li key={i} class={`risk-reason risk-${risk.kind}`}>
          <Text tag="strong" class="risk-name" text={`${risk.label}: `} />
          <AgentText text={risk.reason} />
        </li>
      ))}
    </ul>
  );
}

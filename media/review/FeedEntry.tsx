/* @jsxRuntime automatic @jsxImportSource preact */
/** One row of the agent's feed in the conversation: its messages and thoughts, tool calls, plan, mode, notices, and the human's instructions. */
import type { JSX } from 'preact';
import type { FeedEntryView } from '../../src/shared/conversationProtocol';
import { AgentText } from '../common/AgentText';
import { Pure } from '../common/Pure';

/** A feed entry is redrawn only when its snapshot object changed (update.ts keeps unchanged ones). */
export class FeedEntry extends Pure<{ entry: FeedEntryView }> {
  render(): JSX.Element {
    const { entry } = this.props;
    return (
      <li class={`entry ${entry.type}${entry.type === 'notice' ? ` notice-${entry.level}` : ''}`} data-seq={String(entry.seq)}>
        <EntryBody entry={entry} />
      </li>
    );
  }
}

function EntryBody({ entry }: { entry: FeedEntryView }): JSX.Element {
  switch (entry.type) {
    case 'user-message':
      return (
        <>
          <div class="who">{entry.turn > 0 ? `You · turn ${entry.turn}` : 'You'}</div>
          <div class="text">
            <AgentText text={entry.text} />
          </div>
        </>
      );
    case 'agent-message':
    case 'notice':
      return (
        <div class="text">
          <AgentText text={entry.text} />
        </div>
      );
    case 'thought':
      return (
        <details>
          <summary>Thinking</summary>
          <div class="text">
            <AgentText text={entry.text} />
          </div>
        </details>
      );
    case 'tool-call':
      return <ToolCall entry={entry} />;
    case 'plan':
      return (
        <>
          <h3>Plan</h3>
          <ul class="plan">
            {entry.entries.map((step, i) => (
              <li key={i} class={`step step-${safeClass(step.status)}`}>
                <AgentText text={`${step.status === 'completed' ? '✓' : step.status === 'in_progress' ? '▶' : '○'} ${step.content}`} />
              </li>
            ))}
          </ul>
        </>
      );
    case 'commands':
      return (
        <div class="muted">
          <AgentText text={`Agent commands: ${entry.commands.map((c) => `/${c.name}`).join(' ')}`} />
        </div>
      );
    case 'mode':
      return (
        <div class="muted">
          <AgentText text={`Mode: ${entry.modeId}`} />
        </div>
      );
    case 'ended':
      return (
        <div class="muted">
          <AgentText text={`Session ended: ${entry.reason}`} />
        </div>
      );
  }
}

function ToolCall({ entry }: { entry: Extract<FeedEntryView, { type: 'tool-call' }> }): JSX.Element {
  return (
    <details class="tool">
      <summary class="tool-head">
        <span class={`tool-kind kind-${safeClass(entry.kind)}`}>
          <AgentText text={entry.kind} />
        </span>
        <span class="tool-title">
          <AgentText text={entry.title} />
        </span>
        <span class={`status status-${safeClass(entry.status)}`}>
          <AgentText text={entry.status} />
        </span>
      </summary>
      {entry.locations?.length ? (
        <div class="muted">
          <AgentText text={entry.locations.join(', ')} />
        </div>
      ) : null}
      {(entry.content ?? []).map((c, i) =>
        c.type === 'text' ? (
          <pre key={i} class="output">
            <AgentText text={c.text} />
          </pre>
        ) : c.type === 'diff' ? (
          <ToolDiff key={i} path={c.path} text={c.diff} />
        ) : (
          <div key={i} class="muted">
            <AgentText text={`terminal ${c.terminalId}`} />
          </div>
        ),
      )}
    </details>
  );
}

/** Agent-chosen words used in a class name: letters, digits and dashes only. */
function safeClass(value: string): string {
  return value.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 40);
}

/** A tool call's own diff (what the agent reported), plain: the proposal's card has the reviewed one. */
function ToolDiff({ path, text }: { path: string; text: string }): JSX.Element {
  return (
    <div class="tool-diff">
      <div class="tool-diff-path">
        <AgentText text={path} />
      </div>
      <pre>
        {text.split('\n').map((line, i) => {
          const cls =
            line.startsWith('+') && !line.startsWith('+++')
              ? 'add'
              : line.startsWith('-') && !line.startsWith('---')
                ? 'del'
                : line.startsWith('@@')
                  ? 'hunk'
                  : 'ctx';
          return (
            <span key={i} class={`line ${cls}`}>
              <AgentText text={`${line}\n`} />
            </span>
          );
        })}
      </pre>
    </div>
  );
}

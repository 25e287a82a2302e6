/* @jsxRuntime automatic @jsxImportSource preact */
/** The filter bar: full-text search, the pickers (facets of the log) and "Clear filters". */
import type { JSX } from 'preact';
import type { AuditFilters, AuditStateMessage } from '../../src/shared/auditProtocol';
import type { AuditAction, FilterName } from './update';

type Dispatch = (action: AuditAction) => void;
type Option = readonly [value: string, label: string];

const DECISIONS: Option[] = [
  ['approved', 'Approved'],
  ['rejected', 'Rejected'],
  ['automatic', 'Automatic (policy)'],
  ['human', 'By a person'],
];

const pairs = (values: readonly string[]): Option[] => values.map((v) => [v, v] as const);

function Select(props: {
  name: FilterName;
  id: string;
  label: string;
  options: Option[];
  filters: AuditFilters;
  dispatch: Dispatch;
}): JSX.Element {
  const current = props.filters[props.name] ?? '';
  const all: Option[] = [['', 'Any'], ...props.options];
  // A persisted pick the log no longer offers stays visible (and can be cleared).
  if (current && !all.some(([v]) => v === current)) all.push([current, current]);
  return (
    <div class="filter">
      <label for={props.id}>{props.label}</label>
      <select
        id={props.id}
        name={props.name}
        value={current}
        onChange={(event) => props.dispatch({ type: 'setFilter', name: props.name, value: event.currentTarget.value })}
      >
        {all.map(([value, label]) => (
          <option key={value} value={value}>
            {label}
          </option>
        ))}
      </select>
    </div>
  );
}

function Input(props: {
  name: FilterName;
  id: string;
  label: string;
  type: 'text' | 'date';
  placeholder?: string;
  filters: AuditFilters;
  dispatch: Dispatch;
}): JSX.Element {
  const set = (event: { currentTarget: HTMLInputElement }): void =>
    props.dispatch({ type: 'setFilter', name: props.name, value: event.currentTarget.value });
  return (
    <div class="filter">
      <label for={props.id}>{props.label}</label>
      {/* A date applies when picked; text as it is typed (the query waits for a pause). */}
      {props.type === 'date' ? (
        <input id={props.id} name={props.name} type="date" value={props.filters[props.name] ?? ''} onChange={set} />
      ) : (
        <input
          id={props.id}
          name={props.name}
          type="text"
          placeholder={props.placeholder ?? ''}
          autocomplete="off"
          spellcheck={false}
          value={props.filters[props.name] ?? ''}
          onInput={set}
        />
      )}
    </div>
  );
}

export function Filters(props: { snapshot: AuditStateMessage | undefined; filters: AuditFilters; dispatch: Dispatch }): JSX.Element {
  const { filters, dispatch } = props;
  const facets = props.snapshot?.facets;
  const common = { filters, dispatch };
  return (
    <form class="filters" id="filters" role="search" onSubmit={(event) => event.preventDefault()}>
      <div class="search">
        <input
          id="search"
          name="text"
          type="search"
          placeholder="Search every field…"
          aria-label="Full-text search"
          autocomplete="off"
          spellcheck={false}
          value={filters.text ?? ''}
          onInput={(event) => dispatch({ type: 'setFilter', name: 'text', value: event.currentTarget.value })}
        />
      </div>
      <div class="filter-grid">
        {/* The whole session id: ids of one day share their first characters (issue 22). */}
        <Select
          name="sessionId"
          id="filter-session"
          label="Session"
          options={pairs((props.snapshot?.sessions ?? []).map((s) => s.sessionId))}
          {...common}
        />
        <Select name="agent" id="filter-agent" label="Agent" options={pairs(facets?.agents ?? [])} {...common} />
        <Select name="decision" id="filter-decision" label="Decision" options={DECISIONS} {...common} />
        <Select name="kind" id="filter-kind" label="Kind" options={pairs(facets?.kinds ?? [])} {...common} />
        <Select name="type" id="filter-type" label="Event" options={pairs(facets?.types ?? [])} {...common} />
        <Select name="reviewer" id="filter-reviewer" label="Reviewer" options={pairs(facets?.reviewers ?? [])} {...common} />
        <Select name="developer" id="filter-developer" label="Developer" options={pairs(facets?.developers ?? [])} {...common} />
        <Select name="rule" id="filter-rule" label="Rule" options={pairs(facets?.rules ?? [])} {...common} />
        <Input name="path" id="filter-path" label="Path" type="text" placeholder="part of a path" {...common} />
        <Input name="since" id="filter-since" label="From" type="date" {...common} />
        <Input name="until" id="filter-until" label="To" type="date" {...common} />
      </div>
      <button type="button" id="clear-filters" class="link-button" onClick={() => dispatch({ type: 'clearFilters' })}>
        Clear filters
      </button>
    </form>
  );
}

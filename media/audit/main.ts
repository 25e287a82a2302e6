/**
 * The Audit panel's webview: verify status on top, a timeline of sessions, filters and
 * full-text search, and the matching entries (newest first). Every string from the log is
 * text the agent may have chosen: it only ever enters the page through `textContent` and
 * attribute setters, never as HTML. Only the filters are persisted with `setState`.
 */
import * as z from 'zod';
import {
  AuditFilters,
  parseAuditExtensionMessage,
  type AuditRowView,
  type AuditSessionView,
  type AuditStateMessage,
  type AuditWebviewMessage,
  type GroupSummaryView,
  type VerifyStatusView,
} from '../../src/shared/auditProtocol';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;
const vscode = acquireVsCodeApi();

function post(message: AuditWebviewMessage): void {
  vscode.postMessage(message);
}

const Persisted = z.object({ version: z.literal(1), filters: AuditFilters.catch({}) });
let filters: AuditFilters = (() => {
  const parsed = Persisted.safeParse(vscode.getState());
  return parsed.success ? parsed.data.filters : {};
})();

function saveUi(): void {
  vscode.setState({ version: 1, filters });
}

// ---------------------------------------------------------------- DOM helpers

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, text?: string): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text !== undefined) element.textContent = text;
  return element;
}

function button(label: string, onClick: () => void, className = 'button secondary', ariaLabel?: string): HTMLButtonElement {
  const b = el('button', className, label);
  b.type = 'button';
  if (ariaLabel) b.setAttribute('aria-label', ariaLabel);
  b.addEventListener('click', onClick);
  return b;
}

function timeText(iso: string): HTMLTimeElement {
  const t = el('time');
  t.dateTime = iso;
  const date = new Date(iso);
  t.textContent = Number.isNaN(date.getTime())
    ? iso
    : date.toLocaleString(undefined, {
        year: 'numeric',
        month: 'short',
        day: 'numeric',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
      });
  t.title = iso;
  return t;
}

// ---------------------------------------------------------------- shell

const app = document.getElementById('app') ?? document.body.appendChild(el('main'));
app.replaceChildren();
app.removeAttribute('aria-busy');

const header = el('header', 'page-header');
const heading = el('div', 'page-heading');
heading.append(
  el('h1', undefined, 'Audit log'),
  el('p', 'subtitle', 'Every instruction, proposal, decision and result, hash-chained in .warden/audit/.'),
);
const actions = el('div', 'header-actions');
const otlpButton = button('Send to OpenTelemetry', () => post({ type: 'export', format: 'otlp' }));
otlpButton.id = 'export-otlp';
otlpButton.hidden = true;
const exportJson = button('Export JSON', () => post({ type: 'export', format: 'json' }));
exportJson.id = 'export-json';
exportJson.title = 'Exports the entries matching the filters, with the verify report';
const exportCsv = button('Export CSV', () => post({ type: 'export', format: 'csv' }));
exportCsv.id = 'export-csv';
exportCsv.title = 'Exports the entries matching the filters, one row each';
actions.append(exportJson, exportCsv, otlpButton);
header.append(heading, actions);

const verifyBox = el('section', 'verify');
verifyBox.id = 'verify-status';
verifyBox.setAttribute('role', 'status');
verifyBox.setAttribute('aria-live', 'polite');
verifyBox.textContent = 'Verifying the chain…';

const notices = el('div', 'notices');
notices.id = 'notices';

// Per-developer and per-agent totals over the sessions the filters keep.
const teamSection = el('section', 'team');
teamSection.id = 'team-summary';
const teamHeading = el('h2', undefined, 'Team');
const teamTables = el('div', 'team-tables');
teamSection.append(teamHeading, teamTables);

const sessionsSection = el('section', 'sessions');
const sessionsHeading = el('h2', undefined, 'Sessions');
const sessionsList = el('ol', 'timeline');
sessionsList.id = 'sessions';
sessionsSection.append(sessionsHeading, sessionsList);

// Filters
const form = el('form', 'filters');
form.id = 'filters';
form.setAttribute('role', 'search');
form.addEventListener('submit', (event) => event.preventDefault());

function labelled(label: string, control: HTMLElement, id: string): HTMLElement {
  control.id = id;
  const wrap = el('div', 'filter');
  const l = el('label', undefined, label);
  l.htmlFor = id;
  wrap.append(l, control);
  return wrap;
}

function select(name: keyof AuditFilters): HTMLSelectElement {
  const s = el('select');
  s.name = name;
  s.addEventListener('change', () => setFilter(name, s.value));
  return s;
}

function input(name: keyof AuditFilters, type: string, placeholder: string): HTMLInputElement {
  const i = el('input');
  i.type = type;
  i.name = name;
  i.placeholder = placeholder;
  i.autocomplete = 'off';
  i.spellcheck = false;
  i.addEventListener(type === 'date' ? 'change' : 'input', () => setFilter(name, i.value, type === 'date' ? 0 : 250));
  return i;
}

const search = input('text', 'search', 'Search every field…');
search.setAttribute('aria-label', 'Full-text search');
const searchWrap = el('div', 'search');
search.id = 'search';
searchWrap.appendChild(search);

const controls = {
  sessionId: select('sessionId'),
  agent: select('agent'),
  decision: select('decision'),
  kind: select('kind'),
  type: select('type'),
  reviewer: select('reviewer'),
  developer: select('developer'),
  rule: select('rule'),
  path: input('path', 'text', 'part of a path'),
  since: input('since', 'date', ''),
  until: input('until', 'date', ''),
};
const grid = el('div', 'filter-grid');
grid.append(
  labelled('Session', controls.sessionId, 'filter-session'),
  labelled('Agent', controls.agent, 'filter-agent'),
  labelled('Decision', controls.decision, 'filter-decision'),
  labelled('Kind', controls.kind, 'filter-kind'),
  labelled('Event', controls.type, 'filter-type'),
  labelled('Reviewer', controls.reviewer, 'filter-reviewer'),
  labelled('Developer', controls.developer, 'filter-developer'),
  labelled('Rule', controls.rule, 'filter-rule'),
  labelled('Path', controls.path, 'filter-path'),
  labelled('From', controls.since, 'filter-since'),
  labelled('To', controls.until, 'filter-until'),
);
const clear = button(
  'Clear filters',
  () => {
    filters = {};
    saveUi();
    syncControls();
    post({ type: 'query', filters });
  },
  'link-button',
);
clear.id = 'clear-filters';
form.append(searchWrap, grid, clear);

const count = el('p', 'count');
count.id = 'result-count';
count.setAttribute('aria-live', 'polite');
const entriesList = el('ol', 'entries');
entriesList.id = 'entries';
const emptyNote = el('p', 'none', 'No entry matches the filters.');
emptyNote.hidden = true;

app.append(header, verifyBox, notices, teamSection, sessionsSection, form, count, emptyNote, entriesList);

// ---------------------------------------------------------------- filters

let timer: ReturnType<typeof setTimeout> | undefined;
function setFilter(name: keyof AuditFilters, value: string, delayMs = 0): void {
  const next: Record<string, string> = { ...filters };
  if (value.trim() === '') delete next[name];
  else next[name] = value;
  const parsed = AuditFilters.safeParse(next);
  if (!parsed.success) return;
  filters = parsed.data;
  saveUi();
  if (timer !== undefined) clearTimeout(timer);
  timer = setTimeout(() => {
    timer = undefined;
    post({ type: 'query', filters });
  }, delayMs);
}

function fillSelect(s: HTMLSelectElement, options: Array<[string, string]>, current: string | undefined): void {
  const all: Array<[string, string]> = [['', 'Any'], ...options];
  if (current && !all.some(([v]) => v === current)) all.push([current, current]);
  s.replaceChildren(
    ...all.map(([value, label]) => {
      const o = el('option', undefined, label);
      o.value = value;
      return o;
    }),
  );
  s.value = current ?? '';
}

let lastState: AuditStateMessage | undefined;

function syncControls(): void {
  const state = lastState;
  const pairs = (values: string[]): Array<[string, string]> => values.map((v) => [v, v]);
  fillSelect(
    controls.sessionId,
    (state?.sessions ?? []).map((s) => [s.sessionId, `${s.sessionId.slice(0, 8)} · ${new Date(s.start).toLocaleString()}`]),
    filters.sessionId,
  );
  fillSelect(controls.agent, pairs(state?.facets.agents ?? []), filters.agent);
  fillSelect(
    controls.decision,
    [
      ['approved', 'Approved'],
      ['rejected', 'Rejected'],
      ['automatic', 'Automatic (policy)'],
      ['human', 'By a person'],
    ],
    filters.decision,
  );
  fillSelect(controls.kind, pairs(state?.facets.kinds ?? []), filters.kind);
  fillSelect(controls.type, pairs(state?.facets.types ?? []), filters.type);
  fillSelect(controls.reviewer, pairs(state?.facets.reviewers ?? []), filters.reviewer);
  fillSelect(controls.developer, pairs(state?.facets.developers ?? []), filters.developer);
  fillSelect(controls.rule, pairs(state?.facets.rules ?? []), filters.rule);
  for (const [name, control] of [
    ['path', controls.path],
    ['since', controls.since],
    ['until', controls.until],
    ['text', search],
  ] as const) {
    if (document.activeElement !== control) control.value = filters[name] ?? '';
  }
}

// ---------------------------------------------------------------- rendering

function renderVerify(v: VerifyStatusView): void {
  verifyBox.className = `verify ${v.ok ? (v.anchors.ok ? 'ok' : 'broken') : 'broken'}`;
  verifyBox.dataset.ok = String(v.ok && v.anchors.ok);
  const title = el('div', 'verify-title');
  const icon = el('span', 'verify-icon', v.ok && v.anchors.ok ? '✔' : '✘');
  icon.setAttribute('aria-hidden', 'true');
  const headline = v.ok
    ? v.entries === 0
      ? 'Empty log'
      : v.anchors.ok
        ? 'Chain intact'
        : 'Chain intact, but a git anchor does not match'
    : 'Chain broken';
  title.append(icon, el('strong', undefined, headline));
  const message = el('p', 'verify-message', v.message);
  message.id = 'verify-message';
  const anchors = el('p', `verify-anchors ${v.anchors.ok ? '' : 'bad'}`, v.anchors.message);
  const meta = el('p', 'muted');
  const head = v.head ? ` · ${v.ok ? 'head' : 'last good entry'} #${v.headSeq} ${v.head.slice(0, 16)}…` : '';
  meta.append('Checked ', timeText(v.checkedAt), head);
  const buttons = el('div', 'verify-actions');
  buttons.appendChild(button('Verify again', () => post({ type: 'verify' })));
  if (v.firstBreak)
    buttons.appendChild(
      button(`Open ${v.firstBreak.file.split('/').pop() ?? 'segment'}:${v.firstBreak.line}`, () => post({ type: 'openBreak' })),
    );
  if (v.repairable) {
    const repair = button('Repair torn last line…', () => post({ type: 'repair' }), 'button primary');
    repair.id = 'repair';
    buttons.appendChild(repair);
  }
  // One line per chain that does not verify, and per failed anchor: a break in one hides no other.
  const problems = el('ul', 'verify-chains');
  problems.id = 'verify-chains';
  for (const c of v.chains.filter((x) => !x.ok)) {
    const b = c.firstBreak;
    problems.appendChild(el('li', 'bad', `chain ${c.chain}: ${b ? `${b.file}:${b.line}: ${b.reason}` : 'broken'}`));
  }
  for (const failure of v.anchorFailures) problems.appendChild(el('li', 'bad', failure));
  const chains = el(
    'p',
    'muted',
    `${v.chains.length} chain${v.chains.length === 1 ? '' : 's'}, ${v.chains.filter((c) => c.ok).length} intact`,
  );
  verifyBox.replaceChildren(title, message, chains, problems, anchors, meta, buttons);
}

function duration(ms: number | null): string {
  if (ms === null) return '–';
  return ms < 1000 ? `${Math.round(ms)} ms` : ms < 120_000 ? `${(ms / 1000).toFixed(1)} s` : `${(ms / 60_000).toFixed(1)} min`;
}

function renderGroups(title: string, groups: GroupSummaryView[], id: string): HTMLTableElement {
  const table = el('table', 'summary');
  table.id = id;
  const caption = el('caption', undefined, title);
  const head = el('tr');
  for (const h of [title, 'Sessions', 'Asks', 'Approvals', 'Rejections', 'Automatic', 'Median time to decide', 'p90 time to decide'])
    head.appendChild(el('th', undefined, h));
  const body = el('tbody');
  for (const g of groups) {
    const row = el('tr');
    for (const value of [
      g.key,
      g.sessions,
      g.asks,
      g.approvals,
      g.rejections,
      g.automatic,
      duration(g.medianDecideMs),
      duration(g.p90DecideMs),
    ])
      row.appendChild(el('td', undefined, String(value)));
    body.appendChild(row);
  }
  const thead = el('thead');
  thead.appendChild(head);
  table.append(caption, thead, body);
  return table;
}

function renderTeam(state: AuditStateMessage): void {
  teamSection.hidden = state.byDeveloper.length === 0 && state.byAgent.length === 0;
  teamTables.replaceChildren(
    renderGroups('Developer', state.byDeveloper, 'by-developer'),
    renderGroups('Agent', state.byAgent, 'by-agent'),
  );
}

function renderSessions(sessions: AuditSessionView[], total = lastState?.sessionsTotal ?? sessions.length): void {
  sessionsHeading.textContent = sessions.length === total ? `Sessions (${total})` : `Sessions (${sessions.length} of ${total})`;
  sessionsList.replaceChildren(
    ...sessions.map((s) => {
      const item = el('li', `session${filters.sessionId === s.sessionId ? ' selected' : ''}`);
      item.dataset.sessionId = s.sessionId;
      const pick = el('button', 'session-button');
      pick.type = 'button';
      pick.setAttribute('aria-pressed', String(filters.sessionId === s.sessionId));
      pick.addEventListener('click', () => {
        setFilter('sessionId', filters.sessionId === s.sessionId ? '' : s.sessionId);
        syncControls();
        renderSessions(sessions);
      });
      const line1 = el('span', 'session-line');
      line1.append(
        timeText(s.start),
        el('span', 'session-developer', s.developer ?? 'unknown developer'),
        el('span', 'session-agent', s.agent ?? 'unknown agent'),
        el('code', 'session-id', s.sessionId.slice(0, 8)),
      );
      const line2 = el('span', 'session-instruction', s.instruction ?? '(no instruction recorded)');
      const stats = el('span', 'session-stats');
      const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
      stats.append(
        el('span', 'chip', plural(s.proposals, 'proposal')),
        ...(s.asks ? [el('span', 'chip', plural(s.asks, 'ask'))] : []),
        el('span', 'chip ok', `${s.approved} approved`),
        el('span', `chip ${s.rejected ? 'bad' : ''}`, `${s.rejected} rejected`),
        ...(s.automatic ? [el('span', 'chip', `${s.automatic} automatic`)] : []),
        ...(s.errors ? [el('span', 'chip bad', plural(s.errors, 'error'))] : []),
        ...(s.commits.length ? [el('span', 'chip', `commits ${s.commits.map((c) => c.slice(0, 8)).join(', ')}`)] : []),
        el('span', 'muted', s.ended ? `ended: ${s.ended}` : 'no end recorded'),
      );
      pick.append(line1, line2, stats);
      item.appendChild(pick);
      return item;
    }),
  );
}

/** Expanded entries, by hash: seq repeats across chains. */
const expanded = new Set<string>();

function renderEntry(row: AuditRowView): HTMLLIElement {
  const item = el('li', `entry type-${row.type.replace(/[^a-z0-9-]/gi, '-')}`);
  item.dataset.seq = String(row.seq);
  item.dataset.type = row.type;
  const head = el('div', 'entry-head');
  head.append(el('span', 'seq', `#${row.seq}`), timeText(row.time), el('span', `badge type`, row.type));
  if (row.kind) head.appendChild(el('span', 'badge kind', row.kind));
  if (row.decision) {
    const verdict = row.decision === 'approve' ? 'approved' : 'rejected';
    head.appendChild(el('span', `badge decision ${verdict}`, `${verdict}${row.automatic ? ' · automatic' : ''}`));
  }
  if (row.exitCode !== null) head.appendChild(el('span', `badge ${row.exitCode === 0 ? 'ok' : 'bad'}`, `exit ${row.exitCode}`));
  head.appendChild(el('span', 'actor', `${row.actorKind}: ${row.actorName ?? row.actorId}`));
  const summary = el('p', 'summary', row.summary);
  const meta = el('p', 'entry-meta muted');
  meta.append(
    `session ${row.sessionId.slice(0, 8)}`,
    row.agent ? ` · agent ${row.agent}` : '',
    row.path ? ` · ${row.path}` : '',
    row.reviewer ? ` · by ${row.reviewer}` : '',
    row.ruleId && row.reviewer !== `policy rule ${row.ruleId}` ? ` · rule ${row.ruleId}` : '',
  );
  const bar = el('div', 'entry-actions');
  if (row.hasDiff)
    bar.appendChild(
      button(
        'Open Diff',
        () => post({ type: 'openDiff', seq: row.seq, hash: row.hash }),
        'button secondary',
        `Open the diff of entry ${row.seq}`,
      ),
    );
  const details = el('details', 'entry-detail');
  details.open = expanded.has(row.hash);
  details.addEventListener('toggle', () => (details.open ? expanded.add(row.hash) : expanded.delete(row.hash)));
  details.appendChild(el('summary', undefined, 'Entry data'));
  const pre = el('pre', 'detail', row.detail);
  const where = el('p', 'muted');
  where.append(`${row.file}:${row.line} · sha256 ${row.hash.slice(0, 16)}… `);
  where.appendChild(button('Open in file', () => post({ type: 'openEntry', seq: row.seq, hash: row.hash }), 'link-button'));
  details.append(pre, where);
  item.append(head, summary, meta, bar, details);
  return item;
}

function render(state: AuditStateMessage): void {
  lastState = state;
  renderVerify(state.verify);
  otlpButton.hidden = !state.otlpConfigured;
  renderTeam(state);
  renderSessions(state.sessions);
  syncControls();
  const shown = state.rows.length;
  const filtered = Object.keys(state.filters).length > 0;
  count.textContent =
    state.total === 0
      ? 'The audit log has no entries yet.'
      : `${filtered ? `${state.matched} of ${state.total} entries match` : `${state.total} entries`}${shown < state.matched ? `; showing the newest ${shown}` : ''}${state.problems ? ` · ${state.problems} unreadable lines skipped` : ''}`;
  emptyNote.hidden = !(state.total > 0 && state.matched === 0);
  entriesList.replaceChildren(...state.rows.map(renderEntry));
  post({ type: 'rendered', sessions: sessionsList.childElementCount, rows: entriesList.childElementCount });
}

function notice(text: string, tone: 'info' | 'error'): void {
  const box = el('div', `callout ${tone}`);
  box.setAttribute('role', tone === 'error' ? 'alert' : 'status');
  box.append(
    el('span', undefined, text),
    button('Dismiss', () => box.remove(), 'link-button'),
  );
  notices.prepend(box);
  while (notices.childElementCount > 3) notices.lastElementChild?.remove();
}

window.addEventListener('message', (event: MessageEvent<unknown>) => {
  const parsed = parseAuditExtensionMessage(event.data);
  if (!parsed.ok) {
    console.warn(`[warden audit] dropped a message: ${parsed.error}`);
    return;
  }
  const message = parsed.message;
  switch (message.type) {
    case 'state':
      app.removeAttribute('aria-busy');
      render(message);
      break;
    case 'busy':
      app.setAttribute('aria-busy', 'true');
      notice(message.what, 'info');
      break;
    case 'notice':
      app.removeAttribute('aria-busy');
      notice(message.message, 'info');
      break;
    case 'error':
      app.removeAttribute('aria-busy');
      notice(message.message, 'error');
      break;
  }
});

syncControls();
post({ type: 'ready' });
if (Object.keys(filters).length > 0) post({ type: 'query', filters });

/**
 * The Review panel's webview. Renders the proposals the extension sends (a full snapshot
 * per `state` message) and posts the reviewer's decisions back. Agent-controlled text is
 * only ever put into the page with `textContent` / text nodes / attribute setters, never as
 * HTML; invisible and bidirectional control characters in it are made visible.
 *
 * Only UI state (expanded cards, full diffs shown, scroll position) is kept with
 * `setState`; the proposals always come from the extension.
 */
import * as z from 'zod';
import {
  parseExtensionMessage,
  type EditProposalView,
  type ExtensionMessage,
  type ProposalView,
  type Verdict,
  type WebviewMessage,
} from '../../src/shared/reviewProtocol';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();

function post(message: WebviewMessage): void {
  vscode.postMessage(message);
}

// ---------------------------------------------------------------- UI state (persisted)

const PersistedUi = z.object({
  version: z.literal(1),
  scrollY: z.number().nonnegative().catch(0),
  /** Cards the reviewer opened or closed, by proposal id (the default depends on the state). */
  open: z.array(z.tuple([z.string(), z.boolean()])).catch([]),
  /** Cards whose long diff the reviewer asked to see in full. */
  fullDiff: z.array(z.string()).catch([]),
});

const ui = loadUi();

function loadUi(): { scrollY: number; open: Map<string, boolean>; fullDiff: Set<string> } {
  const parsed = PersistedUi.safeParse(vscode.getState());
  if (!parsed.success) return { scrollY: 0, open: new Map(), fullDiff: new Set() };
  return { scrollY: parsed.data.scrollY, open: new Map(parsed.data.open), fullDiff: new Set(parsed.data.fullDiff) };
}

function saveUi(): void {
  vscode.setState({ version: 1, scrollY: Math.round(window.scrollY), open: [...ui.open], fullDiff: [...ui.fullDiff] });
}

// ---------------------------------------------------------------- session state (not persisted)

/** The latest snapshot; undefined until the first `state` message. */
let proposals: ProposalView[] | undefined;
/** Decisions sent and not yet reflected in a snapshot (or answered by an error). */
const busy = new Map<string, Verdict>();
interface Banner {
  key: number;
  message: string;
}
let banners: Banner[] = [];
/** The last error about a pending proposal, shown in its card next to the buttons. */
const cardErrors = new Map<string, string>();
let nextBannerKey = 1;
const MAX_BANNERS = 3;
/** Rendered cards by proposal id, with the inputs they were rendered from. */
const cards = new Map<string, { key: string; item: HTMLLIElement }>();
let nextDomId = 1;
let restoredScroll = false;

// ---------------------------------------------------------------- small DOM helpers

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, text?: string): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text !== undefined) element.textContent = text;
  return element;
}

function button(label: string, action: string, options: { proposalId?: string; className?: string; ariaLabel?: string; disabled?: boolean } = {}): HTMLButtonElement {
  const b = el('button', options.className ?? 'button secondary', label);
  b.type = 'button';
  b.dataset.action = action;
  if (options.proposalId !== undefined) b.dataset.proposalId = options.proposalId;
  if (options.ariaLabel !== undefined) b.setAttribute('aria-label', options.ariaLabel);
  if (options.disabled) b.disabled = true;
  return b;
}

interface TextCheck {
  /** Set when agent text contains characters a reviewer cannot see (bidi overrides, zero-width...). */
  hidden: boolean;
}

/**
 * Control, bidirectional, zero-width and tag characters: rendered as visible markers, so
 * what the reviewer reads is what the bytes say (no Trojan Source tricks). Tab and newline
 * stay as they are; CR is marked, but quietly (CRLF files have one on every line).
 */
const HIDDEN_CHARACTERS =
  /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u00AD\u034F\u061C\u115F\u1160\u17B4\u17B5\u180B-\u180F\u200B-\u200F\u2028-\u202E\u2060-\u206F\u3164\uFEFF\uFFA0\uFFF9-\uFFFB]|[\u{E0000}-\u{E007F}]/gu;

const CHARACTER_NAMES = new Map<number, string>([
  [0x0d, 'carriage return'],
  [0x1b, 'escape'],
  [0x200b, 'zero width space'],
  [0x200c, 'zero width non-joiner'],
  [0x200d, 'zero width joiner'],
  [0x200e, 'left-to-right mark'],
  [0x200f, 'right-to-left mark'],
  [0x202a, 'left-to-right embedding'],
  [0x202b, 'right-to-left embedding'],
  [0x202c, 'pop directional formatting'],
  [0x202d, 'left-to-right override'],
  [0x202e, 'right-to-left override'],
  [0x2066, 'left-to-right isolate'],
  [0x2067, 'right-to-left isolate'],
  [0x2068, 'first strong isolate'],
  [0x2069, 'pop directional isolate'],
  [0xfeff, 'zero width no-break space'],
]);

function codePointLabel(codePoint: number): string {
  return `U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Appends agent text as text nodes, with hidden characters shown as marked-up code points. */
function appendText(parent: Node, text: string, check?: TextCheck): void {
  let last = 0;
  for (const match of text.matchAll(HIDDEN_CHARACTERS)) {
    const index = match.index;
    if (index > last) parent.appendChild(document.createTextNode(text.slice(last, index)));
    const codePoint = match[0].codePointAt(0) ?? 0;
    const isCr = codePoint === 0x0d;
    const marker = el('span', isCr ? 'hidden-char cr' : 'hidden-char', isCr ? '␍' : codePointLabel(codePoint));
    const name = CHARACTER_NAMES.get(codePoint);
    marker.title = `Invisible character ${codePointLabel(codePoint)}${name ? ` (${name})` : ''}`;
    parent.appendChild(marker);
    if (!isCr && check) check.hidden = true;
    last = index + match[0].length;
  }
  if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
}

function textElement<K extends keyof HTMLElementTagNameMap>(tag: K, className: string, text: string, check?: TextCheck): HTMLElementTagNameMap[K] {
  const element = el(tag, className);
  appendText(element, text, check);
  return element;
}

function formatTime(iso: string): { text: string; title: string } {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return { text: iso, title: iso };
  const sameDay = date.toDateString() === new Date().toDateString();
  const text = sameDay
    ? date.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' })
    : date.toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
  return { text, title: date.toLocaleString() };
}

function timeElement(iso: string): HTMLTimeElement {
  const { text, title } = formatTime(iso);
  const time = el('time', undefined, text);
  time.dateTime = iso;
  time.title = title;
  return time;
}

// ---------------------------------------------------------------- unified diff

interface DiffRow {
  kind: 'meta' | 'hunk' | 'add' | 'del' | 'ctx' | 'note';
  text: string;
  oldLine?: number;
  newLine?: number;
}

interface ParsedDiff {
  rows: DiffRow[];
  added: number;
  removed: number;
  newFile: boolean;
  deletedFile: boolean;
}

/** Parses a unified diff, using the hunk line counts so a removed line "-- x" is not taken for a header. */
function parseUnifiedDiff(diff: string): ParsedDiff {
  const lines = diff.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const parsed: ParsedDiff = { rows: [], added: 0, removed: 0, newFile: false, deletedFile: false };
  let oldLeft = 0;
  let newLeft = 0;
  let oldLine = 0;
  let newLine = 0;
  for (const line of lines) {
    if (line.startsWith('\\')) {
      parsed.rows.push({ kind: 'note', text: line.slice(1).trim() });
      continue;
    }
    if (oldLeft > 0 || newLeft > 0) {
      const sign = line.charAt(0);
      if (sign === '+' && newLeft > 0) {
        parsed.rows.push({ kind: 'add', text: line.slice(1), newLine: newLine++ });
        newLeft--;
        parsed.added++;
        continue;
      }
      if (sign === '-' && oldLeft > 0) {
        parsed.rows.push({ kind: 'del', text: line.slice(1), oldLine: oldLine++ });
        oldLeft--;
        parsed.removed++;
        continue;
      }
      if (sign === ' ' || line === '') {
        parsed.rows.push({ kind: 'ctx', text: line.slice(1), oldLine: oldLine++, newLine: newLine++ });
        oldLeft = Math.max(0, oldLeft - 1);
        newLeft = Math.max(0, newLeft - 1);
        continue;
      }
      // Malformed hunk: stop counting and show the rest as it is.
      oldLeft = 0;
      newLeft = 0;
    }
    const hunk = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/.exec(line);
    if (hunk) {
      oldLine = Number(hunk[1]);
      oldLeft = hunk[2] === undefined ? 1 : Number(hunk[2]);
      newLine = Number(hunk[3]);
      newLeft = hunk[4] === undefined ? 1 : Number(hunk[4]);
      parsed.rows.push({ kind: 'hunk', text: line });
      continue;
    }
    if (line.startsWith('--- ')) {
      if (line.slice(4).trim() === '/dev/null') parsed.newFile = true;
      continue; // the path is shown above the diff
    }
    if (line.startsWith('+++ ')) {
      if (line.slice(4).trim() === '/dev/null') parsed.deletedFile = true;
      continue;
    }
    if (/^={3,}$/.test(line) || line.startsWith('Index: ')) continue;
    parsed.rows.push({ kind: 'meta', text: line });
  }
  return parsed;
}

/** Rows shown before "Show all" (the extension's diff editor always shows everything). */
const DIFF_ROW_LIMIT = 600;

function fileHeader(path: string, diff: ParsedDiff, check: TextCheck): HTMLElement {
  const header = el('div', 'file-header');
  header.appendChild(textElement('span', 'file-path', path, check));
  if (diff.newFile) header.appendChild(el('span', 'tag tag-new', 'new file'));
  if (diff.deletedFile) header.appendChild(el('span', 'tag tag-deleted', 'deleted'));
  const stats = el('span', 'diff-stats');
  stats.setAttribute('aria-label', `${diff.added} lines added, ${diff.removed} lines removed`);
  stats.append(el('span', 'stat-add', `+${diff.added}`), el('span', 'stat-del', `−${diff.removed}`));
  header.appendChild(stats);
  return header;
}

function diffView(proposalId: string, path: string, diff: ParsedDiff, check: TextCheck): HTMLElement {
  const wrapper = el('div', 'diff');
  const body = diff.rows.filter((row) => row.kind !== 'meta' || row.text.trim() !== '');
  if (!body.some((row) => row.kind === 'add' || row.kind === 'del')) {
    wrapper.appendChild(el('p', 'diff-empty', 'No change to the file content.'));
  }
  const showAll = ui.fullDiff.has(proposalId);
  const visible = showAll ? body : body.slice(0, DIFF_ROW_LIMIT);
  const table = el('table', 'diff-table');
  table.setAttribute('aria-label', `Changes to ${path}`);
  const columns = el('colgroup');
  columns.append(el('col', 'col-ln'), el('col', 'col-ln'), el('col', 'col-sign'), el('col', 'col-code'));
  table.appendChild(columns);
  const tbody = el('tbody');
  for (const row of visible) {
    const tr = el('tr', `diff-row ${row.kind}`);
    if (row.kind === 'hunk' || row.kind === 'meta' || row.kind === 'note') {
      const cell = el('td', 'diff-wide');
      cell.colSpan = 4;
      appendText(cell, row.kind === 'note' ? `\\ ${row.text}` : row.text, check);
      tr.appendChild(cell);
    } else {
      const sign = row.kind === 'add' ? '+' : row.kind === 'del' ? '-' : ' ';
      tr.append(
        el('td', 'ln ln-old', row.oldLine === undefined ? '' : String(row.oldLine)),
        el('td', 'ln ln-new', row.newLine === undefined ? '' : String(row.newLine)),
        el('td', 'sign', sign),
        textElement('td', 'code', row.text, check),
      );
    }
    tbody.appendChild(tr);
  }
  table.appendChild(tbody);
  wrapper.appendChild(table);
  if (visible.length < body.length) {
    // Hidden lines are still checked for invisible characters, so the warning is complete.
    for (const row of body.slice(visible.length)) appendText(document.createDocumentFragment(), row.text, check);
    const more = el('div', 'diff-more');
    more.appendChild(el('span', undefined, `${body.length - visible.length} more lines not shown. `));
    more.appendChild(button('Show all lines', 'showFullDiff', { proposalId, className: 'link-button', ariaLabel: `Show all lines of the diff of ${path}` }));
    wrapper.appendChild(more);
  }
  return wrapper;
}

// ---------------------------------------------------------------- commands

/** Terminal colour and title sequences: noise in an output excerpt. */
const ANSI_SEQUENCES = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)/g;

function commandBlock(commandLine: string, check: TextCheck, label: string): HTMLElement {
  const pre = el('pre', 'command-line');
  pre.setAttribute('aria-label', label);
  const prompt = el('span', 'prompt', '$');
  prompt.setAttribute('aria-hidden', 'true');
  const code = el('code');
  appendText(code, commandLine, check);
  pre.append(prompt, ' ', code);
  return pre;
}

function commandResult(result: NonNullable<Extract<ProposalView, { kind: 'command' }>['result']>, check: TextCheck): HTMLElement {
  const box = el('div', 'result');
  const status = el('div', 'result-status');
  if (result.exitCode !== null) {
    status.appendChild(el('span', `exit ${result.exitCode === 0 ? 'exit-ok' : 'exit-fail'}`, `Exit code ${result.exitCode}`));
  } else if (result.signal !== null) {
    status.appendChild(textElement('span', 'exit exit-fail', `Killed by ${result.signal}`, check));
  } else {
    status.appendChild(el('span', 'exit', 'No exit code'));
  }
  if (result.truncated) status.appendChild(el('span', 'muted', 'Output truncated; the full output’s hash is in the audit log.'));
  box.appendChild(status);
  const output = result.outputExcerpt.replace(ANSI_SEQUENCES, '').replace(/\r\n/g, '\n');
  if (output.trim() === '') {
    box.appendChild(el('p', 'muted', 'No output.'));
  } else {
    const pre = el('pre', 'output');
    pre.tabIndex = 0; // scrollable region: reachable by keyboard
    pre.setAttribute('aria-label', 'Command output');
    appendText(pre, output, check);
    box.appendChild(pre);
  }
  return box;
}

function field(label: string, ...content: Array<Node | string>): HTMLElement {
  const row = el('div', 'field');
  row.append(el('span', 'field-label', label), ...content);
  return row;
}

// ---------------------------------------------------------------- cards

const KIND_LABELS: Record<ProposalView['kind'], string> = { edit: 'Edit', command: 'Command', permission: 'Permission', question: 'Needs your input' };

function stateLabel(proposal: ProposalView): string {
  switch (proposal.state) {
    case 'pending':
      return 'Pending';
    case 'approved':
      return proposal.kind === 'command' ? 'Approved · running' : 'Approved · applying';
    case 'rejected':
      return 'Rejected';
    case 'applied':
      return proposal.kind === 'command' ? 'Ran' : proposal.kind === 'permission' ? 'Answered' : 'Applied';
    case 'failed':
      return 'Failed';
    case 'stale':
      return 'Stale';
    case 'orphaned':
      return 'Orphaned';
  }
}

function isOpen(proposal: ProposalView): boolean {
  return ui.open.get(proposal.id) ?? proposal.state === 'pending';
}

function hasEdit(proposal: ProposalView): boolean {
  return proposal.kind === 'edit' || (proposal.kind === 'permission' && proposal.edit !== undefined);
}

function decisionSummary(proposal: ProposalView): string | undefined {
  const decision = proposal.decision;
  if (!decision) return undefined;
  const verb = decision.verdict === 'approve' ? 'Accepted' : 'Rejected';
  const by = decision.reviewer.kind === 'human' ? decision.reviewer.name : `${decision.reviewer.kind} (${decision.reviewer.name})`;
  return `${verb} by ${by}`;
}

function cardKey(proposal: ProposalView): string {
  return JSON.stringify([proposal, isOpen(proposal), ui.fullDiff.has(proposal.id), busy.get(proposal.id) ?? null, cardErrors.get(proposal.id) ?? null]);
}

function buildCard(proposal: ProposalView): HTMLLIElement {
  const check: TextCheck = { hidden: false };
  const open = isOpen(proposal);
  const domId = nextDomId++;
  const item = el('li', 'card-item');
  const card = el('article', `card kind-${proposal.kind} state-${proposal.state}`);
  card.dataset.proposalId = proposal.id;
  card.dataset.state = proposal.state;
  card.tabIndex = -1;
  card.setAttribute('aria-labelledby', `title-${domId}`);
  item.appendChild(card);

  const header = el('header', 'card-header');
  const toggle = button('', 'toggle', {
    proposalId: proposal.id,
    className: 'toggle',
    ariaLabel: `${open ? 'Hide' : 'Show'} details: ${proposal.title}`,
  });
  toggle.setAttribute('aria-expanded', String(open));
  toggle.setAttribute('aria-controls', `body-${domId}`);
  toggle.appendChild(el('span', 'chevron'));
  const title = textElement('h3', 'card-title', proposal.title, check);
  title.id = `title-${domId}`;
  header.append(toggle, el('span', `badge kind-badge kind-${proposal.kind}`, KIND_LABELS[proposal.kind]), title, el('span', `state-pill ${proposal.state}`, stateLabel(proposal)));
  card.appendChild(header);

  const meta = el('div', 'card-meta');
  meta.append('Asked ', timeElement(proposal.createdAt), ' via ');
  meta.appendChild(textElement('span', 'origin', proposal.origin, check));
  const decided = decisionSummary(proposal);
  if (decided) meta.append(' · ', textElement('span', `meta-decision ${proposal.decision?.verdict ?? ''}`, decided, check));
  if (proposal.kind === 'command' && proposal.result) {
    const code = proposal.result.exitCode;
    meta.append(' · ', el('span', code === 0 ? 'exit-ok' : 'exit-fail', code === null ? 'no exit code' : `exit ${code}`));
  }
  card.appendChild(meta);

  const body = el('div', 'card-body');
  body.id = `body-${domId}`;
  body.hidden = !open;
  switch (proposal.kind) {
    case 'edit':
      renderEdit(body, proposal, check);
      break;
    case 'command':
      renderCommand(body, proposal, check);
      break;
    case 'permission':
      renderPermission(body, proposal, check);
      break;
    case 'question':
      body.appendChild(field('Question', textElement('span', 'question', proposal.question, check)));
      if (proposal.answer !== undefined) body.appendChild(field('Answer', textElement('span', 'answer', proposal.answer, check)));
      else if (proposal.state === 'pending') body.appendChild(el('p', 'muted', 'Answer it in the Warden Session view (or with "Warden: Answer Agent Question"); Reject declines to answer.'));
      break;
  }
  renderOutcome(body, proposal, check);
  if (check.hidden) {
    const warning = el('div', 'callout warning');
    warning.setAttribute('role', 'note');
    warning.textContent =
      'This proposal contains invisible or bidirectional control characters (shown as U+XXXX markers). They can make text read differently from what it does; check them before accepting.';
    body.prepend(warning);
  }
  const cardError = cardErrors.get(proposal.id);
  if (cardError !== undefined) {
    const error = el('div', 'callout error card-error');
    error.setAttribute('role', 'alert');
    appendText(error, cardError);
    body.appendChild(error);
  }
  if (proposal.state === 'pending') body.appendChild(actions(proposal));
  card.appendChild(body);
  return item;
}

function renderEdit(body: HTMLElement, proposal: EditProposalView, check: TextCheck): void {
  const diff = parseUnifiedDiff(proposal.diff);
  body.append(fileHeader(proposal.path, diff, check), diffView(proposal.id, proposal.path, diff, check));
}

function renderCommand(body: HTMLElement, proposal: Extract<ProposalView, { kind: 'command' }>, check: TextCheck): void {
  body.appendChild(commandBlock(proposal.commandLine, check, `Command line: ${proposal.commandLine}`));
  const cwd = el('div', 'cwd');
  cwd.append('in ', textElement('code', 'path', proposal.cwd, check));
  body.appendChild(cwd);
  const argvMatches = proposal.argv.join(' ') === proposal.commandLine;
  if (!argvMatches) {
    const details = el('details', 'argv');
    details.appendChild(el('summary', undefined, `Exact argv (${proposal.argv.length} arguments)`));
    const list = el('ol', 'argv-list');
    for (const arg of proposal.argv) list.appendChild(textElement('li', 'code-inline', arg, check));
    details.appendChild(list);
    body.appendChild(details);
  }
  const env = Object.entries(proposal.env);
  if (env.length > 0) {
    const details = el('details', 'env');
    details.appendChild(el('summary', undefined, `Environment (${env.length} variable${env.length === 1 ? '' : 's'})`));
    const list = el('ul', 'env-list');
    for (const [name, value] of env) list.appendChild(textElement('li', 'code-inline', `${name}=${value}`, check));
    details.appendChild(list);
    body.appendChild(details);
  }
  if (proposal.result) body.appendChild(commandResult(proposal.result, check));
}

function renderPermission(body: HTMLElement, proposal: Extract<ProposalView, { kind: 'permission' }>, check: TextCheck): void {
  body.appendChild(field('Tool', textElement('code', 'code-inline', proposal.toolKind, check)));
  if (proposal.edit) {
    const diff = parseUnifiedDiff(proposal.edit.diff);
    body.append(fileHeader(proposal.edit.path, diff, check), diffView(proposal.id, proposal.edit.path, diff, check));
  }
  if (proposal.commandLine !== undefined) body.appendChild(commandBlock(proposal.commandLine, check, `Command line: ${proposal.commandLine}`));
  if (proposal.options.length > 0) {
    const options = el('span', 'options');
    for (const option of proposal.options) {
      const chosen = option.optionId === proposal.chosenOptionId;
      const chip = textElement('span', `option-chip${chosen ? ' chosen' : ''}`, option.name, check);
      chip.title = `${option.kind} (${option.optionId})`;
      options.appendChild(chip);
    }
    body.appendChild(field('Options', options));
  }
  if (proposal.chosenOptionId !== undefined) {
    const option = proposal.options.find((o) => o.optionId === proposal.chosenOptionId);
    const sent = option ? `${option.name} (${option.kind})` : proposal.chosenOptionId;
    body.appendChild(field('Agent was sent', textElement('strong', 'chosen-option', sent, check)));
  }
}

/** "Why?": what the team policy said (allow and deny decided it; ask left it to you), with the rule. */
function renderPolicy(body: HTMLElement, proposal: ProposalView, check: TextCheck): void {
  const policy = proposal.policy;
  if (!policy) return;
  const why = el('details', `policy-why ${policy.decision}`);
  const summary = el('summary', undefined, 'Why? ');
  summary.append(el('span', 'tag', `policy: ${policy.decision}`), ' rule ');
  summary.appendChild(textElement('code', 'policy-rule', policy.ruleId, check));
  why.appendChild(summary);
  why.appendChild(textElement('div', 'reason', policy.reason, check));
  for (const label of policy.labels ?? []) why.appendChild(textElement('span', 'tag policy-label', label, check));
  body.appendChild(why);
}

function renderOutcome(body: HTMLElement, proposal: ProposalView, check: TextCheck): void {
  renderPolicy(body, proposal, check);
  const decision = proposal.decision;
  if (decision) {
    const box = el('div', `decision ${decision.verdict}`);
    const line = el('div', 'decision-line');
    line.append(el('span', 'decision-verb', decision.verdict === 'approve' ? 'Accepted' : 'Rejected'), ' by ');
    line.appendChild(textElement('strong', 'reviewer', decision.reviewer.name, check));
    if (decision.reviewer.email) line.append(' ', textElement('span', 'muted', `<${decision.reviewer.email}>`, check));
    if (decision.reviewer.kind !== 'human') line.append(' ', el('span', 'tag', decision.reviewer.kind));
    line.append(' · ', timeElement(decision.decidedAt));
    line.title = `Identity from ${decision.reviewer.source}`;
    box.appendChild(line);
    if (decision.reason) box.appendChild(textElement('div', 'reason', decision.reason, check));
    body.appendChild(box);
  }
  if (proposal.stateDetail) {
    const tone = proposal.state === 'failed' ? 'error' : proposal.state === 'stale' || proposal.state === 'orphaned' ? 'warning' : 'info';
    const detail = el('div', `callout ${tone} state-detail`);
    detail.append(el('strong', undefined, `${stateLabel(proposal)}: `));
    appendText(detail, proposal.stateDetail, check);
    body.appendChild(detail);
  }
}

function actions(proposal: ProposalView): HTMLElement {
  const bar = el('div', 'actions');
  const sending = busy.get(proposal.id);
  bar.append(
    button(sending === 'approve' ? 'Accepting…' : 'Accept', 'approve', {
      proposalId: proposal.id,
      className: 'button primary',
      ariaLabel: `Accept: ${proposal.title}`,
      disabled: sending !== undefined,
    }),
    button(sending === 'reject' ? 'Rejecting…' : 'Reject', 'reject', {
      proposalId: proposal.id,
      className: 'button secondary',
      ariaLabel: `Reject: ${proposal.title}`,
      disabled: sending !== undefined,
    }),
  );
  if (hasEdit(proposal)) {
    bar.appendChild(button('Open Diff', 'openDiff', { proposalId: proposal.id, className: 'button secondary', ariaLabel: `Open diff: ${proposal.title}` }));
  }
  return bar;
}

// ---------------------------------------------------------------- page

const app = document.getElementById('app') ?? document.body.appendChild(el('main'));

interface Shell {
  summary: HTMLElement;
  banners: HTMLElement;
  empty: HTMLElement;
  pendingSection: HTMLElement;
  pendingCount: HTMLElement;
  pendingList: HTMLOListElement;
  pendingNone: HTMLElement;
  historySection: HTMLElement;
  historyCount: HTMLElement;
  historyList: HTMLOListElement;
  live: HTMLElement;
}

let shell: Shell | undefined;

function buildShell(): Shell {
  app.replaceChildren();
  app.removeAttribute('aria-busy');

  const header = el('header', 'page-header');
  const heading = el('div', 'page-heading');
  heading.append(el('h1', undefined, 'Agent proposals'), el('p', 'subtitle', 'Nothing the agent proposes changes your workspace or runs until you accept it.'));
  const summary = el('div', 'summary');
  header.append(heading, summary);

  const banners = el('div', 'banners');

  const empty = el('section', 'empty');
  empty.append(
    el('h2', undefined, 'No proposals yet…'),
    el('p', undefined, 'When the agent wants to edit a file, run a command or use a tool, the request appears here for you to accept or reject.'),
  );

  const section = (id: string, title: string, hint: string): { section: HTMLElement; count: HTMLElement; list: HTMLOListElement } => {
    const s = el('section', 'group');
    s.setAttribute('aria-labelledby', `${id}-heading`);
    const h = el('h2', 'group-heading');
    h.id = `${id}-heading`;
    const count = el('span', 'count');
    h.append(el('span', undefined, title), count);
    const list = el('ol', 'cards');
    s.append(h, el('p', 'hint', hint), list);
    return { section: s, count, list };
  };
  const pending = section('pending', 'Waiting for your review', 'In the order the agent asked.');
  const pendingNone = el('p', 'none', 'Nothing is waiting for your review.');
  pending.section.insertBefore(pendingNone, pending.list);
  const history = section('history', 'History', 'Newest first.');

  const live = el('div', 'visually-hidden');
  live.setAttribute('role', 'status');
  live.setAttribute('aria-live', 'polite');

  app.append(header, banners, empty, pending.section, history.section, live);
  return {
    summary,
    banners,
    empty,
    pendingSection: pending.section,
    pendingCount: pending.count,
    pendingList: pending.list,
    pendingNone,
    historySection: history.section,
    historyCount: history.count,
    historyList: history.list,
    live,
  };
}

/** Puts `nodes` into `container` in order, moving only the nodes that are out of place. */
function placeChildren(container: HTMLElement, nodes: HTMLElement[]): void {
  let cursor = container.firstElementChild;
  for (const node of nodes) {
    if (node === cursor) cursor = cursor.nextElementSibling;
    else container.insertBefore(node, cursor);
  }
  while (cursor) {
    const next = cursor.nextElementSibling;
    cursor.remove();
    cursor = next;
  }
}

function byCreated(a: ProposalView, b: ProposalView): number {
  return a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id);
}

interface FocusMemo {
  proposalId: string;
  action: string | undefined;
  pendingIndex: number;
}

function captureFocus(pendingIds: string[]): FocusMemo | undefined {
  const active = document.activeElement;
  if (!(active instanceof HTMLElement) || !app.contains(active)) return undefined;
  const card = active.closest<HTMLElement>('article[data-proposal-id]');
  const proposalId = card?.dataset.proposalId;
  if (proposalId === undefined) return undefined;
  return { proposalId, action: active.dataset.action, pendingIndex: pendingIds.indexOf(proposalId) };
}

/** When a re-render took the focused element away, put focus somewhere sensible (never on Accept). */
function restoreFocus(memo: FocusMemo | undefined, pendingIds: string[]): void {
  if (!memo) return;
  const active = document.activeElement;
  if (active instanceof HTMLElement && active !== document.body && app.contains(active)) return;
  const card = findCard(memo.proposalId);
  if (card && pendingIds.includes(memo.proposalId)) {
    const same = memo.action ? card.querySelector<HTMLButtonElement>(`button[data-action="${memo.action}"]:not(:disabled)`) : null;
    (same ?? card).focus({ preventScroll: true });
    return;
  }
  if (memo.pendingIndex >= 0 && pendingIds.length > 0) {
    const next = findCard(pendingIds[Math.min(memo.pendingIndex, pendingIds.length - 1)] ?? '');
    if (next) {
      next.focus();
      return;
    }
  }
  card?.focus({ preventScroll: true });
}

function findCard(proposalId: string): HTMLElement | undefined {
  for (const card of app.querySelectorAll<HTMLElement>('article[data-proposal-id]')) {
    if (card.dataset.proposalId === proposalId) return card;
  }
  return undefined;
}

function render(): void {
  if (proposals === undefined) return;
  shell ??= buildShell();
  const pending = proposals.filter((p) => p.state === 'pending').sort(byCreated);
  const history = proposals.filter((p) => p.state !== 'pending').sort((a, b) => byCreated(b, a));
  const previousPendingIds = [...shell.pendingList.querySelectorAll<HTMLElement>('article[data-proposal-id]')].map((c) => c.dataset.proposalId ?? '');
  const focus = captureFocus(previousPendingIds);

  const present = new Set(proposals.map((p) => p.id));
  for (const id of [...cards.keys()]) if (!present.has(id)) cards.delete(id);
  const itemFor = (proposal: ProposalView): HTMLLIElement => {
    const key = cardKey(proposal);
    const cached = cards.get(proposal.id);
    if (cached && cached.key === key) return cached.item;
    const item = buildCard(proposal);
    cards.set(proposal.id, { key, item });
    return item;
  };
  placeChildren(shell.pendingList, pending.map(itemFor));
  placeChildren(shell.historyList, history.map(itemFor));

  const total = proposals.length;
  shell.empty.hidden = total > 0;
  shell.pendingSection.hidden = total === 0;
  shell.historySection.hidden = history.length === 0;
  shell.pendingNone.hidden = pending.length > 0;
  shell.pendingCount.textContent = String(pending.length);
  shell.historyCount.textContent = String(history.length);
  shell.summary.replaceChildren(
    el('span', `summary-chip${pending.length > 0 ? ' attention' : ''}`, `${pending.length} waiting`),
    el('span', 'summary-chip', `${history.length} decided`),
  );

  placeChildren(
    shell.banners,
    banners.map((banner) => {
      const box = el('div', 'callout error banner');
      box.setAttribute('role', 'alert');
      const message = el('span', 'banner-message');
      appendText(message, banner.message);
      box.append(message, button('Dismiss', 'dismissError', { className: 'link-button', ariaLabel: 'Dismiss this error' }));
      box.dataset.bannerKey = String(banner.key);
      return box;
    }),
  );

  restoreFocus(focus, pending.map((p) => p.id));
  if (!restoredScroll) {
    restoredScroll = true;
    if (ui.scrollY > 0) window.scrollTo(0, ui.scrollY);
  }
}

function announce(text: string): void {
  if (!shell) return;
  const live = shell.live;
  live.textContent = '';
  window.setTimeout(() => {
    live.textContent = text;
  }, 50);
}

function describeChanges(previous: ProposalView[] | undefined, next: ProposalView[]): string | undefined {
  if (previous === undefined) return undefined;
  const before = new Map(previous.map((p) => [p.id, p.state]));
  const parts: string[] = [];
  for (const p of next) {
    const was = before.get(p.id);
    if (was === undefined && p.state === 'pending') parts.push(`New proposal: ${p.title}`);
    else if (was !== undefined && was !== p.state) parts.push(`${p.title}: ${stateLabel(p)}`);
  }
  return parts.length > 0 ? parts.slice(0, 3).join('. ') : undefined;
}

function onMessage(message: ExtensionMessage): void {
  switch (message.type) {
    case 'state': {
      const announcement = describeChanges(proposals, message.proposals);
      proposals = message.proposals;
      const byId = new Map(proposals.map((p) => [p.id, p]));
      for (const id of [...busy.keys()]) if (byId.get(id)?.state !== 'pending') busy.delete(id);
      for (const id of [...cardErrors.keys()]) if (byId.get(id)?.state !== 'pending') cardErrors.delete(id);
      let pruned = false;
      for (const id of [...ui.open.keys()]) if (!byId.has(id)) pruned = ui.open.delete(id) || pruned;
      for (const id of [...ui.fullDiff]) if (!byId.has(id)) pruned = ui.fullDiff.delete(id) || pruned;
      if (pruned) saveUi();
      render();
      if (announcement) announce(announcement);
      return;
    }
    case 'error': {
      if (proposals === undefined) proposals = [];
      const target = message.proposalId === undefined ? undefined : proposals.find((p) => p.id === message.proposalId);
      if (message.proposalId !== undefined) busy.delete(message.proposalId);
      if (target && target.state === 'pending') {
        // Shown where the reviewer clicked; the extension also shows a notification.
        cardErrors.set(target.id, message.message);
      } else {
        banners = [...banners, { key: nextBannerKey++, message: message.message }].slice(-MAX_BANNERS);
      }
      render();
      return;
    }
  }
}

function decide(proposalId: string, verdict: Verdict): void {
  const proposal = proposals?.find((p) => p.id === proposalId);
  if (!proposal || proposal.state !== 'pending' || busy.has(proposalId)) return;
  busy.set(proposalId, verdict);
  cardErrors.delete(proposalId);
  render();
  post({ type: 'decide', proposalId, verdict });
}

app.addEventListener('click', (event) => {
  const target = event.target instanceof Element ? event.target.closest<HTMLButtonElement>('button[data-action]') : null;
  if (!target || target.disabled) return;
  const proposalId = target.dataset.proposalId;
  switch (target.dataset.action) {
    case 'approve':
    case 'reject':
      if (proposalId !== undefined) decide(proposalId, target.dataset.action);
      return;
    case 'openDiff':
      if (proposalId !== undefined) post({ type: 'openDiff', proposalId });
      return;
    case 'toggle': {
      const proposal = proposals?.find((p) => p.id === proposalId);
      if (!proposal) return;
      ui.open.set(proposal.id, !isOpen(proposal));
      saveUi();
      render();
      findCard(proposal.id)?.querySelector<HTMLButtonElement>('button[data-action="toggle"]')?.focus({ preventScroll: true });
      return;
    }
    case 'showFullDiff':
      if (proposalId === undefined) return;
      ui.fullDiff.add(proposalId);
      saveUi();
      render();
      return;
    case 'dismissError': {
      const key = Number(target.closest<HTMLElement>('[data-banner-key]')?.dataset.bannerKey);
      banners = banners.filter((b) => b.key !== key);
      render();
      return;
    }
  }
});

let scrollSaveQueued = false;
window.addEventListener(
  'scroll',
  () => {
    if (scrollSaveQueued || !restoredScroll) return;
    scrollSaveQueued = true;
    window.requestAnimationFrame(() => {
      scrollSaveQueued = false;
      saveUi();
    });
  },
  { passive: true },
);

window.addEventListener('message', (event: MessageEvent<unknown>) => {
  const parsed = parseExtensionMessage(event.data);
  if (!parsed.ok) {
    console.warn(`[warden review] dropped an invalid message from the extension: ${parsed.error}`);
    return;
  }
  onMessage(parsed.message);
});

post({ type: 'ready' });

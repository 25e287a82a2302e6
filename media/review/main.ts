/**
 * The Review panel's webview. Renders the proposals the extension sends (a full snapshot
 * per `state` message) and posts the reviewer's decisions back. Agent-controlled text is
 * only ever put into the page with `textContent` / text nodes / attribute setters, never as
 * HTML; invisible and bidirectional control characters in it are made visible.
 *
 * Only UI state (expanded cards, full diffs shown, scroll position, unfinished edits) is
 * kept with `setState`; the proposals always come from the extension.
 *
 * Pending proposals are grouped by session, then by file. Edits of text files with several
 * hunks are decided hunk by hunk; edits and commands can be edited before accepting. The
 * contributed keybindings (j/k, a, r, e) arrive as `key` messages: the webview knows what is
 * selected, the extension decides what the keys are.
 */
import * as z from 'zod';
import {
  parseExtensionMessage,
  type EditProposalView,
  type ExtensionMessage,
  type KeyAction,
  type ProposalView,
  type TurnInfo,
  type Verdict,
  type WebviewMessage,
} from '../../src/shared/reviewProtocol';
import { commandIsEditable, textIsEditable } from '../../src/core/proposals/editable';
import type { RiskLabel } from '../../src/core/proposals/riskLabel';
import { groupByTurn, turnKey, type ReviewMode } from '../../src/core/proposals/turns';

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
  /** Unfinished edits of a proposal's content or command line: hiding the panel loses none of them. */
  drafts: z
    .array(
      z.tuple([
        z.string(),
        z.discriminatedUnion('kind', [
          z.object({ kind: z.literal('text'), newHash: z.string(), text: z.string() }),
          z.object({ kind: z.literal('command'), text: z.string() }),
        ]),
      ]),
    )
    .catch([]),
});

type Draft = { kind: 'text'; newHash: string; text: string } | { kind: 'command'; text: string };

const ui = loadUi();

function loadUi(): { scrollY: number; open: Map<string, boolean>; fullDiff: Set<string>; drafts: Map<string, Draft> } {
  const parsed = PersistedUi.safeParse(vscode.getState());
  if (!parsed.success) return { scrollY: 0, open: new Map(), fullDiff: new Set(), drafts: new Map() };
  return {
    scrollY: parsed.data.scrollY,
    open: new Map(parsed.data.open),
    fullDiff: new Set(parsed.data.fullDiff),
    drafts: new Map(parsed.data.drafts),
  };
}

function saveUi(): void {
  vscode.setState({
    version: 1,
    scrollY: Math.round(window.scrollY),
    open: [...ui.open],
    fullDiff: [...ui.fullDiff],
    drafts: [...ui.drafts],
  });
}

let draftSaveTimer: number | undefined;
/** Typing saves the draft at most every 300 ms. */
function saveDraftsSoon(): void {
  if (draftSaveTimer !== undefined) return;
  draftSaveTimer = window.setTimeout(() => {
    draftSaveTimer = undefined;
    saveUi();
  }, 300);
}

// ---------------------------------------------------------------- session state (not persisted)

/** The latest snapshot; undefined until the first `state` message. */
let proposals: ProposalView[] | undefined;
/** Per-hunk choices so far (from the panel or the editor's lenses), by proposal id. */
let hunkChoices: Record<string, Record<string, Verdict>> = {};
/** Risk labels with reasons, by proposal id. */
let risks: Record<string, RiskLabel[]> = {};
/** Saved proposals are still loading (after a reload). */
let loading = false;
/** 'turn': pending proposals by agent turn, each turn decided together; 'action': by session and file. */
let mode: ReviewMode = 'action';
let turnInfos: TurnInfo[] = [];
/** A turn to scroll to after the next render ("Warden: Review Turn"). */
let focusTurnKey: string | undefined;
/** Hunk choices sent and not yet reflected in a snapshot, as "proposalId#hunkId". */
const busyHunks = new Set<string>();
/** "Edit" was clicked and the full text is on its way from the extension. */
const awaitingContent = new Set<string>();
/** The item the keyboard acts on: "proposalId" or "proposalId#h1". */
let selectedKey: string | undefined;
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

function button(
  label: string,
  action: string,
  options: { proposalId?: string; className?: string; ariaLabel?: string; disabled?: boolean } = {},
): HTMLButtonElement {
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
  // Control characters and lone combining marks are exactly what this class is for.
  // eslint-disable-next-line no-control-regex, no-misleading-character-class
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

function textElement<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className: string,
  text: string,
  check?: TextCheck,
): HTMLElementTagNameMap[K] {
  const element = el(tag, className);
  appendText(element, text, check);
  return element;
}

// toLocale*String builds a new formatter on every call (tens of ms for a long queue); these are built once.
const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const dayTimeFormat = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

let todayCache = { at: 0, text: '' };
function today(): string {
  const now = Date.now();
  if (now - todayCache.at > 1000) todayCache = { at: now, text: new Date(now).toDateString() };
  return todayCache.text;
}

function formatTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return (date.toDateString() === today() ? timeFormat : dayTimeFormat).format(date);
}

/** The full date is a tooltip, written when the pointer first reaches it (formatting 1,000 up front is slow). */
function timeElement(iso: string): HTMLTimeElement {
  const time = el('time', undefined, formatTime(iso));
  time.dateTime = iso;
  return time;
}

function addTimeTitle(event: Event): void {
  const target = event.target;
  if (!(target instanceof HTMLTimeElement) || target.title !== '') return;
  const date = new Date(target.dateTime);
  target.title = Number.isNaN(date.getTime()) ? target.dateTime : fullFormat.format(date);
}
document.addEventListener('mouseover', addTimeTitle);

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

/** Per-hunk decisions for a diff: the choices made so far and the diff they belong to. */
interface HunkControls {
  proposalId: string;
  title: string;
  newHash: string;
  choices: Record<string, Verdict>;
  count: number;
}

function hunkCount(diff: ParsedDiff): number {
  return diff.rows.filter((row) => row.kind === 'hunk').length;
}

/** The diff as a table, one `tbody.hunk` per hunk (with Accept / Reject hunk buttons when `hunks` is given). */
function diffView(proposalId: string, path: string, diff: ParsedDiff, check: TextCheck, hunks?: HunkControls): HTMLElement {
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
  let tbody = el('tbody');
  let hunkIndex = -1;
  for (const row of visible) {
    if (row.kind === 'hunk') {
      if (tbody.childElementCount > 0) table.appendChild(tbody);
      hunkIndex++;
      tbody = hunkBody(hunkIndex, row.text, check, hunks);
      continue;
    }
    const tr = el('tr', `diff-row ${row.kind}`);
    if (row.kind === 'meta' || row.kind === 'note') {
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
  if (tbody.childElementCount > 0) table.appendChild(tbody);
  wrapper.appendChild(table);
  if (visible.length < body.length) {
    // Hidden lines are still checked for invisible characters, so the warning is complete.
    for (const row of body.slice(visible.length)) appendText(document.createDocumentFragment(), row.text, check);
    const more = el('div', 'diff-more');
    more.appendChild(
      el(
        'span',
        undefined,
        `${body.length - visible.length} more lines not shown${hunks ? ' (their hunks are decided after you show them)' : ''}. `,
      ),
    );
    more.appendChild(
      button('Show all lines', 'showFullDiff', {
        proposalId,
        className: 'link-button',
        ariaLabel: `Show all lines of the diff of ${path}`,
      }),
    );
    wrapper.appendChild(more);
  }
  return wrapper;
}

/** A hunk's `tbody`: its @@ header row, with the hunk's choice and buttons when it can be decided alone. */
function hunkBody(index: number, header: string, check: TextCheck, hunks: HunkControls | undefined): HTMLTableSectionElement {
  const id = `h${index}`;
  const tbody = el('tbody', 'hunk');
  tbody.dataset.hunkId = id;
  const tr = el('tr', 'diff-row hunk');
  const cell = el('td', 'diff-wide hunk-header');
  cell.colSpan = 4;
  const text = el('span', 'hunk-range');
  appendText(text, header, check);
  cell.appendChild(text);
  if (hunks) {
    const choice = hunks.choices[id];
    const name = `hunk ${index + 1} of ${hunks.count}`;
    tbody.dataset.proposalId = hunks.proposalId;
    tbody.tabIndex = -1;
    tbody.setAttribute('role', 'group');
    tbody.setAttribute(
      'aria-label',
      `${name[0]?.toUpperCase()}${name.slice(1)} of ${hunks.title}${choice ? `, ${choice === 'approve' ? 'accepted' : 'rejected'}` : ''}`,
    );
    if (choice) tbody.dataset.choice = choice;
    const sending = busyHunks.has(`${hunks.proposalId}#${id}`);
    const controls = el('span', 'hunk-actions');
    if (choice) controls.appendChild(el('span', `hunk-choice ${choice}`, choice === 'approve' ? 'Accepted' : 'Rejected'));
    const accept = button('Accept hunk', 'hunkApprove', {
      proposalId: hunks.proposalId,
      className: `button small ${choice === 'approve' ? 'primary' : 'secondary'}`,
      ariaLabel: `Accept ${name}`,
      disabled: sending,
    });
    const reject = button('Reject hunk', 'hunkReject', {
      proposalId: hunks.proposalId,
      className: 'button small secondary',
      ariaLabel: `Reject ${name}`,
      disabled: sending,
    });
    accept.dataset.hunkId = id;
    reject.dataset.hunkId = id;
    accept.setAttribute('aria-pressed', String(choice === 'approve'));
    reject.setAttribute('aria-pressed', String(choice === 'reject'));
    controls.append(accept, reject);
    cell.appendChild(controls);
  }
  tr.appendChild(cell);
  tbody.appendChild(tr);
  return tbody;
}

// ---------------------------------------------------------------- commands

/** Terminal colour and title sequences: noise in an output excerpt. */
// eslint-disable-next-line no-control-regex -- ESC and BEL start and end the sequences it strips
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

const KIND_LABELS: Record<ProposalView['kind'], string> = {
  edit: 'Edit',
  command: 'Command',
  permission: 'Permission',
  question: 'Needs your input',
  network: 'Network',
};

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
  const reviewer = decision.reviewer;
  // Applied on the strength of an approved permission request: say whose approval it was.
  if (reviewer.kind === 'warden' && reviewer.source === 'earlier approval') return `Accepted: ${decision.reason ?? 'approved earlier'}`;
  const by =
    reviewer.kind === 'human'
      ? reviewer.name
      : reviewer.kind === 'policy'
        ? `policy rule ${reviewer.name}`
        : `Warden (${reviewer.source ?? reviewer.name})`;
  if (decision.verdict === 'reject')
    return `Rejected by ${by}${decision.reason && reviewer.kind === 'human' ? `: ${decision.reason}` : ''}`;
  if (decision.hunks) return `Partly accepted by ${by}: ${decision.reason ?? `${decision.hunks.rejected.length} hunk(s) rejected`}`;
  if (decision.editedText !== undefined || decision.editedCommand !== undefined) return `Accepted with the reviewer's edits by ${by}`;
  return `Accepted by ${by}`;
}

function cardKey(proposal: ProposalView): string {
  const draft = ui.drafts.get(proposal.id);
  const sendingHunks = [...busyHunks].filter((k) => k.startsWith(`${proposal.id}#`));
  return JSON.stringify([
    proposal,
    isOpen(proposal),
    ui.fullDiff.has(proposal.id),
    busy.get(proposal.id) ?? null,
    cardErrors.get(proposal.id) ?? null,
    hunkChoices[proposal.id] ?? null,
    risks[proposal.id] ?? null,
    // The draft's kind and base only: typing must not rebuild the card under the cursor.
    draft ? [draft.kind, draft.kind === 'text' ? draft.newHash : ''] : null,
    awaitingContent.has(proposal.id),
    sendingHunks,
  ]);
}

/** Whether the reviewer can edit this proposal's text before accepting (a text edit Warden writes itself). */
function canEditText(proposal: ProposalView): proposal is EditProposalView {
  return proposal.kind === 'edit' && textIsEditable(proposal);
}

/** Per-hunk controls for a pending text edit of an existing file with more than one hunk. */
function hunkControls(proposal: ProposalView, diff: ParsedDiff): HunkControls | undefined {
  if (!canEditText(proposal) || diff.newFile) return undefined;
  const count = hunkCount(diff);
  if (count < 2) return undefined;
  return { proposalId: proposal.id, title: proposal.title, newHash: proposal.newHash, choices: hunkChoices[proposal.id] ?? {}, count };
}

const RISK_ICONS: Record<RiskLabel['kind'], string> = {
  protected: 'codicon-lock',
  irreversible: 'codicon-warning',
  network: 'codicon-globe',
  'outside-scope': 'codicon-circle-slash',
  unclear: 'codicon-question',
  limit: 'codicon-dashboard',
};

function riskBadge(risk: RiskLabel, check: TextCheck): HTMLElement {
  const badge = el('span', `risk risk-${risk.kind}`);
  badge.dataset.risk = risk.kind;
  badge.title = risk.reason;
  const icon = el('span', `codicon ${RISK_ICONS[risk.kind]}`);
  icon.setAttribute('aria-hidden', 'true');
  badge.append(icon, ' ');
  appendText(badge, risk.label, check);
  return badge;
}

/** The risks with their reasons, as text in the card (the badges' titles are not read by everyone). */
function renderRisks(body: HTMLElement, labels: RiskLabel[], check: TextCheck): void {
  if (labels.length === 0) return;
  const list = el('ul', 'risk-list');
  list.setAttribute('aria-label', 'Risks');
  for (const risk of labels) {
    const item = el('li', `risk-reason risk-${risk.kind}`);
    item.appendChild(textElement('strong', 'risk-name', `${risk.label}: `, check));
    appendText(item, risk.reason, check);
    list.appendChild(item);
  }
  body.appendChild(list);
}

/**
 * Card bodies (mostly diff tables) are what makes a long queue slow to build and lay out. The
 * first EAGER_BODIES open cards of a render get theirs at once; the others get a placeholder of
 * about the right height and are filled when they come near the viewport, or when the reviewer
 * opens or selects them.
 */
const EAGER_BODIES = 30;
let eagerBodies = EAGER_BODIES;
const deferredBodies = new Map<HTMLElement, () => void>();
const bodyObserver =
  typeof IntersectionObserver === 'function'
    ? new IntersectionObserver(
        (entries) => {
          for (const entry of entries) if (entry.isIntersecting && entry.target instanceof HTMLElement) fillDeferred(entry.target);
        },
        { rootMargin: '200% 0px' },
      )
    : undefined;

function fillDeferred(card: HTMLElement): void {
  const fill = deferredBodies.get(card);
  if (!fill) return;
  deferredBodies.delete(card);
  bodyObserver?.unobserve(card);
  fill();
}

/** Forgets placeholders of cards that were replaced or removed. */
function pruneDeferred(): void {
  for (const card of [...deferredBodies.keys()]) {
    if (card.isConnected) continue;
    deferredBodies.delete(card);
    bodyObserver?.unobserve(card);
  }
}

function estimatedBodyHeight(proposal: ProposalView): number {
  const diff = proposal.kind === 'edit' ? proposal.diff : proposal.kind === 'permission' ? (proposal.edit?.diff ?? '') : '';
  let rows = 0;
  for (let at = diff.indexOf('\n'); at >= 0 && rows < DIFF_ROW_LIMIT; at = diff.indexOf('\n', at + 1)) rows++;
  return 90 + rows * 19;
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
  const title = textElement('h3', 'card-title', proposal.title, check);
  title.id = `title-${domId}`;
  header.append(toggle, el('span', `badge kind-badge kind-${proposal.kind}`, KIND_LABELS[proposal.kind]), title);
  const labels = risks[proposal.id] ?? [];
  if (labels.length > 0) {
    const badges = el('span', 'risks');
    for (const risk of labels) badges.appendChild(riskBadge(risk, check));
    header.appendChild(badges);
  }
  header.appendChild(el('span', `state-pill ${proposal.state}`, stateLabel(proposal)));
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
  const fill = (): void => {
    delete body.dataset.deferred;
    body.style.removeProperty('min-height');
    fillBody(body, proposal, labels, check);
  };
  if (open && eagerBodies > 0) {
    eagerBodies--;
    fill();
  } else {
    // Built when the card nears the viewport (or is opened or selected): a long queue renders fast.
    body.dataset.deferred = 'true';
    item.classList.add('far');
    if (open) body.style.minHeight = `${estimatedBodyHeight(proposal)}px`;
    deferredBodies.set(card, fill);
    if (open) bodyObserver?.observe(card);
  }
  card.appendChild(body);
  return item;
}

/** The card's body: risks, the diff or command, the outcome, errors, and the actions or the draft editor. */
function fillBody(body: HTMLElement, proposal: ProposalView, labels: RiskLabel[], check: TextCheck): void {
  renderRisks(body, labels, check);
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
      else if (proposal.state === 'pending')
        body.appendChild(
          el('p', 'muted', 'Answer it in the Warden Session view (or with "Warden: Answer Agent Question"); Reject declines to answer.'),
        );
      break;
    case 'network':
      // A host not on the allow-list: the proxy holds the connection until Accept (it goes through) or Reject (403).
      body.appendChild(field('Host', textElement('code', 'host', `${proposal.host}:${proposal.port}`, check)));
      body.appendChild(field('Request', textElement('span', 'method', proposal.method, check)));
      body.appendChild(field('Command', textElement('code', 'command', proposal.command, check)));
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
  if (proposal.state === 'pending') {
    const draft = ui.drafts.get(proposal.id);
    body.appendChild(draft ? draftEditor(proposal, draft) : actions(proposal));
  }
}

function renderEdit(body: HTMLElement, proposal: EditProposalView, check: TextCheck): void {
  const diff = parseUnifiedDiff(proposal.diff);
  const hunks = hunkControls(proposal, diff);
  body.append(fileHeader(proposal.path, diff, check), diffView(proposal.id, proposal.path, diff, check, hunks));
  if (hunks) {
    const chosen = Object.keys(hunks.choices).length;
    body.appendChild(
      el(
        'p',
        'hint hunk-hint',
        `${chosen} of ${hunks.count} hunks chosen. Decide each hunk, or the whole edit below; nothing is written until every hunk has a choice.`,
      ),
    );
  }
}

/** The editor for "Edit before accepting": the draft's text area, and what accepting it does. */
function draftEditor(proposal: ProposalView, draft: Draft): HTMLElement {
  const box = el('div', 'draft');
  const sending = busy.get(proposal.id);
  const isCommand = draft.kind === 'command';
  const id = `draft-${nextDomId++}`;
  const label = el(
    'label',
    'draft-label',
    isCommand
      ? 'Command line to run instead (the policy checks it again):'
      : 'Content to write instead (what you accept is what gets written and audited):',
  );
  label.htmlFor = id;
  const area = el('textarea', isCommand ? 'edit-command' : 'edit-text');
  area.id = id;
  area.dataset.proposalId = proposal.id;
  area.spellcheck = false;
  area.value = draft.text;
  area.rows = isCommand ? 2 : Math.min(30, Math.max(6, draft.text.split('\n').length + 1));
  area.setAttribute('aria-describedby', `${id}-hint`);
  const hint = el(
    'p',
    'hint',
    isCommand
      ? 'The agent is told that the command it asked for was edited.'
      : 'The agent is told that you edited its change, and to read the file again.',
  );
  hint.id = `${id}-hint`;
  const bar = el('div', 'actions');
  bar.append(
    button(
      sending ? (isCommand ? 'Running…' : 'Accepting…') : isCommand ? 'Run edited command' : 'Accept edited',
      isCommand ? 'runEditedCommand' : 'acceptEdited',
      {
        proposalId: proposal.id,
        className: 'button primary',
        ariaLabel: `${isCommand ? 'Run the edited command' : 'Accept your edited content'}: ${proposal.title}`,
        disabled: sending !== undefined,
      },
    ),
    button('Cancel', 'cancelEdit', {
      proposalId: proposal.id,
      className: 'button secondary',
      ariaLabel: `Cancel editing: ${proposal.title}`,
      disabled: sending !== undefined,
    }),
  );
  box.append(label, area, hint, bar);
  return box;
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
  if (proposal.commandLine !== undefined)
    body.appendChild(commandBlock(proposal.commandLine, check, `Command line: ${proposal.commandLine}`));
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
  if (canEditText(proposal)) {
    const waiting = awaitingContent.has(proposal.id);
    const edit = button(waiting ? 'Opening…' : 'Edit…', 'edit', {
      proposalId: proposal.id,
      className: 'button secondary',
      ariaLabel: `Edit before accepting: ${proposal.title}`,
      disabled: sending !== undefined || waiting,
    });
    edit.setAttribute('aria-keyshortcuts', 'E');
    bar.appendChild(edit);
  }
  if (commandIsEditable(proposal)) {
    const edit = button('Edit command…', 'editCommand', {
      proposalId: proposal.id,
      className: 'button secondary',
      ariaLabel: `Edit the command before running it: ${proposal.title}`,
      disabled: sending !== undefined,
    });
    edit.setAttribute('aria-keyshortcuts', 'E');
    bar.appendChild(edit);
  }
  if (hasEdit(proposal)) {
    bar.appendChild(
      button('Open Diff', 'openDiff', {
        proposalId: proposal.id,
        className: 'button secondary',
        ariaLabel: `Open diff: ${proposal.title}`,
      }),
    );
  }
  return bar;
}

// ---------------------------------------------------------------- page

const app = document.getElementById('app') ?? document.body.appendChild(el('main'));

interface Shell {
  summary: HTMLElement;
  banners: HTMLElement;
  empty: HTMLElement;
  loading: HTMLElement;
  rejectAll: HTMLButtonElement;
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
  heading.append(
    el('h1', undefined, 'Agent proposals'),
    el('p', 'subtitle', 'Nothing the agent proposes changes your workspace or runs until you accept it.'),
  );
  const summary = el('div', 'summary');
  header.append(heading, summary);

  const banners = el('div', 'banners');

  const empty = el('section', 'empty');
  const emptyIcon = el('span', 'codicon codicon-shield empty-icon');
  emptyIcon.setAttribute('aria-hidden', 'true');
  empty.append(
    emptyIcon,
    el('h2', undefined, 'No proposals yet…'),
    el(
      'p',
      undefined,
      'When the agent wants to edit a file, run a command or use a tool, the request appears here for you to accept or reject.',
    ),
    el(
      'p',
      'hint',
      'Keys while this panel has focus: j / k next and previous, a accept, r reject, e edit; in turn review Shift+A / Shift+R accept or reject the whole turn.',
    ),
  );
  const loadingBox = el('section', 'loading');
  loadingBox.setAttribute('role', 'status');
  const spinner = el('span', 'codicon codicon-loading codicon-modifier-spin');
  spinner.setAttribute('aria-hidden', 'true');
  loadingBox.append(spinner, ' ', el('span', undefined, 'Loading the proposals saved by the last window…'));

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
  const pending = section('pending', 'Waiting for your review', 'By session and file, in the order the agent asked.');
  pending.list.className = 'session-groups';
  const pendingNone = el('p', 'none', 'Nothing is waiting for your review.');
  pending.section.insertBefore(pendingNone, pending.list);
  const rejectAll = button('Reject all…', 'rejectAll', {
    className: 'button secondary small',
    ariaLabel: 'Reject every proposal waiting for review',
  });
  pending.section.querySelector('.group-heading')?.appendChild(rejectAll);
  const history = section('history', 'History', 'Newest first.');

  const live = el('div', 'visually-hidden');
  live.setAttribute('role', 'status');
  live.setAttribute('aria-live', 'polite');

  app.append(header, banners, loadingBox, empty, pending.section, history.section, live);
  return {
    summary,
    banners,
    empty,
    loading: loadingBox,
    rejectAll,
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

interface FileGroupData {
  key: string;
  /** Workspace path, or '' for commands and other requests. */
  file: string;
  label: string;
  proposals: ProposalView[];
}
interface SessionGroupData {
  sessionId: string;
  files: FileGroupData[];
  /** Turn review: the turn this group is, and the commands that already ran in it (shown collapsed). */
  turn?: { turn: number; running: boolean; ran: ProposalView[] };
}

function fileOf(proposal: ProposalView): string {
  if (proposal.kind === 'edit') return proposal.path;
  if (proposal.kind === 'permission' && proposal.edit) return proposal.edit.path;
  return '';
}

const OTHER_GROUPS: Record<ProposalView['kind'], string> = {
  edit: 'Files',
  command: 'Commands',
  permission: 'Tool requests',
  question: 'Questions',
  network: 'Network',
};

/** Pending proposals by session, then file (commands, tool requests and questions in their own groups), in asking order. */
function groupPending(pending: ProposalView[]): SessionGroupData[] {
  const sessions = new Map<string, Map<string, FileGroupData>>();
  for (const proposal of pending) {
    let files = sessions.get(proposal.sessionId);
    if (!files) sessions.set(proposal.sessionId, (files = new Map<string, FileGroupData>()));
    const file = fileOf(proposal);
    const key = file === '' ? `:${proposal.kind}` : `f:${file}`;
    let group = files.get(key);
    if (!group)
      files.set(
        key,
        (group = { key: `${proposal.sessionId}|${key}`, file, label: file === '' ? OTHER_GROUPS[proposal.kind] : file, proposals: [] }),
      );
    group.proposals.push(proposal);
  }
  return [...sessions].map(([sessionId, files]) => ({ sessionId, files: [...files.values()] }));
}

/**
 * Turn review: pending proposals by session and agent turn, each turn by file (then its
 * waiting commands and requests), with the commands that already ran in the turn.
 */
function groupPendingByTurn(all: ProposalView[]): SessionGroupData[] {
  return groupByTurn(all)
    .filter((changeset) => changeset.pending.length > 0)
    .map((changeset) => {
      const waiting = (list: ProposalView[]): ProposalView[] => list.filter((p) => p.state === 'pending');
      const key = (suffix: string): string => `${changeset.key}|${suffix}`;
      const files: FileGroupData[] = changeset.files
        .map((file) => ({ key: key(`f:${file.path}`), file: file.path, label: file.path, proposals: waiting(file.proposals) }))
        .filter((group) => group.proposals.length > 0);
      const kinds = [...new Set(['command' as const, ...changeset.others.map((p) => p.kind)])];
      for (const kind of kinds) {
        const list = waiting(kind === 'command' ? changeset.commands : changeset.others).filter((p) => p.kind === kind);
        if (list.length > 0) files.push({ key: key(`:${kind}`), file: '', label: OTHER_GROUPS[kind], proposals: list });
      }
      const info = turnInfos.find((t) => t.sessionId === changeset.sessionId && t.turn === changeset.turn);
      const ran = changeset.commands.filter((p) => p.state !== 'pending');
      return { sessionId: changeset.sessionId, files, turn: { turn: changeset.turn, running: info?.running === true, ran } };
    });
}

/** Group containers are kept between renders so cards (and the focus in them) are not moved needlessly. */
interface GroupNode {
  item: HTMLLIElement;
  heading: HTMLElement;
  list: HTMLOListElement;
  actions: HTMLElement;
  /** What the header shows, to skip rebuilding it when nothing changed. */
  headerKey: string;
}
const groupNodes = new Map<string, GroupNode>();

function groupNode(key: string, className: string, headingTag: 'h3' | 'h4'): GroupNode {
  let node = groupNodes.get(key);
  if (!node) {
    const item = el('li', `${className}-item`);
    const section = el('section', className);
    const header = el('header', `${className}-header`);
    const heading = el(headingTag, `${className}-heading`);
    heading.id = `group-${nextDomId++}`;
    section.setAttribute('aria-labelledby', heading.id);
    const actions = el('span', 'group-actions');
    header.append(heading, actions);
    const list = el('ol', className === 'session-group' ? 'file-groups' : 'cards');
    section.append(header, list);
    item.appendChild(section);
    node = { item, heading, list, actions, headerKey: '' };
    groupNodes.set(key, node);
  }
  return node;
}

function sessionGroup(session: SessionGroupData, itemFor: (proposal: ProposalView) => HTMLLIElement): HTMLLIElement {
  const node = groupNode(`s|${session.sessionId}`, 'session-group', 'h3');
  const count = session.files.reduce((n, f) => n + f.proposals.length, 0);
  // Headers are rebuilt only when what they show changed: a long queue re-renders quickly.
  const headerKey = String(count);
  if (node.headerKey !== headerKey) {
    node.headerKey = headerKey;
    node.heading.replaceChildren(el('span', 'codicon codicon-hubot'), ' Session ');
    node.heading.appendChild(textElement('code', 'session-id', session.sessionId));
    node.heading.append(` · ${count} waiting`);
    node.heading.title = `Session ${session.sessionId}`;
    (node.item.firstElementChild as HTMLElement).dataset.session = session.sessionId;
  }
  placeChildren(
    node.list,
    session.files.map((file) => fileGroup(file, itemFor)),
  );
  return node.item;
}

const ranBlocks = new Map<string, { key: string; details: HTMLDetailsElement }>();

/** One turn as one changeset: Accept all / Reject all, its files (per hunk), and the commands it ran, collapsed. */
function turnGroup(session: SessionGroupData, itemFor: (proposal: ProposalView) => HTMLLIElement): HTMLLIElement {
  const turn = session.turn!;
  const key = turnKey(session.sessionId, turn.turn);
  const node = groupNode(`t|${key}`, 'session-group', 'h3');
  const section = node.item.firstElementChild as HTMLElement;
  const count = session.files.reduce((n, f) => n + f.proposals.length, 0);
  const all = session.files.flatMap((f) => f.proposals);
  const bulkBusy = all.every((p) => busy.has(p.id));
  const headerKey = JSON.stringify([count, turn.running, bulkBusy]);
  if (node.headerKey !== headerKey) {
    node.headerKey = headerKey;
    const icon = el('span', 'codicon codicon-checklist');
    icon.setAttribute('aria-hidden', 'true');
    node.heading.replaceChildren(icon, ` ${turn.turn === 0 ? 'Before the first turn' : `Turn ${turn.turn}`} · `);
    node.heading.appendChild(textElement('code', 'session-id', session.sessionId));
    node.heading.append(` · ${count} waiting${turn.running ? ' · the agent is still working' : ''}`);
    section.dataset.session = session.sessionId;
    section.dataset.turnKey = key;
    section.tabIndex = -1;
    const where = `turn ${turn.turn}`;
    const accept = button('Accept all', 'acceptTurn', {
      className: 'button small',
      ariaLabel: `Accept all ${count} waiting in ${where} (Shift+A)`,
      disabled: bulkBusy,
    });
    const reject = button('Reject all', 'rejectTurn', {
      className: 'button small secondary',
      ariaLabel: `Reject all ${count} waiting in ${where} (Shift+R)`,
      disabled: bulkBusy,
    });
    for (const b of [accept, reject]) b.dataset.turnKey = key;
    node.actions.replaceChildren(accept, reject);
  }
  // The commands that ran in the turn, with their output: collapsed, read on demand.
  const ranKey = JSON.stringify(turn.ran.map((p) => [p.id, p.state]));
  let ran = ranBlocks.get(key);
  if (!ran || ran.key !== ranKey) {
    const details = ran?.details ?? el('details', 'turn-commands');
    details.replaceChildren(el('summary', undefined, `${turn.ran.length} command${turn.ran.length === 1 ? '' : 's'} ran in this turn`));
    const check: TextCheck = { hidden: false };
    for (const command of turn.ran) {
      if (command.kind !== 'command') continue;
      const item = el('div', 'turn-command');
      item.appendChild(commandBlock(command.commandLine, check, 'Command'));
      if (command.result) item.appendChild(commandResult(command.result, check));
      else item.appendChild(el('p', 'muted', stateLabel(command)));
      details.appendChild(item);
    }
    details.hidden = turn.ran.length === 0;
    ran = { key: ranKey, details };
    ranBlocks.set(key, ran);
    if (details.parentElement !== section) section.insertBefore(details, node.list);
  }
  placeChildren(
    node.list,
    session.files.map((file) => fileGroup(file, itemFor)),
  );
  return node.item;
}

function fileGroup(group: FileGroupData, itemFor: (proposal: ProposalView) => HTMLLIElement): HTMLLIElement {
  const node = groupNode(group.key, 'file-group', 'h4');
  const acceptable = group.proposals.filter((p) => p.kind !== 'question').length;
  const bulkBusy = group.proposals.every((p) => busy.has(p.id));
  const headerKey = JSON.stringify([group.label, group.proposals.length, acceptable, bulkBusy]);
  if (node.headerKey !== headerKey) {
    node.headerKey = headerKey;
    fileGroupHeader(node, group, acceptable, bulkBusy);
  }
  placeChildren(node.list, group.proposals.map(itemFor));
  return node.item;
}

function fileGroupHeader(node: GroupNode, group: FileGroupData, acceptable: number, bulkBusy: boolean): void {
  const section = node.item.firstElementChild as HTMLElement;
  section.dataset.file = group.file;
  const icon = el('span', `codicon ${group.file === '' ? 'codicon-terminal' : 'codicon-file'}`);
  icon.setAttribute('aria-hidden', 'true');
  node.heading.replaceChildren(icon, ' ');
  node.heading.appendChild(textElement('span', group.file === '' ? 'group-label' : 'group-label file-path', group.label));
  node.heading.append(el('span', 'count', String(group.proposals.length)));
  if (group.proposals.length < 2) {
    node.actions.replaceChildren();
    return;
  }
  const where = group.file === '' ? `${group.label.toLowerCase()}` : group.label;
  const acceptAll = button(group.file === '' ? 'Accept all' : 'Accept all in file', 'acceptFile', {
    className: 'button small secondary',
    ariaLabel: `Accept all ${acceptable} in ${where}`,
    disabled: bulkBusy || acceptable === 0,
  });
  const rejectAll = button(group.file === '' ? 'Reject all' : 'Reject all in file', 'rejectFile', {
    className: 'button small secondary',
    ariaLabel: `Reject all ${group.proposals.length} in ${where}`,
    disabled: bulkBusy,
  });
  for (const b of [acceptAll, rejectAll]) b.dataset.group = group.key;
  node.actions.replaceChildren(acceptAll, rejectAll);
}

function render(): void {
  if (proposals === undefined) return;
  shell ??= buildShell();
  eagerBodies = EAGER_BODIES;
  const pending = proposals.filter((p) => p.state === 'pending').sort(byCreated);
  const history = proposals.filter((p) => p.state !== 'pending').sort((a, b) => byCreated(b, a));
  const previousPendingIds = [...shell.pendingList.querySelectorAll<HTMLElement>('article[data-proposal-id]')].map(
    (c) => c.dataset.proposalId ?? '',
  );
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
  const groups = mode === 'turn' ? groupPendingByTurn(proposals) : groupPending(pending);
  placeChildren(
    shell.pendingList,
    groups.map((session) => (session.turn ? turnGroup(session, itemFor) : sessionGroup(session, itemFor))),
  );
  const groupKey = (g: SessionGroupData): string => (g.turn ? `t|${turnKey(g.sessionId, g.turn.turn)}` : `s|${g.sessionId}`);
  const usedGroups = new Set(groups.flatMap((g) => [groupKey(g), ...g.files.map((f) => f.key)]));
  for (const key of [...groupNodes.keys()]) if (!usedGroups.has(key)) groupNodes.delete(key);
  for (const key of [...ranBlocks.keys()]) if (!usedGroups.has(`t|${key}`)) ranBlocks.delete(key);
  placeChildren(shell.historyList, history.map(itemFor));
  pruneDeferred();

  const total = proposals.length;
  shell.loading.hidden = !(loading && total === 0);
  shell.empty.hidden = total > 0 || loading;
  shell.rejectAll.hidden = pending.length < 2;
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

  restoreFocus(
    focus,
    pending.map((p) => p.id),
  );
  markSelected();
  if (focusTurnKey !== undefined) {
    const target = [...app.querySelectorAll<HTMLElement>('section[data-turn-key]')].find((t) => t.dataset.turnKey === focusTurnKey);
    focusTurnKey = undefined;
    if (target) {
      target.scrollIntoView({ block: 'start' });
      target.focus({ preventScroll: true });
      restoredScroll = true;
    }
  }
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
      hunkChoices = message.hunkChoices ?? {};
      risks = message.risks ?? {};
      loading = message.loading === true;
      if (message.mode !== undefined && message.mode !== mode) {
        // Another grouping: the kept group containers belong to the old one.
        groupNodes.clear();
        ranBlocks.clear();
      }
      mode = message.mode ?? 'action';
      turnInfos = message.turns ?? [];
      if (message.focusTurn !== undefined) focusTurnKey = message.focusTurn;
      busyHunks.clear();
      const byId = new Map(proposals.map((p) => [p.id, p]));
      for (const id of [...busy.keys()]) if (byId.get(id)?.state !== 'pending') busy.delete(id);
      for (const id of [...cardErrors.keys()]) if (byId.get(id)?.state !== 'pending') cardErrors.delete(id);
      for (const id of [...awaitingContent]) if (byId.get(id)?.state !== 'pending') awaitingContent.delete(id);
      let pruned = false;
      for (const id of [...ui.open.keys()]) if (!byId.has(id)) pruned = ui.open.delete(id) || pruned;
      for (const id of [...ui.fullDiff]) if (!byId.has(id)) pruned = ui.fullDiff.delete(id) || pruned;
      // A decided proposal's draft has nothing left to do (a failed accept keeps it: the proposal is still pending).
      for (const id of [...ui.drafts.keys()]) if (byId.get(id)?.state !== 'pending') pruned = ui.drafts.delete(id) || pruned;
      if (pruned) saveUi();
      render();
      if (announcement) announce(announcement);
      return;
    }
    case 'settled': {
      for (const id of message.proposalIds) busy.delete(id);
      render();
      return;
    }
    case 'error': {
      if (proposals === undefined) proposals = [];
      const target = message.proposalId === undefined ? undefined : proposals.find((p) => p.id === message.proposalId);
      if (message.proposalId !== undefined) {
        busy.delete(message.proposalId);
        awaitingContent.delete(message.proposalId);
        for (const key of [...busyHunks]) if (key.startsWith(`${message.proposalId}#`)) busyHunks.delete(key);
      }
      if (target && target.state === 'pending') {
        // Shown where the reviewer clicked; the extension also shows a notification.
        cardErrors.set(target.id, message.message);
      } else {
        banners = [...banners, { key: nextBannerKey++, message: message.message }].slice(-MAX_BANNERS);
      }
      render();
      return;
    }
    case 'content': {
      awaitingContent.delete(message.proposalId);
      const proposal = proposals?.find((p) => p.id === message.proposalId);
      if (!proposal || proposal.state !== 'pending') return;
      ui.drafts.set(message.proposalId, { kind: 'text', newHash: message.newHash, text: message.text });
      saveUi();
      render();
      focusDraft(message.proposalId);
      return;
    }
    case 'key':
      onKey(message.action);
      return;
  }
}

function focusDraft(proposalId: string): void {
  const area = findCard(proposalId)?.querySelector<HTMLTextAreaElement>('textarea');
  area?.focus();
}

function startEdit(proposal: ProposalView): void {
  if (proposal.state !== 'pending' || busy.has(proposal.id)) return;
  if (ui.drafts.has(proposal.id)) {
    focusDraft(proposal.id);
    return;
  }
  ui.open.set(proposal.id, true);
  cardErrors.delete(proposal.id);
  if (proposal.kind === 'command') {
    if (!commandIsEditable(proposal)) return;
    ui.drafts.set(proposal.id, { kind: 'command', text: proposal.commandLine });
    saveUi();
    render();
    focusDraft(proposal.id);
    return;
  }
  if (!canEditText(proposal)) return;
  awaitingContent.add(proposal.id);
  render();
  post({ type: 'requestContent', proposalId: proposal.id });
}

function submitDraft(proposalId: string): void {
  const proposal = proposals?.find((p) => p.id === proposalId);
  const draft = ui.drafts.get(proposalId);
  if (!proposal || !draft || proposal.state !== 'pending' || busy.has(proposalId)) return;
  const area = findCard(proposalId)?.querySelector<HTMLTextAreaElement>('textarea');
  const text = area?.value ?? draft.text;
  ui.drafts.set(proposalId, { ...draft, text });
  saveUi();
  if (draft.kind === 'command') {
    if (text.trim() === '') {
      cardErrors.set(proposalId, 'The command line is empty: type the command to run, or Cancel.');
      render();
      return;
    }
    busy.set(proposalId, 'approve');
    cardErrors.delete(proposalId);
    render();
    post({ type: 'runEditedCommand', proposalId, commandLine: text });
    return;
  }
  busy.set(proposalId, 'approve');
  cardErrors.delete(proposalId);
  render();
  post({ type: 'acceptEdited', proposalId, newHash: draft.newHash, text });
}

function chooseHunk(proposalId: string, hunkId: string, verdict: Verdict): void {
  const proposal = proposals?.find((p) => p.id === proposalId);
  if (!proposal || proposal.kind !== 'edit' || proposal.state !== 'pending' || busy.has(proposalId)) return;
  const key = `${proposalId}#${hunkId}`;
  if (busyHunks.has(key)) return;
  busyHunks.add(key);
  cardErrors.delete(proposalId);
  render();
  post({ type: 'chooseHunk', proposalId, hunkId, verdict, newHash: proposal.newHash });
}

function decideMany(items: ProposalView[], verdict: Verdict, scope: string): void {
  const open = items.filter((p) => p.state === 'pending' && !busy.has(p.id) && (verdict === 'reject' || p.kind !== 'question'));
  if (open.length === 0) return;
  // Shown as busy until the snapshot arrives; the extension may ask for a confirmation first.
  for (const p of open) busy.set(p.id, verdict);
  render();
  post({ type: 'decideMany', proposalIds: open.map((p) => p.id), verdict, scope });
}

// ---------------------------------------------------------------- keyboard (contributed keybindings)

/** What the keys walk through, in display order: the hunks of multi-hunk edits, otherwise whole proposals. */
function keyItems(): HTMLElement[] {
  if (!shell) return [];
  const items: HTMLElement[] = [];
  for (const card of shell.pendingList.querySelectorAll<HTMLElement>('article[data-proposal-id]')) {
    const hunks = [...card.querySelectorAll<HTMLElement>('tbody.hunk[data-proposal-id]')];
    if (hunks.length > 0 && !card.querySelector('.card-body')?.hasAttribute('hidden')) items.push(...hunks);
    else items.push(card);
  }
  return items;
}

function keyOf(element: HTMLElement): string {
  const proposalId = element.dataset.proposalId ?? '';
  return element.tagName === 'TBODY' ? `${proposalId}#${element.dataset.hunkId ?? ''}` : proposalId;
}

function currentItem(items: HTMLElement[]): number {
  const active = document.activeElement instanceof HTMLElement ? document.activeElement : undefined;
  if (active && app.contains(active)) {
    const found = items.findIndex((item) => item === active || item.contains(active));
    if (found >= 0) return found;
  }
  if (selectedKey === undefined) return -1;
  const exact = items.findIndex((item) => keyOf(item) === selectedKey);
  if (exact >= 0) return exact;
  // A card selected before its body (and hunks) were built: its first hunk.
  const proposalId = selectedKey.split('#')[0];
  return items.findIndex((item) => item.dataset.proposalId === proposalId);
}

function select(item: HTMLElement | undefined): void {
  if (!item) return;
  selectedKey = keyOf(item);
  markSelected();
  item.focus({ preventScroll: true });
  item.scrollIntoView({ block: 'nearest' });
}

function markSelected(): void {
  for (const old of app.querySelectorAll('.selected')) old.classList.remove('selected');
  if (selectedKey === undefined) return;
  const item = keyItems().find((i) => keyOf(i) === selectedKey);
  item?.classList.add('selected');
}

/** Accept all / Reject all of a turn: the whole changeset, hunks already chosen kept (the extension sees to it). */
function decideTurn(key: string, verdict: Verdict): void {
  const group = groupPendingByTurn(proposals ?? []).find((g) => g.turn && turnKey(g.sessionId, g.turn.turn) === key);
  if (!group?.turn) return;
  const open = group.files.flatMap((f) => f.proposals).filter((p) => !busy.has(p.id) && (verdict === 'reject' || p.kind !== 'question'));
  if (open.length === 0) return;
  for (const p of open) busy.set(p.id, verdict);
  render();
  post({ type: 'decideTurn', sessionId: group.sessionId, turn: group.turn.turn, verdict });
}

/** The turn of the selected item, else the first turn waiting. */
function selectedTurnKey(): string | undefined {
  const items = keyItems();
  const index = currentItem(items);
  const proposal = proposals?.find((p) => p.id === items[index]?.dataset.proposalId);
  if (proposal) return turnKey(proposal.sessionId, proposal.turn ?? 0);
  const first = groupPendingByTurn(proposals ?? [])[0];
  return first?.turn ? turnKey(first.sessionId, first.turn.turn) : undefined;
}

function onKey(action: KeyAction): void {
  if (action === 'acceptAll' || action === 'rejectAll') {
    if (mode !== 'turn') {
      announce('Accept all and Reject all of a turn work in turn review (the warden.review.mode setting).');
      return;
    }
    const key = selectedTurnKey();
    if (key === undefined) announce('Nothing is waiting for your review.');
    else decideTurn(key, action === 'acceptAll' ? 'approve' : 'reject');
    return;
  }
  const items = keyItems();
  if (items.length === 0) {
    announce('Nothing is waiting for your review.');
    return;
  }
  const index = currentItem(items);
  if (action === 'next' || action === 'previous') {
    const step = action === 'next' ? 1 : -1;
    const target = index < 0 ? (action === 'next' ? 0 : items.length - 1) : Math.min(items.length - 1, Math.max(0, index + step));
    const item = items[target];
    if (item && deferredBodies.has(item)) {
      // Its hunks exist once its body is built: land on the first (going down) or last (going up).
      fillDeferred(item);
      const own = keyItems().filter((i) => i.dataset.proposalId === item.dataset.proposalId);
      select(action === 'next' ? own[0] : own[own.length - 1]);
      return;
    }
    select(item);
    return;
  }
  const item = items[index < 0 ? 0 : index];
  if (!item) return;
  if (deferredBodies.has(item)) {
    // Its diff is not drawn yet: draw it and select in it; the next key decides what was seen.
    fillDeferred(item);
    select(keyItems().find((i) => i.dataset.proposalId === item.dataset.proposalId));
    return;
  }
  if (index < 0) select(item);
  const proposalId = item.dataset.proposalId ?? '';
  const proposal = proposals?.find((p) => p.id === proposalId);
  if (!proposal) return;
  if (action === 'edit') {
    startEdit(proposal);
    return;
  }
  const verdict: Verdict = action === 'accept' ? 'approve' : 'reject';
  // The next item gets the selection, so a run of keys walks through the queue.
  const after = items[(index < 0 ? 0 : index) + 1] ?? items[(index < 0 ? 0 : index) - 1];
  selectedKey = after ? keyOf(after) : undefined;
  if (item.tagName === 'TBODY') chooseHunk(proposalId, item.dataset.hunkId ?? '', verdict);
  else if (proposal.kind === 'question' && verdict === 'approve') announce('A question is answered in the Warden Session view.');
  else decide(proposalId, verdict);
  const next = keyItems().find((i) => keyOf(i) === selectedKey);
  if (next) select(next);
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
    case 'hunkApprove':
    case 'hunkReject':
      if (proposalId !== undefined && target.dataset.hunkId !== undefined)
        chooseHunk(proposalId, target.dataset.hunkId, target.dataset.action === 'hunkApprove' ? 'approve' : 'reject');
      return;
    case 'edit':
    case 'editCommand': {
      const proposal = proposals?.find((p) => p.id === proposalId);
      if (proposal) startEdit(proposal);
      return;
    }
    case 'acceptEdited':
    case 'runEditedCommand':
      if (proposalId !== undefined) submitDraft(proposalId);
      return;
    case 'cancelEdit':
      if (proposalId === undefined) return;
      ui.drafts.delete(proposalId);
      cardErrors.delete(proposalId);
      saveUi();
      render();
      findCard(proposalId)?.querySelector<HTMLButtonElement>('button[data-action="edit"], button[data-action="editCommand"]')?.focus();
      return;
    case 'acceptFile':
    case 'rejectFile': {
      const key = target.dataset.group;
      const groups =
        mode === 'turn' ? groupPendingByTurn(proposals ?? []) : groupPending((proposals ?? []).filter((p) => p.state === 'pending'));
      const group = groups.flatMap((g) => g.files).find((g) => g.key === key);
      if (group)
        decideMany(
          group.proposals,
          target.dataset.action === 'acceptFile' ? 'approve' : 'reject',
          group.file === '' ? `every ${group.label.toLowerCase()} proposal` : `every proposal in ${group.file}`,
        );
      return;
    }
    case 'acceptTurn':
    case 'rejectTurn':
      if (target.dataset.turnKey !== undefined)
        decideTurn(target.dataset.turnKey, target.dataset.action === 'acceptTurn' ? 'approve' : 'reject');
      return;
    case 'rejectAll': {
      const pending = (proposals ?? []).filter((p) => p.state === 'pending');
      decideMany(pending, 'reject', `all ${pending.length} waiting proposals`);
      return;
    }
    case 'toggle': {
      const proposal = proposals?.find((p) => p.id === proposalId);
      if (!proposal) return;
      ui.open.set(proposal.id, !isOpen(proposal));
      saveUi();
      render();
      const card = findCard(proposal.id);
      if (card) fillDeferred(card);
      card?.querySelector<HTMLButtonElement>('button[data-action="toggle"]')?.focus({ preventScroll: true });
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

app.addEventListener('input', (event) => {
  const area = event.target instanceof HTMLTextAreaElement ? event.target : undefined;
  const proposalId = area?.dataset.proposalId;
  const draft = proposalId === undefined ? undefined : ui.drafts.get(proposalId);
  if (!area || proposalId === undefined || !draft) return;
  ui.drafts.set(proposalId, { ...draft, text: area.value });
  saveDraftsSoon();
});

/** While the reviewer types, the single-key keybindings (a, r, j...) must not act. */
function isTextField(target: EventTarget | null): boolean {
  return (
    target instanceof HTMLTextAreaElement || (target instanceof HTMLInputElement && target.type !== 'checkbox' && target.type !== 'button')
  );
}
let textFocus = false;
function setTextFocus(editing: boolean): void {
  if (editing === textFocus) return;
  textFocus = editing;
  post({ type: 'textFocus', editing });
}
document.addEventListener('focusin', (event) => setTextFocus(isTextField(event.target)));
document.addEventListener('focusout', (event) => {
  if (isTextField(event.target) && !isTextField(event.relatedTarget)) setTextFocus(false);
});
window.addEventListener('blur', () => setTextFocus(false));

window.addEventListener('message', (event: MessageEvent<unknown>) => {
  const parsed = parseExtensionMessage(event.data);
  if (!parsed.ok) {
    console.warn(`[warden review] dropped an invalid message from the extension: ${parsed.error}`);
    return;
  }
  onMessage(parsed.message);
});

post({ type: 'ready' });

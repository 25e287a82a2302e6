/**
 * The Review panel in headless Chromium: the production webview bundle (dist/media/review.js
 * and review.css) in the same HTML shell and CSP as in VS Code, with `acquireVsCodeApi`
 * stubbed. Two figures, each beside a plain-DOM reference rendered in the same page:
 *
 * - proposal-to-panel latency for an edit of a 2,000-line file: the host's work (diff, hashes,
 *   the panel's state throttle, risk labels, the messages the panel posts as JSON: the
 *   conversation's delta with the agent's message and tool call, then the proposals' delta) + the
 *   webview's (parse and validate the messages, render, layout, paint), p50 and p95 over many
 *   arrivals, in a session whose conversation and history grow as it goes;
 * - rendering 1,000 pending proposals into a fresh panel, median of several page loads.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import type { CommandProposal, EditProposal, Proposal } from '../src/core/proposals/model';
import { riskLabels } from '../src/core/proposals/risk';
import type { RiskLabel } from '../src/core/proposals/riskLabel';
import { sha256Hex } from '../src/core/util/hash';
import { SessionFeed } from '../src/core/session/sessionFeed';
import { SentItems } from '../src/core/util/sentItems';
import { LeadingThrottle } from '../src/core/util/throttle';
import type { SessionSummary } from '../src/shared/conversationProtocol';
import { STATE_THROTTLE_MS, toProposalView, type ExtensionMessage } from '../src/shared/reviewProtocol';
import { Conversation } from '../src/vscode/conversation';
import { openReviewPanel, stubVsCodeApi, writeReviewPanelPage } from '../scripts/vscode/reviewPanelPage';
import { launchChromium } from '../scripts/vscode/server';
import { pendingEdit } from '../test/support/proposals';
import { percentile, type BenchFigure } from './lib';

const root = path.resolve(__dirname, '..');
const ARRIVALS = Number(process.env.WARDEN_BENCH_ARRIVALS ?? 200);
const QUEUE_RUNS = Number(process.env.WARDEN_BENCH_QUEUE_RUNS ?? 7);
const FILE_LINES = 2000;
const EDITS_PER_ARRIVAL = 20;
const QUEUE_SIZE = 1000;

export async function run(): Promise<BenchFigure[]> {
  // The production bundle is what users run.
  const built = spawnSync('node', ['esbuild.js', '--production'], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`node esbuild.js --production failed: ${built.stderr.slice(-500)}`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'warden-bench-review-'));
  const chromium = await launchChromium({ viewport: { width: 1400, height: 900 } });
  try {
    const pageUrl = writeReviewPanelPage(dir);
    const { page } = chromium;
    await stubVsCodeApi(page);
    page.on('pageerror', (error) => process.stderr.write(`[bench reviewPanel] page error: ${error.message}\n`));

    await openReviewPanel(page, pageUrl);
    const latency = await arrivalLatency(page);
    const queue = await queueRendering(page, pageUrl);
    const fileLabel = `${FILE_LINES}-line file, ${EDITS_PER_ARRIVAL} edits`;
    return [
      {
        figure: `proposal to panel, ${fileLabel}, p50`,
        unit: 'ms',
        warden: latency.warden.p50,
        reference: latency.reference.p50,
        referenceLabel: 'same steps, diff in one <pre>',
        target: '—',
      },
      {
        figure: `proposal to panel, ${fileLabel}, p95`,
        unit: 'ms',
        warden: latency.warden.p95,
        reference: latency.reference.p95,
        referenceLabel: 'same steps, diff in one <pre>',
        target: 'p95 <= 50 ms',
      },
      {
        figure: `render ${QUEUE_SIZE} pending proposals`,
        unit: 'ms',
        warden: queue.warden,
        reference: queue.reference,
        referenceLabel: `${QUEUE_SIZE} <pre> blocks`,
        target: 'ms <= 300',
      },
    ];
  } finally {
    await chromium.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------------ proposal to panel

const baseLines = Array.from(
  { length: FILE_LINES },
  (_, i) => `export function step${i}(input) { return transform(input, ${i}, "step ${i}"); }`,
);
const baseText = `${baseLines.join('\n')}\n`;
const baseHash = sha256Hex(baseText);

/** The agent's edit number `n`: 20 scattered changed lines, the first carrying a unique marker. */
function editedText(n: number): { text: string; marker: string } {
  const lines = [...baseLines];
  const marker = `bench-marker-${n}-${Math.random().toString(36).slice(2)}`;
  for (let e = 0; e < EDITS_PER_ARRIVAL; e++) {
    const at = (7 + e * 97 + n * 13) % FILE_LINES;
    lines[at] = `export function step${at}(input) { return changed(input, ${e}); } // ${e === 0 ? marker : `edit ${n}.${e}`}`;
  }
  return { text: `${lines.join('\n')}\n`, marker };
}

function editProposal(
  n: number,
  sessionId: string,
  filePath: string,
  oldText: string | null,
  newText: string,
  createdAt = new Date(Date.UTC(2026, 0, 1, 0, 0, 0, n)).toISOString(),
): EditProposal {
  return pendingEdit({
    id: `p-bench-${sessionId}-${n}`,
    sessionId,
    createdAt,
    path: filePath,
    oldText,
    newText,
  });
}

function risksOf(proposals: readonly Proposal[]): Record<string, RiskLabel[]> {
  const risks: Record<string, RiskLabel[]> = {};
  for (const proposal of proposals) {
    const labels = riskLabels(proposal);
    if (labels.length > 0) risks[proposal.id] = labels;
  }
  return risks;
}

/** A full snapshot, serialized as VS Code does to cross into the webview (a fresh panel, the 1,000-proposal queue). */
function stateJson(proposals: readonly Proposal[]): string {
  const message: ExtensionMessage = { type: 'state', proposals: proposals.map(toProposalView), hunkChoices: {}, risks: risksOf(proposals) };
  return JSON.stringify(message);
}

/** What ReviewPanel posts for the store's proposals: a full `state` first, then what changed (`delta`, numbered with SentItems as the panel does). */
class ProposalMessages {
  private readonly sent = new SentItems<Proposal>();
  private first = true;
  json(all: readonly Proposal[]): string {
    const common = { hunkChoices: {}, mode: 'action' as const, turns: [] };
    if (this.first) {
      this.first = false;
      const { rev } = this.sent.full(all);
      return JSON.stringify({
        type: 'state',
        proposals: all.map(toProposalView),
        risks: risksOf(all),
        ...common,
        rev,
      } satisfies ExtensionMessage);
    }
    const { upsert, ...delta } = this.sent.delta(all);
    return JSON.stringify({
      type: 'delta',
      ...delta,
      upsert: upsert.map(toProposalView),
      risks: risksOf(upsert),
      ...common,
    } satisfies ExtensionMessage);
  }
}

const SESSION: SessionSummary = { id: 's-bench', state: 'prompting', agent: 'bench agent', protocol: 'acp', pendingReviews: 1 };

/** The panel's conversation (src/vscode/conversation.ts) over a real SessionFeed: a full message first, then deltas. */
function conversationOf(feed: SessionFeed): { json(full: boolean): string } {
  const conversation = new Conversation(
    {
      source: {
        summary: () => SESSION,
        feedChanges: (since) => feed.changes(since),
        queued: () => [],
        onDidChange: () => ({ dispose: () => undefined }),
        onDidReturnInstruction: () => ({ dispose: () => undefined }),
        instruct: () => 'sent',
        activeSession: undefined,
        cancel: async () => undefined,
        answer: async () => undefined,
      },
      start: async () => undefined,
    },
    () => undefined,
    { error: () => undefined },
  );
  return { json: (full) => JSON.stringify(conversation.snapshot(full)) };
}

interface Percentiles {
  p50: number;
  p95: number;
}

async function arrivalLatency(page: Page): Promise<{ warden: Percentiles; reference: Percentiles }> {
  const warden: number[] = [];
  const reference: number[] = [];
  // One session: the reviewer keeps up, so earlier arrivals were accepted (they sit in the
  // history, closed) and the new one is the pending proposal at the top of the queue; the
  // conversation above holds the agent's messages and tool calls (up to the feed's 400 entries)
  // with every proposal where it arose.
  const store: Proposal[] = [];
  const feed = new SessionFeed();
  feed.instruction('Rename every step in src/steps.js', 1);
  const conversation = conversationOf(feed);
  const proposals = new ProposalMessages();
  await page.evaluate(
    `(async (messages) => { for (const json of messages) await window.__post(json); })(${JSON.stringify([conversation.json(true), proposals.json(store)])})`,
  );
  // The panel's own throttle, as ReviewPanel uses it: a lone arrival is posted at once, a burst is batched.
  let flushed: ((json: string[]) => void) | undefined;
  const throttle = new LeadingThrottle(STATE_THROTTLE_MS, () => flushed?.([conversation.json(false), proposals.json(store)]));
  for (let n = 0; n < ARRIVALS; n++) {
    const { text, marker } = editedText(n);
    // Host side: the agent says what it does and calls its tool (the feed), the proposal as the
    // session builds it (diff, hashes), the store's change through the throttle, then the messages.
    const hostStart = process.hrtime.bigint();
    feed.push({ type: 'agent-message', text: `Now step ${n}: renaming the transforms in src/steps.js.` });
    feed.push({
      type: 'tool-call',
      toolCallId: `call-${n}`,
      title: 'Edit src/steps.js',
      status: 'pending',
      kind: 'edit',
      locations: ['src/steps.js'],
    });
    // Created now, as the feed's entries are: the conversation shows it after the tool call that asked.
    const proposal = editProposal(n, 's-bench', 'src/steps.js', baseText, text, new Date().toISOString());
    if (proposal.baseHash !== baseHash) throw new Error('bench: base hash mismatch');
    const previous = store[store.length - 1];
    if (previous)
      store[store.length - 1] = {
        ...previous,
        state: 'applied',
        decision: { verdict: 'approve', reviewer: { kind: 'human', name: 'Bench', source: 'bench' }, decidedAt: proposal.createdAt },
      };
    store.push(proposal);
    const messages = await new Promise<string[]>((resolve) => {
      flushed = resolve;
      throttle.schedule();
    });
    const hostMs = Number(process.hrtime.bigint() - hostStart) / 1e6;

    // The reviewer looks at the queue (below the conversation): untimed, before the messages come.
    await page.evaluate(`(async () => {
      const heading = document.getElementById('pending-heading');
      const top = heading ? heading.getBoundingClientRect().top : 0;
      if (heading && (top < 0 || top > innerHeight / 4)) { heading.scrollIntoView({ block: 'start' }); await window.__painted(); }
    })()`);
    const webviewMs = await page.evaluate(
      `(async ({ messages, id, marker }) => {
        const start = performance.now();
        for (const json of messages) await window.__send(json);
        await window.__painted();
        const elapsed = performance.now() - start;
        const diff = document.querySelector('.session-groups article[data-proposal-id="' + id + '"] .diff');
        const box = diff && diff.getBoundingClientRect();
        if (!diff || !diff.textContent.includes(marker) || box.height === 0 || box.top >= innerHeight || box.bottom <= 0) throw new Error('the new diff is not in view');
        return elapsed;
      })(${JSON.stringify({ messages, id: proposal.id, marker })})`,
    );
    const referenceMs = await page.evaluate(
      `(async ({ diff, marker }) => {
        const start = performance.now();
        const data = await window.__send(diff);
        let pre = document.getElementById('bench-reference');
        // Where the new card goes: under the queue's heading, in view.
        if (!pre) { pre = document.createElement('pre'); pre.id = 'bench-reference'; document.getElementById('pending-heading').after(pre); }
        pre.textContent = data.diff;
        await window.__painted();
        const elapsed = performance.now() - start;
        const box = pre.getBoundingClientRect();
        if (!pre.textContent.includes(marker) || box.height === 0 || box.top >= innerHeight || box.bottom <= 0) throw new Error('the reference is not in view');
        pre.remove();
        return elapsed;
      })(${JSON.stringify({ diff: JSON.stringify({ type: 'bench', diff: proposal.diff }), marker })})`,
    );
    // The reference gets the same host-side work: the ratio isolates the panel's rendering.
    if (typeof webviewMs !== 'number' || typeof referenceMs !== 'number') throw new Error('bench: the page returned no timing');
    warden.push(hostMs + webviewMs);
    reference.push(hostMs + referenceMs);
  }
  // The first arrivals warm up the JIT and caches on both sides.
  const warm = Math.min(20, Math.floor(ARRIVALS / 5));
  return { warden: percentiles(warden.slice(warm)), reference: percentiles(reference.slice(warm)) };
}

function percentiles(values: number[]): Percentiles {
  return { p50: percentile(values, 0.5), p95: percentile(values, 0.95) };
}

// ------------------------------------------------------------------ 1,000 pending proposals

/**
 * 1,000 pending proposals from 4 agent sessions, each working through 25 files: about ten
 * proposals per file and session, mostly small edits, some new files, one in ten a command.
 */
function pendingQueue(): Proposal[] {
  const proposals: Proposal[] = [];
  for (let n = 0; n < QUEUE_SIZE; n++) {
    const sessionId = `s-bench-${n % 4}`;
    const filePath = `src/module${Math.floor(n / 4) % 25}/file.ts`;
    if (n % 10 === 9) {
      const command: CommandProposal = {
        kind: 'command',
        id: `p-queue-${n}`,
        sessionId,
        createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, 0, n)).toISOString(),
        state: 'pending',
        title: `Run npm test -- --grep case${n}`,
        origin: 'terminal/create',
        argv: ['npm', 'test', '--', '--grep', `case${n}`],
        commandLine: `npm test -- --grep case${n}`,
        cwd: '/workspace',
        env: {},
      };
      proposals.push(command);
      continue;
    }
    const old = Array.from({ length: 40 }, (_, i) => `  const value${i} = compute(${i}); // ${filePath}`);
    const next = [...old];
    next[(n * 7) % 40] = `  const value${(n * 7) % 40} = recompute(${n}); // changed`;
    next.splice((n * 11) % 40, 0, `  log("queue ${n}");`);
    const created = n % 10 === 4;
    proposals.push(editProposal(n, sessionId, filePath, created ? null : `${old.join('\n')}\n`, `${next.join('\n')}\n`));
  }
  return proposals;
}

async function queueRendering(page: Page, pageUrl: string): Promise<{ warden: number; reference: number }> {
  const proposals = pendingQueue();
  const json = stateJson(proposals);
  const last = proposals[proposals.length - 1]!;
  const referenceJson = JSON.stringify({
    type: 'bench',
    items: proposals.map((p) => ({ title: p.title, text: p.kind === 'edit' ? p.diff : p.kind === 'command' ? p.commandLine : '' })),
  });
  const warden: number[] = [];
  const reference: number[] = [];
  for (let run = 0; run < QUEUE_RUNS; run++) {
    // A fresh panel each run: nothing cached from the run before.
    await openReviewPanel(page, pageUrl);
    const wardenMs = await page.evaluate(
      `(async ({ json, lastId, count }) => {
        const start = performance.now();
        await window.__send(json);
        await window.__painted();
        const elapsed = performance.now() - start;
        const cards = document.querySelectorAll('.session-groups article[data-proposal-id]').length;
        if (cards !== count) throw new Error('rendered ' + cards + ' cards, expected ' + count);
        if (!document.querySelector('article[data-proposal-id="' + lastId + '"]')) throw new Error('the last proposal is missing');
        return elapsed;
      })(${JSON.stringify({ json, lastId: last.id, count: QUEUE_SIZE })})`,
    );
    await openReviewPanel(page, pageUrl);
    const referenceMs = await page.evaluate(
      `(async ({ json, count }) => {
        const start = performance.now();
        const data = await window.__send(json);
        const app = document.getElementById('app');
        const fragment = document.createDocumentFragment();
        for (const item of data.items) {
          const title = document.createElement('h3');
          title.textContent = item.title;
          const pre = document.createElement('pre');
          pre.textContent = item.text;
          fragment.append(title, pre);
        }
        app.replaceChildren(fragment);
        await window.__painted();
        const elapsed = performance.now() - start;
        if (app.querySelectorAll('pre').length !== count) throw new Error('reference incomplete');
        return elapsed;
      })(${JSON.stringify({ json: referenceJson, count: QUEUE_SIZE })})`,
    );
    if (typeof wardenMs !== 'number' || typeof referenceMs !== 'number') throw new Error('bench: the page returned no timing');
    warden.push(wardenMs);
    reference.push(referenceMs);
  }
  return { warden: percentile(warden, 0.5), reference: percentile(reference, 0.5) };
}

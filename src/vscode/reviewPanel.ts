import * as vscode from 'vscode';
import { rejectReason, reviewableSides, type ReviewChoice } from '../core/proposals/decisions';
import type { HunkVerdict } from '../core/proposals/hunkChoices';
import type { Proposal } from '../core/proposals/model';
import { riskLabels } from '../core/proposals/risk';
import { CONFIRM_IN_BULK, type RiskLabel } from '../core/proposals/riskLabel';
import type { ProposalStore } from '../core/proposals/store';
import { turnChoices } from '../core/proposals/turnDecisions';
import { SentItems } from '../core/util/sentItems';
import type { ReviewMode } from '../core/proposals/turns';
import {
  parseWebviewMessage,
  STATE_THROTTLE_MS,
  toProposalView,
  type ExtensionMessage,
  type KeyAction,
  type TurnInfo,
  type Verdict,
  type WebviewMessage,
} from '../shared/reviewProtocol';
import { LeadingThrottle } from '../core/util/throttle';
import { Conversation, type ConversationDeps } from './conversation';
import { WebviewPanelHost, type WebviewPanelSpec } from './webviewPanelHost';

/** What the panel does with the reviewer's clicks; errors thrown here are shown to the reviewer. */
export interface ReviewPanelHandlers {
  /** `reason`: why the reviewer rejected (optional); the agent is told, the audit keeps it. */
  /** `optionId`: a permission request's option the reviewer picked to answer with (checked against the verdict). */
  decide(proposalId: string, verdict: Verdict, reason?: string, optionId?: string): unknown;
  openDiff(proposalId: string): unknown;
  /** A choice on one hunk; the proposal is decided once every hunk has one. */
  chooseHunk(proposalId: string, hunkId: string, verdict: Verdict, seenHash: string): unknown;
  /** A decision with edited content or an edited command. */
  review(proposalId: string, choice: ReviewChoice): unknown;
  /** The per-hunk choices made so far on a pending edit (in the panel or the editor). */
  hunkChoices(proposal: Proposal): Record<string, HunkVerdict>;
  /** Asks the reviewer before a bulk action that includes protected items; false = cancelled. */
  confirmBulk(request: BulkRequest): Promise<boolean>;
  /** The single-key keybindings stand down while the reviewer types in the panel. */
  setTextFocus(editing: boolean): unknown;
  /** How pending proposals are shown: by agent turn (decided together) or one by one. */
  reviewMode(): ReviewMode;
  /** The turns of the current session, the running one marked. */
  turns(): TurnInfo[];
  /** The session's conversation and the instruction box (absent: the panel shows proposals only). */
  conversation?: ConversationDeps;
}

export interface BulkRequest {
  verdict: Verdict;
  /** What the reviewer picked, e.g. "every proposal in src/a.js". */
  scope: string;
  proposals: Proposal[];
  /** The items with a risk that asks for a confirmation, and why. */
  risky: Array<{ proposal: Proposal; risks: RiskLabel[] }>;
}

/** Edits larger than this are edited in the diff editor, not in the panel's text area. */
const MAX_PANEL_EDIT_CHARS = 2 * 1024 * 1024;

/** The part of a `LogOutputChannel` the panel uses. */
export interface ReviewPanelLog {
  warn(message: string): void;
  error(message: string): void;
}

const consoleLog: ReviewPanelLog = {
  warn: (message) => console.warn(message),
  error: (message) => console.error(message),
};

/** Conversation snapshots (the agent streams text) at most this often. */
const CONVERSATION_THROTTLE_MS = 50;

/**
 * The Warden panel ("Warden Agent", view type `warden.review`): one place to work with the agent.
 * The conversation (instructions, the agent's messages, plan and tool calls, each proposal where
 * it arose), the queue of proposals waiting for review with their history, and the instruction
 * box. It turns the reviewer's clicks into handler calls. One instance at a time. (The former
 * Session panel is this panel now: "Warden: Show Agent Session" reveals it.)
 *
 * The webview holds no state the extension needs: it gets a full snapshot after it says
 * `ready` (on every load, including after being hidden, since the panel does not use
 * retainContextWhenHidden) and what changed after every store change (a `delta`).
 */
export class ReviewPanel implements vscode.Disposable {
  static readonly viewType = 'warden.review';
  static readonly title = 'Warden Agent';

  private static loading = false;

  static readonly spec: WebviewPanelSpec = {
    viewType: ReviewPanel.viewType,
    title: ReviewPanel.title,
    script: 'review.js',
    style: 'review.css',
    loadingText: 'Loading the conversation and proposals…',
    throttleMs: STATE_THROTTLE_MS,
  };

  /** Until `done` settles, the panel shows "loading" instead of "nothing to review" (saved proposals after a reload). */
  static trackLoading(done: Promise<unknown>): void {
    ReviewPanel.loading = true;
    void done.finally(() => {
      ReviewPanel.loading = false;
      ReviewPanel.current?.host.postState();
    });
  }

  /** The open panel, if any. */
  static get current(): ReviewPanel | undefined {
    return WebviewPanelHost.instance<ReviewPanel>(ReviewPanel.viewType);
  }

  /** Reveals the open panel or opens a new one beside the active editor. */
  static createOrShow(
    extensionUri: vscode.Uri,
    store: ProposalStore,
    handlers: ReviewPanelHandlers,
    log: ReviewPanelLog = consoleLog,
  ): ReviewPanel {
    const column = vscode.window.activeTextEditor ? vscode.ViewColumn.Beside : vscode.ViewColumn.Active;
    const open = ReviewPanel.current;
    if (open) {
      open.handlers = handlers;
      open.host.reveal(column);
      return open;
    }
    return new ReviewPanel(WebviewPanelHost.createPanel(extensionUri, ReviewPanel.spec, column), extensionUri, store, handlers, log);
  }

  /** Restores the panel across window reloads (matches the `onWebviewPanel:warden.review` activation event). */
  static registerSerializer(
    extensionUri: vscode.Uri,
    store: ProposalStore,
    handlers: ReviewPanelHandlers,
    log: ReviewPanelLog = consoleLog,
  ): vscode.Disposable {
    return WebviewPanelHost.registerSerializer(extensionUri, ReviewPanel.viewType, (panel) => {
      new ReviewPanel(panel, extensionUri, store, handlers, log);
    });
  }

  private readonly host: WebviewPanelHost<ExtensionMessage>;
  private readonly subscriptions: Array<{ dispose(): unknown }> = [];
  private readonly conversation: Conversation | undefined;
  private readonly conversationThrottle: LeadingThrottle;
  /** Proposals with a decision on its way to the handler: a second click is dropped. */
  private readonly deciding = new Set<string>();
  private readonly riskCache = new WeakMap<Proposal, RiskLabel[]>();
  /** Sent once with the next snapshot: the turn to scroll to. */
  private focusTurn: string | undefined;
  /** What the webview holds, so a change is sent as a delta. */
  private readonly sent = new SentItems<Proposal>();

  private constructor(
    panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    private readonly store: ProposalStore,
    private handlers: ReviewPanelHandlers,
    private readonly log: ReviewPanelLog,
  ) {
    this.host = new WebviewPanelHost<ExtensionMessage>(panel, extensionUri, ReviewPanel.spec, this, {
      onMessage: (raw) => this.handleMessage(raw),
      snapshot: (full) => this.snapshot(full),
      onDispose: () => this.handlers.setTextFocus(false),
      log,
    });
    this.subscriptions.push(store.onDidChange(() => this.host.scheduleState()));
    this.conversationThrottle = new LeadingThrottle(CONVERSATION_THROTTLE_MS, () => this.postConversation());
    const deps = handlers.conversation;
    if (deps) {
      this.conversation = new Conversation(deps, (message) => this.post(message), log);
      this.subscriptions.push(
        deps.source.onDidChange(() => {
          if (this.host.ready) this.conversationThrottle.schedule();
        }),
        // Offered back in the box (the session controller says so in a notification too, for a closed panel).
        deps.source.onDidReturnInstruction(({ text, reason }) => this.post({ type: 'promptReturned', text, reason })),
        { dispose: () => this.conversationThrottle.cancel() },
      );
    }
  }

  /** The conversation now (when the webview is there to get it): what changed, or all of it when `full`. */
  private postConversation(full = false): void {
    this.conversationThrottle.flushed();
    if (this.conversation && this.host.ready) this.post(this.conversation.snapshot(full));
  }

  /** Whether the panel is on screen (the review notification stays quiet then). */
  get visible(): boolean {
    return this.host.visible;
  }

  /** The entry point for every webview message (public so extension tests can drive it). */
  async handleMessage(raw: unknown): Promise<void> {
    const parsed = parseWebviewMessage(raw);
    if (!parsed.ok) {
      this.log.warn(`[review] dropped an invalid message from the webview: ${parsed.error}`);
      return;
    }
    const message: WebviewMessage = parsed.message;
    switch (message.type) {
      case 'ready':
        // A new document has no text field focused; a stale "typing" flag would disable the keys.
        this.handlers.setTextFocus(false);
        this.host.markReady();
        this.postConversation(true);
        return;
      case 'decide':
        await this.decide(message.proposalId, message.verdict, message.reason, message.optionId);
        return;
      case 'openDiff':
        await this.openDiff(message.proposalId);
        return;
      case 'decideMany':
        await this.decideMany(message.proposalIds, message.verdict, message.scope, message.reason);
        return;
      case 'chooseHunk':
        await this.guarded(message.proposalId, 'choose a hunk of', () =>
          this.handlers.chooseHunk(message.proposalId, message.hunkId, message.verdict, message.newHash),
        );
        return;
      case 'requestContent':
        this.sendContent(message.proposalId);
        return;
      case 'acceptEdited':
        await this.guarded(message.proposalId, 'accept your edit of', () =>
          this.handlers.review(message.proposalId, { kind: 'editedText', text: message.text, newHash: message.newHash }),
        );
        return;
      case 'runEditedCommand':
        await this.guarded(message.proposalId, 'run your edit of', () =>
          this.handlers.review(message.proposalId, { kind: 'editedCommand', commandLine: message.commandLine }),
        );
        return;
      case 'textFocus':
        this.handlers.setTextFocus(message.editing);
        return;
      case 'decideTurn':
        await this.decideTurn(message.sessionId, message.turn, message.verdict, message.reason);
        return;
      case 'orphan':
        await this.orphanAction(message.proposalId, message.action);
        return;
      case 'prompt':
      case 'cancelTurn':
      case 'answer':
        if (this.conversation) await this.conversation.handle(message);
        else if (message.type === 'prompt')
          this.post({ type: 'promptResult', id: message.id, outcome: 'failed', message: 'No session here.' });
        return;
    }
  }

  /** Scrolls the panel to a turn's changeset ("Warden: Review Turn", a turn just ended). */
  showTurn(key: string | undefined): void {
    this.focusTurn = key;
    this.host.postState();
  }

  /** Puts an instruction that could not be sent back in the instruction box. */
  offerInstruction(text: string, reason: string): void {
    this.post({ type: 'promptReturned', text, reason });
  }

  /** Forwards a contributed keybinding to the webview, which knows what is selected. */
  sendKey(action: KeyAction): void {
    if (!this.host.ready) return;
    this.post({ type: 'key', action });
  }

  dispose(): void {
    for (const subscription of this.subscriptions.splice(0)) subscription.dispose();
    this.host.dispose();
  }

  private async decide(proposalId: string, verdict: Verdict, reason?: string, optionId?: string): Promise<void> {
    if (optionId !== undefined) {
      const proposal = this.store.get(proposalId);
      const option = proposal?.kind === 'permission' ? proposal.options.find((o) => o.optionId === optionId) : undefined;
      if (!option || option.kind.startsWith('allow') !== (verdict === 'approve')) {
        this.fail(
          proposalId,
          `Could not answer with that option: the agent did not offer it for ${verdict === 'approve' ? 'Accept' : 'Reject'}.`,
        );
        return;
      }
    }
    await this.guarded(proposalId, verdict === 'approve' ? 'accept' : 'reject', () =>
      this.handlers.decide(proposalId, verdict, rejectReason(verdict, reason), optionId),
    );
  }

  /** Runs a reviewer action on a pending proposal; a failure is shown, and nothing is approved by it. */
  private async guarded(proposalId: string, what: string, action: () => unknown): Promise<void> {
    const proposal = this.store.get(proposalId);
    if (!proposal) {
      this.fail(proposalId, `Could not ${what} the proposal: it no longer exists.`);
      return;
    }
    if (proposal.state !== 'pending') {
      // The webview showed an older snapshot; never re-decide, just show the current state.
      this.fail(proposalId, `Could not ${what} "${proposal.title}": it is already ${proposal.state}.`);
      this.host.postState();
      return;
    }
    if (this.deciding.has(proposalId)) {
      this.log.warn(`[review] dropped a second action on ${proposalId} while the first is being recorded`);
      return;
    }
    this.deciding.add(proposalId);
    try {
      await action();
    } catch (error) {
      this.fail(proposalId, `Could not ${what} "${proposal.title}": ${errorText(error)}`);
    } finally {
      this.deciding.delete(proposalId);
      this.host.postState();
    }
  }

  private async decideMany(proposalIds: string[], verdict: Verdict, scope: string, reason?: string): Promise<void> {
    try {
      await this.decideManyNow(proposalIds, verdict, scope, rejectReason(verdict, reason));
    } finally {
      // Whatever happened (cancelled, confirmed, partly failed), the panel stops showing them busy.
      this.post({ type: 'settled', proposalIds: [...new Set(proposalIds)] });
      this.host.postState();
    }
  }

  private async decideManyNow(proposalIds: string[], verdict: Verdict, scope: string, reason?: string): Promise<void> {
    const proposals = [...new Set(proposalIds)]
      .map((id) => this.store.get(id))
      .filter((p): p is Proposal => p?.state === 'pending' && !this.deciding.has(p.id));
    if (proposals.length === 0) {
      this.fail(proposalIds[0] ?? '', 'Nothing to decide: those proposals were already decided.');
      return;
    }
    const risky = proposals
      .map((proposal) => ({ proposal, risks: this.risksOf(proposal).filter((r) => CONFIRM_IN_BULK.has(r.kind)) }))
      .filter((r) => r.risks.length > 0);
    if (risky.length > 0 && !(await this.handlers.confirmBulk({ verdict, scope, proposals, risky }))) {
      this.log.warn(`[review] bulk ${verdict} of ${proposals.length} proposals cancelled at the confirmation`);
      return;
    }
    const failures: string[] = [];
    for (const proposal of proposals) {
      // Each one is checked again: the state may have changed while the confirmation was open.
      if (this.store.get(proposal.id)?.state !== 'pending') continue;
      this.deciding.add(proposal.id);
      try {
        await this.handlers.decide(proposal.id, verdict, reason);
      } catch (error) {
        failures.push(`"${proposal.title}": ${errorText(error)}`);
      } finally {
        this.deciding.delete(proposal.id);
      }
    }
    if (failures.length > 0)
      this.fail(
        proposals[0]?.id ?? '',
        `Could not ${verdict === 'approve' ? 'accept' : 'reject'} ${failures.length} of ${proposals.length}: ${failures.slice(0, 3).join('; ')}${failures.length > 3 ? '…' : ''}`,
      );
  }

  /**
   * Accept all / Reject all of one turn: each waiting proposal is decided through the same
   * review path as a click (hunks already chosen are kept; see turnChoices), after the
   * confirmation protected items ask for.
   */
  private async decideTurn(sessionId: string, turn: number, verdict: Verdict, reason?: string): Promise<void> {
    const waiting = this.store.pending().filter((p) => p.sessionId === sessionId && (p.turn ?? 0) === turn && !this.deciding.has(p.id));
    try {
      const scope = `every change of turn ${turn}`;
      const choices = turnChoices(
        waiting,
        verdict,
        (p) => this.handlers.hunkChoices(p),
        rejectReason(verdict, reason) ?? `turn review: ${verdict === 'approve' ? 'accept' : 'reject'} all of turn ${turn}`,
      );
      const chosen = choices.map((c) => this.store.get(c.proposalId)).filter((p): p is Proposal => p !== undefined);
      if (chosen.length === 0) {
        this.fail('', `Nothing of turn ${turn} is waiting for your review.`);
        return;
      }
      const risky = chosen
        .map((proposal) => ({ proposal, risks: this.risksOf(proposal).filter((r) => CONFIRM_IN_BULK.has(r.kind)) }))
        .filter((r) => r.risks.length > 0);
      if (risky.length > 0 && !(await this.handlers.confirmBulk({ verdict, scope, proposals: chosen, risky }))) return;
      const failures: string[] = [];
      for (const { proposalId, choice } of choices) {
        if (this.store.get(proposalId)?.state !== 'pending') continue;
        this.deciding.add(proposalId);
        try {
          await this.handlers.review(proposalId, choice);
        } catch (error) {
          failures.push(`${this.store.get(proposalId)?.title ?? proposalId}: ${errorText(error)}`);
        } finally {
          this.deciding.delete(proposalId);
        }
      }
      if (failures.length > 0)
        this.fail(choices[0]?.proposalId ?? '', `Could not decide ${failures.length} of turn ${turn}: ${failures.slice(0, 3).join('; ')}`);
    } finally {
      this.post({ type: 'settled', proposalIds: waiting.map((p) => p.id) });
      this.host.postState();
    }
  }

  /** The editor lenses' Apply anyway / Discard, from the panel: the same commands (Apply anyway asks first). */
  private async orphanAction(proposalId: string, action: 'applyAnyway' | 'discard'): Promise<void> {
    const proposal = this.store.get(proposalId);
    if (proposal?.state !== 'orphaned' || (action === 'applyAnyway' && proposal.kind !== 'edit')) {
      this.fail(
        proposalId,
        proposal
          ? `"${proposal.title}" is ${proposal.state}, not an orphaned ${action === 'applyAnyway' ? 'edit' : 'proposal'}.`
          : 'The proposal no longer exists.',
      );
      return;
    }
    try {
      await vscode.commands.executeCommand(action === 'applyAnyway' ? 'warden.applyOrphanedEdit' : 'warden.discardProposal', proposalId);
    } catch (error) {
      this.fail(proposalId, `Could not ${action === 'applyAnyway' ? 'apply' : 'discard'} "${proposal.title}": ${errorText(error)}`);
    } finally {
      this.host.postState();
    }
  }

  private sendContent(proposalId: string): void {
    const proposal = this.store.get(proposalId);
    if (!proposal) {
      this.fail(proposalId, 'Could not edit the proposal: it no longer exists.');
      return;
    }
    const sides = reviewableSides(proposal);
    if (!sides || proposal.state !== 'pending') {
      this.fail(proposalId, `"${proposal.title}" can only be accepted or rejected as it is (${notEditableWhy(proposal)}).`);
      return;
    }
    if (sides.newText.length > MAX_PANEL_EDIT_CHARS) {
      this.fail(
        proposalId,
        `"${proposal.title}" is too large to edit in the panel (${sides.newText.length} characters); use Open Diff to read it, then accept or reject.`,
      );
      return;
    }
    this.post({ type: 'content', proposalId, newHash: sides.newHash, text: sides.newText });
  }

  /** Risk labels are derived once per proposal object (the store replaces objects on change). */
  private risksOf(proposal: Proposal): RiskLabel[] {
    let risks = this.riskCache.get(proposal);
    if (!risks) {
      risks = riskLabels(proposal);
      this.riskCache.set(proposal, risks);
    }
    return risks;
  }

  private async openDiff(proposalId: string): Promise<void> {
    const proposal = this.store.get(proposalId);
    if (!proposal || !hasEdit(proposal)) {
      this.fail(
        proposalId,
        proposal ? `"${proposal.title}" has no file change to show.` : 'Could not open the diff: the proposal no longer exists.',
      );
      return;
    }
    try {
      await this.handlers.openDiff(proposalId);
    } catch (error) {
      this.fail(proposalId, `Could not open the diff of "${proposal.title}": ${errorText(error)}`);
    }
  }

  /** Tells the reviewer in the panel and in a notification; never approves anything. */
  private fail(proposalId: string, message: string): void {
    this.log.error(`[review] ${message} (proposal ${proposalId})`);
    this.post({ type: 'error', message, proposalId });
    void vscode.window.showErrorMessage(`Warden: ${message}`);
  }

  /** A full snapshot (a new document), or what changed since the last message (issue 21). */
  private snapshot(full: boolean): ExtensionMessage {
    const all = this.store.all();
    const hunkChoices: Record<string, Record<string, Verdict>> = {};
    for (const proposal of all) {
      if (proposal.state === 'pending' && (proposal.kind === 'edit' || proposal.kind === 'permission')) {
        const chosen = this.handlers.hunkChoices(proposal);
        if (Object.keys(chosen).length > 0) hunkChoices[proposal.id] = chosen;
      }
    }
    const focusTurn = this.focusTurn;
    this.focusTurn = undefined;
    const common = {
      hunkChoices,
      ...(ReviewPanel.loading ? { loading: true } : {}),
      mode: this.handlers.reviewMode(),
      turns: this.handlers.turns(),
      ...(focusTurn ? { focusTurn } : {}),
    };
    if (full) {
      const { rev } = this.sent.full(all);
      return { type: 'state', proposals: all.map(toProposalView), risks: this.risksByProposal(all), ...common, rev };
    }
    const { upsert, ...delta } = this.sent.delta(all);
    return { type: 'delta', ...delta, upsert: upsert.map(toProposalView), risks: this.risksByProposal(upsert), ...common };
  }

  /** Risk labels by proposal id (only proposals that have any). */
  private risksByProposal(proposals: Proposal[]): Record<string, RiskLabel[]> {
    const risks: Record<string, RiskLabel[]> = {};
    for (const proposal of proposals) {
      const labels = this.risksOf(proposal);
      if (labels.length > 0) risks[proposal.id] = labels;
    }
    return risks;
  }

  private post(message: ExtensionMessage): void {
    this.host.post(message);
  }
}

function hasEdit(proposal: Proposal): boolean {
  return proposal.kind === 'edit' || (proposal.kind === 'permission' && proposal.edit !== undefined);
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Why a proposal's text cannot be edited in the panel, in the reviewer's words. */
function notEditableWhy(proposal: Proposal): string {
  if (proposal.state !== 'pending') return `it is ${proposal.state}`;
  if (proposal.kind === 'edit' && proposal.sandboxChange)
    return proposal.sandboxChange.binary ? 'binary content' : `a ${proposal.sandboxChange.change}`;
  if (proposal.kind === 'permission' && proposal.edit?.unlocated !== undefined) return 'the agent’s change could not be placed in the file';
  if (proposal.kind === 'edit' || proposal.kind === 'permission')
    return `it came through ${proposal.origin}, where the agent applies its own version`;
  return `a ${proposal.kind}, not a file edit`;
}

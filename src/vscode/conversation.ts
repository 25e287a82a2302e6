import type { FeedChanges } from '../core/session/sessionFeed';
import type { ConversationDeltaMessage, ConversationMessage, PromptResultMessage, SessionSummary } from '../shared/conversationProtocol';
import type { ExtensionMessage, WebviewMessage } from '../shared/reviewProtocol';

/** What the Warden panel's conversation needs from the window's session (the SessionController). */
export interface ConversationSource {
  summary(): SessionSummary | null;
  /** The feed's entries changed since a version (0: all of them). */
  feedChanges(since: number): FeedChanges;
  /** Instructions waiting for the running turn to end. */
  queued(): string[];
  /** Fires when the session, its feed, its queue or its state changes. */
  onDidChange(listener: () => void): { dispose(): unknown };
  /** A queued instruction that could not be sent after all: the panel offers it back. */
  onDidReturnInstruction(listener: (returned: { text: string; reason: string }) => void): { dispose(): unknown };
  /** Sends (or queues) an instruction to the running session; throws when none runs. */
  instruct(text: string): 'sent' | 'queued';
  readonly activeSession: unknown;
  cancel(): Promise<unknown>;
  answer(proposalId: string, answer: string): Promise<unknown>;
}

export interface ConversationDeps {
  source: ConversationSource;
  /** Starts a session with this first instruction (Start Agent Session); undefined when the user cancelled a question on the way. */
  start(instruction: string): Promise<string | undefined>;
}

type ConversationRequest = Extract<WebviewMessage, { type: 'prompt' | 'cancelTurn' | 'answer' }>;

/**
 * The extension side of the panel's conversation: its snapshot, and the instruction box's
 * requests. An instruction is never lost: each request is answered with what became of it, and
 * the webview keeps the text until it was sent (or queued) — a failure leaves it in the box.
 */
export class Conversation {
  constructor(
    private readonly deps: ConversationDeps,
    private readonly post: (message: ExtensionMessage) => void,
    private readonly log: { error(message: string): void },
  ) {}

  /** The number of the last conversation message, and the feed version it held: a delta sends what changed since. */
  private rev = 0;
  private feedVersion = 0;

  /** The whole conversation (a new document holds nothing), or what changed since the last message. */
  snapshot(full: boolean): ConversationMessage | ConversationDeltaMessage {
    const { source } = this.deps;
    const feed = source.feedChanges(full ? 0 : this.feedVersion);
    this.feedVersion = feed.version;
    const base = this.rev;
    this.rev = base + 1;
    const common = { session: source.summary(), entries: feed.changed, queued: source.queued() };
    if (full) return { type: 'conversation', ...common, rev: this.rev };
    return { type: 'conversationDelta', ...common, base, rev: this.rev, seqs: feed.seqs };
  }

  async handle(message: ConversationRequest): Promise<void> {
    switch (message.type) {
      case 'prompt':
        await this.prompt(message.id, message.text);
        return;
      case 'cancelTurn':
        await this.deps.source.cancel();
        return;
      case 'answer':
        try {
          await this.deps.source.answer(message.proposalId, message.answer);
        } catch (error) {
          this.fail(`Could not send your answer: ${errorText(error)}`, message.proposalId);
        }
        return;
    }
  }

  private async prompt(id: number, text: string): Promise<void> {
    const result = (outcome: PromptResultMessage['outcome'], detail?: string): void =>
      this.post({ type: 'promptResult', id, outcome, ...(detail ? { message: detail } : {}) });
    try {
      if (this.deps.source.activeSession) {
        result(this.deps.source.instruct(text));
        return;
      }
      // No session: the box starts one, as "Warden: Start Agent Session" does.
      const sessionId = await this.deps.start(text);
      result(sessionId === undefined ? 'cancelled' : 'started');
    } catch (error) {
      this.log.error(`[conversation] could not send an instruction: ${errorText(error)}`);
      result('failed', errorText(error));
    }
  }

  private fail(message: string, proposalId?: string): void {
    this.log.error(`[conversation] ${message}`);
    this.post({ type: 'error', message, ...(proposalId ? { proposalId } : {}) });
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

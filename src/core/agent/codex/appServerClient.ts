import type { Readable, Writable } from 'node:stream';
import type * as z from 'zod';
import { JsonLinesPeer, RPC_INVALID_PARAMS, RPC_METHOD_NOT_FOUND, RpcError } from './jsonLinesPeer';
import {
  type AppServerNotification,
  type AskForApproval,
  CommandApprovalParams,
  type CommandApprovalDecision,
  FileChangeApprovalParams,
  type FileChangeApprovalDecision,
  InitializeResponse,
  NotificationSchemas,
  type NotificationMethod,
  type SandboxMode,
  ServerRequestMethods,
  ThreadResponse,
  type Turn,
  TurnStartResponse,
  TurnSteerResponse,
  UserInputParams,
  type UserInputResponse,
} from './protocol';

/** What the Codex app-server may ask of Warden. Params arrive validated. */
export interface AppServerHandlers {
  /** `item/commandExecution/requestApproval`: Codex wants to run a command itself, in the sandbox. */
  commandApproval(params: CommandApprovalParams): Promise<CommandApprovalDecision>;
  /**
   * `item/fileChange/requestApproval`: Codex wants to apply a patch (the changes came with `item/started`).
   * `steer` adds a message to the running turn (`turn/steer`), which the model reads with its next
   * request; false when Codex did not take it (the turn is over).
   */
  fileChangeApproval(params: FileChangeApprovalParams, steer: (text: string) => Promise<boolean>): Promise<FileChangeApprovalDecision>;
  /** `item/tool/requestUserInput`: Codex asks the human questions. */
  userInput(params: UserInputParams): Promise<UserInputResponse>;
  /** Every known notification, validated (unknown methods and invalid params are reported, not delivered). */
  notification(notification: AppServerNotification): void;
  /** A dropped frame or notification, for the log. */
  protocolError?(message: string): void;
}

export interface AppServerClientOptions {
  /** Largest single frame accepted; default 16 MiB. */
  maxMessageBytes?: number;
}

export interface StartThreadOptions {
  cwd: string;
  /** Default `untrusted`: Codex asks before every command and patch that is not read-only. */
  approvalPolicy?: AskForApproval;
  /** Default `danger-full-access`: the Warden container is the sandbox (Codex's own bwrap cannot start in it). */
  sandbox?: SandboxMode;
  model?: string;
}

const DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

/**
 * A client of `codex app-server` (JSON-RPC over stdio, JSON lines), as the Codex IDE
 * extension speaks it: `initialize` + `initialized`, `thread/start` (or `thread/resume`),
 * `turn/start` ... `turn/completed`, `turn/interrupt`. Approvals and questions from the
 * server go to the handlers; anything else the server asks is refused with an error.
 *
 *   const client = new CodexAppServerClient(proc.stdout, proc.stdin, handlers);
 *   await client.initialize({ name: 'warden', version: '0.1.0' });
 *   const threadId = await client.startThread({ cwd: '/workspaces/demo' });
 *   const turn = await client.runTurn(threadId, 'fix the failing test');
 */
export class CodexAppServerClient {
  private readonly peer: JsonLinesPeer;
  private readonly turnWaiters = new Map<string, { resolve(turn: Turn): void; reject(error: Error): void }>();
  /** Turns that completed before runTurn started waiting for them (the notification can beat the response). */
  private readonly completedTurns = new Map<string, Turn>();
  private activeTurn: { threadId: string; turnId: string } | undefined;

  constructor(
    stdout: Readable,
    stdin: Writable,
    private readonly handlers: AppServerHandlers,
    options: AppServerClientOptions = {},
  ) {
    this.peer = new JsonLinesPeer(
      stdout,
      stdin,
      {
        request: (method, params) => this.onServerRequest(method, params),
        notification: (method, params) => this.onNotification(method, params),
      },
      {
        maxMessageBytes: options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
        onProtocolError: (message) => handlers.protocolError?.(message),
      },
    );
    void this.peer.closed.then((reason) => {
      for (const [, waiter] of this.turnWaiters)
        waiter.reject(new Error(`The Codex app-server connection closed during the turn: ${reason}`));
      this.turnWaiters.clear();
    });
  }

  /** Resolves with the reason when the connection is gone. */
  get closed(): Promise<string> {
    return this.peer.closed;
  }

  async initialize(clientInfo: { name: string; version: string; title?: string }): Promise<InitializeResponse> {
    const result = await this.call(
      'initialize',
      { clientInfo: { name: clientInfo.name, title: clientInfo.title ?? null, version: clientInfo.version }, capabilities: null },
      InitializeResponse,
    );
    this.peer.notify('initialized');
    return result;
  }

  /** Starts a thread; returns its id. */
  async startThread(options: StartThreadOptions): Promise<string> {
    const result = await this.call(
      'thread/start',
      {
        cwd: options.cwd,
        approvalPolicy: options.approvalPolicy ?? 'untrusted',
        sandbox: options.sandbox ?? 'danger-full-access',
        ...(options.model ? { model: options.model } : {}),
      },
      ThreadResponse,
    );
    return result.thread.id;
  }

  /** Resumes a thread Codex stored earlier; returns its id. */
  async resumeThread(threadId: string, options: Omit<StartThreadOptions, 'model'>): Promise<string> {
    const result = await this.call(
      'thread/resume',
      {
        threadId,
        cwd: options.cwd,
        approvalPolicy: options.approvalPolicy ?? 'untrusted',
        sandbox: options.sandbox ?? 'danger-full-access',
      },
      ThreadResponse,
    );
    return result.thread.id;
  }

  /** Sends the instruction and resolves with the finished turn (`turn/completed`). */
  async runTurn(threadId: string, text: string): Promise<Turn> {
    const { turn } = await this.call('turn/start', { threadId, input: [{ type: 'text', text, text_elements: [] }] }, TurnStartResponse);
    if (turn.status !== 'inProgress') return turn;
    const early = this.completedTurns.get(turn.id);
    if (early) {
      this.completedTurns.delete(turn.id);
      return early;
    }
    this.activeTurn = { threadId, turnId: turn.id };
    try {
      return await new Promise<Turn>((resolve, reject) => {
        if (this.peer.isClosed) reject(new Error('The Codex app-server connection closed during the turn'));
        else this.turnWaiters.set(turn.id, { resolve, reject });
      });
    } finally {
      this.activeTurn = undefined;
    }
  }

  /** Adds text to the running turn (`turn/steer`); false when Codex refuses it (no such turn running) or the connection is gone. */
  async steer(threadId: string, turnId: string, text: string): Promise<boolean> {
    if (this.peer.isClosed) return false;
    try {
      await this.call(
        'turn/steer',
        { threadId, expectedTurnId: turnId, input: [{ type: 'text', text, text_elements: [] }] },
        TurnSteerResponse,
      );
      return true;
    } catch {
      return false; // the caller tells it another way (with the next instruction)
    }
  }

  /** Asks Codex to stop the running turn (it then completes with status `interrupted`). */
  async interrupt(): Promise<void> {
    const active = this.activeTurn;
    if (!active || this.peer.isClosed) return;
    await this.peer.request('turn/interrupt', active);
  }

  close(reason?: string): void {
    this.peer.close(reason);
  }

  private async call<S extends z.ZodType>(method: string, params: unknown, schema: S): Promise<z.infer<S>> {
    const raw = await this.peer.request(method, params);
    const parsed = schema.safeParse(raw);
    if (!parsed.success)
      throw new Error(`The Codex app-server answered ${method} with an unexpected shape: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    return parsed.data;
  }

  private async onServerRequest(method: string, params: unknown): Promise<unknown> {
    switch (method) {
      case ServerRequestMethods.commandApproval:
        return { decision: await this.handlers.commandApproval(validParams(CommandApprovalParams, method, params)) };
      case ServerRequestMethods.fileChangeApproval: {
        const valid = validParams(FileChangeApprovalParams, method, params);
        const steer = (text: string): Promise<boolean> => this.steer(valid.threadId, valid.turnId, text);
        return { decision: await this.handlers.fileChangeApproval(valid, steer) };
      }
      case ServerRequestMethods.userInput:
        return this.handlers.userInput(validParams(UserInputParams, method, params));
      default:
        // Legacy approvals, MCP elicitations, permission grants, tool calls, auth refresh: not granted.
        throw new RpcError(RPC_METHOD_NOT_FOUND, `Warden does not support ${method}`);
    }
  }

  private onNotification(method: string, params: unknown): void {
    if (!(method in NotificationSchemas)) return; // the app-server sends many notifications Warden has no use for
    const known = method as NotificationMethod;
    const parsed = NotificationSchemas[known].safeParse(params);
    if (!parsed.success) {
      this.handlers.protocolError?.(`dropped an invalid ${method} notification: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
      return;
    }
    const notification = { method: known, params: parsed.data } as AppServerNotification;
    if (notification.method === 'turn/completed') this.onTurnCompleted(notification.params.turn);
    this.handlers.notification(notification);
  }

  private onTurnCompleted(turn: Turn): void {
    const waiter = this.turnWaiters.get(turn.id);
    if (waiter) {
      this.turnWaiters.delete(turn.id);
      waiter.resolve(turn);
    } else if (this.completedTurns.size < 100) {
      this.completedTurns.set(turn.id, turn);
    }
  }
}

function validParams<S extends z.ZodType>(schema: S, method: string, params: unknown): z.infer<S> {
  const parsed = schema.safeParse(params);
  if (!parsed.success) throw new RpcError(RPC_INVALID_PARAMS, `Invalid ${method} params: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data;
}

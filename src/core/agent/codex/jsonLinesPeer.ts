import type { Readable, Writable } from 'node:stream';
import { Frame, type RequestId } from './protocol';

/** A JSON-RPC error to send back (or one received from the peer). */
export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
  }
}

export const RPC_METHOD_NOT_FOUND = -32601;
export const RPC_INVALID_PARAMS = -32602;
export const RPC_INTERNAL = -32603;

export interface JsonLinesPeerOptions {
  /** Largest frame accepted; a longer line ends the connection (it cannot be skipped safely). */
  maxMessageBytes: number;
  /** A frame that was dropped (not JSON, not a frame, a response to nothing): logged, the connection goes on. */
  onProtocolError?(message: string): void;
}

export interface JsonLinesPeerHandlers {
  /** A request from the peer; the returned value is the result, a thrown RpcError the error. */
  request(method: string, params: unknown): Promise<unknown>;
  notification(method: string, params: unknown): void;
}

interface Pending {
  method: string;
  resolve(result: unknown): void;
  reject(error: Error): void;
}

/**
 * JSON-RPC over newline-delimited JSON on a pair of streams, validated frame by frame.
 * Malformed frames are dropped and reported; requests waiting for an answer fail when the
 * connection closes, so nothing waits forever on a dead peer.
 */
export class JsonLinesPeer {
  private nextId = 1;
  private readonly pending = new Map<RequestId, Pending>();
  private buffer: Buffer[] = [];
  private bufferedBytes = 0;
  private closedReason: string | undefined;
  private resolveClosed!: (reason: string) => void;
  /** Resolves with the reason once the connection is closed (peer exited, oversized frame, close()). */
  readonly closed = new Promise<string>((resolve) => (this.resolveClosed = resolve));

  constructor(
    private readonly input: Readable,
    private readonly output: Writable,
    private readonly handlers: JsonLinesPeerHandlers,
    private readonly options: JsonLinesPeerOptions,
  ) {
    input.on('data', (chunk: Buffer | string) => this.onData(typeof chunk === 'string' ? Buffer.from(chunk) : chunk));
    input.on('end', () => this.close('the agent closed its output'));
    input.on('error', (error: Error) => this.close(`reading from the agent failed: ${error.message}`));
    output.on('error', (error: Error) => this.close(`writing to the agent failed: ${error.message}`));
  }

  get isClosed(): boolean {
    return this.closedReason !== undefined;
  }

  request(method: string, params: unknown): Promise<unknown> {
    if (this.closedReason !== undefined) return Promise.reject(new Error(`The agent connection is closed (${this.closedReason})`));
    const id = this.nextId++;
    return new Promise<unknown>((resolve, reject) => {
      this.pending.set(id, { method, resolve, reject });
      this.send({ id, method, params });
    });
  }

  notify(method: string, params?: unknown): void {
    if (this.closedReason !== undefined) return;
    this.send(params === undefined ? { method } : { method, params });
  }

  close(reason = 'closed by Warden'): void {
    if (this.closedReason !== undefined) return;
    this.closedReason = reason;
    this.buffer = [];
    for (const [, pending] of this.pending)
      pending.reject(new Error(`The agent connection closed before it answered ${pending.method}: ${reason}`));
    this.pending.clear();
    this.input.removeAllListeners('data');
    this.resolveClosed(reason);
  }

  private send(frame: Record<string, unknown>): void {
    try {
      this.output.write(`${JSON.stringify(frame)}\n`);
    } catch (error) {
      this.close(`writing to the agent failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private onData(chunk: Buffer): void {
    let start = 0;
    for (let newline = chunk.indexOf(10, start); newline >= 0 && !this.isClosed; newline = chunk.indexOf(10, start)) {
      const piece = chunk.subarray(start, newline);
      start = newline + 1;
      if (this.bufferedBytes + piece.length > this.options.maxMessageBytes) {
        this.close(`the agent sent a message larger than ${this.options.maxMessageBytes} bytes`);
        return;
      }
      const line = Buffer.concat([...this.buffer, piece]).toString('utf8');
      this.buffer = [];
      this.bufferedBytes = 0;
      this.onLine(line);
    }
    if (this.isClosed || start >= chunk.length) return;
    const rest = chunk.subarray(start);
    this.bufferedBytes += rest.length;
    if (this.bufferedBytes > this.options.maxMessageBytes) {
      this.close(`the agent sent a message larger than ${this.options.maxMessageBytes} bytes`);
      return;
    }
    this.buffer.push(Buffer.from(rest));
  }

  private onLine(line: string): void {
    const text = line.trim();
    if (!text) return;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      this.options.onProtocolError?.(`dropped a frame that is not JSON: ${excerpt(text)}`);
      return;
    }
    const parsed = Frame.safeParse(json);
    if (!parsed.success) {
      this.options.onProtocolError?.(`dropped a malformed frame: ${excerpt(text)}`);
      return;
    }
    const frame = parsed.data;
    if (frame.method !== undefined && frame.id !== undefined) this.onRequest(frame.id, frame.method, frame.params);
    else if (frame.method !== undefined) this.onNotification(frame.method, frame.params);
    else if (frame.id !== undefined) this.onResponse(frame);
    else this.options.onProtocolError?.(`dropped a frame with neither method nor id: ${excerpt(text)}`);
  }

  private onRequest(id: RequestId, method: string, params: unknown): void {
    let answer: Promise<unknown>;
    try {
      answer = this.handlers.request(method, params);
    } catch (error) {
      answer = Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    answer.then(
      (result) => {
        if (!this.isClosed) this.send({ id, result: result ?? null });
      },
      (error: unknown) => {
        if (this.isClosed) return;
        const rpc = error instanceof RpcError ? error : new RpcError(RPC_INTERNAL, error instanceof Error ? error.message : String(error));
        this.send({ id, error: { code: rpc.code, message: rpc.message, ...(rpc.data === undefined ? {} : { data: rpc.data }) } });
      },
    );
  }

  private onNotification(method: string, params: unknown): void {
    try {
      this.handlers.notification(method, params);
    } catch (error) {
      this.options.onProtocolError?.(`handling ${method} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private onResponse(frame: Frame): void {
    const id = frame.id!;
    const pending = this.pending.get(id);
    if (!pending) {
      this.options.onProtocolError?.(`dropped a response to an unknown request id ${JSON.stringify(id)}`);
      return;
    }
    this.pending.delete(id);
    if (frame.error) pending.reject(new RpcError(frame.error.code, `${pending.method} failed: ${frame.error.message}`, frame.error.data));
    else pending.resolve(frame.result);
  }
}

function excerpt(text: string): string {
  return text.length > 120 ? `${text.slice(0, 120)}…` : text;
}

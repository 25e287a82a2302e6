import { Duplex, type Readable, type Writable } from 'node:stream';
import { encodeFrame, FrameDecoder, FrameType, MAX_DATA_BYTES, STREAM_WINDOW_BYTES, windowPayload, type Frame } from './frames';

/**
 * Many byte streams over one ordered pipe (a `docker exec` stdio stream). The bridge opens
 * streams (one per connection the sandbox makes to its loopback); the host accepts them.
 * Each direction of each stream has a credit window, so a slow reader on one side holds
 * back only its own stream, and memory per stream is bounded. When the pipe ends or a frame
 * is malformed, every stream is destroyed and no new one can open: fail closed.
 * No dependencies beyond node:stream (bundled into the in-container bridge).
 */
export interface MuxChannelOptions {
  input: Readable;
  output: Writable;
  role: 'bridge' | 'host';
  /** Host: a stream the bridge opened. */
  onOpen?: (stream: MuxStream) => void;
  /** Host: the bridge's Hello payload. */
  onHello?: (payload: Buffer) => void;
  /** Once, when the channel is dead (pipe ended, or a protocol error: `reason`). */
  onClose?: (reason: string) => void;
  /** Most streams open at once; more are refused (host side bound on the sandbox's fan-out). */
  maxStreams?: number;
}

const DEFAULT_MAX_STREAMS = 256;

export class MuxChannel {
  private readonly streams = new Map<number, MuxStream>();
  private readonly decoder = new FrameDecoder();
  private nextId = 1;
  private dead: string | undefined;
  private incoming: Buffer[] = [];
  private receiving = false;

  constructor(private readonly options: MuxChannelOptions) {
    options.input.on('data', (chunk: Buffer) => this.receive(chunk));
    options.input.once('end', () => this.fail('the stream ended'));
    options.input.once('close', () => this.fail('the stream closed'));
    options.input.once('error', (error: Error) => this.fail(`the stream failed: ${error.message}`));
    options.output.on('error', (error: Error) => this.fail(`the stream failed: ${error.message}`));
  }

  get alive(): boolean {
    return this.dead === undefined;
  }

  get openStreams(): number {
    return this.streams.size;
  }

  /** Bridge: a new stream for a connection the sandbox made. Throws when the channel is dead. */
  open(): MuxStream {
    if (this.dead !== undefined) throw new Error(`egress channel is closed: ${this.dead}`);
    const id = this.nextId++;
    const stream = new MuxStream(this, id);
    this.streams.set(id, stream);
    this.send(FrameType.Open, id);
    return stream;
  }

  hello(payload: Buffer): void {
    this.send(FrameType.Hello, 0, payload);
  }

  /** Ends the channel: every stream is destroyed and the output is ended. */
  close(reason = 'closed'): void {
    this.fail(reason);
    this.options.output.end();
  }

  /** @internal */
  send(type: FrameType, stream: number, payload?: Buffer): void {
    if (this.dead !== undefined) return;
    this.options.output.write(encodeFrame(type, stream, payload));
  }

  /** @internal */
  forget(id: number): void {
    this.streams.delete(id);
  }

  private receive(chunk: Buffer): void {
    // Dispatching can re-enter receive() synchronously (a reply written to an in-memory pipe):
    // queue the chunk so frames are always handled in arrival order.
    this.incoming.push(chunk);
    if (this.receiving) return;
    this.receiving = true;
    try {
      for (let next = this.incoming.shift(); next !== undefined && this.dead === undefined; next = this.incoming.shift()) {
        let frames: Frame[];
        try {
          frames = this.decoder.push(next);
        } catch (error) {
          this.close(`protocol error: ${error instanceof Error ? error.message : String(error)}`);
          return;
        }
        for (const frame of frames) {
          if (this.dead !== undefined) return;
          this.dispatch(frame);
        }
      }
    } finally {
      this.receiving = false;
      if (this.dead !== undefined) this.incoming = [];
    }
  }

  private dispatch(frame: Frame): void {
    const stream = this.streams.get(frame.stream);
    switch (frame.type) {
      case FrameType.Hello:
        if (this.options.role !== 'host') return this.close('protocol error: unexpected hello');
        this.options.onHello?.(frame.payload);
        return;
      case FrameType.Open: {
        if (this.options.role !== 'host') return this.close('protocol error: the host cannot open streams');
        if (stream) return this.close(`protocol error: stream ${frame.stream} opened twice`);
        if (this.streams.size >= (this.options.maxStreams ?? DEFAULT_MAX_STREAMS)) {
          this.send(FrameType.Close, frame.stream);
          return;
        }
        const opened = new MuxStream(this, frame.stream);
        this.streams.set(frame.stream, opened);
        this.options.onOpen?.(opened);
        return;
      }
      // Frames for a stream already gone here are late, not wrong: dropped.
      case FrameType.Data:
        stream?.remoteData(frame.payload);
        return;
      case FrameType.End:
        stream?.remoteEnd();
        return;
      case FrameType.Close:
        stream?.remoteClose();
        return;
      case FrameType.Window:
        stream?.grant(frame.payload.readUInt32BE(0));
        return;
    }
  }

  private fail(reason: string): void {
    if (this.dead !== undefined) return;
    this.dead = reason;
    for (const stream of [...this.streams.values()]) stream.destroy();
    this.streams.clear();
    this.options.onClose?.(reason);
  }
}

/** One connection over the channel: a Duplex with per-direction credit windows. */
export class MuxStream extends Duplex {
  private sendCredit = STREAM_WINDOW_BYTES;
  private receiveRoom = STREAM_WINDOW_BYTES;
  private owed = 0;
  private pendingWrite: { chunk: Buffer; callback: (error?: Error | null) => void } | undefined;
  private remoteEnded = false;
  private remoteClosed = false;
  private flushing = false;

  constructor(
    private readonly channel: MuxChannel,
    readonly id: number,
  ) {
    super({ allowHalfOpen: true });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.remoteClosed) return callback(); // the peer is gone: nothing more reaches it
    this.pendingWrite = { chunk, callback };
    this.flushWrite();
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (!this.remoteClosed) this.channel.send(FrameType.End, this.id);
    callback();
  }

  override _read(): void {
    this.grantOwed();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const pending = this.pendingWrite;
    this.pendingWrite = undefined;
    pending?.callback(error ?? new Error('egress stream closed'));
    if (!this.remoteClosed) this.channel.send(FrameType.Close, this.id);
    this.channel.forget(this.id);
    callback(error);
  }

  /** @internal */
  remoteData(payload: Buffer): void {
    if (this.remoteEnded || payload.length > this.receiveRoom) {
      // The peer ignored the window or wrote after End: a reset, not unbounded buffering.
      this.destroy();
      return;
    }
    this.receiveRoom -= payload.length;
    this.owed += payload.length;
    if (this.push(payload)) this.grantOwed();
  }

  /** @internal */
  remoteEnd(): void {
    if (this.remoteEnded) return;
    this.remoteEnded = true;
    this.push(null);
  }

  /**
   * @internal The peer is gone: what it sent is still delivered, then end of stream; what
   * this side still had to send is dropped.
   */
  remoteClose(): void {
    this.remoteClosed = true;
    const pending = this.pendingWrite;
    this.pendingWrite = undefined;
    pending?.callback();
    if (!this.remoteEnded) this.remoteEnd();
    if (!this.writableEnded) this.end();
  }

  /** @internal */
  grant(bytes: number): void {
    this.sendCredit += bytes;
    this.flushWrite();
  }

  private grantOwed(): void {
    if (this.owed === 0 || this.remoteClosed) return;
    // State first: sending can re-enter this stream synchronously.
    const granted = this.owed;
    this.owed = 0;
    this.receiveRoom += granted;
    this.channel.send(FrameType.Window, this.id, windowPayload(granted));
  }

  private flushWrite(): void {
    // Sending can re-enter grant() synchronously (in-memory pipes): one flush at a time.
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.pendingWrite && this.sendCredit > 0) {
        const { chunk, callback } = this.pendingWrite;
        const size = Math.min(chunk.length, this.sendCredit, MAX_DATA_BYTES);
        const done = size === chunk.length;
        this.pendingWrite = done ? undefined : { chunk: chunk.subarray(size), callback };
        this.sendCredit -= size;
        this.channel.send(FrameType.Data, this.id, chunk.subarray(0, size));
        if (done) callback();
      }
    } finally {
      this.flushing = false;
    }
  }
}

/**
 * The egress mux's wire format: the bridge in the container and the proxy on the host share
 * one `docker exec` stdio stream and carry every proxied connection over it. Each frame is
 * length-prefixed: u32 payload length, u8 type, u32 stream id (all big-endian), then the
 * payload. No dependencies: this file is bundled into the in-container bridge too.
 */
/** Version of the protocol; the host refuses a bridge that speaks another. */
export const PROTOCOL_VERSION = 1;

export const FrameType = {
  /** Bridge -> host, once: the bridge listens (payload: JSON `{"version":1,"port":N}`). */
  Hello: 0,
  /** Bridge -> host: a new connection on the container's loopback, with a fresh stream id. */
  Open: 1,
  Data: 2,
  /** This side will send no more data on the stream (half-close). */
  End: 3,
  /** The stream is gone: after End it releases the id, before End it is a reset. */
  Close: 4,
  /** Flow control: the sender may send this many more data bytes (payload: u32). */
  Window: 5,
} as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

export interface Frame {
  type: FrameType;
  stream: number;
  payload: Buffer;
}

export const HEADER_BYTES = 9;
/** Largest data payload one frame carries; bigger writes are split. */
export const MAX_DATA_BYTES = 64 * 1024;
/** Bytes a side may send on one stream before the other grants more (per-stream backpressure). */
export const STREAM_WINDOW_BYTES = 256 * 1024;
const MAX_STREAM_ID = 0xffffffff;

export class FrameError extends Error {}

export function encodeFrame(type: FrameType, stream: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  if (!Number.isInteger(stream) || stream < 0 || stream > MAX_STREAM_ID) throw new FrameError(`bad stream id ${stream}`);
  if (payload.length > MAX_DATA_BYTES) throw new FrameError(`frame payload of ${payload.length} bytes is over ${MAX_DATA_BYTES}`);
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt32BE(payload.length, 0);
  header.writeUInt8(type, 4);
  header.writeUInt32BE(stream, 5);
  return Buffer.concat([header, payload]);
}

export function windowPayload(bytes: number): Buffer {
  const payload = Buffer.alloc(4);
  payload.writeUInt32BE(bytes, 0);
  return payload;
}

const KNOWN_TYPES = new Set<number>(Object.values(FrameType));

/**
 * Incremental decoder: feed it chunks as they come, get whole frames out. A frame with an
 * unknown type, an oversized length or a malformed fixed-size payload throws: the channel
 * is then broken and must be torn down (fail closed), never resynchronised by guessing.
 */
export class FrameDecoder {
  private buffered: Buffer[] = [];
  private length = 0;

  push(chunk: Buffer): Frame[] {
    this.buffered.push(chunk);
    this.length += chunk.length;
    const frames: Frame[] = [];
    let data = Buffer.concat(this.buffered, this.length);
    while (data.length >= HEADER_BYTES) {
      const size = data.readUInt32BE(0);
      const type = data.readUInt8(4);
      if (!KNOWN_TYPES.has(type)) throw new FrameError(`unknown frame type ${type}`);
      if (size > MAX_DATA_BYTES) throw new FrameError(`frame of ${size} bytes is over ${MAX_DATA_BYTES}`);
      if (data.length < HEADER_BYTES + size) break;
      const frame: Frame = {
        type: type as FrameType,
        stream: data.readUInt32BE(5),
        payload: data.subarray(HEADER_BYTES, HEADER_BYTES + size),
      };
      if (frame.type === FrameType.Window && size !== 4) throw new FrameError(`window frame with a ${size}-byte payload`);
      if ((frame.type === FrameType.Open || frame.type === FrameType.End || frame.type === FrameType.Close) && size !== 0) {
        throw new FrameError(`frame type ${type} carries no payload, got ${size} bytes`);
      }
      frames.push(frame);
      data = data.subarray(HEADER_BYTES + size);
    }
    // Copy the remainder so the consumed frames' memory is not pinned by a slice.
    this.buffered = data.length > 0 ? [Buffer.from(data)] : [];
    this.length = data.length;
    return frames;
  }

  /** Bytes of an incomplete frame still waiting for the rest. */
  get pending(): number {
    return this.length;
  }
}

import type * as acp from '@agentclientprotocol/sdk';
import { z } from 'zod';
import { TimeSlice } from '../util/timeSlice';

/**
 * What an agent sent that the protocol has no place for. The SDK answers each of these (a
 * JSON-RPC error, or silence for a stray response) and goes on; Warden also puts them on the
 * record, since a malformed frame or a forged approval is exactly what a hostile agent tries.
 */
export interface ProtocolViolation {
  kind: 'malformed-frame' | 'unknown-method' | 'unexpected-response' | 'message-too-large' | 'stream-error';
  detail: string;
}

/** At most this many violations of one kind are recorded one by one; a flood gets one closing line. */
export const VIOLATIONS_RECORDED_PER_KIND = 20;

const incomingSchema = z.looseObject({
  id: z.union([z.string(), z.number(), z.null()]).optional(),
  method: z.unknown().optional(),
});
// The SDK's own answer to a frame it cannot use: an error response with a null id.
const protocolErrorSchema = z.looseObject({ id: z.null(), error: z.looseObject({ code: z.number(), message: z.string() }) });
const PROTOCOL_ERROR_PREFIX = '{"jsonrpc":"2.0","id":null,"error":';

/**
 * Wraps the byte streams and the message stream of one ACP connection to report violations.
 * `output` carries Warden's bytes to the agent (where the SDK's answers to malformed frames
 * show up); `stream` is the parsed message stream the connection reads and writes.
 */
export function watchProtocol(
  output: WritableStream<Uint8Array>,
  makeStream: (output: WritableStream<Uint8Array>) => acp.Stream,
  knownMethods: ReadonlySet<string>,
  onViolation: (violation: ProtocolViolation) => void,
  /** Shared with the byte stream under `makeStream`, so reading lines and handling messages take turns with the event loop together. */
  slice = new TimeSlice(),
): acp.Stream {
  const counts = new Map<ProtocolViolation['kind'], number>();
  const report = (violation: ProtocolViolation): void => {
    const count = (counts.get(violation.kind) ?? 0) + 1;
    counts.set(violation.kind, count);
    if (count <= VIOLATIONS_RECORDED_PER_KIND) onViolation(violation);
    else if (count === VIOLATIONS_RECORDED_PER_KIND + 1)
      onViolation({ kind: violation.kind, detail: `more ${violation.kind} violations follow; they are not recorded one by one` });
  };

  const decoder = new TextDecoder();
  const outWriter = output.getWriter();
  const tappedOutput = new WritableStream<Uint8Array>({
    write(chunk) {
      if (decoder.decode(chunk.subarray(0, PROTOCOL_ERROR_PREFIX.length)) === PROTOCOL_ERROR_PREFIX) {
        const answer = protocolErrorSchema.safeParse(safeJson(decoder.decode(chunk)));
        if (answer.success) report({ kind: 'malformed-frame', detail: `${answer.data.error.message} (${answer.data.error.code})` });
      }
      return outWriter.write(chunk);
    },
    close: () => outWriter.close(),
    abort: (reason) => outWriter.abort(reason),
  });

  const inner = makeStream(tappedOutput);
  const sent = new Set<string>();
  const key = (id: string | number): string => `${typeof id}:${id}`;

  const inWriter = inner.writable.getWriter();
  const writable = new WritableStream<acp.AnyMessage>({
    write(message) {
      if ('method' in message && 'id' in message && message.id !== null) sent.add(key(message.id));
      return inWriter.write(message);
    },
    close: () => inWriter.close(),
    abort: (reason) => inWriter.abort(reason),
  });

  const reader = inner.readable.getReader();
  const readable = new ReadableStream<acp.AnyMessage>({
    async pull(controller) {
      await slice.yieldIfDue();
      let next: Awaited<ReturnType<typeof reader.read>>;
      try {
        next = await reader.read();
      } catch (error) {
        const tooLarge = error instanceof Error && error.name === 'MessageTooLargeError';
        report({ kind: tooLarge ? 'message-too-large' : 'stream-error', detail: error instanceof Error ? error.message : String(error) });
        controller.error(error);
        return;
      }
      if (next.done) {
        controller.close();
        return;
      }
      const message = incomingSchema.safeParse(next.value);
      if (message.success) {
        const { id, method } = message.data;
        if (typeof method === 'string' && !knownMethods.has(method)) {
          report({
            kind: 'unknown-method',
            detail: `${id === undefined ? 'notification' : 'request'} ${JSON.stringify(method.slice(0, 200))}`,
          });
        } else if (method === undefined && id !== undefined && id !== null) {
          if (!sent.delete(key(id)))
            report({
              kind: 'unexpected-response',
              detail: `a response to request id ${JSON.stringify(id)}, which Warden never sent (or already had answered)`,
            });
        }
      }
      controller.enqueue(next.value);
    },
    cancel: (reason) => reader.cancel(reason),
  });
  return { readable, writable };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

import * as z from 'zod';

import { PROTOCOL_VERSION } from './frames';

/** The bridge's first frame: it listens on the container's loopback at `port`. */
export const helloSchema = z.strictObject({ version: z.literal(PROTOCOL_VERSION), port: z.number().int().min(1).max(65535) });
export type Hello = z.infer<typeof helloSchema>;

export function parseHello(payload: Buffer): { ok: true; hello: Hello } | { ok: false; reason: string } {
  let value: unknown;
  try {
    value = JSON.parse(payload.toString('utf8'));
  } catch {
    return { ok: false, reason: 'the bridge hello is not JSON' };
  }
  const parsed = helloSchema.safeParse(value);
  return parsed.success ? { ok: true, hello: parsed.data } : { ok: false, reason: `the bridge hello is invalid: ${parsed.error.message}` };
}

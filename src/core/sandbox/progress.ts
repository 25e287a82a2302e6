import * as z from 'zod';

/** One JSON line of a pull or build stream (the fields Warden reads; the rest is ignored). */
export const progressLineSchema = z.looseObject({
  stream: z.string().optional(),
  status: z.string().optional(),
  id: z.string().optional(),
  progress: z.string().optional(),
  progressDetail: z.looseObject({ current: z.number().optional(), total: z.number().optional() }).nullish(),
  error: z.string().optional(),
  errorDetail: z.looseObject({ message: z.string().optional(), code: z.number().optional() }).optional(),
});
export type ProgressLine = z.infer<typeof progressLineSchema>;

/** Reads a newline-delimited JSON progress stream; a line that is not JSON becomes `{ stream }`. */
export async function readProgress(stream: NodeJS.ReadableStream, onLine: (line: ProgressLine) => void): Promise<void> {
  let pending = '';
  const handle = (text: string): void => {
    if (!text.trim()) return;
    const parsed = progressLineSchema.safeParse(safeJson(text));
    onLine(parsed.success ? parsed.data : { stream: text });
  };
  for await (const chunk of stream) {
    pending += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    lines.forEach(handle);
  }
  handle(pending);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

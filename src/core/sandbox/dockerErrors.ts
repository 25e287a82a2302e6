import type Dockerode from 'dockerode';
import * as z from 'zod';

// The slice of a dockerode error Warden relies on; anything else is ignored, not trusted.
const dockerErrorSchema = z.looseObject({
  message: z.string(),
  code: z.string().optional(),
  statusCode: z.number().optional(),
  json: z.looseObject({ message: z.string().optional() }).nullish(),
});

const modemSchema = z.looseObject({
  socketPath: z.string().optional(),
  host: z.string().optional(),
  port: z.union([z.string(), z.number()]).optional(),
  protocol: z.string().optional(),
});

/** Where the client talks to the engine, for messages (docker-modem's fields are untyped). */
export function engineLocation(docker: Dockerode): string {
  const modem = modemSchema.safeParse(docker.modem);
  if (modem.success && modem.data.socketPath) return modem.data.socketPath;
  if (modem.success && modem.data.host)
    return `${modem.data.protocol ?? 'http'}://${modem.data.host}${modem.data.port ? `:${modem.data.port}` : ''}`;
  return process.env.DOCKER_HOST || '/var/run/docker.sock';
}

/** The connection to the engine failed (as opposed to the engine answering with an error). */
export function engineDown(error: unknown): boolean {
  return ['ECONNREFUSED', 'ENOENT', 'ECONNRESET', 'EPIPE', 'EACCES'].includes(dockerError(error)?.code ?? '');
}

export function dockerError(error: unknown): z.infer<typeof dockerErrorSchema> | undefined {
  const parsed = dockerErrorSchema.safeParse(error);
  return parsed.success ? parsed.data : undefined;
}

/** The engine's own message when it sent one (dockerode prefixes it with HTTP noise). */
export function dockerMessage(error: unknown): string {
  const parsed = dockerError(error);
  if (!parsed) return String(error);
  return parsed.json?.message ?? parsed.message;
}

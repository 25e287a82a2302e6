import { PassThrough, Readable, Writable } from 'node:stream';
import * as acp from '@agentclientprotocol/sdk';
import type { AgentProcess } from '../../src/core/sandbox/types';

/** An agent process whose stdio are in-memory pipes: what the client writes, `fromClient` reads. */
export function inMemoryAgentProcess(): {
  process: AgentProcess;
  fromClient: PassThrough;
  toClient: PassThrough;
  exit(code?: number): void;
} {
  const fromClient = new PassThrough();
  const toClient = new PassThrough();
  let resolveExit!: (status: { exitCode: number | null; signal: string | null }) => void;
  const exited = new Promise<{ exitCode: number | null; signal: string | null }>((resolve) => (resolveExit = resolve));
  const exit = (code = 0): void => {
    toClient.end();
    resolveExit({ exitCode: code, signal: null });
  };
  return {
    process: { stdin: fromClient, stdout: toClient, stderr: new PassThrough(), exited, kill: async () => exit(137) },
    fromClient,
    toClient,
    exit,
  };
}

/** Connects an ACP agent app (the SDK's agent side) to those pipes. */
export function connectAgentApp(app: acp.AgentApp, pipes: { fromClient: PassThrough; toClient: PassThrough }): acp.AgentConnection {
  return app.connect(
    acp.ndJsonStream(
      Writable.toWeb(pipes.toClient) as WritableStream<Uint8Array>,
      Readable.toWeb(pipes.fromClient) as ReadableStream<Uint8Array>,
    ),
  );
}

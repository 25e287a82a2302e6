import { Writable } from 'node:stream';
import * as acp from '@agentclientprotocol/sdk';
import type { AgentProcess } from '../sandbox/types';
import { sliced, TimeSlice } from '../util/timeSlice';
import { readableToWeb } from '../util/webStreams';
import { watchProtocol, type ProtocolViolation } from './protocolWatch';

export type { ProtocolViolation } from './protocolWatch';

export type {
  CreateTerminalRequest,
  CreateTerminalResponse,
  ReadTextFileRequest,
  ReadTextFileResponse,
  RequestPermissionRequest,
  RequestPermissionResponse,
  SessionNotification,
  WriteTextFileRequest,
} from '@agentclientprotocol/sdk';

/** Everything an agent may ask of Warden (the ACP client side). Params arrive already validated by the SDK's schemas. */
export interface AcpClientHandlers {
  readTextFile(params: acp.ReadTextFileRequest): Promise<acp.ReadTextFileResponse>;
  writeTextFile(params: acp.WriteTextFileRequest): Promise<acp.WriteTextFileResponse>;
  requestPermission(params: acp.RequestPermissionRequest): Promise<acp.RequestPermissionResponse>;
  createTerminal(params: acp.CreateTerminalRequest): Promise<acp.CreateTerminalResponse>;
  terminalOutput(params: acp.TerminalOutputRequest): Promise<acp.TerminalOutputResponse>;
  waitForTerminalExit(params: acp.WaitForTerminalExitRequest): Promise<acp.WaitForTerminalExitResponse>;
  killTerminal(params: acp.KillTerminalRequest): Promise<acp.KillTerminalResponse>;
  releaseTerminal(params: acp.ReleaseTerminalRequest): Promise<acp.ReleaseTerminalResponse>;
  sessionUpdate(params: acp.SessionNotification): void;
}

/** Largest single protocol message accepted from an agent; bigger ones end the connection with an error. */
export const MAX_AGENT_MESSAGE_BYTES = 16 * 1024 * 1024;

/**
 * Speaks ACP v1 to an agent process over its stdio, as the client; `onViolation` hears of frames the protocol has no place for.
 * `extension` registers Warden's `_`-prefixed extension methods (which are then not violations).
 */
export function connectAcpClient(
  agent: AgentProcess,
  handlers: AcpClientHandlers,
  onViolation: (violation: ProtocolViolation) => void = () => undefined,
  extension: { methods: readonly string[]; register(app: acp.ClientApp): acp.ClientApp } = { methods: [], register: (app) => app },
): acp.ClientConnection {
  const m = acp.methods.client;
  const base = acp
    .client({ name: 'warden' })
    .onRequest(m.fs.readTextFile, ({ params }) => handlers.readTextFile(params))
    .onRequest(m.fs.writeTextFile, ({ params }) => handlers.writeTextFile(params))
    .onRequest(m.session.requestPermission, ({ params }) => handlers.requestPermission(params))
    .onRequest(m.terminal.create, ({ params }) => handlers.createTerminal(params))
    .onRequest(m.terminal.output, ({ params }) => handlers.terminalOutput(params))
    .onRequest(m.terminal.waitForExit, ({ params }) => handlers.waitForTerminalExit(params))
    .onRequest(m.terminal.kill, ({ params }) => handlers.killTerminal(params))
    .onRequest(m.terminal.release, ({ params }) => handlers.releaseTerminal(params))
    .onNotification(m.session.update, ({ params }) => handlers.sessionUpdate(params));
  const app = extension.register(base);
  const slice = new TimeSlice();
  const input = sliced(readableToWeb(agent.stdout), slice);
  const stream = watchProtocol(
    Writable.toWeb(agent.stdin) as WritableStream<Uint8Array>,
    (output) => acp.ndJsonStream(output, input, { maxMessageBytes: MAX_AGENT_MESSAGE_BYTES }),
    extension.methods.length > 0 ? new Set([...CLIENT_METHODS, ...extension.methods]) : CLIENT_METHODS,
    onViolation,
    slice,
  );
  return app.connect(stream);
}

export const ACP_PROTOCOL_VERSION = acp.PROTOCOL_VERSION;

/** The methods Warden serves (and the protocol's own cancel notification); anything else an agent sends is a violation. */
const CLIENT_METHODS: ReadonlySet<string> = new Set([
  ...[acp.methods.client.fs, acp.methods.client.session, acp.methods.client.terminal].flatMap((group) => Object.values(group)),
  '$/cancel_request',
]);

/** A JSON-RPC error the agent receives when Warden refuses or a reviewer rejects. */
export function refusal(message: string, data?: Record<string, unknown>): acp.RequestError {
  // -32000 is the JSON-RPC range for server-defined errors; ACP defines none for "rejected".
  return new acp.RequestError(-32000, message, data);
}

export function notFound(path: string): acp.RequestError {
  return acp.RequestError.resourceNotFound(path);
}

import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { RecordedEvent } from '../audit/events';
import type { AgentProcess, Sandbox } from '../sandbox/types';
import { compileRules, type AllowRule } from './allowList';
import { EgressProxy, type EgressAction, type EgressRecord, type UnlistedAnswer, type UnlistedRequest } from './proxy';

/** Where the proxy's socket folder is mounted in the container, and the bridge's port on the container's loopback. */
export const EGRESS_MOUNT = '/run/warden';
export const EGRESS_SOCKET = `${EGRESS_MOUNT}/egress.sock`;
export const BRIDGE_PORT = 3128;
/** The bundled bridge, in Warden's agents folder (built by esbuild.js). */
export const BRIDGE_SCRIPT = 'egress-bridge.mjs';

const BRIDGE_READY_MS = 15_000;

export interface EgressSessionOptions {
  /** `network.allow` of the effective team policy. */
  allow: readonly AllowRule[];
  record(event: RecordedEvent): Promise<unknown>;
  /** Decides a request to a host the allow-list does not name (the session asks a human); without it, refused. */
  onUnlisted?: (request: UnlistedRequest) => Promise<UnlistedAnswer>;
  log?: (line: string) => void;
  /** Test hook: name resolution for the proxy (default: the system resolver). */
  resolve?: (host: string) => Promise<string[]>;
}

/**
 * A session's way out: the proxy on the host (unix socket in a private folder, which is
 * bind-mounted into the container) and the bridge inside the container that exposes it on
 * 127.0.0.1:3128. Each action gets its own proxy credential, so every request is
 * attributed to the agent or to the approved command whose process made it.
 */
export class EgressSession {
  private readonly actions = new Map<string, EgressAction>();
  private bridge: AgentProcess | undefined;

  private constructor(
    private readonly proxy: EgressProxy,
    /** Host folder holding the socket: mount it at EGRESS_MOUNT. */
    readonly hostFolder: string,
    readonly rules: readonly string[],
  ) {}

  /** Starts the proxy when the allow-list has entries; with none there is no socket at all. */
  static async open(options: EgressSessionOptions): Promise<EgressSession | undefined> {
    if (options.allow.length === 0) return undefined;
    const compiled = compileRules(options.allow);
    for (const problem of compiled.problems) options.log?.(`egress: ignoring ${problem}`);
    if (compiled.problems.length > 0) {
      await options.record({
        actor: { kind: 'warden', id: 'warden' },
        type: 'network.rules-invalid',
        data: { problems: compiled.problems },
      });
    }
    if (compiled.rules.length === 0) return undefined;
    const folder = await fs.mkdtemp(path.join(os.tmpdir(), 'warden-egress-'));
    await fs.chmod(folder, 0o755);
    let session: EgressSession | undefined;
    try {
      const proxy = await EgressProxy.listen({
        rules: compiled.rules,
        socketPath: path.join(folder, 'egress.sock'),
        identify: (credential) => (credential ? session?.actions.get(credential) : undefined) ?? { kind: 'unattributed' },
        onRecord: (record) => options.record(auditEvent(record)),
        ...(options.onUnlisted ? { onUnlisted: options.onUnlisted } : {}),
        ...(options.resolve ? { resolve: options.resolve } : {}),
      });
      session = new EgressSession(
        proxy,
        folder,
        compiled.rules.map((r) => `${r.id} ${r.host}:${r.ports.join(',')}`),
      );
      return session;
    } catch (error) {
      await fs.rm(folder, { recursive: true, force: true });
      throw error;
    }
  }

  /** Starts the bridge in the container and waits until it listens. Without Node in the image there is no way out. */
  async attach(sandbox: Sandbox): Promise<void> {
    const bridge = await sandbox.execAgent([
      'node',
      path.posix.join(sandbox.agentsFolder, BRIDGE_SCRIPT),
      EGRESS_SOCKET,
      String(BRIDGE_PORT),
    ]);
    this.bridge = bridge;
    let output = '';
    const ready = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), BRIDGE_READY_MS);
      const onData = (chunk: Buffer): void => {
        output += chunk.toString('utf8');
        if (output.includes('listening')) {
          clearTimeout(timer);
          resolve(true);
        }
      };
      bridge.stdout.on('data', onData);
      bridge.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
      void bridge.exited.then(() => {
        clearTimeout(timer);
        resolve(output.includes('listening'));
      });
    });
    bridge.stdout.resume();
    bridge.stderr.resume();
    if (!ready) {
      await bridge.kill().catch(() => undefined);
      throw new Error(
        `The network allow-list needs Warden's egress bridge in the sandbox, and it did not start (it runs with the image's \`node\`): ${output.trim() || 'no output'}. ` +
          'Use an image with Node.js on PATH, or remove "network.allow" from the policy.',
      );
    }
  }

  /** What the agent and commands are given, for the record (credentials left out). */
  get proxyAddress(): string {
    return `http://127.0.0.1:${BRIDGE_PORT} -> ${EGRESS_SOCKET} (host ${this.proxy.socketPath})`;
  }

  /** Proxy variables for one action: the agent itself, or an approved command's proposal id. */
  envFor(action: EgressAction): Record<string, string> {
    const credential = randomBytes(18).toString('base64url');
    this.actions.set(credential, action);
    const url = `http://warden:${credential}@127.0.0.1:${BRIDGE_PORT}`;
    const noProxy = 'localhost,127.0.0.1,::1';
    return { HTTPS_PROXY: url, HTTP_PROXY: url, https_proxy: url, http_proxy: url, NO_PROXY: noProxy, no_proxy: noProxy };
  }

  async close(): Promise<void> {
    await this.bridge?.kill().catch(() => undefined);
    await this.proxy.close();
    await fs.rm(this.hostFolder, { recursive: true, force: true });
  }
}

function auditEvent(record: EgressRecord): RecordedEvent {
  const { action, ...rest } = record;
  return {
    actor: { kind: 'warden', id: 'egress-proxy' },
    type: 'network.request',
    data: { ...rest, action: action.kind, ...(action.kind === 'command' ? { proposalId: action.proposalId } : {}) },
  };
}

import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import type { RecordedEvent } from '../audit/events';
import type { AgentProcess, Sandbox } from '../sandbox/types';
import { compileRules, type AllowRule } from './allowList';
import { MuxChannel } from './mux/channel';
import { parseHello } from './mux/hello';
import { EgressProxy, type EgressAction, type EgressRecord, type UnlistedAnswer, type UnlistedRequest } from './proxy';

/** The bridge's port on the container's loopback. */
export const BRIDGE_PORT = 3128;
/** The bundled bridge, in Warden's agents folder (built by esbuild.js). */
export const BRIDGE_SCRIPT = 'egress-bridge.mjs';

const BRIDGE_READY_MS = 15_000;
/** Starts the user-facing lines about the egress channel (the editor shows them as a warning, not only in the feed). */
export const EGRESS_NOTICE_PREFIX = 'Egress:';
/** Restarts of the bridge after its stream died mid-session, waiting this long before each. */
const RESTORE_DELAYS_MS = [250, 1_000, 4_000];

export interface EgressSessionOptions {
  /** `network.allow` of the effective team policy. */
  allow: readonly AllowRule[];
  record(event: RecordedEvent): Promise<unknown>;
  /** Decides a request to a host the allow-list does not name (the session asks a human); without it, refused. */
  onUnlisted?: (request: UnlistedRequest) => Promise<UnlistedAnswer>;
  log?: (line: string) => void;
  /** Test hook: name resolution for the proxy (default: the system resolver). */
  resolve?: (host: string) => Promise<string[]>;
  /**
   * Start the bridge again when its stream dies mid-session (default true). Either way the
   * loss is on the record (`network.channel.lost`) and the sandbox has no way out meanwhile.
   */
  restore?: boolean;
  /** The channel was lost or restored: a line to show the user (a warning, not only the log). */
  onChannelChange?: (change: { state: 'lost' | 'restored'; text: string }) => void;
}

/**
 * A session's way out: the proxy in Warden's process, and the bridge inside the container
 * that exposes it on 127.0.0.1:3128. The bridge carries each connection as a stream over its
 * own `docker exec` stdio (the Docker API connection Warden already has), so nothing of the
 * host is mounted into the container: it works where the engine runs in a VM or on another
 * machine. Each action gets its own proxy credential, so every request is attributed to the
 * agent or to the approved command whose process made it.
 */
export class EgressSession {
  private bridge: AgentProcess | undefined;
  private channel: MuxChannel | undefined;
  /** close() was called, or the session is ending: a stream ending now is expected. */
  private closing = false;

  private constructor(
    private readonly proxy: EgressProxy,
    private readonly actions: Map<string, EgressAction>,
    readonly rules: readonly string[],
    private readonly log: (line: string) => void,
    private readonly options: EgressSessionOptions,
  ) {}

  /** Starts the proxy when the allow-list has entries; with none there is no bridge at all. */
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
    // The proxy asks the session who a credential belongs to; the session exists once the proxy does.
    const actions = new Map<string, EgressAction>();
    const proxy = await EgressProxy.listen({
      rules: compiled.rules,
      identify: (credential) => (credential ? actions.get(credential) : undefined) ?? { kind: 'unattributed' },
      onRecord: (record) => options.record(auditEvent(record)),
      ...(options.onUnlisted ? { onUnlisted: options.onUnlisted } : {}),
      ...(options.resolve ? { resolve: options.resolve } : {}),
    });
    return new EgressSession(
      proxy,
      actions,
      compiled.rules.map((r) => `${r.id} ${r.host}:${r.ports.join(',')}`),
      options.log ?? (() => undefined),
      options,
    );
  }

  /**
   * Starts the bridge in the container and waits for its hello (it listens). Without Node
   * in the image there is no way out. When the exec stream ends later, the bridge exits and
   * the port is closed: the sandbox is back to no network at all.
   */
  async attach(sandbox: Sandbox): Promise<void> {
    const problem = await this.startBridge(sandbox);
    if (problem !== undefined) {
      throw new Error(
        `The network allow-list needs Warden's egress bridge in the sandbox, and it did not start (it runs with the image's \`node\`): ${problem}. ` +
          'Use an image with Node.js on PATH, or remove "network.allow" from the policy.',
      );
    }
  }

  /** Starts the bridge and its channel; undefined once it said hello, else what went wrong. */
  private async startBridge(sandbox: Sandbox): Promise<string | undefined> {
    const bridge = await sandbox.execAgent(['node', path.posix.join(sandbox.agentsFolder, BRIDGE_SCRIPT), String(BRIDGE_PORT)]);
    this.bridge = bridge;
    let stderr = '';
    bridge.stderr.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      stderr = (stderr + text).slice(-4000);
      for (const line of text.split('\n').filter(Boolean)) this.log(`egress bridge: ${line}`);
    });
    let up = false;
    const ready = await new Promise<string | undefined>((resolve) => {
      const timer = setTimeout(() => resolve('no hello within 15 s'), BRIDGE_READY_MS);
      const channel = new MuxChannel({
        input: bridge.stdout,
        output: bridge.stdin,
        role: 'host',
        onHello: (payload) => {
          clearTimeout(timer);
          const hello = parseHello(payload);
          resolve(hello.ok ? (hello.hello.port === BRIDGE_PORT ? undefined : `the bridge listens on ${hello.hello.port}`) : hello.reason);
        },
        onOpen: (stream) => this.proxy.accept(stream),
        onClose: (reason) => {
          clearTimeout(timer);
          resolve(`the bridge's stream ended (${reason})`);
          this.log(`egress: channel to the sandbox closed (${reason}); the sandbox has no way out now`);
          if (up && channel === this.channel) void this.lost(sandbox, reason);
        },
      });
      this.channel = channel;
    });
    if (ready !== undefined) {
      this.channel?.close('not ready');
      await bridge.kill().catch(() => undefined);
      return `${ready}${stderr.trim() ? `: ${stderr.trim()}` : ''}`;
    }
    up = true;
    return undefined;
  }

  /**
   * The bridge's stream died while the session runs (the engine connection dropped, the bridge
   * was killed): on the record and shown to the user, then the bridge is started again a few
   * times. Until it is back, connections in the sandbox are refused (fail closed).
   */
  private async lost(sandbox: Sandbox, reason: string): Promise<void> {
    if (this.closing) return;
    const restoring = this.options.restore !== false;
    await this.recordChannel({ type: 'network.channel.lost', data: { reason, restoring } });
    this.options.onChannelChange?.({
      state: 'lost',
      text: `${EGRESS_NOTICE_PREFIX} the sandbox lost its way out (${reason}); requests to allowed hosts fail${restoring ? ' until it is restored' : ''}.`,
    });
    if (!restoring) return;
    await this.bridge?.kill().catch(() => undefined);
    let problem = '';
    for (const [index, delay] of RESTORE_DELAYS_MS.entries()) {
      await new Promise((resolve) => setTimeout(resolve, delay));
      if (this.closing) return;
      const result = await this.startBridge(sandbox).catch((error: unknown) => (error instanceof Error ? error.message : String(error)));
      if (this.closing) return;
      if (result === undefined) {
        await this.recordChannel({ type: 'network.channel.restored', data: { attempts: index + 1, lostReason: reason } });
        this.options.onChannelChange?.({ state: 'restored', text: `${EGRESS_NOTICE_PREFIX} the way out of the sandbox is restored.` });
        return;
      }
      problem = result;
      this.log(`egress: restarting the bridge failed (attempt ${index + 1}): ${problem}`);
    }
    await this.recordChannel({
      type: 'network.channel.lost',
      data: { reason: `the bridge could not be restarted: ${problem}`, restoring: false },
    });
    this.options.onChannelChange?.({
      state: 'lost',
      text: `${EGRESS_NOTICE_PREFIX} the way out of the sandbox could not be restored (${problem}); requests to allowed hosts fail for the rest of the session.`,
    });
  }

  private async recordChannel(
    event:
      | { type: 'network.channel.lost'; data: { reason: string; restoring: boolean } }
      | { type: 'network.channel.restored'; data: { attempts: number; lostReason: string } },
  ): Promise<void> {
    await this.options
      .record({ actor: { kind: 'warden', id: 'egress-proxy' }, ...event })
      .catch((error: unknown) =>
        this.log(`egress: could not record ${event.type}: ${error instanceof Error ? error.message : String(error)}`),
      );
  }

  /** The session is ending (its sandbox stops next): the stream ending from now on is expected, not a loss. */
  ending(): void {
    this.closing = true;
  }

  /** Whether the bridge's channel is up (connections in the sandbox reach the proxy). */
  get connected(): boolean {
    return this.channel?.alive === true;
  }

  /** What the agent and commands are given, for the record (credentials left out). */
  get proxyAddress(): string {
    return `http://127.0.0.1:${BRIDGE_PORT} (bridge in the sandbox, over its docker exec stream to Warden's proxy)`;
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
    this.closing = true;
    this.channel?.close('session closed');
    await this.bridge?.kill().catch(() => undefined);
    await this.proxy.close();
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

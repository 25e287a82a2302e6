import { randomUUID } from 'node:crypto';
import { promises as dns } from 'node:dns';
import { promises as fs } from 'node:fs';
import * as http from 'node:http';
import { isIP, type Socket, connect as netConnect } from 'node:net';
import type { Duplex } from 'node:stream';
import { isInternalAddress } from './addresses';
import { matchTarget, parseAbsoluteUrl, parseAuthority, type CompiledRule, type Target } from './allowList';

/** Who made a request: the agent, an approved command (its proposal), or a process without Warden's credential. */
export type EgressAction = { kind: 'agent' } | { kind: 'command'; proposalId: string } | { kind: 'unattributed' };

/** One request through the proxy, as the audit records it (once it is over). */
export interface EgressRecord {
  requestId: string;
  method: string;
  host: string;
  port: number;
  allowed: boolean;
  /** The allow-list rule that allowed it (or that matched the host when a port was refused). */
  rule: string | null;
  /** Why it was refused, or why an allowed request failed. */
  reason?: string;
  action: EgressAction;
  /** The address connected to (after the allow-list check). */
  address?: string;
  /** HTTP status the proxy answered (200 for an established tunnel). */
  status: number;
  bytesSent: number;
  bytesReceived: number;
  /** For a target not on the allow-list: the command that made it (or "unknown") ... */
  command?: string;
  /** ... and what decided it (the network proposal, or the earlier approval that covered it). */
  approval?: string;
}

/** A request to a target the allow-list does not name, held while it is decided. */
export interface UnlistedRequest {
  requestId: string;
  method: string;
  host: string;
  port: number;
  action: EgressAction;
  /** Why the allow-list does not allow it. */
  reason: string;
}

/** The decision on an unlisted request: approved goes on (to public addresses only), anything else is refused with `reason`. */
export interface UnlistedAnswer {
  approved: boolean;
  /** Names what decided, for the record: e.g. "network.ask" or "network.unlisted". */
  rule: string;
  reason: string;
  command: string;
  approval?: string;
}

export interface EgressProxyOptions {
  rules: readonly CompiledRule[];
  /**
   * Unix socket to listen on (tests). Without it the proxy listens nowhere and serves only the
   * connections handed to `accept` (the sandbox's streams over its exec channel).
   */
  socketPath?: string;
  /** Maps the proxy credential a process sent (or none) to the action it belongs to. */
  identify(credential: string | undefined): EgressAction;
  /** Called once per request when it is over; the proxy waits for it on close. */
  onRecord(record: EgressRecord): Promise<unknown> | void;
  /** Decides a request to a target the allow-list does not name (a human, through the session's gate); without it, refused. */
  onUnlisted?(request: UnlistedRequest): Promise<UnlistedAnswer>;
  /** Name resolution, all addresses; tests may pass their own (default: the system resolver). */
  resolve?: (host: string) => Promise<string[]>;
  connectTimeoutMs?: number;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** What the record says about a request to an unlisted target. */
type Note = Pick<EgressRecord, 'command' | 'approval'>;
const HOP_BY_HOP = ['proxy-authorization', 'proxy-connection', 'connection', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'upgrade'];

/**
 * An HTTP(S) forward proxy (for connections the sandbox's exec channel hands it) that enforces the allow-list before anything
 * else: a refused target is never resolved or connected to. CONNECT host:port tunnels
 * (HTTPS, end to end encrypted: the proxy sees only the name and port) and absolute-form
 * plain HTTP requests are supported; everything else is refused with a reason.
 */
export class EgressProxy {
  private readonly server: http.Server;
  private readonly sockets = new Set<Duplex>();
  private readonly pending = new Set<Promise<unknown>>();
  private closed = false;

  private constructor(private readonly options: EgressProxyOptions) {
    this.server = http.createServer((req, res) => void this.onRequest(req, res));
    this.server.on('connect', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => void this.onConnect(req, socket, head));
    this.server.on('connection', (socket: Duplex) => this.track(socket));
    // Upgrades (WebSocket over plain HTTP) are not proxied: the socket is answered and closed.
    this.server.on('upgrade', (_req: http.IncomingMessage, socket: Duplex) =>
      refuseSocket(socket, 403, 'upgrades through the egress proxy are not supported; use wss:// (CONNECT)'),
    );
  }

  static async listen(options: EgressProxyOptions): Promise<EgressProxy> {
    const proxy = new EgressProxy(options);
    const socketPath = options.socketPath;
    if (socketPath === undefined) return proxy;
    await fs.rm(socketPath, { force: true });
    await new Promise<void>((resolve, reject) => {
      proxy.server.once('error', reject);
      proxy.server.listen(socketPath, () => {
        proxy.server.off('error', reject);
        resolve();
      });
    });
    await fs.chmod(socketPath, 0o666);
    return proxy;
  }

  get socketPath(): string | undefined {
    return this.options.socketPath;
  }

  /** Serves one connection that arrived some other way (a stream of the sandbox's exec channel), exactly as a socket connection. */
  accept(stream: Duplex): void {
    if (this.closed) {
      stream.destroy();
      return;
    }
    this.server.emit('connection', stream);
  }

  /** Stops accepting, cuts open tunnels, and waits until every request is on the record. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const stopped = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await stopped;
    await Promise.allSettled([...this.pending]);
    if (this.options.socketPath !== undefined) await fs.rm(this.options.socketPath, { force: true });
  }

  private track(socket: Duplex): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }

  private record(record: EgressRecord): void {
    const done = Promise.resolve()
      .then(() => this.options.onRecord(record))
      .catch(() => undefined)
      .finally(() => this.pending.delete(done));
    this.pending.add(done);
  }

  private async onConnect(req: http.IncomingMessage, client: Duplex, head: Buffer): Promise<void> {
    this.track(client);
    client.on('error', () => undefined);
    const base = { requestId: randomUUID(), method: 'CONNECT', action: this.options.identify(credentialOf(req)) };
    const admitted = await this.admit(base, parseAuthority(req.url ?? ''), req.url ?? '', (status, reason) =>
      refuseSocket(client, status, reason),
    );
    if (!admitted) return;
    const { target, decision, note, connected } = admitted;
    const upstream = connected.socket;
    this.track(upstream);
    client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length > 0) upstream.write(head);
    client.pipe(upstream);
    upstream.pipe(client);
    const finish = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.once('close', finish);
    upstream.once('close', finish);
    upstream.on('error', finish);
    await new Promise<void>((resolve) => {
      let open = 2;
      const one = (): void => {
        if (--open === 0) resolve();
      };
      client.once('close', one);
      upstream.once('close', one);
    });
    this.record({
      ...base,
      ...note,
      host: target.host,
      port: target.port,
      allowed: true,
      rule: decision.rule,
      address: connected.address,
      status: 200,
      bytesSent: upstream.bytesWritten,
      bytesReceived: upstream.bytesRead,
    });
  }

  private async onRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const base = { requestId: randomUUID(), method: req.method ?? 'GET', action: this.options.identify(credentialOf(req)) };
    const parsed = parseAbsoluteUrl(req.url ?? '');
    const admitted = await this.admit(base, parsed, '', (status, reason) => refuseResponse(res, status, reason));
    if (!admitted || !parsed.ok) return;
    const { target, decision, note, connected } = admitted;
    const socket = connected.socket;
    this.track(socket);
    const headers: http.OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (!HOP_BY_HOP.includes(name) && value !== undefined) headers[name] = value;
    }
    // The Host header names what the allow-list checked, whatever the client wrote there.
    headers.host = target.port === 80 ? hostForHeader(target) : `${hostForHeader(target)}:${target.port}`;
    let status = 502;
    const outcome = await new Promise<string | undefined>((resolve) => {
      const upstream = http.request(
        { createConnection: () => socket, method: req.method, path: parsed.path ?? '/', headers },
        (response) => {
          status = response.statusCode ?? 502;
          const outHeaders: http.OutgoingHttpHeaders = {};
          for (const [name, value] of Object.entries(response.headers)) {
            if (!HOP_BY_HOP.includes(name) && value !== undefined) outHeaders[name] = value;
          }
          res.writeHead(status, response.statusMessage, outHeaders);
          response.pipe(res);
          response.once('end', () => resolve(undefined));
          response.once('error', (error) => resolve(error.message));
        },
      );
      upstream.once('error', (error) => {
        if (!res.headersSent) refuseResponse(res, 502, `the upstream request failed: ${error.message}`);
        else res.destroy();
        resolve(error.message);
      });
      req.pipe(upstream);
    });
    socket.destroy();
    this.record({
      ...base,
      ...note,
      host: target.host,
      port: target.port,
      allowed: true,
      rule: decision.rule,
      address: connected.address,
      status,
      ...(outcome ? { reason: outcome } : {}),
      bytesSent: socket.bytesWritten,
      bytesReceived: socket.bytesRead,
    });
  }

  /**
   * What both kinds of request share: the parsed target, the decision, and a connection to an
   * allowed address. A refusal at any step is answered (through `refuse`) and recorded here.
   */
  private async admit(
    base: { requestId: string; method: string; action: EgressAction },
    parsed: { ok: true; target: Target } | { ok: false; reason: string },
    unparsedHost: string,
    refuse: (status: number, reason: string) => void,
  ): Promise<{ target: Target; decision: { rule: string }; note: Note; connected: { socket: Socket; address: string } } | undefined> {
    const refused = (
      status: number,
      reason: string,
      fields: Partial<EgressRecord> & Pick<EgressRecord, 'host' | 'port' | 'allowed' | 'rule'>,
    ): undefined => {
      refuse(status, reason);
      this.record({ ...base, ...fields, reason, status, bytesSent: 0, bytesReceived: 0 });
      return undefined;
    };
    if (!parsed.ok) return refused(400, parsed.reason, { host: unparsedHost, port: 0, allowed: false, rule: null });
    const target = parsed.target;
    const decision = await this.decide(target, base);
    const note = decision.note ?? {};
    const where = { ...note, host: target.host, port: target.port };
    if (!decision.allowed) return refused(decision.status, decision.reason, { ...where, allowed: false, rule: decision.rule });
    const connected = await this.connectAny(decision.addresses, target.port);
    if (!connected.ok) return refused(502, connected.reason, { ...where, allowed: true, rule: decision.rule });
    return { target, decision, note, connected };
  }

  /**
   * The allow-list first (no resolution for a refused name), then the addresses: a name is
   * resolved once here and the connection goes to exactly those addresses, so a second
   * lookup cannot swap them (rebinding), and names leading to internal addresses are refused.
   */
  private async decide(
    target: Target,
    request: { requestId: string; method: string; action: EgressAction },
  ): Promise<
    | { allowed: true; rule: string; addresses: string[]; note?: Note }
    | { allowed: false; rule: string | null; reason: string; status: number; note?: Note }
  > {
    const match = matchTarget(this.options.rules, target);
    if (!match.allowed) {
      if (!this.options.onUnlisted) return { allowed: false, rule: null, reason: match.reason, status: 403 };
      // Held here until decided: no byte goes anywhere before an approval.
      const answer = await this.options
        .onUnlisted({ ...request, host: target.host, port: target.port, reason: match.reason })
        .catch((error: unknown): UnlistedAnswer => ({
          approved: false,
          rule: 'network.ask',
          reason: `${match.reason}; the request could not be asked about (${errorText(error)})`,
          command: 'unknown',
        }));
      const note: Note = { command: answer.command, ...(answer.approval ? { approval: answer.approval } : {}) };
      if (!answer.approved) return { allowed: false, rule: answer.rule, reason: answer.reason, status: 403, note };
      const resolved = await this.addresses(target, answer.rule, true);
      return { ...resolved, note };
    }
    const rule = match.rule.id;
    if (target.isIp) return { allowed: true, rule, addresses: [target.host] };
    return this.addresses(target, rule, false);
  }

  /**
   * Resolves once (the connection goes to exactly these addresses, so a second lookup cannot
   * swap them) and refuses internal addresses unless the allow-list names that very address.
   * An approved unlisted target is checked the same way, IP literals included.
   */
  private async addresses(
    target: Target,
    rule: string,
    approvedUnlisted: boolean,
  ): Promise<{ allowed: true; rule: string; addresses: string[] } | { allowed: false; rule: string; reason: string; status: number }> {
    let addresses: string[];
    if (target.isIp) addresses = [target.host];
    else {
      try {
        addresses = await (this.options.resolve ?? systemResolve)(target.host);
      } catch (error) {
        return { allowed: false, rule, reason: `${target.host} could not be resolved: ${errorText(error)}`, status: 502 };
      }
    }
    if (addresses.length === 0) return { allowed: false, rule, reason: `${target.host} has no addresses`, status: 502 };
    const named = (address: string): boolean => this.options.rules.some((r) => r.kind === 'ip' && r.pattern === address);
    const internal = addresses.find((a) => isInternalAddress(a) && !(approvedUnlisted && named(a)));
    if (internal) {
      return {
        allowed: false,
        rule,
        reason: approvedUnlisted
          ? `${target.host} leads to ${internal}, a loopback, private or link-local address; an approved host may only lead to public addresses (name the address itself in the allow-list to reach it)`
          : `${target.host} resolves to ${internal}, a loopback, private or link-local address; an allowed name may only lead to public addresses (name the address itself in the allow-list to reach it)`,
        status: 403,
      };
    }
    return { allowed: true, rule, addresses };
  }

  private async connectAny(
    addresses: string[],
    port: number,
  ): Promise<{ ok: true; socket: Socket; address: string } | { ok: false; reason: string }> {
    const failures: string[] = [];
    for (const address of addresses) {
      const attempt = await new Promise<Socket | string>((resolve) => {
        const socket = netConnect({ host: address, port });
        const timer = setTimeout(() => {
          socket.destroy();
          resolve('timed out');
        }, this.options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS);
        socket.once('connect', () => {
          clearTimeout(timer);
          socket.removeAllListeners('error');
          socket.on('error', () => undefined);
          resolve(socket);
        });
        socket.once('error', (error) => {
          clearTimeout(timer);
          resolve(errorText(error));
        });
      });
      if (typeof attempt !== 'string') return { ok: true, socket: attempt, address };
      failures.push(`${address}: ${attempt}`);
    }
    return { ok: false, reason: `could not connect to port ${port} (${failures.join('; ')})` };
  }
}

async function systemResolve(host: string): Promise<string[]> {
  const found = await dns.lookup(host, { all: true, verbatim: true });
  return found.map((a) => a.address);
}

/** The credential a process sent: the user name of Proxy-Authorization Basic, which Warden sets per action. */
function credentialOf(req: http.IncomingMessage): string | undefined {
  const header = req.headers['proxy-authorization'];
  const match = typeof header === 'string' ? /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header) : null;
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? decoded : decoded.slice(colon + 1) || decoded.slice(0, colon);
}

function hostForHeader(target: Target): string {
  return isIP(target.host) === 6 ? `[${target.host}]` : target.host;
}

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 403: 'Forbidden', 502: 'Bad Gateway' };

function refuseSocket(socket: Duplex, status: number, reason: string): void {
  const body = `Warden egress: ${reason}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\nContent-Type: text/plain; charset=utf-8\r\nX-Warden-Reason: ${headerSafe(reason)}\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

function refuseResponse(res: http.ServerResponse, status: number, reason: string): void {
  const body = `Warden egress: ${reason}\n`;
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'X-Warden-Reason': headerSafe(reason),
    'Content-Length': Buffer.byteLength(body),
    Connection: 'close',
  });
  res.end(body);
}

function headerSafe(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?');
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

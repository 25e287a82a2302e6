import { createHash, createHmac } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import type Dockerode from 'dockerode';
import { newDockerode } from './dockerode';
import * as z from 'zod';

/**
 * How Warden reaches the container engine, resolved the way the docker CLI does:
 * the `warden.sandbox.dockerHost` setting (or the CLI's --docker-host), then DOCKER_HOST
 * (with DOCKER_TLS_VERIFY / DOCKER_CERT_PATH), then the Docker context (DOCKER_CONTEXT, or
 * `currentContext` in $DOCKER_CONFIG/config.json), then the local socket. Every value is
 * validated; an error names what was wrong and where it came from.
 */

export interface EngineInputs {
  /** `warden.sandbox.dockerHost`: an engine URL (unix://, tcp://, ssh://) or a context name. Empty: not set. */
  setting?: string | undefined;
  /** Where the setting came from, for messages (default "the warden.sandbox.dockerHost setting"). */
  settingOrigin?: string;
  env?: NodeJS.ProcessEnv;
  homeDir?: string;
  /** The host platform (default process.platform): which default engine locations apply. */
  platform?: NodeJS.Platform;
  /** Test hook: whether a socket file exists (default fs.existsSync). */
  exists?: (file: string) => boolean;
}

export interface ResolvedEngine {
  /** Where the engine is, for messages: e.g. "tcp://127.0.0.1:2376 (TLS)". */
  description: string;
  /** Which configuration chose it: the setting, DOCKER_HOST, a context (with its file), or the default. */
  source: string;
  /**
   * True when the engine shares this machine's file system (a unix socket here, or TCP to a
   * loopback address): only then can Warden bind-mount the workspace and the egress socket.
   */
  local: boolean;
  /** Options for dockerode / docker-modem. */
  options: Dockerode.DockerOptions;
}

/** A configuration problem: the message says what and where. */
export class EngineConfigError extends Error {
  constructor(
    message: string,
    readonly source: string,
  ) {
    super(`${message} (from ${source})`);
  }
}

const DEFAULT_SOCKET = '/var/run/docker.sock';
const WINDOWS_PIPE = '//./pipe/docker_engine';

/** A place an engine listens by default when nothing is configured, and whose it is (for messages). */
export interface DefaultSocket {
  socketPath: string;
  engine: string;
}

/**
 * Where local engines listen by default, in the order they are tried: Docker Desktop's
 * per-user socket, the system socket (Docker Engine; Docker Desktop, OrbStack and Rancher
 * Desktop can link theirs there), then the sockets VM-backed engines make without linking
 * it: OrbStack, Colima (default profile; COLIMA_HOME), Rancher Desktop (moby), a Podman
 * machine (macOS), rootless Docker and Podman (Linux). Pure: the first that exists is used.
 */
export function defaultSocketCandidates(home: string, platform: NodeJS.Platform, env: NodeJS.ProcessEnv = {}): DefaultSocket[] {
  if (platform === 'win32') return [{ socketPath: WINDOWS_PIPE, engine: 'Docker Desktop (named pipe)' }];
  const at = (...parts: string[]): string => path.posix.join(home, ...parts);
  const candidates: DefaultSocket[] = [
    { socketPath: at('.docker', 'run', 'docker.sock'), engine: "Docker Desktop's per-user socket" },
    { socketPath: DEFAULT_SOCKET, engine: 'the system socket' },
  ];
  if (platform === 'darwin') {
    const colima = env.COLIMA_HOME?.trim() || at('.colima');
    const podmanMachine = at('.local', 'share', 'containers', 'podman', 'machine');
    candidates.push(
      { socketPath: at('.orbstack', 'run', 'docker.sock'), engine: 'OrbStack' },
      { socketPath: path.posix.join(colima, 'default', 'docker.sock'), engine: 'Colima' },
      { socketPath: path.posix.join(colima, 'docker.sock'), engine: 'Colima (before 0.4)' },
      { socketPath: at('.rd', 'docker.sock'), engine: 'Rancher Desktop' },
      { socketPath: path.posix.join(podmanMachine, 'podman.sock'), engine: 'a Podman machine' },
      { socketPath: path.posix.join(podmanMachine, 'qemu', 'podman.sock'), engine: 'a Podman machine (QEMU)' },
      ...(env.TMPDIR?.trim()
        ? [
            {
              socketPath: path.posix.join(env.TMPDIR.trim(), 'podman', 'podman-machine-default-api.sock'),
              engine: 'a Podman machine (Podman 5)',
            },
          ]
        : []),
    );
  } else if (env.XDG_RUNTIME_DIR?.trim()) {
    const runtime = env.XDG_RUNTIME_DIR.trim();
    candidates.push(
      { socketPath: path.posix.join(runtime, 'docker.sock'), engine: 'rootless Docker' },
      { socketPath: path.posix.join(runtime, 'podman', 'podman.sock'), engine: 'rootless Podman' },
    );
  }
  return candidates;
}

/** The local engine when nothing is configured: the first default location that exists (else the system socket). */
function defaultEngine(home: string, source: string, inputs: EngineInputs, env: NodeJS.ProcessEnv): ResolvedEngine {
  const platform = inputs.platform ?? process.platform;
  const exists = inputs.exists ?? existsSync;
  const candidates = defaultSocketCandidates(home, platform, env);
  if (platform === 'win32') return { description: `npipe://${WINDOWS_PIPE}`, source, local: true, options: { socketPath: WINDOWS_PIPE } };
  const found = candidates.find((c) => exists(c.socketPath));
  const socketPath = found?.socketPath ?? DEFAULT_SOCKET;
  const whose = found && found.socketPath !== DEFAULT_SOCKET ? ` (${found.engine})` : '';
  return { description: `${socketPath}${whose}`, source, local: true, options: { socketPath } };
}

/**
 * The pipe path of an `npipe://` URL as dockerode takes it (`//./pipe/NAME`): the docker CLI's
 * `npipe:////./pipe/docker_engine`, and the spellings seen in the wild (three slashes, or
 * backslashes), all name the same pipe. Undefined when it is not a local named pipe.
 */
export function namedPipePath(url: string): string | undefined {
  const rest = url
    .replace(/^npipe:/i, '')
    .replace(/\\/g, '/')
    .replace(/^\/+/, '');
  if (rest === '') return WINDOWS_PIPE;
  const match = /^\.\/pipe\/([A-Za-z0-9_.-]+)$/i.exec(rest);
  return match ? `//./pipe/${match[1]}` : undefined;
}

const configJsonSchema = z.looseObject({ currentContext: z.string().optional() });
const contextMetaSchema = z.looseObject({
  Name: z.string(),
  Endpoints: z.looseObject({
    docker: z.looseObject({ Host: z.string().min(1), SkipTLSVerify: z.boolean().optional() }),
  }),
});

const engineUrlSchema = z.string().transform((text, ctx) => {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    ctx.addIssue({ code: 'custom', message: `"${text}" is not a URL; write unix:///path/docker.sock, tcp://host:2376 or ssh://user@host` });
    return z.NEVER;
  }
  if (!['unix:', 'npipe:', 'tcp:', 'ssh:', 'http:', 'https:'].includes(url.protocol)) {
    ctx.addIssue({
      code: 'custom',
      message: `"${text}" uses ${url.protocol}//, which Warden does not support; use unix://, npipe:// (Windows), tcp:// or ssh://`,
    });
    return z.NEVER;
  }
  return url;
});

export function resolveEngine(inputs: EngineInputs = {}): ResolvedEngine {
  const env = inputs.env ?? process.env;
  const home = inputs.homeDir ?? os.homedir();
  const setting = inputs.setting?.trim();
  if (setting) {
    const origin = inputs.settingOrigin ?? 'the warden.sandbox.dockerHost setting';
    if (!setting.includes('://'))
      return fromContext(setting, configDir(env, home), env, home, `context "${setting}" named by ${origin}`, inputs);
    return fromUrl(setting, origin, tlsFromEnv(env, home), env, home);
  }
  const dockerHost = env.DOCKER_HOST?.trim();
  if (dockerHost) return fromUrl(dockerHost, 'DOCKER_HOST', tlsFromEnv(env, home), env, home);
  const dir = configDir(env, home);
  const contextName = env.DOCKER_CONTEXT?.trim() || currentContext(dir);
  if (contextName && contextName !== 'default') {
    const via = env.DOCKER_CONTEXT?.trim() ? 'DOCKER_CONTEXT' : `currentContext in ${path.join(dir, 'config.json')}`;
    return fromContext(contextName, dir, env, home, `Docker context "${contextName}" (${via})`, inputs);
  }
  return defaultEngine(home, 'the default local socket', inputs, env);
}

function configDir(env: NodeJS.ProcessEnv, home: string): string {
  return env.DOCKER_CONFIG?.trim() || path.join(home, '.docker');
}

function currentContext(dir: string): string | undefined {
  const file = path.join(dir, 'config.json');
  if (!existsSync(file)) return undefined;
  const parsed = configJsonSchema.safeParse(readJson(file, `the Docker config ${file}`));
  if (!parsed.success) throw new EngineConfigError(`${file} is not a valid Docker config: ${z.prettifyError(parsed.error)}`, file);
  return parsed.data.currentContext?.trim() || undefined;
}

interface TlsFiles {
  verify: boolean;
  certDir: string;
  /** How the TLS material was chosen, for messages. */
  origin: string;
}

function tlsFromEnv(env: NodeJS.ProcessEnv, home: string): TlsFiles {
  // As the docker CLI: any non-empty DOCKER_TLS_VERIFY turns verification on.
  const verify = (env.DOCKER_TLS_VERIFY ?? '') !== '';
  const certDir = env.DOCKER_CERT_PATH?.trim() || path.join(home, '.docker');
  return { verify, certDir, origin: env.DOCKER_CERT_PATH?.trim() ? 'DOCKER_CERT_PATH' : `the default certificate folder ${certDir}` };
}

function fromContext(
  name: string,
  dir: string,
  env: NodeJS.ProcessEnv,
  home: string,
  source: string,
  inputs: EngineInputs,
): ResolvedEngine {
  if (name === 'default') return defaultEngine(home, source, inputs, env);
  const digest = createHash('sha256').update(name).digest('hex');
  const metaFile = path.join(dir, 'contexts', 'meta', digest, 'meta.json');
  if (!existsSync(metaFile)) {
    throw new EngineConfigError(
      `there is no Docker context named "${name}" (no ${metaFile}); list them with \`docker context ls\``,
      source,
    );
  }
  const meta = contextMetaSchema.safeParse(readJson(metaFile, `the context file ${metaFile}`));
  if (!meta.success) throw new EngineConfigError(`${metaFile} is not a valid Docker context: ${z.prettifyError(meta.error)}`, source);
  const endpoint = meta.data.Endpoints.docker;
  if (endpoint.SkipTLSVerify) {
    throw new EngineConfigError(
      `context "${name}" sets SkipTLSVerify; Warden never talks to an engine it cannot verify. Give the context a CA (docker context update --docker "ca=...")`,
      source,
    );
  }
  const tlsDir = path.join(dir, 'contexts', 'tls', digest, 'docker');
  const tls: TlsFiles = { verify: existsSync(path.join(tlsDir, 'ca.pem')), certDir: tlsDir, origin: `the context's TLS folder ${tlsDir}` };
  return fromUrl(endpoint.Host, source, tls, env, home);
}

function fromUrl(text: string, source: string, tls: TlsFiles, env: NodeJS.ProcessEnv, home: string): ResolvedEngine {
  const parsed = engineUrlSchema.safeParse(text);
  if (!parsed.success) throw new EngineConfigError(z.prettifyError(parsed.error).replace(/^✖ /, ''), source);
  const url = parsed.data;
  switch (url.protocol) {
    case 'unix:': {
      const socketPath = decodeURIComponent(url.pathname) || DEFAULT_SOCKET;
      return { description: `unix://${socketPath}`, source, local: true, options: { socketPath } };
    }
    case 'npipe:': {
      const pipe = namedPipePath(text);
      if (!pipe)
        throw new EngineConfigError(
          `"${text}" is not a local named pipe; write npipe:////./pipe/docker_engine (Docker Desktop) or npipe:////./pipe/NAME`,
          source,
        );
      return { description: `npipe://${pipe}`, source, local: true, options: { socketPath: pipe } };
    }
    case 'ssh:':
      return sshEngine(url, source, env, home);
    default:
      return tcpEngine(url, source, tls);
  }
}

function port(url: URL, fallback: number, source: string): number {
  if (url.port === '') return fallback;
  const value = Number(url.port);
  if (!Number.isInteger(value) || value < 1 || value > 65535) throw new EngineConfigError(`"${url.port}" is not a port`, source);
  return value;
}

function hostOf(url: URL, source: string): string {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!host) throw new EngineConfigError(`${url.href} names no host`, source);
  return host;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function tcpEngine(url: URL, source: string, tls: TlsFiles): ResolvedEngine {
  const host = hostOf(url, source);
  const useTls = tls.verify || url.protocol === 'https:';
  const portNumber = port(url, useTls ? 2376 : 2375, source);
  const local = isLoopback(host);
  const where = `tcp://${url.hostname}:${portNumber}`;
  if (!useTls) {
    // A plain TCP engine is root on its machine for anyone on the path: only on loopback.
    if (!local) {
      throw new EngineConfigError(
        `${where} would be reached without TLS; set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH (ca.pem, cert.pem, key.pem), or use ssh:// or a Docker context with TLS`,
        source,
      );
    }
    return { description: `${where} (no TLS, loopback)`, source, local, options: { protocol: 'http', host, port: portNumber } };
  }
  const read = (file: string): Buffer => {
    const full = path.join(tls.certDir, file);
    try {
      return readFileSync(full);
    } catch (error) {
      throw new EngineConfigError(
        `TLS to ${where} needs ${full}, which cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)}); its folder comes from ${tls.origin}`,
        source,
      );
    }
  };
  const ca = read('ca.pem');
  const cert = read('cert.pem');
  const key = read('key.pem');
  return {
    description: `${where} (TLS, certificates from ${tls.certDir})`,
    source,
    local,
    options: { protocol: 'https', host, port: portNumber, ca, cert, key },
  };
}

function sshEngine(url: URL, source: string, env: NodeJS.ProcessEnv, home: string): ResolvedEngine {
  const host = hostOf(url, source);
  const portNumber = port(url, 22, source);
  const username = decodeURIComponent(url.username) || env.USER || os.userInfo().username;
  if (url.password) throw new EngineConfigError('an ssh:// engine URL must not carry a password; use an SSH agent or a key', source);
  const agent = env.SSH_AUTH_SOCK?.trim();
  const keyFile = agent
    ? undefined
    : ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((f) => path.join(home, '.ssh', f)).find((f) => existsSync(f));
  if (!agent && !keyFile) {
    throw new EngineConfigError(
      `ssh://${username}@${host} needs an SSH agent (SSH_AUTH_SOCK) or a key in ${path.join(home, '.ssh')} (id_ed25519, id_ecdsa or id_rsa)`,
      source,
    );
  }
  const knownHosts = path.join(home, '.ssh', 'known_hosts');
  const sshOptions = {
    ...(agent ? { agent } : { privateKey: readFileSync(keyFile!) }),
    // ssh2 accepts any host key unless told otherwise: only keys in known_hosts are trusted.
    hostVerifier: (key: Buffer): boolean => knownHostMatches(knownHosts, host, portNumber, key),
    readyTimeout: 15_000,
  };
  const where = `ssh://${username}@${host}${portNumber === 22 ? '' : `:${portNumber}`}`;
  return {
    description: `${where} (runs \`docker system dial-stdio\` there; host key checked against ${knownHosts})`,
    source,
    local: false,
    options: { protocol: 'ssh', host, port: portNumber, username, sshOptions },
  };
}

/** Is `key` listed for host[:port] in an OpenSSH known_hosts file (plain or hashed names)? */
export function knownHostMatches(file: string, host: string, portNumber: number, key: Buffer): boolean {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return false;
  }
  const name = portNumber === 22 ? host : `[${host}]:${portNumber}`;
  const wanted = key.toString('base64');
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 3 || fields[0]!.startsWith('#') || fields[0]!.startsWith('@')) continue;
    const [hosts, , base64] = fields as [string, string, string];
    if (base64 !== wanted) continue;
    for (const pattern of hosts.split(',')) {
      if (pattern === name) return true;
      const hashed = /^\|1\|([^|]+)\|([^|]+)$/.exec(pattern);
      if (hashed && createHmac('sha1', Buffer.from(hashed[1]!, 'base64')).update(name).digest('base64') === hashed[2]) return true;
    }
  }
  return false;
}

function readJson(file: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new EngineConfigError(`${what} cannot be read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, file);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new EngineConfigError(`${what} is not JSON: ${error instanceof Error ? error.message : String(error)}`, file);
  }
}

/** A dockerode client for a resolved engine. */
export function dockerClient(engine: ResolvedEngine): Dockerode {
  try {
    return newDockerode(engine.options);
  } catch (error) {
    // docker-modem also reads DOCKER_HOST / DOCKER_CERT_PATH itself while constructing.
    throw new EngineConfigError(
      `the Docker client could not be set up for ${engine.description}: ${error instanceof Error ? error.message : String(error)}`,
      engine.source,
    );
  }
}

const versionSchema = z.looseObject({ Components: z.array(z.looseObject({ Name: z.string() })).nullish() });

/** Docker, or Podman's Docker-compatible API (which needs a few spec adjustments). */
export type EngineFlavor = 'docker' | 'podman';

/**
 * GET /_ping, answering with its headers: they name the engine (`Server: Docker/...`; Podman
 * sends `Libpod-Api-Version`), which saves a start the `/version` call (45-85 ms on a loaded machine).
 */
export function pingEngine(docker: Dockerode): Promise<IncomingHttpHeaders> {
  return new Promise((resolve, reject) => {
    docker.modem.dial({ path: '/_ping', method: 'GET', isStream: true, statusCodes: { 200: true, 500: 'server error' } }, (error, res) => {
      if (error) return reject(error);
      const response = res as IncomingMessage;
      response.resume(); // the body is "OK"
      resolve(response.headers);
    });
  });
}

/** The engine's kind as its `/_ping` headers say, or undefined when they do not (then engineFlavor asks `/version`). */
export function flavorFromPing(headers: IncomingHttpHeaders): EngineFlavor | undefined {
  const server = typeof headers.server === 'string' ? headers.server : '';
  if (headers['libpod-api-version'] !== undefined || /^libpod\//i.test(server)) return 'podman';
  return /^docker\//i.test(server) ? 'docker' : undefined;
}

export async function engineFlavor(docker: Dockerode): Promise<EngineFlavor> {
  const version = versionSchema.safeParse(await docker.version().catch(() => undefined));
  return version.success && version.data.Components?.some((c) => /podman/i.test(c.Name)) ? 'podman' : 'docker';
}

/** Podman rlimits for the container: its own defaults (the host's maximum) cannot be set without CAP_SYS_RESOURCE. */
const PODMAN_ULIMITS = [
  { Name: 'nofile', Soft: 4096, Hard: 4096 },
  { Name: 'nproc', Soft: 4096, Hard: 4096 },
];

/**
 * Adjusts the hardened spec to what the engine understands, without loosening it. Podman
 * (4.x) rejects `uid=`/`gid=` tmpfs options: its `U` option chowns the tmpfs to the
 * container user instead; and it tries to raise nofile/nproc to the host's maximum, which
 * fails where Warden itself runs in a container, so explicit limits are set.
 */
export function adaptSpecForEngine(spec: Dockerode.ContainerCreateOptions, flavor: EngineFlavor): Dockerode.ContainerCreateOptions {
  if (flavor !== 'podman') return spec;
  const hostConfig = spec.HostConfig ?? {};
  const tmpfs = Object.fromEntries(
    Object.entries(hostConfig.Tmpfs ?? {}).map(([target, options]) => {
      const parts = options.split(',');
      const owned = parts.some((p) => p.startsWith('uid=') || p.startsWith('gid='));
      return [target, [...parts.filter((p) => !p.startsWith('uid=') && !p.startsWith('gid=')), ...(owned ? ['U'] : [])].join(',')];
    }),
  );
  return { ...spec, HostConfig: { ...hostConfig, Tmpfs: tmpfs, Ulimits: [...(hostConfig.Ulimits ?? []), ...PODMAN_ULIMITS] } };
}

/** What a connection error means for this kind of engine, in words a user can act on ('' when nothing specific). */
export function engineErrorHint(message: string): string {
  if (
    /alert bad certificate|alert certificate unknown|alert unknown ca|certificate required|alert number (42|46|48|116)\b/i.test(message)
  ) {
    return "The engine refused Warden's client certificate (cert.pem and key.pem): it is not signed by a CA the engine trusts (dockerd --tlscacert), or it is not a client certificate.";
  }
  if (/self[- ]signed|unable to (get|verify)|UNABLE_TO_|CERT_|ERR_TLS_CERT_ALTNAME_INVALID|does not match certificate/i.test(message)) {
    return "The engine's certificate could not be verified with ca.pem: a different CA signed it, or it does not list the host or address Warden connects to.";
  }
  if (/All configured authentication methods failed/i.test(message))
    return 'The SSH server refused the key or agent identities Warden offered.';
  if (/host key|hostVerifier|Host denied/i.test(message)) {
    return "The SSH server's host key is not in ~/.ssh/known_hosts: connect once with `ssh user@host` to check and accept it.";
  }
  if (/dial-stdio|docker: (command )?not found/i.test(message))
    return 'Over SSH, Warden runs `docker system dial-stdio` on the remote machine: the docker CLI must be installed there.';
  return '';
}

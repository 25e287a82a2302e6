import { ownerLabel, removeOrphanedSandboxes } from './orphans';
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough, Readable, Writable, type Duplex } from 'node:stream';
import Dockerode from 'dockerode';
import * as tar from 'tar-fs';
import { z } from 'zod';
import { sha256Hex } from '../util/hash';
import { AGENTS_FOLDER, containerWorkspaceFolder, ignoredSettings, imageSource, loadDevcontainer, toContainerSpec, type ImageSource } from './devcontainer';
import {
  SandboxError,
  type AgentProcess,
  type CommandOptions,
  type ExitStatus,
  type RunningCommand,
  type Sandbox,
  type SandboxProvider,
  type SandboxStartOptions,
} from './types';

const DEFAULT_OUTPUT_LIMIT = 1024 * 1024;
const PING_TIMEOUT_MS = 5_000;
const KILL_WAIT_MS = 5_000;

// The slices of Docker API answers Warden relies on; anything else is ignored, not trusted.
const dockerErrorSchema = z.looseObject({ message: z.string(), code: z.string().optional(), statusCode: z.number().optional(), json: z.looseObject({ message: z.string().optional() }).nullish() });
const imageInspectSchema = z.looseObject({ Id: z.string(), Config: z.looseObject({ Env: z.array(z.string()).nullish() }).nullish() });
const containerInspectSchema = z.looseObject({ Id: z.string(), State: z.looseObject({ Running: z.boolean(), Status: z.string(), ExitCode: z.number().optional(), Error: z.string().optional() }) });
const execInspectSchema = z.looseObject({ Running: z.boolean(), ExitCode: z.number().nullable() });
const progressLineSchema = z.looseObject({
  stream: z.string().optional(),
  status: z.string().optional(),
  id: z.string().optional(),
  progress: z.string().optional(),
  error: z.string().optional(),
  errorDetail: z.looseObject({ message: z.string().optional() }).optional(),
});
type ProgressLine = z.infer<typeof progressLineSchema>;

/** Starts hardened dev-container sandboxes on a Docker engine (DOCKER_HOST or the local socket by default). */
export class DockerSandboxProvider implements SandboxProvider {
  constructor(private readonly docker: Dockerode = new Dockerode()) {}

  async start(options: SandboxStartOptions): Promise<Sandbox> {
    const log = options.onLog ?? (() => undefined);
    await this.ping();
    const loaded = await loadDevcontainer(options.workspaceHostPath);
    ignoredSettings(loaded.config).forEach(log);
    const source = imageSource(loaded, options.workspaceHostPath);
    const image = source.kind === 'image' ? await this.ensureImage(source.image, log) : await this.build(source, options.workspaceHostPath, log);
    const imageInfo = imageInspectSchema.safeParse(await this.docker.getImage(image).inspect().catch(() => undefined));
    if (!imageInfo.success) throw new SandboxError(`The image ${image} cannot be inspected after it was prepared; is the engine still running?`, 'image-unavailable');
    const imagePath = imageInfo.data.Config?.Env?.find((e) => e.startsWith('PATH='))?.slice('PATH='.length);
    const spec = toContainerSpec(loaded.config, { ...options, image, owner: ownerLabel(), ...(imagePath ? { imagePath } : {}) });
    for (const id of await removeOrphanedSandboxes(this.docker)) {
      log(`removed the sandbox ${id.slice(0, 12)} of a crashed session`);
    }

    let container: Dockerode.Container;
    try {
      container = await this.docker.createContainer(spec);
    } catch (error) {
      if (engineDown(error)) throw new SandboxError(`Lost the Docker engine at ${engineLocation(this.docker)} while creating the sandbox: ${dockerMessage(error)}`, 'engine-unreachable');
      throw new SandboxError(`Could not create the sandbox container from ${image}: ${dockerMessage(error)}`, 'container-failed');
    }
    const sandbox = new DockerSandbox(this.docker, container, image, containerWorkspaceFolder(loaded.config, options.workspaceHostPath));
    try {
      await container.start();
      const state = containerInspectSchema.parse(await container.inspect()).State;
      if (!state.Running) throw new Error(`it is ${state.Status}${state.Error ? `: ${state.Error}` : ''} (exit code ${state.ExitCode ?? '?'}); the image needs /bin/sh`);
      await checkFromInside(sandbox, options.workspaceHostPath);
    } catch (error) {
      await sandbox.stop();
      if (error instanceof SandboxError) throw error;
      throw new SandboxError(`The sandbox container did not start: ${dockerMessage(error)}`, 'container-failed');
    }
    log(`sandbox ${container.id.slice(0, 12)} running ${image} (no network, read-only root, workspace read-only at ${sandbox.workspaceFolder})`);
    return sandbox;
  }

  private async ping(): Promise<void> {
    const where = engineLocation(this.docker);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${PING_TIMEOUT_MS / 1000}s`)), PING_TIMEOUT_MS);
    });
    try {
      await Promise.race([this.docker.ping(), timeout]);
    } catch (error) {
      const denied = /EACCES/.test(dockerMessage(error)) ? ' Permission was denied: add your user to the "docker" group or use rootless Docker.' : '';
      throw new SandboxError(
        `Cannot reach the Docker engine at ${where} (${dockerMessage(error)}).${denied} ` +
          'Start Docker (Docker Desktop, or `sudo systemctl start docker` / `sudo dockerd`), or set DOCKER_HOST to a running engine, then start the session again.',
        'engine-unreachable',
      );
    } finally {
      clearTimeout(timer);
    }
  }

  /** A named image: the local one if present, else a pull (which fails without a registry). */
  private async ensureImage(image: string, log: (line: string) => void): Promise<string> {
    if (await this.docker.getImage(image).inspect().then(() => true, () => false)) return image;
    log(`image ${image} is not present locally; pulling it`);
    try {
      const stream = await this.docker.pull(image);
      const seen = new Set<string>();
      await readProgress(stream, (line) => {
        const text = [line.id, line.status].filter(Boolean).join(': ');
        if (line.error) throw new Error(line.error);
        if (text && !seen.has(text)) {
          seen.add(text); // layers report progress many times a second: log each state once
          log(`pull ${text}`);
        }
      });
    } catch (error) {
      throw new SandboxError(
        `The image "${image}" is not available locally and pulling it failed (${dockerMessage(error).trim()}). ` +
          'No image registry could be reached, or it does not have this image: build or load the image locally (docker build / docker load), or point devcontainer.json at a Dockerfile with "build".',
        'image-unavailable',
      );
    }
    return image;
  }

  /** Builds build.dockerfile; the tag names the configuration so repeated starts reuse the layer cache. */
  private async build(source: Extract<ImageSource, { kind: 'build' }>, workspaceHostPath: string, log: (line: string) => void): Promise<string> {
    const dockerfileText = await fs.readFile(source.dockerfilePath, 'utf8').catch((error: unknown) => {
      throw new SandboxError(`The Dockerfile ${source.dockerfilePath} named in devcontainer.json cannot be read: ${dockerMessage(error)}`, 'config-invalid');
    });
    const relative = path.relative(source.contextPath, source.dockerfilePath);
    const inContext = !relative.startsWith('..') && !path.isAbsolute(relative);
    const dockerfileInTar = inContext ? relative.split(path.sep).join('/') : '.warden.Dockerfile';
    const tag = `warden-build-${sha256Hex(JSON.stringify([dockerfileText, source.contextPath, dockerfileInTar, source.args, source.target ?? null])).slice(0, 16)}`;
    log(`building ${path.relative(workspaceHostPath, source.dockerfilePath)} (context ${path.relative(workspaceHostPath, source.contextPath) || '.'}) as ${tag}`);

    // Symlinks are sent as links (tar-fs does not dereference), so none can pull host files in.
    const context = tar.pack(source.contextPath, inContext ? {} : {
      finalize: false,
      finish: (pack) => {
        pack.entry({ name: dockerfileInTar }, dockerfileText);
        pack.finalize();
      },
    });
    let step = '';
    try {
      const stream = await this.docker.buildImage(Readable.from(context, { objectMode: false }), {
        t: tag,
        dockerfile: dockerfileInTar,
        buildargs: source.args,
        ...(source.target ? { target: source.target } : {}),
        rm: true,
        forcerm: true,
        // Build steps get no network either: no bridge network is ever attached.
        networkmode: 'none',
      });
      await readProgress(stream, (line) => {
        for (const text of (line.stream ?? line.status ?? '').split('\n').map((l) => l.trimEnd()).filter(Boolean)) {
          const match = /^Step \d+\/\d+ : (.*)$/.exec(text);
          if (match?.[1]) step = match[1];
          log(`build ${text}`);
        }
        if (line.error) throw new Error(line.errorDetail?.message ?? line.error);
      });
    } catch (error) {
      const at = step ? ` at step "${step}"` : '';
      throw new SandboxError(`Building ${source.dockerfilePath} failed${at}: ${dockerMessage(error).trim()}`, 'build-failed');
    }
    return tag;
  }
}

/**
 * Checks from inside, once running: the user must not resolve to uid 0 (a named user is only
 * known to the image), and must be able to read the mounts (a 0700 host folder owned by
 * another uid would make every agent command fail with a puzzling "Permission denied").
 */
const STARTUP_PROBE = [
  // Shell builtins only: the image may have nothing but /bin/sh.
  'while read -r k a b c d; do [ "$k" = Uid: ] && echo "uid $a $b $c $d"; done < /proc/self/status',
  'for d in "$@"; do if [ -r "$d" ] && [ -x "$d" ]; then echo "readable $d"; else echo "unreadable $d"; fi; done',
  'exit 0',
].join('\n');

async function checkFromInside(sandbox: Sandbox, workspaceHostPath: string): Promise<void> {
  const probe = await sandbox.runCommand(['/bin/sh', '-c', STARTUP_PROBE, 'probe', sandbox.workspaceFolder, sandbox.agentsFolder], { cwd: '/' });
  const status = await probe.exited;
  const lines = probe.output().text.split('\n');
  const ids = lines.find((l) => l.startsWith('uid '))?.split(' ').slice(1).map(Number) ?? [];
  if (status.exitCode !== 0 || ids.length !== 4 || ids.some((id) => !Number.isInteger(id))) {
    throw new SandboxError(`Could not check the sandbox user (exit ${status.exitCode}): ${probe.output().text.trim()}`, 'container-failed');
  }
  if (ids.includes(0)) throw new SandboxError('The sandbox user resolves to root (uid 0) in this image; Warden never runs the sandbox as root. Set "containerUser" to a non-root user.', 'config-invalid');
  const unreadable = lines.filter((l) => l.startsWith('unreadable ')).map((l) => l.slice('unreadable '.length));
  if (unreadable.length > 0) {
    const host = unreadable.map((d) => (d === sandbox.workspaceFolder ? workspaceHostPath : d)).join(', ');
    throw new SandboxError(
      `The sandbox user (uid ${ids[0]}) cannot read ${unreadable.join(', ')} (host: ${host}). ` +
        `Make the folder readable to others (chmod o+rx), or set "containerUser" in devcontainer.json to the uid that owns it.`,
      'container-failed',
    );
  }
}

interface StartedExec {
  exec: Dockerode.Exec;
  socket: Duplex;
  pidFile: string;
}

/**
 * Every exec runs through a tiny sh wrapper that records its pid in /tmp, then execs the
 * command. docker exec makes that process a session and group leader, so kill() can signal
 * the whole group from inside the container: this works even when the engine runs in a VM
 * (Docker Desktop), where host pids mean nothing. /bin/sh is required anyway (keepalive).
 */
const EXEC_WRAPPER = 'echo $$ > "$0" && exec "$@"';
const KILL_SCRIPT = [
  'f="$0"; i=0',
  'while [ ! -s "$f" ] && [ $i -lt 20 ]; do sleep 0.05; i=$((i+1)); done',
  '[ -s "$f" ] || exit 0',
  'read -r pid < "$f"',
  'kill -TERM -"$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null',
  'i=0; while kill -0 "$pid" 2>/dev/null && [ $i -lt 30 ]; do sleep 0.1; i=$((i+1)); done',
  // The group is killed even when its leader exited on TERM: no stragglers survive.
  'kill -KILL -"$pid" 2>/dev/null; kill -KILL "$pid" 2>/dev/null; rm -f "$f"; exit 0',
].join('\n');

class DockerSandbox implements Sandbox {
  readonly containerId: string;
  readonly agentsFolder = AGENTS_FOLDER;
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly docker: Dockerode,
    private readonly container: Dockerode.Container,
    readonly image: string,
    readonly workspaceFolder: string,
  ) {
    this.containerId = container.id;
  }

  async execAgent(argv: string[], env: Record<string, string> = {}): Promise<AgentProcess> {
    const started = await this.startExec(argv, env, undefined, true);
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    this.docker.modem.demuxStream(started.socket, stdout, stderr);
    const { socket } = started;
    // Writes after the process ended are dropped rather than thrown: `exited` reports the end.
    const stdin = new Writable({
      write: (chunk: Buffer, _encoding, callback) => (socket.writable ? socket.write(chunk, () => callback()) : callback()),
      final: (callback) => {
        if (socket.writable) socket.end(); // half-close: the process sees EOF on stdin
        callback();
      },
    });
    return new ExecHandle(this, started, () => {
      stdout.end();
      stderr.end();
    }).asAgent(stdin, stdout, stderr);
  }

  async runCommand(argv: string[], options: CommandOptions): Promise<RunningCommand> {
    const started = await this.startExec(argv, options.env ?? {}, options.cwd, false);
    const tail = new TailBuffer(options.outputByteLimit ?? DEFAULT_OUTPUT_LIMIT);
    const sink = new Writable({
      write: (chunk: Buffer, _encoding, callback) => {
        tail.push(chunk);
        callback();
      },
    });
    this.docker.modem.demuxStream(started.socket, sink, sink);
    return new ExecHandle(this, started, () => undefined).asCommand(() => tail.read());
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.container.stop({ t: 2 }).catch(() => undefined); // already stopped or gone
      await this.container.remove({ force: true }).catch((error: unknown) => {
        if (dockerError(error)?.statusCode !== 404) throw new SandboxError(`Could not remove sandbox container ${this.containerId}: ${dockerMessage(error)}`, 'container-failed');
      });
    })().catch((error: unknown) => {
      this.stopping = undefined; // let a later stop() try again
      throw error;
    });
    return this.stopping;
  }

  /** Sends SIGTERM to the exec's process group, then SIGKILL after 3 s. */
  async killExec(pidFile: string): Promise<void> {
    if (this.stopping) return;
    const killer = await this.startExec(['/bin/sh', '-c', KILL_SCRIPT, pidFile], {}, '/', false, false).catch(() => undefined);
    if (!killer) return; // the container is gone, and the process with it
    killer.socket.resume();
    await new Promise<void>((resolve) => {
      killer.socket.once('end', resolve);
      killer.socket.once('close', resolve);
    });
  }

  private async startExec(argv: string[], env: Record<string, string>, cwd: string | undefined, attachStdin: boolean, wrap = true): Promise<StartedExec> {
    if (argv.length === 0) throw new SandboxError('Cannot run an empty command', 'exec-failed');
    const badName = Object.keys(env).find((k) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(k));
    if (badName !== undefined) throw new SandboxError(`Invalid environment variable name ${JSON.stringify(badName)}`, 'exec-failed');
    const pidFile = `/tmp/.warden-exec-${randomUUID()}.pid`;
    try {
      const exec = await this.container.exec({
        Cmd: wrap ? ['/bin/sh', '-c', EXEC_WRAPPER, pidFile, ...argv] : argv,
        Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
        ...(cwd ? { WorkingDir: cwd } : {}),
        AttachStdin: attachStdin,
        AttachStdout: true,
        AttachStderr: true,
        Tty: false,
      });
      const socket = await exec.start({ hijack: true, stdin: attachStdin, Detach: false, Tty: false });
      socket.on('error', () => undefined); // a dropped connection surfaces as the end of the stream
      return { exec, socket, pidFile };
    } catch (error) {
      throw new SandboxError(`Could not run ${argv[0]} in sandbox ${this.containerId.slice(0, 12)}: ${dockerMessage(error)}`, 'exec-failed');
    }
  }
}

/** One exec: its exit status once the stream ends, and kill(). */
class ExecHandle {
  readonly exited: Promise<ExitStatus>;
  private killed = false;

  constructor(private readonly sandbox: DockerSandbox, private readonly started: StartedExec, onEnd: () => void) {
    const ended = new Promise<void>((resolve) => {
      started.socket.once('end', resolve);
      started.socket.once('close', resolve);
    });
    this.exited = ended.then(async () => {
      onEnd();
      return this.status();
    });
  }

  private async status(): Promise<ExitStatus> {
    // The stream can end a moment before the engine records the exit code.
    for (let attempt = 0; attempt < 50; attempt++) {
      const info = execInspectSchema.safeParse(await this.started.exec.inspect().catch(() => undefined));
      if (!info.success) break; // engine or container gone: the outcome is unknown
      if (!info.data.Running) {
        const code = info.data.ExitCode;
        const signal = this.killed && code !== null && code > 128 ? signalName(code - 128) : null;
        return { exitCode: code, signal };
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    return { exitCode: null, signal: null };
  }

  async kill(): Promise<void> {
    if (await settled(this.exited)) return;
    this.killed = true;
    await this.sandbox.killExec(this.started.pidFile);
    await Promise.race([this.exited, new Promise((r) => setTimeout(r, KILL_WAIT_MS))]);
  }

  asAgent(stdin: Writable, stdout: Readable, stderr: Readable): AgentProcess {
    return { stdin, stdout, stderr, exited: this.exited, kill: () => this.kill() };
  }

  asCommand(output: () => { text: string; truncated: boolean }): RunningCommand {
    return { output, exited: this.exited, kill: () => this.kill() };
  }
}

/** Keeps the last `limit` bytes of a stream. */
export class TailBuffer {
  private chunks: Buffer[] = [];
  private size = 0;
  private truncated = false;

  constructor(private readonly limit: number) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size > this.limit) {
      this.truncated = true;
      const head = this.chunks[0]!;
      const excess = this.size - this.limit;
      if (head.length <= excess) {
        this.chunks.shift();
        this.size -= head.length;
      } else {
        this.chunks[0] = head.subarray(excess);
        this.size -= excess;
      }
    }
  }

  read(): { text: string; truncated: boolean } {
    let bytes = Buffer.concat(this.chunks);
    // A cut may land inside a UTF-8 character: drop its orphaned continuation bytes.
    if (this.truncated) {
      let start = 0;
      while (start < bytes.length && start < 3 && (bytes[start]! & 0xc0) === 0x80) start++;
      bytes = bytes.subarray(start);
    }
    return { text: bytes.toString('utf8'), truncated: this.truncated };
  }
}

async function readProgress(stream: NodeJS.ReadableStream, onLine: (line: ProgressLine) => void): Promise<void> {
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

async function settled<T>(promise: Promise<T>): Promise<boolean> {
  const pending = Symbol('pending');
  return (await Promise.race([promise, Promise.resolve(pending)])) !== pending;
}

function signalName(number: number): string | null {
  return Object.entries(os.constants.signals).find(([, n]) => n === number)?.[0] ?? null;
}

const modemSchema = z.looseObject({ socketPath: z.string().optional(), host: z.string().optional(), port: z.union([z.string(), z.number()]).optional(), protocol: z.string().optional() });

/** Where the client talks to the engine, for messages (docker-modem's fields are untyped). */
function engineLocation(docker: Dockerode): string {
  const modem = modemSchema.safeParse(docker.modem);
  if (modem.success && modem.data.socketPath) return modem.data.socketPath;
  if (modem.success && modem.data.host) return `${modem.data.protocol ?? 'http'}://${modem.data.host}${modem.data.port ? `:${modem.data.port}` : ''}`;
  return process.env.DOCKER_HOST || '/var/run/docker.sock';
}

function engineDown(error: unknown): boolean {
  return ['ECONNREFUSED', 'ENOENT', 'ECONNRESET', 'EPIPE', 'EACCES'].includes(dockerError(error)?.code ?? '');
}

function dockerError(error: unknown): z.infer<typeof dockerErrorSchema> | undefined {
  const parsed = dockerErrorSchema.safeParse(error);
  return parsed.success ? parsed.data : undefined;
}

/** The engine's own message when it sent one (dockerode prefixes it with HTTP noise). */
function dockerMessage(error: unknown): string {
  const parsed = dockerError(error);
  if (!parsed) return String(error);
  return parsed.json?.message ?? parsed.message;
}

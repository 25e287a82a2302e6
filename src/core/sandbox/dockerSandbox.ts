import { PassThrough, Writable } from 'node:stream';
import Dockerode from 'dockerode';
import * as z from 'zod';
import { AGENTS_FOLDER, containerWorkspaceFolder, ignoredSettings, imageSource, loadDevcontainer, toContainerSpec } from './devcontainer';
import { dockerError, dockerMessage, engineDown, engineLocation } from './dockerErrors';
import { withEgressMount } from '../egress/mount';
import { adaptSpecForEngine, engineErrorHint, engineFlavor, type ResolvedEngine } from './engine';
import { ExecHandle, KILL_SCRIPT, startExec, type StartedExec } from './exec';
import { buildImage, ensureImage } from './image';
import { ownerLabel, removeOrphanedSandboxes } from './orphans';
import { TailBuffer } from './tailBuffer';
import {
  SandboxError,
  type AgentProcess,
  type CommandOptions,
  type RunningCommand,
  type Sandbox,
  type SandboxProvider,
  type SandboxStartOptions,
} from './types';

const DEFAULT_OUTPUT_LIMIT = 1024 * 1024;
const PING_TIMEOUT_MS = 5_000;

// The slices of Docker API answers Warden relies on; anything else is ignored, not trusted.
const imageInspectSchema = z.looseObject({ Id: z.string(), Config: z.looseObject({ Env: z.array(z.string()).nullish() }).nullish() });
const containerInspectSchema = z.looseObject({ Id: z.string(), State: z.looseObject({ Running: z.boolean(), Status: z.string(), ExitCode: z.number().optional(), Error: z.string().optional() }) });

/** Starts hardened dev-container sandboxes on a Docker engine (DOCKER_HOST or the local socket by default). */
export class DockerSandboxProvider implements SandboxProvider {
  /** `engine`: where the client points (see engine.ts); without it, the local engine of DOCKER_HOST or the default socket. */
  constructor(
    private readonly docker: Dockerode = new Dockerode(),
    private readonly engine?: Pick<ResolvedEngine, 'description' | 'source' | 'local'>,
  ) {}

  async start(options: SandboxStartOptions): Promise<Sandbox> {
    const log = options.onLog ?? (() => undefined);
    await this.ping();
    if (this.engine) log(`engine ${this.engine.description} (from ${this.engine.source})`);
    if (options.egressHostFolder && this.engine && !this.engine.local) {
      throw new SandboxError(
        `The policy's network allow-list needs a local engine: the egress proxy's unix socket cannot be mounted into a container on ${this.engine.description} (from ${this.engine.source}). Use a local engine, or remove "network.allow".`,
        'config-invalid',
      );
    }
    const loaded = await loadDevcontainer(options.workspaceHostPath);
    ignoredSettings(loaded.config).forEach(log);
    const source = imageSource(loaded, options.workspaceHostPath);
    const image = source.kind === 'image' ? await ensureImage(this.docker, source.image, log) : await buildImage(this.docker, source, options.workspaceHostPath, log);
    const imageInfo = imageInspectSchema.safeParse(await this.docker.getImage(image).inspect().catch(() => undefined));
    if (!imageInfo.success) throw new SandboxError(`The image ${image} cannot be inspected after it was prepared; is the engine still running?`, 'image-unavailable');
    const imagePath = imageInfo.data.Config?.Env?.find((e) => e.startsWith('PATH='))?.slice('PATH='.length);
    const spec = adaptSpecForEngine(
      withEgressMount(toContainerSpec(loaded.config, { ...options, image, owner: ownerLabel(), ...(imagePath ? { imagePath } : {}) }), options.egressHostFolder),
      await engineFlavor(this.docker),
    );
    for (const id of await removeOrphanedSandboxes(this.docker)) {
      log(`removed the sandbox ${id.slice(0, 12)} of a crashed session`);
    }

    let container: Dockerode.Container;
    try {
      container = await this.docker.createContainer(spec);
    } catch (error) {
      if (engineDown(error)) throw new SandboxError(`Lost the Docker engine at ${engineLocation(this.docker)} while creating the sandbox: ${dockerMessage(error)}`, 'engine-unreachable');
      if (this.engine && !this.engine.local && /bind source path does not exist/i.test(dockerMessage(error))) {
        throw new SandboxError(
          `The engine ${this.engine.description} runs on another machine, where ${options.workspaceHostPath} (or Warden's agents folder ${options.agentsHostPath}) does not exist: a remote engine needs the workspace at the same path there (a shared file system). ${dockerMessage(error)}`,
          'container-failed',
        );
      }
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
    const where = this.engine ? `${this.engine.description} (from ${this.engine.source})` : engineLocation(this.docker);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${PING_TIMEOUT_MS / 1000}s`)), PING_TIMEOUT_MS);
    });
    try {
      await Promise.race([this.docker.ping(), timeout]);
    } catch (error) {
      const denied = /EACCES/.test(dockerMessage(error)) ? ' Permission was denied: add your user to the "docker" group or use rootless Docker.' : '';
      const hint = engineErrorHint(dockerMessage(error));
      if (hint) throw new SandboxError(`Cannot reach the Docker engine at ${where}: ${dockerMessage(error).trim()}. ${hint}`, 'engine-unreachable');
      throw new SandboxError(
        `Cannot reach the Docker engine at ${where} (${dockerMessage(error)}).${denied} ` +
          'Start Docker (Docker Desktop, or `sudo systemctl start docker` / `sudo dockerd`), or set DOCKER_HOST to a running engine, then start the session again.',
        'engine-unreachable',
      );
    } finally {
      clearTimeout(timer);
    }
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
    const started = await startExec(this.container, { argv, env, attachStdin: true });
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
    return this.handle(started, () => {
      stdout.end();
      stderr.end();
    }).asAgent(stdin, stdout, stderr);
  }

  async runCommand(argv: string[], options: CommandOptions): Promise<RunningCommand> {
    const started = await startExec(this.container, { argv, env: options.env ?? {}, cwd: options.cwd, attachStdin: false });
    const tail = new TailBuffer(options.outputByteLimit ?? DEFAULT_OUTPUT_LIMIT);
    const sink = new Writable({
      write: (chunk: Buffer, _encoding, callback) => {
        tail.push(chunk);
        callback();
      },
    });
    this.docker.modem.demuxStream(started.socket, sink, sink);
    return this.handle(started, () => undefined).asCommand(() => tail.read());
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

  private handle(started: StartedExec, onEnd: () => void): ExecHandle {
    return new ExecHandle(started, (pidFile) => this.killExec(pidFile), onEnd);
  }

  /** Sends SIGTERM to the exec's process group, then SIGKILL after 3 s. */
  private async killExec(pidFile: string): Promise<void> {
    if (this.stopping) return;
    const killer = await startExec(this.container, { argv: ['/bin/sh', '-c', KILL_SCRIPT, pidFile], env: {}, cwd: '/', attachStdin: false, wrap: false }).catch(() => undefined);
    if (!killer) return; // the container is gone, and the process with it
    killer.socket.resume();
    await new Promise<void>((resolve) => {
      killer.socket.once('end', resolve);
      killer.socket.once('close', resolve);
    });
  }
}

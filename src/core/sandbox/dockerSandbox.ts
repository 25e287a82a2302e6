import { demuxDockerStream } from './demux';
import { promises as fs } from 'node:fs';
import { PassThrough, Writable } from 'node:stream';
import type Dockerode from 'dockerode';
import { newDockerode } from './dockerode';
import * as z from 'zod';
import {
  AGENTS_FOLDER,
  LEASE_LOST_EXIT_CODE,
  ignoredSettings,
  imageSource,
  loadDevcontainer,
  planSandbox,
  substitute,
} from './devcontainer';
import { dockerError, dockerMessage, engineDown, engineLocation } from './dockerErrors';
import { adaptSpecForEngine, engineErrorHint, engineFlavor, flavorFromPing, pingEngine, type ResolvedEngine } from './engine';
import type { IncomingHttpHeaders } from 'node:http';
import { ExecHandle, KILL_SCRIPT, startExec, type StartedExec } from './exec';
import { buildFeaturesImage, featureEntries, loadLocalFeatures } from './features';
import { STRICT_SANDBOX_POLICY, type Hardening } from './hardeningPolicy';
import { hostEnvironment } from './hostEnv';
import { buildImage, ensureImage } from './image';
import { LIFECYCLE_OUTPUT_LIMIT, lifecycleStepsFor, runInitializeCommand, runLifecycleSteps, type CommandResult } from './lifecycle';
import { METADATA_LABEL, parseMetadataLabel } from './metadata';
import { prepareContainer, removeContainer, sandboxConfigHash } from './reuse';
import { copiesRoot, removeCopyFolder } from './workspaceCopy';
import { countEntries, isMountNotVisible, sharingAdvice, type NeededFolder } from './sharing';
import { checkUser, checkVisible, STARTUP_PROBE, STARTUP_REPORT_TIMEOUT_MS, StartupReportError, type ProbeResult } from './startupCheck';
import { ensureMaskSources, maskMounts, NOTHING_WITHHELD, planWithholding, withheldPaths, type Withholding } from './withhold';
import { ownerLabel, removeOrphanedSandboxes } from './orphans';
import { holdLease, type SandboxLease } from './lease';
import { TailBuffer } from './tailBuffer';
import { bindSource } from './bindSources';
import { currentHostPlatform, workspaceBasename, type HostPlatform } from './hostPaths';
import {
  SandboxError,
  type AgentProcess,
  type CommandOptions,
  type RunningCommand,
  type Sandbox,
  type SandboxFate,
  type SandboxOrigin,
  type SandboxProvider,
  type SandboxStartOptions,
} from './types';

const DEFAULT_OUTPUT_LIMIT = 1024 * 1024;
/** How much of an agent's stdout waits unread on each side of its pass-through before the exec stream is paused. */
const AGENT_OUTPUT_BUFFER_BYTES = 1024 * 1024;
const PING_TIMEOUT_MS = 5_000;

// The slices of Docker API answers Warden relies on; anything else is ignored, not trusted.
const imageInspectSchema = z.looseObject({
  Id: z.string(),
  Config: z.looseObject({ Env: z.array(z.string()).nullish(), Labels: z.record(z.string(), z.string()).nullish() }).nullish(),
});
const containerInspectSchema = z.looseObject({
  Id: z.string(),
  State: z.looseObject({
    Running: z.boolean(),
    Status: z.string(),
    ExitCode: z.number().optional(),
    Error: z.string().optional(),
    FinishedAt: z.string().optional(),
  }),
});

/** Starts hardened dev-container sandboxes on a Docker engine (DOCKER_HOST or the local socket by default). */
export class DockerSandboxProvider implements SandboxProvider {
  /** `engine`: where the client points (see engine.ts); without it, the local engine of DOCKER_HOST or the default socket. */
  constructor(
    private readonly docker: Dockerode = newDockerode(),
    private readonly engine?: Pick<ResolvedEngine, 'description' | 'source' | 'local'>,
    /** The host's path rules for bind sources and containment (default: the platform Warden runs on; tests inject 'win32'). */
    private readonly hostPlatform: HostPlatform = currentHostPlatform(),
    /** How long PID 1's startup check may take once the container started (tests shorten it). */
    private readonly startupReportTimeoutMs: number = STARTUP_REPORT_TIMEOUT_MS,
  ) {}

  async start(options: SandboxStartOptions): Promise<Sandbox> {
    const log = options.onLog ?? (() => undefined);
    const report = { log, progress: options.onProgress ?? (() => undefined) };
    const { workspaceHostPath } = options;
    report.progress({ message: 'Connecting to the container engine' });
    const pinged = flavorFromPing(await this.ping());
    if (this.engine) log(`engine ${this.engine.description} (from ${this.engine.source})`);
    // Engine questions that do not depend on the workspace run while it is read and the image prepared.
    const flavor = pinged ?? engineFlavor(this.docker);
    const orphans = removeOrphanedSandboxes(this.docker).then(
      (ids) => ({ ids }),
      (error: unknown) => ({ error }),
    );
    const loaded = await loadDevcontainer(workspaceHostPath);
    ignoredSettings(loaded.config).forEach(log);
    const hostEnvSource = options.hostEnv ?? process.env;
    const hostEnv = hostEnvironment({
      ...(options.environmentAllowList ? { allowList: options.environmentAllowList } : {}),
      env: hostEnvSource,
    });
    hostEnv.refusedEntries.forEach(log);
    const planOptions = {
      workspaceHostPath,
      agentsHostPath: options.agentsHostPath,
      sessionId: options.sessionId,
      owner: ownerLabel(),
      policy: options.sandboxPolicy ?? STRICT_SANDBOX_POLICY,
      hostEnv,
      ...(hostEnvSource.SSH_AUTH_SOCK ? { sshAuthSock: hostEnvSource.SSH_AUTH_SOCK } : {}),
      hostPlatform: this.hostPlatform,
    };
    const features = await loadLocalFeatures(loaded, workspaceHostPath);
    // Refuse before building anything: devcontainer.json and its features alone are checked here.
    planSandbox(loaded.config, { ...planOptions, image: '(not built yet)', imageMetadata: featureEntries(features) });
    if (loaded.config.initializeCommand !== undefined) {
      report.progress({ message: 'Running initializeCommand on the host' });
      await runInitializeCommand(loaded.config.initializeCommand, workspaceHostPath, { onRecord: options.onLifecycleCommand, log });
    }

    const source = imageSource(loaded, workspaceHostPath);
    const vars = {
      localWorkspaceFolder: workspaceHostPath,
      localWorkspaceFolderBasename: workspaceBasename(workspaceHostPath, this.hostPlatform),
    };
    const baseImage =
      source.kind === 'image'
        ? await ensureImage(this.docker, source.image, report)
        : await buildImage(
            this.docker,
            {
              ...source,
              args: Object.fromEntries(
                Object.entries(source.args).map(([k, v]) => [k, substitute(v, { vars, hostEnv }, `build.args.${k}`)]),
              ),
            },
            workspaceHostPath,
            report,
          );
    const baseInfo = await this.inspectImage(baseImage);
    const baseEntries = parseMetadataLabel(baseInfo.Config?.Labels?.[METADATA_LABEL], baseImage);
    const image =
      features.length > 0 ? await buildFeaturesImage(this.docker, baseImage, baseEntries, features, loaded.config, report) : baseImage;
    const imageInfo = image === baseImage ? baseInfo : await this.inspectImage(image);
    const imageEnv: Record<string, string> = Object.fromEntries(
      (imageInfo.Config?.Env ?? [])
        .map((e): [string, string] => [e.slice(0, Math.max(0, e.indexOf('='))), e.slice(e.indexOf('=') + 1)])
        .filter(([k]) => k),
    );
    const imagePath = imageEnv.PATH;
    const plan = planSandbox(loaded.config, {
      ...planOptions,
      image,
      imageEnv,
      ...(imagePath ? { imagePath } : {}),
      imageMetadata: [
        ...baseEntries.map((entry) => ({ origin: `the ${METADATA_LABEL} label of ${baseImage}`, entry })),
        ...featureEntries(features),
      ],
    });
    for (const line of describeAllowed(plan.hardening)) log(line);
    // Files coming in: what the policy denies for reading stays out (left out of the copy, or masked).
    const withheld = options.readDenied ? await planWithholding(workspaceHostPath, options.readDenied) : NOTHING_WITHHELD;
    const masked =
      options.workspaceMode === 'readonly' ? await withMasks(plan.spec, withheld, plan.workspaceFolder, this.hostPlatform) : plan.spec;
    const spec = adaptSpecForEngine(masked, await flavor);
    const removed = await orphans;
    if ('error' in removed) throw removed.error;
    for (const id of removed.ids) log(`removed the sandbox ${id.slice(0, 12)} of a crashed session`);

    report.progress({ message: 'Starting the sandbox container' });
    const workspaceMode = options.workspaceMode;
    const workspaceFolder = plan.workspaceFolder;
    const configHash = sandboxConfigHash({
      spec,
      imageId: imageInfo.Id,
      devcontainerText: await fs.readFile(loaded.configPath, 'utf8'),
      workspaceMode,
    });
    let prepared;
    try {
      prepared = await prepareContainer(this.docker, {
        spec,
        configHash,
        workspaceHostPath: options.workspaceHostPath,
        workspaceFolder,
        workspaceMode,
        reuse: options.reuse === true,
        log,
        withheld: withheldPaths(withheld),
        hostPlatform: this.hostPlatform,
      });
    } catch (error) {
      if (engineDown(error))
        throw new SandboxError(
          `Lost the Docker engine at ${engineLocation(this.docker)} while creating the sandbox: ${dockerMessage(error)}`,
          'engine-unreachable',
        );
      if (isMountNotVisible(dockerMessage(error))) {
        // Preflight: the engine cannot see a folder Warden mounts (a VM engine's file sharing, a remote machine).
        const needed: NeededFolder[] = [
          { role: 'the workspace', hostPath: options.workspaceHostPath, target: workspaceFolder },
          { role: "Warden's agents folder", hostPath: options.agentsHostPath, target: AGENTS_FOLDER },
          ...(workspaceMode === 'copy'
            ? [
                {
                  role: 'the private copies folder',
                  hostPath: copiesRoot(),
                  target: workspaceFolder,
                  setting: 'warden.sandbox.copiesFolder',
                },
              ]
            : []),
        ];
        throw new SandboxError(sharingAdvice(needed, this.engineName(), dockerMessage(error)), 'config-invalid');
      }
      throw new SandboxError(`Could not create the sandbox container from ${image}: ${dockerMessage(error)}`, 'container-failed');
    }
    const { container } = prepared;
    const execUser = plan.execUser === plan.spec.User ? undefined : plan.execUser;
    const sandbox = new DockerSandbox(
      this.docker,
      container,
      image,
      plan.workspaceFolder,
      { user: execUser, remoteEnv: plan.remoteEnv },
      {
        configHash,
        origin: prepared.origin,
        copyHostPath: prepared.copyHostPath,
        withheld,
      },
    );
    try {
      // The lease first, so the container never runs without it (lease.ts).
      const lease = await holdLease(container);
      sandbox.lease = lease;
      void lease.closed.then(() => {
        if (!sandbox.stopped)
          log(`the lease of sandbox ${container.id.slice(0, 12)} closed: the engine connection was lost, so the sandbox stopped`);
      });
      await container.start();
      // PID 1 reports the startup check as it starts (startupCheck.ts): no exec needed for the
      // container's user. A remote user other than it is checked by an exec, at the same time,
      // as are the host's side of the sharing check; judged in the same order as ever.
      const needed = neededFolders(sandbox, options.agentsHostPath, workspaceHostPath);
      const [reported, probed, counted] = await Promise.allSettled([
        this.startupReport(container, lease),
        execUser !== undefined ? probeFromInside(sandbox, execUser) : undefined,
        countHostEntries(needed),
      ]);
      const asContainerUser = outcome(reported);
      const asExecUser = outcome(probed);
      const hostEntries = outcome(counted);
      const asRemote = asExecUser ?? asContainerUser;
      const workspace = { folder: sandbox.workspaceFolder, hostPath: workspaceHostPath };
      checkUser(asRemote, workspace);
      checkVisible(asRemote, needed, hostEntries, this.engineName());
      if (asExecUser) checkUser(asContainerUser, workspace);
      if (plan.lifecycle.length > 0) {
        report.progress({ message: 'Running lifecycle commands' });
        // A new container runs them all; a reused one only postStart and postAttach.
        await runLifecycleSteps(
          lifecycleStepsFor(plan.lifecycle, prepared.origin.kind === 'reused' ? 'reused' : 'created'),
          (argv) => sandbox.runToEnd(argv),
          { user: plan.execUser, onRecord: options.onLifecycleCommand, log },
        );
      }
    } catch (error) {
      await sandbox.stop();
      await removeCopyFolder(prepared.copyHostPath).catch(() => undefined);
      if (error instanceof SandboxError) throw error;
      throw new SandboxError(`The sandbox container did not start: ${dockerMessage(error)}`, 'container-failed');
    }
    const view = prepared.copyHostPath ? `a private copy of the workspace (${prepared.copyHostPath}) read-write` : 'workspace read-only';
    log(`sandbox ${container.id.slice(0, 12)} running ${image} (no network, read-only root, ${view} at ${sandbox.workspaceFolder})`);
    return sandbox;
  }

  /**
   * PID 1's startup check, read over the lease. Without one, the container's state says why
   * (it exited: the image needs /bin/sh), as the inspect after start did before the check moved
   * into PID 1; the lease closing right after the report counts the same way.
   */
  private async startupReport(container: Dockerode.Container, lease: SandboxLease): Promise<ProbeResult> {
    let report: ProbeResult | undefined;
    let failure: Error | undefined;
    try {
      report = await lease.startupReport(this.startupReportTimeoutMs);
    } catch (error) {
      failure = error instanceof Error ? error : new Error(String(error));
    }
    if (report && lease.held) return report;
    const state = containerInspectSchema.safeParse(await container.inspect().catch(() => undefined));
    if (state.success && !state.data.State.Running) {
      const { Status, Error: why, ExitCode } = state.data.State;
      throw new Error(`it is ${Status}${why ? `: ${why}` : ''} (exit code ${ExitCode ?? '?'}); the image needs /bin/sh`);
    }
    if (failure instanceof StartupReportError && failure.kind === 'malformed')
      throw new SandboxError(`Could not check the sandbox user: ${failure.message}`, 'container-failed');
    throw failure ?? new Error('its lease closed right after the startup check');
  }

  private engineName(): string {
    return this.engine ? this.engine.description : engineLocation(this.docker);
  }

  async inspectSandbox(containerId: string): Promise<SandboxFate | undefined> {
    let raw: unknown;
    try {
      raw = await this.docker.getContainer(containerId).inspect();
    } catch (error) {
      return dockerError(error)?.statusCode === 404 ? { status: 'gone', leaseLost: false } : undefined;
    }
    const info = containerInspectSchema.safeParse(raw);
    if (!info.success) return undefined;
    const { Status, ExitCode, FinishedAt, Running } = info.data.State;
    const stopped = !Running && Status !== 'created';
    return {
      status: Status,
      ...(stopped && ExitCode !== undefined ? { exitCode: ExitCode } : {}),
      ...(stopped && FinishedAt ? { finishedAt: FinishedAt } : {}),
      leaseLost: stopped && ExitCode === LEASE_LOST_EXIT_CODE,
    };
  }

  private async inspectImage(image: string): Promise<z.infer<typeof imageInspectSchema>> {
    const info = imageInspectSchema.safeParse(
      await this.docker
        .getImage(image)
        .inspect()
        .catch(() => undefined),
    );
    if (!info.success)
      throw new SandboxError(
        `The image ${image} cannot be inspected after it was prepared; is the engine still running?`,
        'image-unavailable',
      );
    return info.data;
  }

  private async ping(): Promise<IncomingHttpHeaders> {
    const where = this.engine ? `${this.engine.description} (from ${this.engine.source})` : engineLocation(this.docker);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${PING_TIMEOUT_MS / 1000}s`)), PING_TIMEOUT_MS);
    });
    try {
      return await Promise.race([pingEngine(this.docker), timeout]);
    } catch (error) {
      const denied = /EACCES/.test(dockerMessage(error))
        ? ' Permission was denied: add your user to the "docker" group or use rootless Docker.'
        : '';
      const hint = engineErrorHint(dockerMessage(error));
      if (hint)
        throw new SandboxError(`Cannot reach the Docker engine at ${where}: ${dockerMessage(error).trim()}. ${hint}`, 'engine-unreachable');
      throw new SandboxError(
        `Cannot reach the Docker engine at ${where} (${dockerMessage(error)}).${denied} ` +
          (process.env.DOCKER_HOST
            ? `DOCKER_HOST is set to ${process.env.DOCKER_HOST}: start the engine there, or unset DOCKER_HOST to use the local engine, then start the session again.`
            : 'Start Docker (Docker Desktop, or `sudo systemctl start docker` / `sudo dockerd`), or set DOCKER_HOST to a running engine, then start the session again.'),
        'engine-unreachable',
      );
    } finally {
      clearTimeout(timer);
    }
  }
}

/** The startup check by `docker exec`, for a remote user other than PID 1's (see startupCheck.ts). */
async function probeFromInside(sandbox: Sandbox, user: string): Promise<ProbeResult> {
  const probe = await sandbox.runCommand(['/bin/sh', '-c', STARTUP_PROBE, 'probe', sandbox.workspaceFolder, sandbox.agentsFolder], {
    cwd: '/',
    user,
  });
  const status = await probe.exited;
  const text = probe.output().text;
  return { exitCode: status.exitCode, lines: text.split('\n'), text };
}

/** A settled promise's value, or its error thrown: failures count in the order they are read. */
function outcome<T>(settled: PromiseSettledResult<T>): T {
  if (settled.status === 'rejected') throw settled.reason;
  return settled.value;
}

/** Read-only mode: the empty, unreadable masks mounted over what is withheld (none: the spec as it is). */
async function withMasks(
  spec: Dockerode.ContainerCreateOptions,
  withheld: Withholding,
  workspaceFolder: string,
  platform: HostPlatform,
): Promise<Dockerode.ContainerCreateOptions> {
  if (withheld.entries.length === 0 && withheld.folders.length === 0) return spec;
  const sources = await ensureMaskSources();
  const masks = maskMounts(withheld, workspaceFolder, {
    folder: bindSource(sources.folder, platform, "Warden's empty mask folder"),
    file: bindSource(sources.file, platform, "Warden's empty mask file"),
  });
  const hostConfig = spec.HostConfig ?? {};
  return { ...spec, HostConfig: { ...hostConfig, Mounts: [...(hostConfig.Mounts ?? []), ...masks] } };
}

/** What the team policy allowed beyond the defaults, for the log. */
function describeAllowed(hardening: Hardening): string[] {
  const lines: string[] = [];
  if (hardening.privileged) lines.push('privileged (sandbox.allowPrivileged)');
  if (hardening.capAdd.length > 0) lines.push(`capAdd ${hardening.capAdd.join(', ')} (sandbox.allowCapAdd)`);
  if (hardening.securityOpt.length > 0) lines.push(`securityOpt ${hardening.securityOpt.join(', ')} (sandbox.allowSecurityOpt)`);
  for (const m of hardening.mounts)
    if (m.type === 'bind') lines.push(`bind mount ${m.source} -> ${m.target}${m.readOnly ? ' (read-only)' : ''} (sandbox.allowMounts)`);
  return lines.map((line) => `allowed by the team policy: ${line}`);
}

/** The folders the sandbox needs the engine to see, and where they appear inside. */
function neededFolders(sandbox: Sandbox, agentsHostPath: string, workspaceHostPath: string): NeededFolder[] {
  return [
    sandbox.copyHostPath
      ? {
          role: 'the private copy',
          hostPath: sandbox.copyHostPath,
          target: sandbox.workspaceFolder,
          setting: 'warden.sandbox.copiesFolder',
        }
      : { role: 'the workspace', hostPath: workspaceHostPath, target: sandbox.workspaceFolder },
    { role: "Warden's agents folder", hostPath: agentsHostPath, target: sandbox.agentsFolder },
  ];
}

async function countHostEntries(needed: readonly NeededFolder[]): Promise<Map<string, number>> {
  return new Map(await Promise.all(needed.map(async (f): Promise<[string, number]> => [f.hostPath, await countEntries(f.hostPath)])));
}

class DockerSandbox implements Sandbox {
  readonly containerId: string;
  readonly agentsFolder = AGENTS_FOLDER;
  readonly configHash: string | undefined;
  readonly origin: SandboxOrigin | undefined;
  readonly copyHostPath: string | undefined;
  readonly withheld: Withholding | undefined;
  private stopping: Promise<void> | undefined;
  /** stop() or kill() was called (a lease closing after that is expected). */
  get stopped(): boolean {
    return this.stopping !== undefined;
  }
  /** Held from just before the container starts until it is stopped (lease.ts). */
  lease: SandboxLease | undefined;

  constructor(
    private readonly docker: Dockerode,
    private readonly container: Dockerode.Container,
    readonly image: string,
    readonly workspaceFolder: string,
    /** remoteUser (when it differs from the container's user) and remoteEnv apply to every exec. */
    private readonly remote: { user: string | undefined; remoteEnv: Record<string, string | null> },
    lifecycle: { configHash?: string; origin?: SandboxOrigin; copyHostPath?: string | undefined; withheld?: Withholding } = {},
  ) {
    this.containerId = container.id;
    this.configHash = lifecycle.configHash;
    this.origin = lifecycle.origin;
    this.copyHostPath = lifecycle.copyHostPath;
    this.withheld = lifecycle.withheld;
  }

  /** remoteEnv under the caller's variables; remoteEnv's null entries are unset unless the caller sets them. */
  private execEnv(env: Record<string, string>): { env: Record<string, string>; unset: string[] } {
    const merged: Record<string, string> = {};
    const unset: string[] = [];
    for (const [k, v] of Object.entries(this.remote.remoteEnv)) {
      if (v === null) unset.push(k);
      else merged[k] = v;
    }
    Object.assign(merged, env);
    return { env: merged, unset: unset.filter((k) => !(k in env)) };
  }

  async execAgent(argv: string[], env: Record<string, string> = {}): Promise<AgentProcess> {
    const started = await startExec(this.container, { argv, ...this.execEnv(env), user: this.remote.user, attachStdin: true });
    // About 2 MiB of the agent's output (a few large chunks) waits here before the exec's stream is
    // paused (demux.ts): deep enough that a fast agent is not slowed down, bounded for a runaway one.
    const stdout = new PassThrough({ highWaterMark: AGENT_OUTPUT_BUFFER_BYTES });
    const stderr = new PassThrough();
    demuxDockerStream(started.socket, stdout, stderr);
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
    const started = await startExec(this.container, {
      argv,
      ...this.execEnv(options.env ?? {}),
      cwd: options.cwd,
      user: options.user ?? this.remote.user,
      attachStdin: false,
    });
    const tail = new TailBuffer(options.outputByteLimit ?? DEFAULT_OUTPUT_LIMIT);
    const sink = new Writable({
      write: (chunk: Buffer, _encoding, callback) => {
        tail.push(chunk);
        callback();
      },
    });
    demuxDockerStream(started.socket, sink, sink);
    return this.handle(started, () => undefined).asCommand(() => tail.read());
  }

  /** Runs a lifecycle command in the workspace folder as the remote user, to its end. */
  async runToEnd(argv: string[]): Promise<CommandResult> {
    const command = await this.runCommand(argv, { cwd: this.workspaceFolder, outputByteLimit: LIFECYCLE_OUTPUT_LIMIT });
    const status = await command.exited;
    const { text, truncated } = command.output();
    return { exitCode: status.exitCode, output: text, truncated };
  }

  /**
   * Stopping the container ends every process in it (the agent and whatever it started); the
   * tmpfs /tmp and home go with them. A kept container holds nothing of the session but its
   * workspace copy, which is re-synced from the real workspace before it runs again.
   */
  stop(options: { keep?: boolean } = {}): Promise<void> {
    this.stopping ??= (async () => {
      if (options.keep) {
        await this.container.stop({ t: 2 }).catch(() => undefined); // already stopped or gone
        this.lease?.release();
        return;
      }
      // Not kept: one forced remove (SIGKILL to everything, then removal), as the kill switch;
      // nothing in a discarded container needs a graceful end, and it saves a round trip and the stop.
      await this.container
        .remove({ force: true })
        .finally(() => this.lease?.release())
        .catch((error: unknown) => {
          if (dockerError(error)?.statusCode !== 404)
            throw new SandboxError(`Could not remove sandbox container ${this.containerId}: ${dockerMessage(error)}`, 'container-failed');
        });
    })().catch((error: unknown) => {
      this.stopping = undefined; // let a later stop() try again
      throw error;
    });
    return this.stopping;
  }

  /** The kill switch: `docker rm -f` sends SIGKILL to everything in the container and removes it, in one call. */
  kill(): Promise<void> {
    const killing = removeContainer(this.docker, this.containerId).then(
      () => this.lease?.release(),
      (error: unknown) => {
        this.lease?.release(); // whatever is left stops on its own
        throw new SandboxError(dockerMessage(error), 'container-failed');
      },
    );
    this.stopping = killing;
    return killing;
  }

  private handle(started: StartedExec, onEnd: () => void): ExecHandle {
    return new ExecHandle(started, (pidFile) => this.killExec(pidFile), onEnd);
  }

  /** Sends SIGTERM to the exec's process group, then SIGKILL after 3 s. */
  private async killExec(pidFile: string): Promise<void> {
    if (this.stopping) return;
    // As the remote user: the processes to signal are its own.
    const killer = await startExec(this.container, {
      argv: ['/bin/sh', '-c', KILL_SCRIPT, pidFile],
      env: {},
      cwd: '/',
      user: this.remote.user,
      attachStdin: false,
      wrap: false,
    }).catch(() => undefined);
    if (!killer) return; // the container is gone, and the process with it
    killer.socket.resume();
    await new Promise<void>((resolve) => {
      killer.socket.once('end', resolve);
      killer.socket.once('close', resolve);
    });
  }
}

import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type Dockerode from 'dockerode';
import { findNodeAtLocation, parse, parseTree, printParseErrorCode, type ParseError } from 'jsonc-parser';
import { z } from 'zod';
import { checkHardening, STRICT_SANDBOX_POLICY, type Hardening, type SandboxPolicy } from './hardeningPolicy';
import { hostEnvironment, type HostEnvironment } from './hostEnv';
import {
  lifecycleCommandSchema,
  mergeMetadata,
  metadataEntrySchema,
  pickMetadata,
  type LifecycleStep,
  type MergedConfig,
  type SourcedEntry,
} from './metadata';
import { sha256Hex } from '../util/hash';
import { bindSource } from './bindSources';
import { STARTUP_REPORT_SCRIPT } from './startupCheck';
import { currentHostPlatform, isInsideOn, workspaceBasename, type HostPlatform } from './hostPaths';
import { SandboxError } from './types';

/** Where Warden looks for the sandbox definition, in order (paths relative to the workspace). */
export const DEVCONTAINER_LOCATIONS = ['.devcontainer/devcontainer.json', '.devcontainer.json'] as const;

export const AGENTS_FOLDER = '/opt/warden/agents';
export const SANDBOX_HOME = '/home/warden';
export const DEFAULT_USER = '1000:1000';
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
export const PIDS_LIMIT = 256;
export const MEMORY_LIMIT_BYTES = 2 * 1024 ** 3;
export const LABELS = {
  managed: 'dev.warden.managed',
  session: 'dev.warden.session',
  workspace: 'dev.warden.workspace',
  /** `host:pid` of the Warden process that owns the container, so orphans of crashed sessions can be found. */
  owner: 'dev.warden.owner',
} as const;

/**
 * PID 1 of the sandbox: lives exactly as long as its lease (see lease.ts). It reads its stdin,
 * which the supervisor holds open through an attach on the Docker API connection; when the
 * supervisor is gone, whatever killed it, the engine closes stdin (StdinOnce), the read loop
 * sees EOF and PID 1 exits with LEASE_LOST_EXIT_CODE, which ends every process in the
 * container (the agent's docker execs included). Shell builtins only (busybox ash, dash, bash).
 * The reader runs in the background under `wait`, for two reasons: PID 1 must reap the
 * orphans a command leaves (a shell blocked in `read` does not, and a fork bomb's zombies would
 * hold the pids limit), and `wait` returns at once on a trapped TERM (docker stop: exit 0).
 * A reader killed by a signal (the agent's own `kill -9 -1` spares only PID 1) is started
 * again; only EOF (the lease closed) ends PID 1. A background job gets /dev/null as stdin,
 * hence the copy on fd 3.
 */
export const KEEPALIVE_SCRIPT =
  'trap "exit 0" TERM INT; exec 3<&0; while :; do while read -r _; do :; done <&3 & wait $!; [ $? -gt 128 ] || exit 3; done';
/**
 * PID 1's command: first the startup check, reported on its stdout for Warden to read over
 * the lease (startupCheck.ts; its arguments are the folders it checks), then KEEPALIVE_SCRIPT.
 */
export function sandboxEntrypoint(workspaceFolder: string): string[] {
  return ['/bin/sh', '-c', `${STARTUP_REPORT_SCRIPT}; ${KEEPALIVE_SCRIPT}`, 'warden-sandbox', workspaceFolder, AGENTS_FOLDER];
}
/** How PID 1 exits when its lease is lost (its supervisor died): the mark of an orphaned sandbox. */
export const LEASE_LOST_EXIT_CODE = 3;

export const devcontainerSchema = z.looseObject({
  name: z.string().optional(),
  image: z.string().min(1).optional(),
  build: z
    .looseObject({
      dockerfile: z.string().min(1).optional(),
      context: z.string().min(1).optional(),
      args: z.record(z.string(), z.string()).optional(),
      target: z.string().min(1).optional(),
    })
    .optional(),
  /** Deprecated spellings of build.dockerfile / build.context, still found in the wild. */
  dockerFile: z.string().min(1).optional(),
  context: z.string().min(1).optional(),
  workspaceFolder: z.string().min(1).optional(),
  workspaceMount: z.string().min(1).optional(),
  features: z
    .record(z.string(), z.union([z.boolean(), z.string(), z.record(z.string(), z.union([z.string(), z.boolean(), z.number()]))]))
    .optional(),
  overrideFeatureInstallOrder: z.array(z.string()).optional(),
  runArgs: z.array(z.string()).optional(),
  initializeCommand: lifecycleCommandSchema.optional(),
  ...metadataEntrySchema.omit({ id: true }).shape,
});

export type DevcontainerConfig = z.infer<typeof devcontainerSchema>;

export interface LoadedDevcontainer {
  config: DevcontainerConfig;
  /** Absolute path of the devcontainer.json that was read. */
  configPath: string;
}

/** Finds the sandbox definition of a workspace, or fails saying where it looked. */
export async function findDevcontainerConfig(workspaceHostPath: string): Promise<string> {
  for (const relative of DEVCONTAINER_LOCATIONS) {
    const candidate = path.join(workspaceHostPath, relative);
    if (
      await fs.stat(candidate).then(
        (s) => s.isFile(),
        () => false,
      )
    )
      return candidate;
  }
  throw new SandboxError(
    `No sandbox definition found in ${workspaceHostPath}: looked for ${DEVCONTAINER_LOCATIONS.join(' and ')}. ` +
      'Add a .devcontainer/devcontainer.json with an "image" or a "build.dockerfile".',
    'config-missing',
  );
}

export async function loadDevcontainer(workspaceHostPath: string): Promise<LoadedDevcontainer> {
  const configPath = await findDevcontainerConfig(workspaceHostPath);
  const text = await fs.readFile(configPath, 'utf8');
  return { config: parseDevcontainer(text, configPath), configPath };
}

/** Parses devcontainer.json (JSONC). Every failure is a 'config-invalid' error with file:line:column. */
export function parseDevcontainer(text: string, fileName = 'devcontainer.json'): DevcontainerConfig {
  const errors: ParseError[] = [];
  const value: unknown = parse(text, errors, { allowTrailingComma: true, disallowComments: false });
  const first = errors[0];
  if (first) {
    const { line, column } = lineColumn(text, first.offset);
    throw new SandboxError(`${fileName}:${line}:${column}: ${describeParseError(printParseErrorCode(first.error))}`, 'config-invalid');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SandboxError(`${fileName}: expected a JSON object at the top level`, 'config-invalid');
  }
  const result = devcontainerSchema.safeParse(value);
  if (!result.success) {
    const tree = parseTree(text, [], { allowTrailingComma: true });
    const problems = result.error.issues.map((issue) => {
      const keyPath = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
      const node = tree ? findNodeAtLocation(tree, keyPath) : undefined;
      const where = node ? lineColumn(text, node.offset) : undefined;
      const position = where ? `${where.line}:${where.column}: ` : '';
      // A bad record key nests the real reason (e.g. "must be a valid environment variable name").
      const message = issue.code === 'invalid_key' ? issue.issues.map((inner) => inner.message).join('; ') : issue.message;
      return `${fileName}:${position}${keyPath.join('.') || '(root)'}: ${message}`;
    });
    throw new SandboxError(problems.join('\n'), 'config-invalid');
  }
  const config = result.data;
  if (!config.image && !dockerfileOf(config)) {
    const compose = 'dockerComposeFile' in config ? ' Docker Compose definitions (dockerComposeFile) are not supported yet.' : '';
    throw new SandboxError(`${fileName}: needs an "image" or a "build.dockerfile" to define the sandbox.${compose}`, 'config-invalid');
  }
  return config;
}

function describeParseError(code: string): string {
  // jsonc-parser's codes are identifiers such as "CommaExpected"; make them read as words.
  return code.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
}

/** 1-based line and column of an offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}

function dockerfileOf(config: DevcontainerConfig): string | undefined {
  return config.build?.dockerfile ?? config.dockerFile;
}

export type ImageSource =
  | { kind: 'image'; image: string }
  | {
      kind: 'build';
      /** Absolute host paths. */
      dockerfilePath: string;
      contextPath: string;
      args: Record<string, string>;
      target: string | undefined;
    };

/**
 * Where the image comes from. Paths are relative to the folder holding devcontainer.json (as
 * the spec says) and must stay inside the workspace: the build context is sent to the engine,
 * so `"context": "../.."` could otherwise copy the user's home (keys, tokens) into the image.
 */
export function imageSource(loaded: LoadedDevcontainer, workspaceHostPath: string): ImageSource {
  const { config, configPath } = loaded;
  const dockerfile = dockerfileOf(config);
  if (!dockerfile) return { kind: 'image', image: config.image ?? '' };
  const base = path.dirname(configPath);
  const contextPath = path.resolve(base, config.build?.context ?? config.context ?? '.');
  const dockerfilePath = path.resolve(base, dockerfile);
  for (const [what, p] of [
    ['build context', contextPath],
    ['Dockerfile', dockerfilePath],
  ] as const) {
    if (!isInsideOn(workspaceHostPath, p, currentHostPlatform())) {
      throw new SandboxError(
        `${configPath}: the ${what} ${p} is outside the workspace ${workspaceHostPath}; Warden only builds from inside it`,
        'config-invalid',
      );
    }
  }
  return { kind: 'build', dockerfilePath, contextPath, args: config.build?.args ?? {}, target: config.build?.target };
}

/** Refuses a user that names root (uid or group 0); returns a numeric user as uid:gid. */
function nonRootUser(requested: string, property: string): string {
  const numeric = /^(\d+)(?::(\d+))?$/.exec(requested);
  const [userPart, groupPart] = requested.split(':');
  const rootUser = numeric ? Number(numeric[1]) === 0 : userPart === 'root';
  const rootGroup = numeric ? numeric[2] !== undefined && Number(numeric[2]) === 0 : groupPart === 'root' || groupPart === '0';
  if (rootUser || rootGroup) {
    throw new SandboxError(
      `devcontainer.json asks for ${property} "${requested}": Warden never runs the sandbox as root; use a non-root user (default ${DEFAULT_USER})`,
      'config-invalid',
    );
  }
  if (numeric) return `${numeric[1]}:${numeric[2] ?? numeric[1]}`;
  return requested;
}

/**
 * The user the container runs as: never root. A numeric uid without a group gets the group of
 * the same number (Docker would pick gid 0). Named users are checked again once the container
 * runs, since only the image's /etc/passwd knows their uid.
 */
type UserSettings = { containerUser?: string | undefined; remoteUser?: string | undefined; [key: string]: unknown };

export function sandboxUser(config: UserSettings): string {
  const requested = config.containerUser ?? config.remoteUser;
  return requested === undefined ? DEFAULT_USER : nonRootUser(requested, config.containerUser ? 'containerUser' : 'remoteUser');
}

/** The user the agent, its commands and the lifecycle commands run as (remoteUser, else the container's). */
export function remoteExecUser(config: UserSettings): string {
  return config.remoteUser === undefined ? sandboxUser(config) : nonRootUser(config.remoteUser, 'remoteUser');
}

/** Where the workspace is mounted in the container (default /workspaces/<folder name>). */
export function containerWorkspaceFolder(
  config: DevcontainerConfig,
  workspaceHostPath: string,
  platform: HostPlatform = currentHostPlatform(),
): string {
  const basename = workspaceBasename(workspaceHostPath, platform);
  const folder = substitute(
    config.workspaceFolder ?? `/workspaces/${basename}`,
    { vars: { localWorkspaceFolderBasename: basename } },
    'workspaceFolder',
  );
  const normalized = path.posix.normalize(folder);
  const reserved = ['/', '/tmp', SANDBOX_HOME, '/opt/warden', AGENTS_FOLDER, '/proc', '/sys', '/dev', '/etc'];
  if (
    !path.posix.isAbsolute(normalized) ||
    reserved.some((r) => normalized === r || r.startsWith(`${normalized}/`) || normalized.startsWith(`${r}/`))
  ) {
    throw new SandboxError(
      `devcontainer.json: workspaceFolder "${folder}" must be an absolute path outside ${reserved.join(', ')}`,
      'config-invalid',
    );
  }
  return normalized;
}

interface SubstitutionContext {
  vars: Record<string, string>;
  /** `${localEnv:NAME}`: only allow-listed host variables (none when absent). */
  hostEnv?: HostEnvironment;
  /** `${containerEnv:NAME}` (remoteEnv only): the image's and containerEnv's variables. */
  containerEnv?: Record<string, string>;
}

/**
 * Expands devcontainer variables. `${localEnv:NAME}` resolves only for host variables on the
 * allow-list (invariant 6), and a refused one is an error naming it: dropping it silently would
 * hide that the sandbox does not get it.
 */
export function substitute(value: string, context: SubstitutionContext, where: string): string {
  return value.replace(/\$\{([^}]+)\}/g, (match, expression: string) => {
    if (expression in context.vars) return context.vars[expression] ?? '';
    const env = /^(localEnv|containerEnv|env):([A-Za-z_][A-Za-z0-9_]*)(?::(.*))?$/.exec(expression);
    if (!env) return match;
    const [, kind, name, fallback] = env as unknown as [string, string, string, string | undefined];
    if (kind === 'containerEnv') {
      if (!context.containerEnv)
        throw new SandboxError(
          `devcontainer.json: ${where} uses ${match}; \${containerEnv:...} is only available in remoteEnv`,
          'config-invalid',
        );
      return context.containerEnv[name] ?? fallback ?? '';
    }
    const found = (context.hostEnv ?? hostEnvironment({ env: {}, allowList: [] })).lookup(name);
    if ('refused' in found)
      throw new SandboxError(
        `devcontainer.json: ${where} uses ${match}, which Warden does not pass into the sandbox: ${found.refused}`,
        'config-invalid',
      );
    return found.value === '' && fallback !== undefined ? fallback : found.value;
  });
}

export interface ContainerSpecOptions {
  workspaceHostPath: string;
  agentsHostPath: string;
  sessionId: string;
  image: string;
  /** PATH the image declares (its Env), kept unless containerEnv sets one. */
  imagePath?: string;
  /** The image's Env (for `${containerEnv:...}` in remoteEnv). */
  imageEnv?: Record<string, string>;
  /** `host:pid` of the owning Warden process (see LABELS.owner). */
  owner?: string;
  /** Metadata entries from the image label and features, merged before devcontainer.json's own. */
  imageMetadata?: SourcedEntry[];
  /** The team policy's sandbox section (default: allows nothing). */
  policy?: SandboxPolicy;
  /** Host environment allowed in (default: none). */
  hostEnv?: HostEnvironment;
  homeDir?: string;
  sshAuthSock?: string;
  /**
   * The host's path rules (default: the platform Warden runs on). Bind sources are written in
   * the form the engine takes (see hostPaths.ts); injectable so the Windows plan is tested on Linux.
   */
  hostPlatform?: HostPlatform;
}

/** Everything the provider needs from devcontainer.json plus image metadata and the policy. */
export interface SandboxPlan {
  spec: Dockerode.ContainerCreateOptions;
  workspaceFolder: string;
  /** User for docker exec (agent, commands, lifecycle commands). */
  execUser: string;
  /** remoteEnv, expanded: applied to every exec (a null value unsets a variable). */
  remoteEnv: Record<string, string | null>;
  lifecycle: LifecycleStep[];
  merged: MergedConfig;
  hardening: Hardening;
}

/** The merged configuration: image metadata entries first, devcontainer.json last (it wins). */
export function mergedConfig(config: DevcontainerConfig, imageMetadata: SourcedEntry[] = []): MergedConfig {
  return mergeMetadata([...imageMetadata, { origin: 'devcontainer.json', entry: pickMetadata(config) }]);
}

/** The hardened container for a sandbox, and how to run things in it. Pure apart from resolving host paths of bind mounts. */
export function planSandbox(config: DevcontainerConfig, options: ContainerSpecOptions): SandboxPlan {
  const platform = options.hostPlatform ?? currentHostPlatform();
  const workspaceFolder = containerWorkspaceFolder(config, options.workspaceHostPath, platform);
  const merged = mergedConfig(config, options.imageMetadata);
  const users = { containerUser: merged.containerUser, remoteUser: merged.remoteUser };
  const user = sandboxUser(users);
  const execUser = remoteExecUser(users);
  const basename = workspaceBasename(options.workspaceHostPath, platform);
  const hostEnv = options.hostEnv ?? hostEnvironment({ env: {}, allowList: [] });
  const vars = {
    localWorkspaceFolder: options.workspaceHostPath,
    localWorkspaceFolderBasename: basename,
    // Stable per workspace, as the spec asks (volume names in image metadata use it).
    devcontainerId: sha256Hex(options.workspaceHostPath).slice(0, 20),
    containerWorkspaceFolder: workspaceFolder,
    containerWorkspaceFolderBasename: path.posix.basename(workspaceFolder),
  };
  const hardening = checkHardening({
    merged,
    runArgs: config.runArgs,
    workspaceMount: config.workspaceMount,
    hasInitializeCommand: config.initializeCommand !== undefined,
    policy: options.policy ?? STRICT_SANDBOX_POLICY,
    workspaceHostPath: options.workspaceHostPath,
    workspaceFolder,
    reservedTargets: [AGENTS_FOLDER, SANDBOX_HOME, '/tmp', '/proc', '/sys', '/dev'],
    substitute: (value, where) => substitute(value, { vars, hostEnv }, where),
    ...(options.homeDir ? { homeDir: options.homeDir } : {}),
    sshAuthSock: options.sshAuthSock,
    hostPlatform: platform,
  });

  // Lowest first: allow-listed host variables, runArgs -e, containerEnv; HOME and PATH are Warden's.
  const env: Record<string, string> = { ...hostEnv.passed, ...hardening.env };
  for (const [key, value] of Object.entries(merged.containerEnv)) env[key] = substitute(value, { vars, hostEnv }, `containerEnv.${key}`);
  // HOME must be the writable tmpfs: everything else is read-only.
  env.HOME = SANDBOX_HOME;
  env.PATH = env.PATH ?? options.imagePath ?? DEFAULT_PATH;

  const inContainer = { ...(options.imageEnv ?? {}), ...env };
  const remoteEnv: Record<string, string | null> = {};
  for (const [key, value] of Object.entries(merged.remoteEnv)) {
    remoteEnv[key] = value === null ? null : substitute(value, { vars, hostEnv, containerEnv: inContainer }, `remoteEnv.${key}`);
  }

  // HOME belongs to the user the agent runs as, so its tools can write their caches there.
  const numericUser = /^(\d+):(\d+)$/.exec(execUser);
  // /tmp and HOME allow exec: tools compile and run helpers there; the rootfs stays read-only.
  const tmpfsOptions = 'rw,exec,nosuid,nodev';
  const homeOwner = numericUser ? `uid=${numericUser[1]},gid=${numericUser[2]},mode=0700` : 'mode=1777';

  // Bind sources in the engine's form (a Windows drive path, a WSL distro's Linux path); a network share is refused here.
  const extraMounts: Dockerode.MountSettings[] = hardening.mounts.map((m) =>
    m.type === 'tmpfs'
      ? { Type: 'tmpfs', Source: '', Target: m.target }
      : {
          Type: m.type,
          Source: m.type === 'bind' ? bindSource(m.source ?? '', platform, `the mount ${m.source ?? ''}`) : (m.source ?? ''),
          Target: m.target,
          ReadOnly: m.readOnly,
        },
  );
  const workspaceSource = bindSource(hardening.workspaceSource, platform, `the workspace ${hardening.workspaceSource}`);
  const agentsSource = bindSource(options.agentsHostPath, platform, `Warden's agents folder ${options.agentsHostPath}`);

  const spec: Dockerode.ContainerCreateOptions = {
    Image: options.image,
    Hostname: 'warden-sandbox',
    User: user,
    Entrypoint: sandboxEntrypoint(workspaceFolder),
    Cmd: [],
    Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
    WorkingDir: workspaceFolder,
    Labels: {
      ...hardening.labels,
      [LABELS.managed]: 'true',
      [LABELS.session]: options.sessionId,
      [LABELS.workspace]: options.workspaceHostPath,
      ...(options.owner ? { [LABELS.owner]: options.owner } : {}),
    },
    // The lease: stdin stays open while the supervisor's attach holds it, and closes for good
    // when that one client goes (StdinOnce). See KEEPALIVE_SCRIPT and lease.ts.
    AttachStdin: true,
    AttachStdout: true, // PID 1 reports the startup check on it, once (startupCheck.ts)
    AttachStderr: false,
    Tty: false,
    OpenStdin: true,
    StdinOnce: true,
    StopSignal: 'SIGTERM',
    StopTimeout: 2,
    HostConfig: {
      // These stay whatever the policy allows: no network, no new privileges, read-only workspace and root.
      NetworkMode: 'none',
      CapDrop: ['ALL'],
      CapAdd: hardening.capAdd,
      SecurityOpt: ['no-new-privileges', ...hardening.securityOpt],
      Privileged: hardening.privileged,
      ReadonlyRootfs: true,
      PidsLimit: PIDS_LIMIT,
      Memory: MEMORY_LIMIT_BYTES,
      MemorySwap: MEMORY_LIMIT_BYTES,
      IpcMode: 'private',
      RestartPolicy: { Name: 'no' },
      AutoRemove: false,
      ...(hardening.init ? { Init: true } : {}),
      ...(hardening.shmSize !== undefined ? { ShmSize: hardening.shmSize } : {}),
      ...(hardening.nanoCpus !== undefined ? { NanoCpus: hardening.nanoCpus } : {}),
      ...(hardening.ulimits.length > 0 ? { Ulimits: hardening.ulimits } : {}),
      Tmpfs: {
        '/tmp': `${tmpfsOptions},size=1g,mode=1777`,
        [SANDBOX_HOME]: `${tmpfsOptions},size=512m,${homeOwner}`,
      },
      // Mounts (not Binds): a missing source is an error instead of a folder Docker creates.
      Mounts: [
        { Type: 'bind', Source: workspaceSource, Target: workspaceFolder, ReadOnly: true },
        { Type: 'bind', Source: agentsSource, Target: AGENTS_FOLDER, ReadOnly: true },
        ...extraMounts,
      ],
    },
  };
  return { spec, workspaceFolder, execUser, remoteEnv, lifecycle: merged.lifecycle, merged, hardening };
}

/** The hardened container for a sandbox. Pure: the same inputs always give the same spec. */
export function toContainerSpec(config: DevcontainerConfig, options: ContainerSpecOptions): Dockerode.ContainerCreateOptions {
  return planSandbox(config, options).spec;
}

/** Lines for the log about devcontainer.json settings Warden deliberately does not apply. */
export function ignoredSettings(config: DevcontainerConfig): string[] {
  const reasons: Record<string, string> = {
    forwardPorts: 'the sandbox has no network',
    appPort: 'the sandbox has no network',
    portsAttributes: 'the sandbox has no network',
    dockerComposeFile: 'Docker Compose is not supported',
    hostRequirements: 'Warden sets its own limits',
    shutdownAction: 'Warden stops the sandbox with the session',
    overrideCommand: 'Warden always runs its own keep-alive command',
    userEnvProbe: 'the environment is containerEnv and remoteEnv only',
    updateRemoteUserUID: 'the sandbox runs as the configured uid',
  };
  return Object.keys(config)
    .filter((key) => key in reasons)
    .map((key) => `devcontainer.json: "${key}" is ignored (${reasons[key]})`);
}

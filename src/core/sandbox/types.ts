import type { Readable, Writable } from 'node:stream';
import type { SandboxSection } from '../policy/schema';
import type { ReadDenied, Withholding } from './withhold';

/**
 * The sandbox boundary as the rest of Warden sees it. The Docker implementation lives
 * beside this file; the supervisor only knows these interfaces.
 */

export interface SandboxStartOptions {
  /** Absolute host path of the workspace folder (holds .devcontainer/devcontainer.json). */
  workspaceHostPath: string;
  /** Absolute host path of the folder holding Warden's bundled agents; mounted read-only. */
  agentsHostPath: string;
  /** Progress and build/pull log lines, for the output channel. */
  onLog?: (line: string) => void;
  /** Coarse progress (pull per layer, build per step), for a progress notification. */
  onProgress?: (progress: SandboxProgress) => void;
  /** Each lifecycle command once it ended (awaited, so it is on the record before the next runs). */
  onLifecycleCommand?: (record: LifecycleCommandRecord) => void | Promise<void>;
  /** The team policy's "sandbox" section; absent means nothing security-relevant is allowed. */
  sandboxPolicy?: SandboxSection | undefined;
  /** Host variables that may enter the container (names or PREFIX* patterns); default LANG, LANGUAGE, LC_*, TZ, TERM. */
  environmentAllowList?: readonly string[];
  /** The host environment to draw allow-listed variables from (default process.env). */
  hostEnv?: Readonly<Record<string, string | undefined>>;
  /** Identifies this session in container labels. */
  sessionId: string;
  /**
   * Reuse a stopped sandbox of this workspace whose configuration hash matches (and remove
   * those whose hash does not: a rebuild). Without it, every start creates a new container.
   */
  reuse?: boolean;
  /** How the workspace is visible in the container (no default here: the session assembly's is DEFAULT_WORKSPACE_MODE). */
  workspaceMode: WorkspaceMode;
  /**
   * Paths the policy denies for reading: they never enter the sandbox (left out of the copy,
   * or masked by an empty unreadable mount in read-only mode). None: everything enters.
   */
  readDenied?: ReadDenied;
}

/**
 * 'readonly': the real workspace bind-mounted read-only. 'copy': a private copy on the host,
 * mounted read-write (the real `.git` read-only on top of it); Warden turns what the agent
 * changes in the copy into proposals. Either way the real workspace is never writable.
 */
export type WorkspaceMode = 'readonly' | 'copy';

/**
 * The one default workspace mode (the README's, the `warden.sandbox.workspaceMode` setting's and
 * `warden run`'s): a private copy. Applied by the session assembly; the layers below take a mode.
 */
export const DEFAULT_WORKSPACE_MODE: WorkspaceMode = 'copy';

/** A setting's value as a mode: 'readonly' or 'copy', anything else the default. */
export function workspaceModeOr(value: unknown, fallback: WorkspaceMode = DEFAULT_WORKSPACE_MODE): WorkspaceMode {
  return value === 'readonly' || value === 'copy' ? value : fallback;
}

/** How a started sandbox came to be: a new container, a kept one restarted, or a new one replacing kept ones whose configuration changed. */
export type SandboxOrigin =
  { kind: 'created' } | { kind: 'reused' } | { kind: 'rebuilt'; previousContainerIds: string[]; previousConfigHashes: string[] };

export interface ExitStatus {
  exitCode: number | null;
  signal: string | null;
}

/** The agent process inside the container: raw stdio for the protocol. */
export interface AgentProcess {
  readonly stdin: Writable;
  readonly stdout: Readable;
  /** Agent diagnostics; never parsed as protocol. */
  readonly stderr: Readable;
  readonly exited: Promise<ExitStatus>;
  kill(): Promise<void>;
}

export interface CommandOptions {
  /** Working directory inside the container. */
  cwd: string;
  env?: Record<string, string>;
  /** Keep at most this many bytes of output (the tail is kept); default 1 MiB. */
  outputByteLimit?: number;
  /** Run as this user instead of the sandbox's remote user. */
  user?: string;
}

/** A command approved by a reviewer, running in the container. */
export interface RunningCommand {
  /** Output so far (stdout and stderr interleaved as they arrived). */
  output(): { text: string; truncated: boolean };
  readonly exited: Promise<ExitStatus>;
  kill(): Promise<void>;
}

export interface Sandbox {
  readonly containerId: string;
  /** Where the workspace is mounted inside the container (read-only). */
  readonly workspaceFolder: string;
  /** Where Warden's bundled agents are mounted inside the container (read-only). */
  readonly agentsFolder: string;
  /** Image the container runs. */
  readonly image: string;
  /** Starts the agent with `docker exec`, stdio attached. */
  execAgent(argv: string[], env?: Record<string, string>): Promise<AgentProcess>;
  runCommand(argv: string[], options: CommandOptions): Promise<RunningCommand>;
  /** Stops the container and removes it (default), or keeps it stopped for reuse by a later session. Safe to call twice. */
  stop(options?: { keep?: boolean }): Promise<void>;
  /** Kill switch: SIGKILL every process and remove the container, waiting for nothing inside it. */
  kill?(): Promise<void>;
  /** Hash of the effective configuration (devcontainer.json, image id, hardening version, mounts); labels the container. */
  readonly configHash?: string;
  readonly origin?: SandboxOrigin;
  /** In 'copy' mode: the host folder holding the private copy mounted read-write at workspaceFolder. */
  readonly copyHostPath?: string;
  /** What was withheld from the sandbox when it started (SandboxStartOptions.readDenied). */
  readonly withheld?: Withholding;
}

export interface SandboxProvider {
  start(options: SandboxStartOptions): Promise<Sandbox>;
  /** What became of a sandbox container, by id (for the record of a session whose supervisor died); undefined when unknown. */
  inspectSandbox?(containerId: string): Promise<SandboxFate | undefined>;
}

/** A sandbox container's state as the engine reports it ('gone': removed). */
export interface SandboxFate {
  status: string;
  exitCode?: number;
  finishedAt?: string;
  /** It stopped because its lease was lost: its supervisor died (see lease.ts). */
  leaseLost: boolean;
}

/** A sandbox failure with a message a user can act on. */
export class SandboxError extends Error {
  constructor(
    message: string,
    readonly code:
      | 'engine-unreachable'
      | 'config-missing'
      | 'config-invalid'
      | 'image-unavailable'
      | 'build-failed'
      | 'container-failed'
      | 'exec-failed'
      | 'config-refused'
      | 'lifecycle-failed',
  ) {
    super(message);
  }
}

/** A step of preparing the sandbox, for a progress notification. */
export interface SandboxProgress {
  /** One line: "Pulling node:20: 3 of 5 layers, 40 MB of 120 MB", "Step 3/5: RUN npm ci". */
  message: string;
  /** 0..1 when known (pull bytes, build steps). */
  fraction?: number;
}

/** One lifecycle command (onCreateCommand, ...), run and finished; the supervisor audits it. */
export interface LifecycleCommandRecord {
  hook: 'initializeCommand' | 'onCreateCommand' | 'updateContentCommand' | 'postCreateCommand' | 'postStartCommand' | 'postAttachCommand';
  /** "devcontainer.json", "feature ./x", "image label of y". */
  origin: string;
  /** The key of an object-form command. */
  name?: string;
  /** As written: a shell string or an argv. */
  command: string | string[];
  /** Where it ran: in the sandbox (no network, as the remote user) or on the host (initializeCommand). */
  where: 'container' | 'host';
  user?: string;
  exitCode: number | null;
  /** Tail of stdout and stderr interleaved. */
  output: string;
  truncated: boolean;
}

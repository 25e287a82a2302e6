import { randomUUID } from 'node:crypto';
import * as os from 'node:os';
import type { Duplex, Readable, Writable } from 'node:stream';
import type Dockerode from 'dockerode';
import * as z from 'zod';
import { dockerMessage } from './dockerErrors';
import { SandboxError, type AgentProcess, type ExitStatus, type RunningCommand } from './types';

const KILL_WAIT_MS = 5_000;

const execInspectSchema = z.looseObject({ Running: z.boolean(), ExitCode: z.number().nullable() });

export interface StartedExec {
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
export const KILL_SCRIPT = [
  'f="$0"; i=0',
  'while [ ! -s "$f" ] && [ $i -lt 20 ]; do sleep 0.05; i=$((i+1)); done',
  '[ -s "$f" ] || exit 0',
  'read -r pid < "$f"',
  'kill -TERM -"$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null',
  'i=0; while kill -0 "$pid" 2>/dev/null && [ $i -lt 30 ]; do sleep 0.1; i=$((i+1)); done',
  // The group is killed even when its leader exited on TERM: no stragglers survive.
  'kill -KILL -"$pid" 2>/dev/null; kill -KILL "$pid" 2>/dev/null; rm -f "$f"; exit 0',
].join('\n');

export interface ExecRequest {
  argv: string[];
  env: Record<string, string>;
  cwd?: string | undefined;
  /** Run as this user instead of the container's (lifecycle commands run as remoteUser). */
  user?: string | undefined;
  attachStdin: boolean;
  /** Record the pid so kill() can find the process group (off for the killer itself). */
  wrap?: boolean;
  /** Variables to remove from the container's environment (remoteEnv entries set to null). */
  unset?: string[];
}

/** Starts `docker exec` with stdio hijacked. */
export async function startExec(container: Dockerode.Container, request: ExecRequest): Promise<StartedExec> {
  const { argv, env } = request;
  if (argv.length === 0) throw new SandboxError('Cannot run an empty command', 'exec-failed');
  const unset = request.unset ?? [];
  const badName = [...Object.keys(env), ...unset].find((k) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(k));
  if (badName !== undefined) throw new SandboxError(`Invalid environment variable name ${JSON.stringify(badName)}`, 'exec-failed');
  const pidFile = `/tmp/.warden-exec-${randomUUID()}.pid`;
  try {
    const exec = await container.exec({
      Cmd:
        request.wrap === false
          ? argv
          : ['/bin/sh', '-c', `${unset.length > 0 ? `unset ${unset.join(' ')}; ` : ''}${EXEC_WRAPPER}`, pidFile, ...argv],
      Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
      ...(request.cwd ? { WorkingDir: request.cwd } : {}),
      ...(request.user ? { User: request.user } : {}),
      AttachStdin: request.attachStdin,
      AttachStdout: true,
      AttachStderr: true,
      Tty: false,
    });
    const socket = await exec.start({ hijack: true, stdin: request.attachStdin, Detach: false, Tty: false });
    socket.on('error', () => undefined); // a dropped connection surfaces as the end of the stream
    return { exec, socket, pidFile };
  } catch (error) {
    throw new SandboxError(`Could not run ${argv[0]} in sandbox ${container.id.slice(0, 12)}: ${dockerMessage(error)}`, 'exec-failed');
  }
}

/** One exec: its exit status once the stream ends, and kill(). */
export class ExecHandle {
  readonly exited: Promise<ExitStatus>;
  private killed = false;

  constructor(
    private readonly started: StartedExec,
    private readonly killGroup: (pidFile: string) => Promise<void>,
    onEnd: () => void,
  ) {
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
    await this.killGroup(this.started.pidFile);
    await Promise.race([this.exited, new Promise((r) => setTimeout(r, KILL_WAIT_MS))]);
  }

  asAgent(stdin: Writable, stdout: Readable, stderr: Readable): AgentProcess {
    return { stdin, stdout, stderr, exited: this.exited, kill: () => this.kill() };
  }

  asCommand(output: () => { text: string; truncated: boolean }): RunningCommand {
    return { output, exited: this.exited, kill: () => this.kill() };
  }
}

async function settled<T>(promise: Promise<T>): Promise<boolean> {
  const pending = Symbol('pending');
  return (await Promise.race([promise, Promise.resolve(pending)])) !== pending;
}

function signalName(number: number): string | null {
  return Object.entries(os.constants.signals).find(([, n]) => n === number)?.[0] ?? null;
}

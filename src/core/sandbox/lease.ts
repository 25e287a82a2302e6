import { Writable, type Duplex } from 'node:stream';
import type Dockerode from 'dockerode';
import { demuxDockerStream } from './demux';
import { dockerMessage } from './dockerErrors';
import { StartupReportError, StartupReportReader, type ProbeResult } from './startupCheck';
import { SandboxError } from './types';

/**
 * The sandbox's lease: the supervisor attaches to the container's stdin (a hijacked attach on
 * the Docker API connection) before it starts the container, and holds that connection for the
 * session's life. PID 1 (KEEPALIVE_SCRIPT) reads stdin; the container is created with
 * OpenStdin and StdinOnce, so when this one client goes, whatever ended it (SIGKILL of Warden,
 * a crashed extension host, the OOM killer), the engine closes stdin, PID 1 sees EOF and
 * exits, and every process in the container dies with it. Measured on Docker 28 (local socket):
 * about 0.1-0.2 s from the kill to a stopped container.
 *
 * Why this and not a heartbeat: the lease lives on the very connection Warden already uses,
 * so it works wherever the engine is (a remote engine over TCP or SSH, Docker Desktop's VM)
 * with nothing on the host to check (no pid, no file) and nothing to tune; a heartbeat would
 * need a writable channel into the container and a timeout that trades a slow stop against
 * false alarms. A connection that dies without a FIN (the host lost power, the network broke)
 * is noticed by the engine's TCP keepalive, in minutes rather than seconds.
 *
 * Attaching before `start()` leaves no window where the container runs without its lease; a
 * kept container restarted for the next session gets a new lease the same way.
 *
 * The same attach also carries PID 1's stdout, on which it reports the startup check once, as
 * it starts (startupCheck.ts); after that PID 1's stdout is /dev/null and whatever still comes
 * is dropped.
 */
export interface SandboxLease {
  /** Settles when the lease connection closed (the container stopped, or the engine went away). */
  readonly closed: Promise<void>;
  /** False once the lease connection closed. */
  readonly held: boolean;
  /**
   * PID 1's startup check, read from its stdout (startupCheck.ts); asked once the container was
   * started. Rejects with a StartupReportError when none arrives within `timeoutMs`, the stream
   * ends first, or what arrives is not a report.
   */
  startupReport(timeoutMs: number): Promise<ProbeResult>;
  /** Lets go of the lease (the container, if still running, stops on its own at once). */
  release(): void;
}

export async function holdLease(container: Dockerode.Container): Promise<SandboxLease> {
  let socket: Duplex;
  try {
    socket = (await container.attach({ stream: true, stdin: true, stdout: true, stderr: false, hijack: true })) as Duplex;
  } catch (error) {
    throw new SandboxError(
      `Could not attach the lease to sandbox ${container.id.slice(0, 12)} (the engine must support attaching to stdin): ${dockerMessage(error)}`,
      'container-failed',
    );
  }
  socket.on('error', () => undefined); // a dropped connection is the end of the lease, reported by `closed`
  // Nothing is ever sent or expected: no idle timeout may end it, and TCP keepalive spots a dead peer.
  const net = socket as Duplex & { setTimeout?: (ms: number) => void; setKeepAlive?: (on: boolean, delay: number) => void };
  net.setTimeout?.(0);
  net.setKeepAlive?.(true, 30_000);
  const report = new StartupReportReader();
  demuxDockerStream(socket, report, new Writable({ write: (_chunk, _encoding, callback) => callback() }));
  let held = true;
  const closed = new Promise<void>((resolve) => {
    const end = (): void => {
      held = false;
      resolve();
    };
    socket.once('close', end);
    socket.once('end', end);
  });
  void closed.then(() => report.ended());
  return {
    closed,
    get held() {
      return held;
    },
    startupReport: (timeoutMs) => {
      const timer = setTimeout(
        () =>
          report.fail(new StartupReportError(`its first process did not report the startup check within ${timeoutMs / 1000} s`, 'timeout')),
        timeoutMs,
      );
      return report.result.finally(() => clearTimeout(timer));
    },
    release: () => socket.destroy(),
  };
}

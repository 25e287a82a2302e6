import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import Docker from 'dockerode';

const run = promisify(execFile);

/**
 * A simulated VM-backed engine (Docker Desktop, Colima, OrbStack, a Podman machine): a second
 * dockerd in its own mount namespace, with a private /tmp, a private home and a private
 * /run/containerd, that sees the host's files only where they are "shared": `shared` is
 * bind-mounted back at the same path, as Docker Desktop's file sharing does for /Users. It
 * has its own supervised containerd (so runc resolves bind mounts in that namespace), data
 * root (cached) and socket. Unix sockets under the shared tree are not passed through in
 * spirit either: Warden no longer mounts any.
 */
export interface VmEngine {
  socketPath: string;
  shared: string;
  docker: Docker;
  stop(): Promise<void>;
}

const CACHE = process.env.WARDEN_CACHE ?? path.join(os.homedir(), '.cache', 'warden-dev');
/** This repository: Warden's agents folder (dist/agents) lives in it. */
const PROJECT = path.resolve(__dirname, '..', '..');

function requireTool(file: string, hint: string): void {
  if (!existsSync(file)) throw new Error(`The simulated VM engine needs ${file}: ${hint}`);
}

/** `name` picks the cached data root: two engines running at once must not share one. */
export async function startVmEngine(shared: string, images: readonly string[], name = 'default'): Promise<VmEngine> {
  if (process.getuid?.() !== 0)
    throw new Error('The simulated VM engine starts dockerd in a mount namespace and needs root (CI runs as root)');
  requireTool('/usr/sbin/dockerd', 'run `bash scripts/bootstrap/docker.sh` (Debian docker.io)');
  requireTool('/usr/bin/unshare', 'install util-linux');
  const dataRoot = path.join(CACHE, 'dockerd-vm', name);
  await fs.mkdir(dataRoot, { recursive: true });
  await fs.mkdir(shared, { recursive: true });
  // One run folder per engine name: a previous run that exited without cleaning up is removed here.
  const runDir = `/run/warden-vm-${name}`;
  await fs.rm(runDir, { recursive: true, force: true });
  await fs.mkdir(runDir, { recursive: true });
  const stage = path.join(runDir, 'stage');
  const socketPath = path.join(runDir, 'docker.sock');
  const logFile = path.join(runDir, 'dockerd.log');
  const home = os.homedir();
  const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  const script = [
    'set -e',
    `mkdir -p ${q(stage)}/share ${q(stage)}/data ${q(stage)}/project`,
    `mount --bind ${q(shared)} ${q(stage)}/share`,
    `mount --bind ${q(dataRoot)} ${q(stage)}/data`,
    `mount --bind ${q(PROJECT)} ${q(stage)}/project`,
    // What a VM does not see: the host's /tmp, home and system containerd.
    'mount -t tmpfs -o mode=1777 tmpfs /tmp',
    'mount -t tmpfs -o mode=1777 tmpfs /var/tmp',
    `mount -t tmpfs -o mode=0755 tmpfs ${q(home)}`,
    '[ -d /run/containerd ] && mount -t tmpfs tmpfs /run/containerd || true',
    // What it sees again: the shared tree and (for itself) its data root, at the same paths.
    `mkdir -p ${q(shared)} ${q(dataRoot)} ${q(PROJECT)}`,
    `mount --bind ${q(stage)}/share ${q(shared)}`,
    `mount --bind ${q(stage)}/data ${q(dataRoot)}`,
    // The project folder (Warden's agents folder is its dist/agents) is shared as a developer shares theirs, wherever the clone is (/tmp included).
    `mount --bind ${q(stage)}/project ${q(PROJECT)}`,
    `exec dockerd --data-root=${q(dataRoot)} --exec-root=${q(path.join(runDir, 'exec'))} -H unix://${q(socketPath)} ` +
      `--pidfile=${q(path.join(runDir, 'dockerd.pid'))} --bridge=none --iptables=false --ip-masq=false`,
  ].join('\n');
  const out = await fs.open(logFile, 'w');
  const child: ChildProcess = spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script], {
    stdio: ['ignore', out.fd, out.fd],
  });
  await out.close();
  const docker = new Docker({ socketPath });
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    }
    await fs.rm(runDir, { recursive: true, force: true }).catch(() => undefined);
  };
  for (let waited = 0; ; waited += 250) {
    if (
      await docker.ping().then(
        () => true,
        () => false,
      )
    )
      break;
    if (child.exitCode !== null || waited > 60_000) {
      const log = await fs.readFile(logFile, 'utf8').catch(() => '(no log)');
      await stop();
      throw new Error(`The simulated VM engine (dockerd in a mount namespace) did not come up: ${log.slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  try {
    for (const image of images) await loadImage(docker, socketPath, image);
  } catch (error) {
    await stop();
    throw error;
  }
  return { socketPath, shared, docker, stop };
}

/** The image from the default engine, loaded once (the data root is cached) and again when its id changed. */
async function loadImage(vm: Docker, socketPath: string, image: string): Promise<void> {
  const id = (docker: Docker): Promise<string | undefined> =>
    docker
      .getImage(image)
      .inspect()
      .then(
        (info: { Id: string }) => info.Id,
        () => undefined,
      );
  const wanted = await id(new Docker());
  if (!wanted)
    throw new Error(`The simulated VM engine needs ${image} in the default engine first (scripts/bootstrap/images.sh or agents.sh)`);
  if ((await id(vm)) === wanted) return;
  await run('sh', ['-c', `docker save ${image} | docker -H unix://${socketPath} load`], { maxBuffer: 64 * 1024 * 1024 });
}

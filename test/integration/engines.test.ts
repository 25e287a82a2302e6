import { strict as assert } from 'node:assert';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import * as http from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { EgressSession } from '../../src/core/egress/session';
import { LABELS } from '../../src/core/sandbox/devcontainer';
import type { EngineInputs } from '../../src/core/sandbox/engine';
import { dockerProviderFor } from '../../src/core/sandbox/engineProvider';
import type { SandboxLease } from '../../src/core/sandbox/lease';
import { SandboxError, type Sandbox } from '../../src/core/sandbox/types';
import { copyDemoWorkspace } from '../support/workspace';
import { BASE_IMAGE, ensureSandboxPrerequisites, REPO_ROOT } from './prerequisites';

/**
 * Remote engines, all on this machine's loopback (the network rule of these tests): a second
 * dockerd that only speaks TLS on 127.0.0.1, the same engine reached as a Docker context,
 * sshd on 127.0.0.1 for ssh://, and Podman's Docker-compatible API on a unix socket.
 */

const run = promisify(execFile);
const CACHE = path.join(process.env.WARDEN_CACHE ?? path.join(os.homedir(), '.cache', 'warden-dev'));
const agentsHostPath = path.join(REPO_ROOT, 'dist', 'agents');

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function requireTool(file: string): void {
  if (!existsSync(file))
    throw new Error(
      `${file} is missing: run \`bash scripts/bootstrap/engines.sh\` (installs openssl, openssh-server and podman from Debian's packages)`,
    );
}

/** Polls until `ready` answers true, failing with the process log after `ms`. */
async function waitFor(what: string, ready: () => Promise<boolean>, logFile: string, ms = 60_000): Promise<void> {
  for (let waited = 0; waited < ms; waited += 250) {
    if (await ready().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${what} did not come up within ${ms / 1000}s: ${await fs.readFile(logFile, 'utf8').catch(() => '(no log)')}`);
}

async function stopProcess(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(timer);
}

/** The base image in another engine, loaded from the main one once (the engine's storage is cached). */
async function loadBaseImage(loader: string): Promise<void> {
  await run('sh', ['-c', `docker save ${BASE_IMAGE} | ${loader}`], { maxBuffer: 16 * 1024 * 1024 });
}

async function openssl(dir: string, args: string[]): Promise<void> {
  await run('openssl', args, { cwd: dir });
}

/** A CA, a server certificate for 127.0.0.1, a client certificate it signed, and a client certificate from another CA. */
async function makeCertificates(dir: string): Promise<{ server: string; client: string; intruder: string }> {
  const server = path.join(dir, 'server');
  const client = path.join(dir, 'client');
  const intruder = path.join(dir, 'intruder');
  for (const d of [server, client, intruder]) await fs.mkdir(d, { recursive: true });
  const days = ['-days', '2'];
  await openssl(dir, [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    ...days,
    '-subj',
    '/CN=warden test CA',
    '-keyout',
    'ca-key.pem',
    '-out',
    'ca.pem',
  ]);
  await fs.writeFile(path.join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  await fs.writeFile(path.join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  await openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', 'server/key.pem', '-out', 'server.csr']);
  await openssl(dir, [
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca-key.pem',
    '-CAcreateserial',
    ...days,
    '-extfile',
    'server.ext',
    '-out',
    'server/cert.pem',
  ]);
  await openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=warden', '-keyout', 'client/key.pem', '-out', 'client.csr']);
  await openssl(dir, [
    'x509',
    '-req',
    '-in',
    'client.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca-key.pem',
    '-CAcreateserial',
    ...days,
    '-extfile',
    'client.ext',
    '-out',
    'client/cert.pem',
  ]);
  await openssl(dir, [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    ...days,
    '-subj',
    '/CN=other CA',
    '-keyout',
    'other-ca-key.pem',
    '-out',
    'other-ca.pem',
  ]);
  await openssl(dir, [
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=intruder',
    '-keyout',
    'intruder/key.pem',
    '-out',
    'intruder.csr',
  ]);
  await openssl(dir, [
    'x509',
    '-req',
    '-in',
    'intruder.csr',
    '-CA',
    'other-ca.pem',
    '-CAkey',
    'other-ca-key.pem',
    '-CAcreateserial',
    ...days,
    '-extfile',
    'client.ext',
    '-out',
    'intruder/cert.pem',
  ]);
  for (const d of [client, intruder]) await fs.copyFile(path.join(dir, 'ca.pem'), path.join(d, 'ca.pem'));
  return { server, client, intruder };
}

/** Starts a sandbox on the engine `inputs` resolve to, checks it from inside, stops it; returns its container id. */
async function sandboxRoundTrip(
  inputs: EngineInputs,
  workspace: string,
  whileRunning?: (id: string) => Promise<void>,
): Promise<{ id: string; log: string[] }> {
  const log: string[] = [];
  const sandbox: Sandbox = await dockerProviderFor(inputs).start({
    workspaceMode: 'readonly',
    workspaceHostPath: workspace,
    agentsHostPath,
    sessionId: 'engine-test',
    onLog: (l) => log.push(l),
  });
  try {
    await whileRunning?.(sandbox.containerId);
    const probe = await sandbox.runCommand(
      ['/bin/sh', '-c', 'id -u; tail -n +3 /proc/net/dev | cut -d: -f1; touch "$0/x" 2>&1 || echo read-only', sandbox.workspaceFolder],
      { cwd: '/' },
    );
    assert.equal((await probe.exited).exitCode, 0);
    const lines = probe
      .output()
      .text.split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
    assert.equal(lines[0], '1000', probe.output().text);
    assert.equal(lines[1], 'lo', `only a loopback interface: ${probe.output().text}`);
    assert.equal(lines.at(-1), 'read-only');
    const agent = await sandbox.execAgent(['cat']);
    let echoed = '';
    agent.stdout.on('data', (chunk: Buffer) => (echoed += chunk.toString()));
    agent.stdin.end('through the engine\n');
    await agent.exited;
    assert.equal(echoed, 'through the engine\n', 'exec streams (stdin and stdout) work over this transport');
    return { id: sandbox.containerId, log };
  } finally {
    await sandbox.stop();
  }
}

/**
 * The lease over this transport (issue 24): the supervisor's connection goes (here it lets go
 * of the lease; a killed process closes it the same way), and the sandbox stops by itself,
 * PID 1 exiting with the lease-lost code. Returns how long that took.
 */
async function leaseRoundTrip(inputs: EngineInputs, workspace: string): Promise<number> {
  const provider = dockerProviderFor(inputs);
  const sandbox = await provider.start({
    workspaceMode: 'readonly',
    workspaceHostPath: workspace,
    agentsHostPath,
    sessionId: 'engine-lease-test',
  });
  try {
    const t0 = Date.now();
    (sandbox as unknown as { lease: SandboxLease }).lease.release();
    for (;;) {
      const fate = await provider.inspectSandbox(sandbox.containerId);
      if (fate && fate.status !== 'running') {
        assert.equal(fate.leaseLost, true, JSON.stringify(fate));
        return Date.now() - t0;
      }
      if (Date.now() - t0 > 10_000) assert.fail('the sandbox still runs 10 s after its lease was let go');
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await sandbox.stop();
  }
}

/**
 * Egress on this engine (issue 23): the bridge in the sandbox reaches Warden's proxy over its
 * own exec stream, so nothing is mounted and the engine may be anywhere. An approved command
 * reaches an allowed host-loopback server by CONNECT and plain HTTP, a direct connect fails
 * (127.0.0.1 is the container's own), and both requests are audited with the proposal id.
 */
async function egressRoundTrip(inputs: EngineInputs, workspace: string, proposalId: string): Promise<void> {
  const upstream = http.createServer((_req, res) => res.end(`hello through ${proposalId}`));
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const upstreamPort = (upstream.address() as AddressInfo).port;
  const events: Array<{ type: string; data: Record<string, unknown> }> = [];
  const egress = await EgressSession.open({
    allow: [{ host: '127.0.0.1', ports: [upstreamPort] }],
    record: async (event) => void events.push(event),
  });
  assert.ok(egress);
  const probeFile = `egress-probe-${proposalId}.mjs`;
  await fs.copyFile(path.join(REPO_ROOT, 'test/fixtures/agents/egress-probe.mjs'), path.join(workspace, probeFile));
  let sandbox: Sandbox | undefined;
  try {
    sandbox = await dockerProviderFor(inputs).start({
      workspaceMode: 'readonly',
      workspaceHostPath: workspace,
      agentsHostPath,
      sessionId: 'engine-test',
    });
    await egress.attach(sandbox);
    const probe = await sandbox.runCommand(
      ['node', `${sandbox.workspaceFolder}/${probeFile}`, 'command', `http://127.0.0.1:${upstreamPort}/`],
      {
        cwd: '/',
        env: egress.envFor({ kind: 'command', proposalId }),
      },
    );
    await probe.exited;
    const lines = probe
      .output()
      .text.split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { via: string; status: number | string; body?: string });
    assert.deepEqual(
      lines.map((l) => [l.via, l.status]),
      [
        ['connect', 200],
        ['plain', 200],
        ['direct', 0],
      ],
      probe.output().text,
    );
    assert.equal(lines[1]?.body, `hello through ${proposalId}`);
  } finally {
    await sandbox?.stop();
    await egress.close();
    upstream.close();
    await fs.rm(path.join(workspace, probeFile), { force: true });
  }
  const requests = events.filter((e) => e.type === 'network.request');
  assert.deepEqual(
    requests.map((e) => [e.data.method, e.data.allowed, e.data.proposalId]),
    [
      ['CONNECT', true, proposalId],
      ['GET', true, proposalId],
    ],
  );
}

async function startError(inputs: EngineInputs, workspace: string): Promise<SandboxError> {
  try {
    const sandbox = await dockerProviderFor(inputs).start({
      workspaceMode: 'readonly',
      workspaceHostPath: workspace,
      agentsHostPath,
      sessionId: 'engine-test',
    });
    await sandbox.stop();
  } catch (error) {
    assert.ok(error instanceof SandboxError, String(error));
    return error;
  }
  return assert.fail('the sandbox started, but it should not have');
}

describe('remote engines (all on loopback): TLS, Docker contexts, ssh://, Podman', function () {
  this.timeout(300_000);
  let workspace: string;
  let temp: string;

  before(async function () {
    this.timeout(600_000);
    await ensureSandboxPrerequisites();
    if (process.getuid?.() !== 0) throw new Error('the engine tests start dockerd, sshd and podman and need root (CI runs as root)');
    for (const tool of ['/usr/bin/openssl', '/usr/sbin/sshd', '/usr/bin/podman', '/usr/sbin/dockerd']) requireTool(tool);
    temp = await fs.mkdtemp(path.join(os.tmpdir(), 'warden-engines-'));
    workspace = await copyDemoWorkspace('warden-engines-ws-');
  });

  after(async () => {
    await fs.rm(workspace, { recursive: true, force: true });
    await fs.rm(temp, { recursive: true, force: true });
  });

  describe('a second dockerd that only speaks TLS on 127.0.0.1', () => {
    let dockerd: ChildProcess | undefined;
    let port: number;
    let certs: Awaited<ReturnType<typeof makeCertificates>>;
    let unixSocket: string;

    before(async function () {
      this.timeout(300_000);
      certs = await makeCertificates(path.join(temp, 'tls'));
      port = await freePort();
      // The data root is cached (the base image is loaded once); exec root, pid file and socket are per run.
      const dataRoot = path.join(CACHE, 'dockerd-tls', 'data');
      const execRoot = path.join(temp, 'exec');
      await fs.mkdir(dataRoot, { recursive: true });
      unixSocket = path.join(temp, 'docker.sock');
      const logFile = path.join(temp, 'dockerd.log');
      const out = await fs.open(logFile, 'w');
      dockerd = spawn(
        'dockerd',
        [
          '--tlsverify',
          `--tlscacert=${path.join(temp, 'tls', 'ca.pem')}`,
          `--tlscert=${path.join(certs.server, 'cert.pem')}`,
          `--tlskey=${path.join(certs.server, 'key.pem')}`,
          '-H',
          `tcp://127.0.0.1:${port}`,
          '-H',
          `unix://${unixSocket}`,
          `--data-root=${dataRoot}`,
          `--exec-root=${execRoot}`,
          `--pidfile=${path.join(temp, 'dockerd.pid')}`,
          '--bridge=none',
          '--iptables=false',
          '--ip-masq=false',
        ],
        { stdio: ['ignore', out.fd, out.fd] },
      );
      await out.close();
      await waitFor('the TLS dockerd', () => new Docker({ socketPath: unixSocket }).ping().then(() => true), logFile);
      const local = new Docker({ socketPath: unixSocket });
      if (
        !(await local
          .getImage(BASE_IMAGE)
          .inspect()
          .then(
            () => true,
            () => false,
          ))
      )
        await loadBaseImage(`docker -H unix://${unixSocket} load`);
    });

    after(async () => {
      await stopProcess(dockerd);
    });

    const tlsEnv = (certDir: string): NodeJS.ProcessEnv => ({
      DOCKER_HOST: `tcp://127.0.0.1:${port}`,
      DOCKER_TLS_VERIFY: '1',
      DOCKER_CERT_PATH: certDir,
    });

    it('starts a sandbox over TLS (DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH), on that engine and not the default one', async () => {
      const { id, log } = await sandboxRoundTrip({ env: tlsEnv(certs.client) }, workspace, async (running) => {
        assert.equal(
          (await new Docker({ socketPath: unixSocket }).listContainers({ filters: { id: [running] } })).length,
          1,
          'it runs on the TLS engine',
        );
        assert.equal((await new Docker().listContainers({ all: true, filters: { id: [running] } })).length, 0, 'not on the default engine');
      });
      assert.ok(
        log.some((l) => l.includes(`engine tcp://127.0.0.1:${port} (TLS`) && l.includes('(from DOCKER_HOST)')),
        log.join('\n'),
      );
      assert.equal(
        (await new Docker({ socketPath: unixSocket }).listContainers({ all: true, filters: { id: [id] } })).length,
        0,
        'removed on stop',
      );
    });

    it('the lease holds over TLS: the sandbox stops by itself when the connection that holds it goes', async () => {
      const ms = await leaseRoundTrip({ env: tlsEnv(certs.client) }, workspace);
      console.log(`      TLS engine: stopped ${ms} ms after the lease went`);
      assert.ok(ms < 3_000, `${ms} ms`);
    });

    it('egress works over TLS (the lifted remote-engine refusal): the bridge rides its exec stream, requests are audited', async () => {
      await egressRoundTrip({ env: tlsEnv(certs.client) }, workspace, 'p-tls');
    });

    it('a client certificate from another CA gets a clear error, and nothing starts', async () => {
      const error = await startError({ env: tlsEnv(certs.intruder) }, workspace);
      assert.equal(error.code, 'engine-unreachable');
      assert.match(
        error.message,
        new RegExp(
          `Cannot reach the Docker engine at tcp://127\\.0\\.0\\.1:${port} \\(TLS, certificates from .*intruder\\) \\(from DOCKER_HOST\\)`,
        ),
      );
      assert.match(
        error.message,
        /The engine refused Warden's client certificate \(cert\.pem and key\.pem\): it is not signed by a CA the engine trusts/,
      );
    });

    it('a server certificate the CA did not sign is refused (the client verifies the engine)', async () => {
      const wrongCa = path.join(temp, 'wrong-ca');
      await fs.mkdir(wrongCa, { recursive: true });
      await fs.copyFile(path.join(temp, 'tls', 'other-ca.pem'), path.join(wrongCa, 'ca.pem'));
      for (const f of ['cert.pem', 'key.pem']) await fs.copyFile(path.join(certs.client, f), path.join(wrongCa, f));
      const error = await startError({ env: tlsEnv(wrongCa) }, workspace);
      assert.match(error.message, /The engine's certificate could not be verified with ca\.pem/);
    });

    it('a Docker context (DOCKER_CONFIG with meta.json and its TLS folder) reaches the same engine; orphans there are cleaned up', async () => {
      const config = path.join(temp, 'docker-config');
      const digest = createHash('sha256').update('warden-tls').digest('hex');
      await fs.mkdir(path.join(config, 'contexts', 'meta', digest), { recursive: true });
      await fs.writeFile(
        path.join(config, 'contexts', 'meta', digest, 'meta.json'),
        JSON.stringify({
          Name: 'warden-tls',
          Metadata: {},
          Endpoints: { docker: { Host: `tcp://127.0.0.1:${port}`, SkipTLSVerify: false } },
        }),
      );
      await fs.cp(certs.client, path.join(config, 'contexts', 'tls', digest, 'docker'), { recursive: true });
      await fs.writeFile(path.join(config, 'config.json'), JSON.stringify({ currentContext: 'warden-tls' }));
      // A sandbox of a crashed Warden on this engine: its owner process is gone.
      const engine = new Docker({ socketPath: unixSocket });
      const orphan = await engine.createContainer({
        Image: BASE_IMAGE,
        Cmd: ['sleep', '600'],
        Labels: { [LABELS.managed]: 'true', [LABELS.owner]: `${os.hostname()}:999999999` },
        HostConfig: { NetworkMode: 'none' },
      });
      await orphan.start(); // only running sandboxes of dead owners are orphans (stopped ones are kept for reuse)
      const { log } = await sandboxRoundTrip({ env: { DOCKER_CONFIG: config } }, workspace);
      assert.ok(
        log.some((l) => l.includes('(from Docker context "warden-tls" (currentContext in')),
        log.join('\n'),
      );
      assert.ok(
        log.some((l) => l.includes(`removed the sandbox ${orphan.id.slice(0, 12)} of a crashed session`)),
        log.join('\n'),
      );
      assert.equal((await engine.listContainers({ all: true, filters: { id: [orphan.id] } })).length, 0);
    });
  });

  describe('ssh:// to sshd on 127.0.0.1 (docker system dial-stdio on the other side)', () => {
    let sshd: ChildProcess | undefined;
    let port: number;
    let home: string;

    before(async function () {
      this.timeout(120_000);
      const dir = path.join(temp, 'ssh');
      home = path.join(temp, 'ssh-home');
      await fs.mkdir(path.join(home, '.ssh'), { recursive: true });
      await fs.mkdir(dir, { recursive: true });
      await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'host_key')]);
      await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(home, '.ssh', 'id_ed25519')]);
      await fs.copyFile(path.join(home, '.ssh', 'id_ed25519.pub'), path.join(dir, 'authorized_keys'));
      port = await freePort();
      await fs.writeFile(
        path.join(dir, 'sshd_config'),
        [
          `Port ${port}`,
          'ListenAddress 127.0.0.1',
          `HostKey ${path.join(dir, 'host_key')}`,
          `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
          `PidFile ${path.join(dir, 'sshd.pid')}`,
          'StrictModes no',
          'UsePAM no',
          'PasswordAuthentication no',
          'KbdInteractiveAuthentication no',
          'PermitRootLogin prohibit-password',
          'AllowTcpForwarding no',
          'X11Forwarding no',
          'AllowAgentForwarding no',
          '',
        ].join('\n'),
      );
      await fs.mkdir('/run/sshd', { recursive: true }); // sshd's privilege separation directory
      const logFile = path.join(dir, 'sshd.log');
      const out = await fs.open(logFile, 'w');
      sshd = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', path.join(dir, 'sshd_config')], { stdio: ['ignore', out.fd, out.fd] });
      await out.close();
      await waitFor('sshd', async () => (await fs.readFile(logFile, 'utf8')).includes('Server listening'), logFile);
    });

    after(async () => {
      await stopProcess(sshd);
    });

    const knownHosts = async (): Promise<void> => {
      const [type, key] = (await fs.readFile(path.join(temp, 'ssh', 'host_key.pub'), 'utf8')).trim().split(/\s+/);
      await fs.writeFile(path.join(home, '.ssh', 'known_hosts'), `[127.0.0.1]:${port} ${type} ${key}\n`);
    };

    it('an unknown host key is refused before anything is sent, with what to do', async () => {
      await fs.writeFile(path.join(home, '.ssh', 'known_hosts'), '');
      const error = await startError({ setting: `ssh://root@127.0.0.1:${port}`, homeDir: home, env: {} }, workspace);
      assert.equal(error.code, 'engine-unreachable');
      assert.match(error.message, new RegExp(`ssh://root@127\\.0\\.0\\.1:${port}`));
      assert.match(error.message, /host key is not in ~\/\.ssh\/known_hosts/);
    });

    it('starts a sandbox over ssh:// with a key and a known host key (the engine counts as remote)', async () => {
      await knownHosts();
      const { log } = await sandboxRoundTrip({ setting: `ssh://root@127.0.0.1:${port}`, homeDir: home, env: {} }, workspace);
      assert.ok(
        log.some((l) => l.includes(`engine ssh://root@127.0.0.1:${port}`) && l.includes('warden.sandbox.dockerHost')),
        log.join('\n'),
      );
    });

    it('the lease holds over ssh:// (docker system dial-stdio): the sandbox stops by itself when the connection goes', async () => {
      await knownHosts();
      const ms = await leaseRoundTrip({ setting: `ssh://root@127.0.0.1:${port}`, homeDir: home, env: {} }, workspace);
      console.log(`      ssh:// engine: stopped ${ms} ms after the lease went`);
      // Measured through inspect calls that each open their own SSH connection (seconds apiece).
      assert.ok(ms < 10_000, `${ms} ms`);
    });

    it('egress works on a remote engine: no socket to mount, the bridge rides its exec stream over ssh://', async () => {
      await knownHosts();
      await egressRoundTrip({ setting: `ssh://root@127.0.0.1:${port}`, homeDir: home, env: {} }, workspace, 'p-ssh');
    });
  });

  describe("Podman's Docker-compatible API (podman system service on a unix socket)", () => {
    let service: ChildProcess | undefined;
    let socket: string;

    before(async function () {
      this.timeout(300_000);
      socket = path.join(temp, 'podman.sock');
      const logFile = path.join(temp, 'podman.log');
      const out = await fs.open(logFile, 'w');
      service = spawn('podman', ['system', 'service', '--time=0', `unix://${socket}`], { stdio: ['ignore', out.fd, out.fd] });
      await out.close();
      await waitFor('podman system service', () => new Docker({ socketPath: socket }).ping().then(() => true), logFile);
      if (
        !(await run('podman', ['image', 'exists', BASE_IMAGE]).then(
          () => true,
          () => false,
        ))
      )
        await loadBaseImage('podman load');
    });

    after(async () => {
      await stopProcess(service);
    });

    it('starts a hardened sandbox through it (uid 1000, only lo, read-only workspace, exec streams)', async () => {
      const { log } = await sandboxRoundTrip({ setting: `unix://${socket}` }, workspace);
      assert.ok(
        log.some((l) => l.startsWith(`engine unix://${socket}`)),
        log.join('\n'),
      );
    });

    it('the lease holds through Podman: the sandbox stops by itself when the connection goes', async () => {
      const ms = await leaseRoundTrip({ setting: `unix://${socket}` }, workspace);
      console.log(`      Podman: stopped ${ms} ms after the lease went`);
      assert.ok(ms < 3_000, `${ms} ms`);
    });

    it('egress works there too: the bridge talks to the proxy over its exec stream, the network stays none, requests are audited with the command', async () => {
      await egressRoundTrip({ setting: `unix://${socket}` }, workspace, 'p-podman');
    });
  });
});

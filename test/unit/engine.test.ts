import { strict as assert } from 'node:assert';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type Dockerode from 'dockerode';
import {
  adaptSpecForEngine,
  defaultSocketCandidates,
  EngineConfigError,
  engineErrorHint,
  flavorFromPing,
  knownHostMatches,
  namedPipePath,
  resolveEngine,
} from '../../src/core/sandbox/engine';

describe('engine resolution (setting, DOCKER_HOST, Docker contexts, default socket)', () => {
  let home: string;
  let dockerConfig: string;

  beforeEach(async () => {
    home = await fs.mkdtemp(path.join(os.tmpdir(), 'warden-engine-home-'));
    dockerConfig = path.join(home, 'docker-config');
    await fs.mkdir(dockerConfig);
  });
  afterEach(() => fs.rm(home, { recursive: true, force: true }));

  const certs = async (dir: string): Promise<void> => {
    await fs.mkdir(dir, { recursive: true });
    for (const f of ['ca.pem', 'cert.pem', 'key.pem']) await fs.writeFile(path.join(dir, f), `${f}\n`);
  };
  const context = async (name: string, meta: unknown, tls = false): Promise<string> => {
    const digest = createHash('sha256').update(name).digest('hex');
    await fs.mkdir(path.join(dockerConfig, 'contexts', 'meta', digest), { recursive: true });
    await fs.writeFile(path.join(dockerConfig, 'contexts', 'meta', digest, 'meta.json'), JSON.stringify(meta));
    if (tls) await certs(path.join(dockerConfig, 'contexts', 'tls', digest, 'docker'));
    return digest;
  };
  const resolve = (env: NodeJS.ProcessEnv, setting?: string) =>
    resolveEngine({ env: { DOCKER_CONFIG: dockerConfig, ...env }, homeDir: home, ...(setting ? { setting } : {}) });
  const error = (fn: () => unknown): string => {
    try {
      fn();
    } catch (e) {
      assert.ok(e instanceof EngineConfigError, String(e));
      return e.message;
    }
    return assert.fail('expected an EngineConfigError');
  };

  it("defaults to the local socket, Docker Desktop's per-user socket first", async () => {
    const engine = resolve({});
    assert.deepEqual(engine.options, { socketPath: '/var/run/docker.sock' });
    assert.equal(engine.local, true);
    assert.equal(engine.source, 'the default local socket');
    await fs.mkdir(path.join(home, '.docker', 'run'), { recursive: true });
    await fs.writeFile(path.join(home, '.docker', 'run', 'docker.sock'), '');
    assert.deepEqual(resolve({}).options, { socketPath: path.join(home, '.docker', 'run', 'docker.sock') });
  });

  it('DOCKER_HOST unix:// and tcp:// with TLS (DOCKER_TLS_VERIFY, DOCKER_CERT_PATH)', async () => {
    assert.deepEqual(resolve({ DOCKER_HOST: 'unix:///run/podman/podman.sock' }).options, { socketPath: '/run/podman/podman.sock' });
    await certs(path.join(home, 'certs'));
    const tls = resolve({
      DOCKER_HOST: 'tcp://engine.example.test:2376',
      DOCKER_TLS_VERIFY: '1',
      DOCKER_CERT_PATH: path.join(home, 'certs'),
    });
    assert.equal(tls.options.protocol, 'https');
    assert.equal(tls.options.host, 'engine.example.test');
    assert.equal(tls.options.port, 2376);
    assert.equal(String(tls.options.ca as Buffer | string), 'ca.pem\n');
    assert.equal(String(tls.options.key as Buffer | string), 'key.pem\n');
    assert.equal(tls.local, false);
    assert.equal(tls.source, 'DOCKER_HOST');
    // The default certificate folder is ~/.docker, as for the docker CLI.
    await certs(path.join(home, '.docker'));
    assert.equal(resolve({ DOCKER_HOST: 'tcp://127.0.0.1:2376', DOCKER_TLS_VERIFY: 'yes' }).local, true);
  });

  it('refuses plain TCP to another machine, allows it on loopback', () => {
    assert.match(
      error(() => resolve({ DOCKER_HOST: 'tcp://10.0.0.5:2375' })),
      /tcp:\/\/10\.0\.0\.5:2375 would be reached without TLS; set DOCKER_TLS_VERIFY=1 .* \(from DOCKER_HOST\)$/,
    );
    const loop = resolve({ DOCKER_HOST: 'tcp://127.0.0.1:2375' });
    assert.deepEqual(loop.options, { protocol: 'http', host: '127.0.0.1', port: 2375 });
  });

  it('names the missing TLS file and where its folder came from', () => {
    const message = error(() =>
      resolve({ DOCKER_HOST: 'tcp://h.test:2376', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: path.join(home, 'nope') }),
    );
    assert.match(
      message,
      /TLS to tcp:\/\/h\.test:2376 needs .*nope\/ca\.pem, which cannot be read \(ENOENT\); its folder comes from DOCKER_CERT_PATH \(from DOCKER_HOST\)/,
    );
  });

  it('rejects malformed URLs and unsupported schemes, naming the source', () => {
    assert.match(
      error(() => resolve({ DOCKER_HOST: 'http+unix://%2Fvar%2Frun%2Fdocker.sock' })),
      /uses http\+unix:\/\/, which Warden does not support.*\(from DOCKER_HOST\)/,
    );
    assert.deepEqual(resolve({ DOCKER_HOST: 'npipe:////./pipe/docker_engine' }).options, { socketPath: '//./pipe/docker_engine' });
    assert.match(
      error(() => resolve({}, 'tcp://h.test:99999')),
      /not a URL|not a port/,
    );
    assert.match(
      error(() =>
        resolveEngine({
          setting: 'ssh://u:pw@h.test',
          settingOrigin: '--docker-host',
          homeDir: home,
          env: { SSH_AUTH_SOCK: '/tmp/agent' },
        }),
      ),
      /must not carry a password; .*\(from --docker-host\)$/,
    );
  });

  it('named pipes (Windows engines): DOCKER_HOST, every spelling of the URL, and a Docker context whose endpoint is a pipe', async () => {
    for (const url of [
      'npipe:////./pipe/docker_engine',
      'npipe:///./pipe/docker_engine',
      'npipe://./pipe/docker_engine',
      'npipe:\\\\.\\pipe\\docker_engine',
      'npipe://',
    ]) {
      const engine = resolve({ DOCKER_HOST: url });
      assert.deepEqual(engine.options, { socketPath: '//./pipe/docker_engine' }, url);
      assert.equal(engine.local, true, url);
      assert.equal(engine.description, 'npipe:////./pipe/docker_engine', url);
    }
    assert.equal(namedPipePath('npipe:////./pipe/dockerDesktopLinuxEngine'), '//./pipe/dockerDesktopLinuxEngine');
    assert.equal(namedPipePath('npipe:////server/pipe/docker_engine'), undefined, 'a pipe on another machine');
    assert.equal(namedPipePath('npipe:////./pipe/../x'), undefined);
    assert.match(
      error(() => resolve({ DOCKER_HOST: 'npipe:////build-server/pipe/docker_engine' })),
      /is not a local named pipe; write npipe:\/\/\/\/\.\/pipe\/docker_engine .*\(from DOCKER_HOST\)$/,
    );
    // Docker Desktop on Windows makes these contexts.
    await context('desktop-linux', {
      Name: 'desktop-linux',
      Metadata: { Description: 'Docker Desktop' },
      Endpoints: { docker: { Host: 'npipe:////./pipe/dockerDesktopLinuxEngine', SkipTLSVerify: false } },
    });
    const desktop = resolve({ DOCKER_CONTEXT: 'desktop-linux' });
    assert.deepEqual(desktop.options, { socketPath: '//./pipe/dockerDesktopLinuxEngine' });
    assert.equal(desktop.local, true);
    assert.match(desktop.source, /Docker context "desktop-linux" \(DOCKER_CONTEXT\)/);
    await fs.writeFile(path.join(dockerConfig, 'config.json'), JSON.stringify({ currentContext: 'desktop-linux' }));
    assert.deepEqual(resolve({}).options, { socketPath: '//./pipe/dockerDesktopLinuxEngine' });
    // With nothing configured on Windows: Docker Desktop's default pipe.
    await fs.rm(path.join(dockerConfig, 'config.json'));
    assert.deepEqual(resolveEngine({ env: { DOCKER_CONFIG: dockerConfig }, homeDir: home, platform: 'win32' }).options, {
      socketPath: '//./pipe/docker_engine',
    });
  });

  it('with nothing configured on macOS, the socket of whichever VM-backed engine runs is found (Docker Desktop, OrbStack, Colima, Rancher Desktop, Podman machine)', () => {
    const home = '/Users/me';
    const mac = (present: string[], env: NodeJS.ProcessEnv = {}) =>
      resolveEngine({
        env: { DOCKER_CONFIG: dockerConfig, ...env },
        homeDir: home,
        platform: 'darwin',
        exists: (f) => present.includes(f),
      });
    const cases: Array<[string, string]> = [
      ['/Users/me/.docker/run/docker.sock', "Docker Desktop's per-user socket"],
      ['/Users/me/.orbstack/run/docker.sock', 'OrbStack'],
      ['/Users/me/.colima/default/docker.sock', 'Colima'],
      ['/Users/me/.colima/docker.sock', 'Colima (before 0.4)'],
      ['/Users/me/.rd/docker.sock', 'Rancher Desktop'],
      ['/Users/me/.local/share/containers/podman/machine/podman.sock', 'a Podman machine'],
      ['/Users/me/.local/share/containers/podman/machine/qemu/podman.sock', 'a Podman machine (QEMU)'],
    ];
    for (const [socketPath, engine] of cases) {
      const found = mac([socketPath]);
      assert.deepEqual(found.options, { socketPath }, engine);
      assert.equal(found.description, `${socketPath} (${engine})`);
      assert.equal(found.local, true);
    }
    assert.deepEqual(mac(['/var/folders/xy/T/podman/podman-machine-default-api.sock'], { TMPDIR: '/var/folders/xy/T' }).options, {
      socketPath: '/var/folders/xy/T/podman/podman-machine-default-api.sock',
    });
    assert.deepEqual(mac(['/opt/colima/default/docker.sock'], { COLIMA_HOME: '/opt/colima' }).options, {
      socketPath: '/opt/colima/default/docker.sock',
    });
    // The system socket (which these engines can link) comes before their own; nothing found: the system socket, for the error.
    assert.deepEqual(mac(['/var/run/docker.sock', '/Users/me/.orbstack/run/docker.sock']).options, { socketPath: '/var/run/docker.sock' });
    assert.deepEqual(mac(['/Users/me/.docker/run/docker.sock', '/Users/me/.colima/default/docker.sock']).options, {
      socketPath: '/Users/me/.docker/run/docker.sock',
    });
    assert.deepEqual(mac([]).options, { socketPath: '/var/run/docker.sock' });
    // Linux: rootless engines under XDG_RUNTIME_DIR, after the system socket; never the macOS locations.
    const linux = defaultSocketCandidates('/home/me', 'linux', { XDG_RUNTIME_DIR: '/run/user/1000' }).map((c) => c.socketPath);
    assert.deepEqual(linux, [
      '/home/me/.docker/run/docker.sock',
      '/var/run/docker.sock',
      '/run/user/1000/docker.sock',
      '/run/user/1000/podman/podman.sock',
    ]);
  });

  it('the setting wins over DOCKER_HOST; DOCKER_HOST wins over the context', async () => {
    await context('remote', { Name: 'remote', Metadata: {}, Endpoints: { docker: { Host: 'unix:///ctx.sock', SkipTLSVerify: false } } });
    await fs.writeFile(path.join(dockerConfig, 'config.json'), JSON.stringify({ currentContext: 'remote' }));
    assert.equal(resolve({ DOCKER_HOST: 'unix:///env.sock' }, 'unix:///setting.sock').options.socketPath, '/setting.sock');
    assert.equal(resolve({ DOCKER_HOST: 'unix:///env.sock' }).options.socketPath, '/env.sock');
    const fromContext = resolve({});
    assert.equal(fromContext.options.socketPath, '/ctx.sock');
    assert.match(fromContext.source, /^Docker context "remote" \(currentContext in .*config\.json\)$/);
  });

  it('contexts: DOCKER_CONTEXT, TLS material from contexts/tls/<sha256>/docker, a context named by the setting', async () => {
    await context(
      'tls-ctx',
      { Name: 'tls-ctx', Metadata: {}, Endpoints: { docker: { Host: 'tcp://engine.example.test:2376', SkipTLSVerify: false } } },
      true,
    );
    const engine = resolve({ DOCKER_CONTEXT: 'tls-ctx' });
    assert.equal(engine.options.protocol, 'https');
    assert.equal(String(engine.options.cert), 'cert.pem\n');
    assert.match(engine.source, /Docker context "tls-ctx" \(DOCKER_CONTEXT\)/);
    assert.equal(resolve({}, 'tls-ctx').options.host, 'engine.example.test');
    assert.equal(resolve({ DOCKER_CONTEXT: 'default' }).options.socketPath, '/var/run/docker.sock');
  });

  it('context errors: unknown name, invalid meta.json, SkipTLSVerify, invalid config.json', async () => {
    assert.match(
      error(() => resolve({ DOCKER_CONTEXT: 'ghost' })),
      /there is no Docker context named "ghost" \(no .*meta\.json\); list them with `docker context ls` \(from Docker context "ghost" \(DOCKER_CONTEXT\)\)/,
    );
    await context('broken', { Name: 'broken', Endpoints: {} });
    assert.match(
      error(() => resolve({ DOCKER_CONTEXT: 'broken' })),
      /meta\.json is not a valid Docker context: .*Endpoints\.docker/s,
    );
    await context('insecure', { Name: 'insecure', Endpoints: { docker: { Host: 'tcp://h.test:2376', SkipTLSVerify: true } } });
    assert.match(
      error(() => resolve({ DOCKER_CONTEXT: 'insecure' })),
      /sets SkipTLSVerify; Warden never talks to an engine it cannot verify/,
    );
    await fs.writeFile(path.join(dockerConfig, 'config.json'), '{ not json');
    assert.match(
      error(() => resolve({})),
      /config\.json is not JSON/,
    );
    await fs.writeFile(path.join(dockerConfig, 'config.json'), JSON.stringify({ currentContext: 42 }));
    assert.match(
      error(() => resolve({})),
      /is not a valid Docker config: .*currentContext/s,
    );
  });

  it('ssh://: user, port, agent or default key, never a password; the engine is remote', async () => {
    const viaAgent = resolve({ SSH_AUTH_SOCK: '/tmp/agent.sock', DOCKER_HOST: 'ssh://builder@engine.example.test:2222' });
    assert.equal(viaAgent.options.protocol, 'ssh');
    assert.equal(viaAgent.options.username, 'builder');
    assert.equal(viaAgent.options.port, 2222);
    assert.equal(viaAgent.local, false);
    assert.match(
      error(() => resolve({ DOCKER_HOST: 'ssh://u@h.test' })),
      /needs an SSH agent \(SSH_AUTH_SOCK\) or a key in .*\.ssh/,
    );
    await fs.mkdir(path.join(home, '.ssh'));
    await fs.writeFile(path.join(home, '.ssh', 'id_ed25519'), 'KEY');
    const viaKey = resolve({ DOCKER_HOST: 'ssh://u@h.test' });
    const sshOptions = (viaKey.options as Dockerode.DockerOptions & { sshOptions: { privateKey: Buffer } }).sshOptions;
    assert.equal(String(sshOptions.privateKey), 'KEY');
  });

  it('known_hosts: plain and hashed names, non-default ports in brackets, the key must match', async () => {
    const key = randomBytes(32);
    const other = randomBytes(32);
    const salt = randomBytes(20);
    const hashed = `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update('[127.0.0.1]:2222').digest('base64')}`;
    const file = path.join(home, 'known_hosts');
    await fs.writeFile(
      file,
      `# comment\nplain.test,alias.test ssh-ed25519 ${key.toString('base64')}\n${hashed} ssh-ed25519 ${key.toString('base64')}\n`,
    );
    assert.equal(knownHostMatches(file, 'alias.test', 22, key), true);
    assert.equal(knownHostMatches(file, 'plain.test', 22, other), false);
    assert.equal(knownHostMatches(file, 'plain.test', 2222, key), false);
    assert.equal(knownHostMatches(file, '127.0.0.1', 2222, key), true);
    assert.equal(knownHostMatches(file, '127.0.0.1', 22, key), false);
    assert.equal(knownHostMatches(path.join(home, 'missing'), 'plain.test', 22, key), false);
  });

  it('error hints for TLS and SSH failures', () => {
    assert.match(
      engineErrorHint('ssl3_read_bytes:sslv3 alert bad certificate:...SSL alert number 42'),
      /refused Warden's client certificate/,
    );
    assert.match(engineErrorHint('self-signed certificate in certificate chain'), /could not be verified with ca\.pem/);
    assert.match(engineErrorHint('All configured authentication methods failed'), /refused the key/);
    assert.equal(engineErrorHint('connect ECONNREFUSED'), '');
  });

  it('podman: tmpfs ownership through U, explicit nofile/nproc limits; docker specs unchanged', () => {
    const spec: Dockerode.ContainerCreateOptions = {
      HostConfig: {
        NetworkMode: 'none',
        Tmpfs: { '/tmp': 'rw,size=1g,mode=1777', '/home/w': 'rw,exec,size=512m,uid=1000,gid=1000,mode=0700' },
      },
    };
    assert.equal(adaptSpecForEngine(spec, 'docker'), spec);
    const podman = adaptSpecForEngine(spec, 'podman');
    assert.deepEqual(podman.HostConfig?.Tmpfs, { '/tmp': 'rw,size=1g,mode=1777', '/home/w': 'rw,exec,size=512m,mode=0700,U' });
    assert.deepEqual(
      podman.HostConfig?.Ulimits?.map((u) => u.Name),
      ['nofile', 'nproc'],
    );
    assert.equal(podman.HostConfig?.NetworkMode, 'none');
  });

  it("the engine's kind from its /_ping headers (as Docker 20.10 and Podman 4.3 send them); unknown headers leave it to /version", () => {
    assert.equal(flavorFromPing({ server: 'Docker/20.10.24+dfsg1 (linux)', 'api-version': '1.41' }), 'docker');
    assert.equal(flavorFromPing({ server: 'Libpod/4.3.1 (linux)', 'libpod-api-version': '4.3.1', 'api-version': '1.41' }), 'podman');
    assert.equal(flavorFromPing({ server: 'Docker/20.10 (linux)', 'libpod-api-version': '4.3.1' }), 'podman');
    assert.equal(flavorFromPing({ 'api-version': '1.41' }), undefined);
    assert.equal(flavorFromPing({ server: 'nginx' }), undefined);
  });
});

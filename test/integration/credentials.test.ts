import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import Docker from 'dockerode';
import { DockerSandboxProvider } from '../../src/core/sandbox/dockerSandbox';
import { SandboxError, type Sandbox } from '../../src/core/sandbox/types';
import { BASE_IMAGE, ensureSandboxPrerequisites } from './prerequisites';

/**
 * Invariant 6: no human credential enters the sandbox. The host side here is as leaky as a
 * developer's machine gets: a live SSH agent socket, a ~/.gitconfig with a credential helper
 * and secrets, ~/.ssh keys, cloud credential files and tokens in the environment. Everything
 * is checked from inside the container: its environment, its mounts and its files.
 */
const RUN = randomUUID().slice(0, 8);
const marker = (what: string): string => `warden-canary-${RUN}-${what}`;

/** Variables a developer's shell typically holds, each with a unique canary value. */
const HOST_SECRETS: Record<string, string> = {
  GITHUB_TOKEN: marker('github-token'),
  GH_TOKEN: marker('gh-token'),
  GITLAB_TOKEN: marker('gitlab-token'),
  AWS_ACCESS_KEY_ID: marker('aws-key-id'),
  AWS_SECRET_ACCESS_KEY: marker('aws-secret'),
  AWS_SESSION_TOKEN: marker('aws-session'),
  AWS_PROFILE: marker('aws-profile'),
  GOOGLE_API_KEY: marker('google-api-key'),
  GOOGLE_CLOUD_PROJECT: marker('google-project'),
  AZURE_CLIENT_SECRET: marker('azure-secret'),
  AZURE_CLIENT_ID: marker('azure-client'),
  AZURE_TENANT_ID: marker('azure-tenant'),
  GIT_ASKPASS: marker('git-askpass'),
  SSH_ASKPASS: marker('ssh-askpass'),
  GIT_CONFIG_COUNT: '1',
  GIT_CONFIG_KEY_0: 'credential.helper',
  GIT_CONFIG_VALUE_0: marker('env-credential-helper'),
};

describe('no human credentials in the sandbox (real Docker engine)', function () {
  this.timeout(120_000);
  const docker = new Docker();
  const provider = new DockerSandboxProvider(docker);
  const saved: Record<string, string | undefined> = {};
  let home: string;
  let socketPath: string;
  let agentServer: net.Server;
  let workspace: string;
  let agents: string;
  let sandbox: Sandbox | undefined;

  const run = async (script: string): Promise<{ code: number | null; text: string }> => {
    const command = await sandbox!.runCommand(['/bin/sh', '-c', script], { cwd: '/', outputByteLimit: 4 * 1024 * 1024 });
    const status = await command.exited;
    return { code: status.exitCode, text: command.output().text };
  };

  before(async function () {
    this.timeout(600_000);
    await ensureSandboxPrerequisites();
    // A temporary HOME for this process: never the real one.
    home = await fs.mkdtemp(path.join(os.tmpdir(), 'warden-home-'));
    await fs.mkdir(path.join(home, '.ssh'), { mode: 0o700 });
    await fs.writeFile(
      path.join(home, '.ssh', 'id_ed25519'),
      `-----BEGIN OPENSSH PRIVATE KEY-----\n${marker('ssh-private-key')}\n-----END OPENSSH PRIVATE KEY-----\n`,
      { mode: 0o600 },
    );
    await fs.writeFile(path.join(home, '.ssh', 'config'), `Host *\n  IdentityFile ~/.ssh/id_ed25519\n# ${marker('ssh-config')}\n`);
    await fs.writeFile(
      path.join(home, '.gitconfig'),
      [
        '[user]',
        '  name = Host Human',
        '  email = human@example.test',
        '[credential]',
        `  helper = store --file ${path.join(home, '.git-credentials')}`,
        '[credential "https://github.com"]',
        `  helper = !echo password=${marker('gitconfig-helper-secret')}`,
        '[http "https://github.com/"]',
        `  extraheader = AUTHORIZATION: basic ${marker('gitconfig-extraheader')}`,
        '[github]',
        `  token = ${marker('gitconfig-github-token')}`,
        '',
      ].join('\n'),
    );
    await fs.writeFile(path.join(home, '.git-credentials'), `https://human:${marker('git-credentials')}@github.com\n`);
    await fs.mkdir(path.join(home, '.aws'));
    await fs.writeFile(path.join(home, '.aws', 'credentials'), `[default]\naws_secret_access_key = ${marker('aws-credentials-file')}\n`);
    const gcloud = path.join(home, '.config', 'gcloud');
    await fs.mkdir(gcloud, { recursive: true });
    await fs.writeFile(path.join(gcloud, 'application_default_credentials.json'), JSON.stringify({ private_key: marker('gcloud-adc') }));
    // A real, listening SSH agent socket.
    socketPath = path.join(home, 'ssh-agent.sock');
    agentServer = net.createServer((socket) => socket.end());
    await new Promise<void>((resolve) => agentServer.listen(socketPath, resolve));
    assert.ok((await fs.stat(socketPath)).isSocket());

    const env = {
      ...HOST_SECRETS,
      HOME: home,
      SSH_AUTH_SOCK: socketPath,
      GOOGLE_APPLICATION_CREDENTIALS: path.join(gcloud, 'application_default_credentials.json'),
      GIT_CONFIG_GLOBAL: path.join(home, '.gitconfig'),
    };
    for (const [key, value] of Object.entries(env)) {
      saved[key] = process.env[key];
      process.env[key] = value;
    }

    workspace = await fs.mkdtemp(path.join(os.tmpdir(), 'warden-cred-ws-'));
    await fs.chmod(workspace, 0o755);
    await fs.mkdir(path.join(workspace, '.devcontainer'));
    // The usual ways in (host mounts, ${localEnv:...}, registry features) are refused: see the last tests.
    await fs.writeFile(path.join(workspace, '.devcontainer', 'devcontainer.json'), JSON.stringify({ image: BASE_IMAGE }));
    // A marker that is meant to be visible: proves the searches below can find one.
    await fs.writeFile(path.join(workspace, 'README.md'), `a workspace ${RUN}-visible\n`);
    agents = await fs.mkdtemp(path.join(os.tmpdir(), 'warden-cred-agents-'));
    await fs.chmod(agents, 0o755);
    sandbox = await provider.start({
      workspaceMode: 'readonly',
      workspaceHostPath: workspace,
      agentsHostPath: agents,
      sessionId: `cred-${RUN}`,
    });
  });

  after(async () => {
    await sandbox?.stop();
    await new Promise<void>((resolve) => agentServer?.close(() => resolve()));
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    for (const dir of [home, workspace, agents]) if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('the host process really holds the credentials (the test is not vacuous)', async () => {
    assert.equal(process.env.GITHUB_TOKEN, marker('github-token'));
    assert.equal(process.env.SSH_AUTH_SOCK, socketPath);
    assert.equal(os.homedir(), home);
    assert.match(await fs.readFile(path.join(os.homedir(), '.gitconfig'), 'utf8'), /credential/);
  });

  it('the environment of commands and of the agent has no host variable and no canary', async () => {
    const { text } = await run('env');
    const agent = await sandbox!.execAgent(['/bin/sh', '-c', 'env']);
    let agentEnv = '';
    agent.stdout.on('data', (chunk: Buffer) => (agentEnv += chunk.toString('utf8')));
    await agent.exited;
    for (const env of [text, agentEnv]) {
      assert.ok(env.includes('HOME=/home/warden'), env);
      assert.ok(!env.includes(`warden-canary-${RUN}`), `a canary leaked:\n${env}`);
      const names = env
        .split('\n')
        .filter(Boolean)
        .map((line) => line.split('=')[0]!);
      const leaked = names.filter((n) => /^(SSH_|GIT_|GH_|GITHUB_|GITLAB_|AWS_|GOOGLE_|AZURE_|GCLOUD|CLOUDSDK_)/.test(n));
      assert.deepEqual(leaked, []);
    }
    const inspect = (await docker.getContainer(sandbox!.containerId).inspect()) as { Config: { Env: string[] } };
    // Besides HOME and PATH, only the default host allow-list (LANG, LANGUAGE, LC_*, TZ, TERM) may pass.
    const defaults = (n: string): boolean => ['LANG', 'LANGUAGE', 'TZ', 'TERM'].includes(n) || n.startsWith('LC_');
    assert.deepEqual(
      inspect.Config.Env.map((e) => e.split('=')[0]!)
        .filter((n) => !defaults(n))
        .sort(),
      ['HOME', 'PATH'],
    );
  });

  it('mounts only the workspace and the agents folder: no socket, no ~/.ssh, nothing of the host home', async () => {
    const { text } = await run('cat /proc/self/mountinfo');
    assert.ok(!text.includes(home), `something from the host HOME is mounted:\n${text}`);
    assert.ok(!/\.ssh|ssh-agent|ssh-auth|docker\.sock|\.gitconfig|\.aws|gcloud/.test(text), text);
    const inspect = (await docker.getContainer(sandbox!.containerId).inspect()) as {
      Mounts: Array<{ Type: string; Source: string; Destination: string }>;
    };
    assert.deepEqual(
      inspect.Mounts.filter((m) => m.Type === 'bind')
        .map((m) => [m.Source, m.Destination])
        .sort(),
      [
        [agents, '/opt/warden/agents'],
        [workspace, `/workspaces/${path.basename(workspace)}`],
      ].sort(),
    );
  });

  it('no credential files: empty home, no git config, no keys, no sockets, no canary anywhere on disk', async () => {
    assert.deepEqual(await run('ls -A /home/warden'), { code: 0, text: '' });
    for (const file of [
      '/home/warden/.gitconfig',
      '/etc/gitconfig',
      '/home/warden/.git-credentials',
      '/home/warden/.ssh',
      '/home/warden/.aws',
      '/home/warden/.config/gcloud',
      '/root/.ssh',
    ]) {
      assert.notEqual((await run(`test -e ${file}`)).code, 0, `${file} exists in the sandbox`);
    }
    const sockets = await run('find / \\( -path /proc -o -path /sys \\) -prune -o -type s -print');
    assert.equal(sockets.text.trim(), '', `sockets in the sandbox:\n${sockets.text}`);
    const grep = await run(
      `find / \\( -path /proc -o -path /sys -o -path /dev \\) -prune -o -type f -print | xargs grep -l "warden-canary-${RUN}" 2>/dev/null; echo end`,
    );
    assert.equal(grep.text.trim(), 'end', `files holding a canary:\n${grep.text}`);
    const control = await run(
      `find / \\( -path /proc -o -path /sys -o -path /dev \\) -prune -o -type f -print | xargs grep -l "${RUN}-visible" 2>/dev/null; echo end`,
    );
    assert.equal(control.text.trim(), `${sandbox!.workspaceFolder}/README.md\nend`, 'the search finds what is there');
  });

  it('a devcontainer.json that asks for a host variable in containerEnv is refused, not half-applied', async () => {
    const leaky = await fs.mkdtemp(path.join(os.tmpdir(), 'warden-cred-leaky-'));
    try {
      await fs.chmod(leaky, 0o755);
      await fs.mkdir(path.join(leaky, '.devcontainer'));
      await fs.writeFile(
        path.join(leaky, '.devcontainer', 'devcontainer.json'),
        JSON.stringify({ image: BASE_IMAGE, containerEnv: { TOKEN: '${localEnv:GITHUB_TOKEN}' } }),
      );
      await assert.rejects(
        provider.start({ workspaceMode: 'readonly', workspaceHostPath: leaky, agentsHostPath: agents, sessionId: `cred-${RUN}-leaky` }),
        (error: unknown) => {
          assert.ok(error instanceof SandboxError && error.code === 'config-invalid', String(error));
          assert.match(
            error.message,
            /\$\{localEnv:GITHUB_TOKEN\}, which Warden does not pass into the sandbox: "GITHUB_TOKEN" is never passed/,
          );
          return true;
        },
      );
    } finally {
      await fs.rm(leaky, { recursive: true, force: true });
    }
  });

  it('a devcontainer.json that mounts ~/.ssh or the SSH agent, or asks for a registry feature, is refused with the reason', async () => {
    const leaky = await fs.mkdtemp(path.join(os.tmpdir(), 'warden-cred-leaky-'));
    const write = (config: object): Promise<void> =>
      fs.writeFile(path.join(leaky, '.devcontainer', 'devcontainer.json'), JSON.stringify({ image: BASE_IMAGE, ...config }));
    try {
      await fs.chmod(leaky, 0o755);
      await fs.mkdir(path.join(leaky, '.devcontainer'));
      const everything = {
        allowPrivileged: true,
        allowCapAdd: [],
        allowSecurityOpt: [],
        allowMounts: true,
        allowRunArgs: true,
        allowInitializeCommand: false,
        allowNetwork: false,
      };
      await write({ mounts: [`source=${home}/.ssh,target=/k,type=bind`, `source=${socketPath},target=/ssh-agent,type=bind`] });
      await assert.rejects(
        provider.start({
          workspaceMode: 'readonly',
          workspaceHostPath: leaky,
          agentsHostPath: agents,
          sessionId: `cred-${RUN}-mounts`,
          sandboxPolicy: everything,
        }),
        (error: unknown) => {
          assert.ok(error instanceof SandboxError && error.code === 'config-refused', String(error));
          assert.match(error.message, /~\/\.ssh \(credentials\); no policy can allow that/);
          assert.match(error.message, /(SSH agent socket|host home folder).*no policy can allow that/);
          return true;
        },
      );
      await write({ features: { 'ghcr.io/devcontainers/features/github-cli:1': {} } });
      await assert.rejects(
        provider.start({ workspaceMode: 'readonly', workspaceHostPath: leaky, agentsHostPath: agents, sessionId: `cred-${RUN}-feature` }),
        /comes from a registry; Warden installs only local features/,
      );
    } finally {
      await fs.rm(leaky, { recursive: true, force: true });
    }
  });
});

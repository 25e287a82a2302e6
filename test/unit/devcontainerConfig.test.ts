import { strict as assert } from 'node:assert';
import { parseDevcontainer, planSandbox, type ContainerSpecOptions, type DevcontainerConfig } from '../../src/core/sandbox/devcontainer';
import { optionEnvName } from '../../src/core/sandbox/features';
import { STRICT_SANDBOX_POLICY, type SandboxPolicy } from '../../src/core/sandbox/hardeningPolicy';
import { hostEnvironment } from '../../src/core/sandbox/hostEnv';
import { lifecycleStepsFor, lifecycleUnits } from '../../src/core/sandbox/lifecycle';
import { mergeMetadata, parseMetadataLabel, type MetadataEntry } from '../../src/core/sandbox/metadata';
import { parseMount } from '../../src/core/sandbox/mounts';
import { SandboxError } from '../../src/core/sandbox/types';
import { SandboxSection } from '../../src/core/policy/schema';

const WS = '/srv/ws/project';
const HOME = '/home/ada';
const base: ContainerSpecOptions = { workspaceHostPath: WS, agentsHostPath: '/ext/agents', sessionId: 's', image: 'img', homeDir: HOME };

function policy(allow: Partial<SandboxPolicy>): SandboxPolicy {
  return { ...STRICT_SANDBOX_POLICY, ...allow };
}

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof SandboxError, String(error));
    return `${error.code}: ${error.message}`;
  }
  assert.fail('expected a refusal');
}

describe('devcontainer.json: the whole file', () => {
  it('parses every supported property from JSONC (comments, trailing commas)', () => {
    const config = parseDevcontainer(`{
      // the sandbox
      "image": "warden-sandbox-base:dev",
      "workspaceFolder": "/src/app", /* block comment */
      "workspaceMount": "source=\${localWorkspaceFolder},target=/src/app,type=bind",
      "mounts": ["type=volume,source=cache,target=/cache", { "type": "tmpfs", "target": "/scratch" },],
      "containerEnv": { "A": "1", },
      "remoteEnv": { "B": "\${containerEnv:A}-2", "C": null },
      "containerUser": "1000", "remoteUser": "1001",
      "init": true,
      "onCreateCommand": "echo one",
      "postCreateCommand": ["echo", "two"],
      "postStartCommand": { "a": "echo three", "b": ["echo", "four"] },
      "features": { "./feat": { "greeting": "hi" } },
    }`);
    assert.equal(config.workspaceFolder, '/src/app');
    assert.equal(config.mounts?.length, 2);
    assert.deepEqual(config.remoteEnv, { B: '${containerEnv:A}-2', C: null });
    assert.deepEqual(config.postStartCommand, { a: 'echo three', b: ['echo', 'four'] });
    assert.deepEqual(config.features, { './feat': { greeting: 'hi' } });
  });

  const bad: Array<[string, string, RegExp]> = [
    ['capAdd as a string', '{\n  "image": "x",\n  "capAdd": "SYS_PTRACE"\n}', /devcontainer\.json:3:13: capAdd: .*expected array/i],
    ['a lifecycle command that is a number', '{ "image": "x",\n "postCreateCommand": 3 }', /devcontainer\.json:2:23: postCreateCommand: /],
    ['an empty argv', '{ "image": "x", "onCreateCommand": [] }', /onCreateCommand: .*at least the program/],
    ['a mount object without target', '{ "image": "x", "mounts": [{ "source": "a" }] }', /mounts\.0/],
    ['a remoteEnv name that is not a variable', '{ "image": "x", "remoteEnv": { "A-B": "1" } }', /environment variable name/],
    ['a missing comma', '{ "image": "x"\n "init": true }', /devcontainer\.json:2:2: comma expected/],
  ];
  for (const [what, text, message] of bad) {
    it(`reports ${what} with its line and column`, () => {
      assert.match(
        refusal(() => parseDevcontainer(text)),
        message,
      );
    });
  }
});

describe('devcontainer.metadata: merged the way the reference CLI does', () => {
  const label = (entries: MetadataEntry[]): { origin: string; entry: MetadataEntry }[] =>
    entries.map((entry, i) => ({ origin: `e${i}`, entry }));

  it('reads a label that is an array, or a single object, and rejects bad ones by image name', () => {
    assert.deepEqual(parseMetadataLabel('[{"remoteUser":"a"},{"init":true}]', 'img'), [{ remoteUser: 'a' }, { init: true }]);
    assert.deepEqual(parseMetadataLabel('{"remoteUser":"a"}', 'img'), [{ remoteUser: 'a' }]);
    assert.deepEqual(parseMetadataLabel(undefined, 'img'), []);
    assert.match(
      refusal(() => parseMetadataLabel('{oops', 'my-image')),
      /my-image.*not JSON/,
    );
    assert.match(
      refusal(() => parseMetadataLabel('[{"capAdd":"X"}]', 'my-image')),
      /label of the image my-image is invalid: \[0\.capAdd\]/,
    );
  });

  const cases: Array<[string, MetadataEntry[], (m: ReturnType<typeof mergeMetadata>) => void]> = [
    [
      'the last scalar wins',
      [{ remoteUser: 'a', containerUser: 'c' }, { remoteUser: 'b' }],
      (m) => assert.deepEqual([m.remoteUser, m.containerUser], ['b', 'c']),
    ],
    [
      'init and privileged: any entry',
      [{ init: true }, { init: false, privileged: false }],
      (m) => assert.deepEqual([m.init, m.privileged], [true, false]),
    ],
    [
      'capAdd and securityOpt: union',
      [{ capAdd: ['A', 'B'] }, { capAdd: ['B', 'C'], securityOpt: ['x'] }],
      (m) => assert.deepEqual([m.capAdd, m.securityOpt], [['A', 'B', 'C'], ['x']]),
    ],
    [
      'env: merged, later keys win',
      [
        { containerEnv: { A: '1', B: '1' }, remoteEnv: { R: '1' } },
        { containerEnv: { B: '2' }, remoteEnv: { R: null } },
      ],
      (m) => assert.deepEqual([m.containerEnv, m.remoteEnv], [{ A: '1', B: '2' }, { R: null }]),
    ],
    [
      'mounts: concatenated, a later one replaces an earlier one on the same target',
      [
        { mounts: ['type=volume,source=a,target=/x', { type: 'volume', source: 'b', target: '/y' }] },
        { mounts: ['type=volume,source=c,target=/x'] },
      ],
      (m) =>
        assert.deepEqual(
          m.mounts.map((x) => x.mount),
          [{ type: 'volume', source: 'b', target: '/y' }, 'type=volume,source=c,target=/x'],
        ),
    ],
    [
      'lifecycle commands: collected hook by hook, in entry order',
      [
        { postStartCommand: 'p0', onCreateCommand: 'o0' },
        { onCreateCommand: 'o1', postCreateCommand: ['c1'] },
      ],
      (m) =>
        assert.deepEqual(
          m.lifecycle.map((l) => `${l.hook}:${l.origin}:${JSON.stringify(l.command)}`),
          ['onCreateCommand:e0:"o0"', 'onCreateCommand:e1:"o1"', 'postCreateCommand:e1:["c1"]', 'postStartCommand:e0:"p0"'],
        ),
    ],
  ];
  for (const [what, entries, check] of cases) {
    it(what, () => check(mergeMetadata(label(entries))));
  }

  it('devcontainer.json comes last, so it wins over the image label', () => {
    const plan = planSandbox(
      { image: 'x', remoteUser: '1002', containerEnv: { A: 'json' } },
      {
        ...base,
        imageMetadata: [
          { origin: 'image', entry: { remoteUser: '1001', containerEnv: { A: 'label', B: 'label' }, onCreateCommand: 'from-label' } },
        ],
      },
    );
    assert.equal(plan.execUser, '1002:1002');
    assert.ok(plan.spec.Env?.includes('A=json') && plan.spec.Env.includes('B=label'));
    assert.deepEqual(
      plan.lifecycle.map((l) => l.origin),
      ['image'],
    );
  });
});

describe('security-relevant properties need the team policy', () => {
  const table: Array<{
    what: string;
    config: DevcontainerConfig;
    message: RegExp;
    allow: Partial<SandboxPolicy>;
    check?: (plan: ReturnType<typeof planSandbox>) => void;
  }> = [
    {
      what: 'privileged',
      config: { image: 'x', privileged: true },
      message: /"privileged": true is refused: allow it with "sandbox\.allowPrivileged": true in \.warden\/policy\.json/,
      allow: { allowPrivileged: true },
      check: (p) => assert.equal(p.spec.HostConfig?.Privileged, true),
    },
    {
      what: 'capAdd',
      config: { image: 'x', capAdd: ['SYS_PTRACE'] },
      message: /"capAdd": \["SYS_PTRACE"\] is refused: allow it with "sandbox\.allowCapAdd": \["SYS_PTRACE"\] in \.warden\/policy\.json/,
      allow: { allowCapAdd: ['SYS_PTRACE'] },
      check: (p) => assert.deepEqual([p.spec.HostConfig?.CapAdd, p.spec.HostConfig?.CapDrop], [['SYS_PTRACE'], ['ALL']]),
    },
    {
      what: 'securityOpt',
      config: { image: 'x', securityOpt: ['seccomp=unconfined'] },
      message: /"securityOpt": \["seccomp=unconfined"\] is refused: allow it with "sandbox\.allowSecurityOpt": \["seccomp=unconfined"\]/,
      allow: { allowSecurityOpt: ['seccomp=unconfined'] },
      check: (p) => assert.deepEqual(p.spec.HostConfig?.SecurityOpt, ['no-new-privileges', 'seccomp=unconfined']),
    },
    {
      what: 'a host bind mount',
      config: { image: 'x', mounts: ['type=bind,source=/srv/data,target=/data,readonly'] },
      message: /the host bind mount .* is refused: allow it with "sandbox\.allowMounts": true/,
      allow: { allowMounts: true },
      check: (p) =>
        assert.deepEqual(p.spec.HostConfig?.Mounts?.[2], { Type: 'bind', Source: '/srv/data', Target: '/data', ReadOnly: true }),
    },
    {
      what: 'a workspaceMount of another folder',
      config: { image: 'x', workspaceFolder: '/w', workspaceMount: 'source=/srv/other,target=/w,type=bind' },
      message:
        /"workspaceMount": .* mounts \/srv\/other instead of the workspace and is refused: allow it with "sandbox\.allowMounts": true/,
      allow: { allowMounts: true },
      check: (p) => assert.deepEqual(p.spec.HostConfig?.Mounts?.[0], { Type: 'bind', Source: '/srv/other', Target: '/w', ReadOnly: true }),
    },
    {
      what: 'initializeCommand',
      config: { image: 'x', initializeCommand: 'echo on the host' },
      message:
        /"initializeCommand" runs on the host, outside the sandbox, and is refused: allow it with "sandbox\.allowInitializeCommand": true/,
      allow: { allowInitializeCommand: true },
    },
    {
      what: 'runArgs',
      config: { image: 'x', runArgs: ['--init', '--shm-size=256m', '-e', 'A=1', '--label', 'team=x'] },
      message: /"runArgs": .* is refused: allow it with "sandbox\.allowRunArgs": true .*honours only --init/,
      allow: { allowRunArgs: true },
      check: (p) => {
        assert.equal(p.spec.HostConfig?.Init, true);
        assert.equal(p.spec.HostConfig?.ShmSize, 256 * 1024 * 1024);
        assert.ok(p.spec.Env?.includes('A=1'));
        assert.equal(p.spec.Labels?.team, 'x');
      },
    },
  ];
  for (const row of table) {
    it(`${row.what}: refused without the policy key, honoured with it (network, no-new-privileges and the read-only workspace stay)`, () => {
      assert.match(
        refusal(() => planSandbox(row.config, base)),
        new RegExp(`^config-refused: [\\s\\S]*${row.message.source}`),
      );
      const plan = planSandbox(row.config, { ...base, policy: policy(row.allow) });
      assert.equal(plan.spec.HostConfig?.NetworkMode, 'none');
      assert.equal((plan.spec.HostConfig?.SecurityOpt as string[] | undefined)?.[0], 'no-new-privileges');
      assert.equal(plan.spec.HostConfig?.Mounts?.[0]?.ReadOnly, true);
      assert.equal(plan.spec.HostConfig?.ReadonlyRootfs, true);
      row.check?.(plan);
    });
  }

  it('names where a refused property came from (image label, feature)', () => {
    const message = refusal(() =>
      planSandbox(
        { image: 'x' },
        { ...base, imageMetadata: [{ origin: 'feature ./tools', entry: { capAdd: ['NET_ADMIN'], privileged: true } }] },
      ),
    );
    assert.match(message, /"privileged": true \(from feature \.\/tools\) is refused/);
    assert.match(message, /"capAdd": \["NET_ADMIN"\] \(from feature \.\/tools\) is refused/);
  });

  const never: Array<[string, DevcontainerConfig, RegExp]> = [
    [
      'the Docker socket',
      { image: 'x', mounts: ['type=bind,source=/var/run/docker.sock,target=/var/run/docker.sock'] },
      /container engine .* no policy can allow that/,
    ],
    ['the host home', { image: 'x', mounts: [`type=bind,source=${HOME},target=/h`] }, /host home folder .* no policy/],
    ['a folder above the home', { image: 'x', mounts: ['type=bind,source=/home,target=/h'] }, /host home folder/],
    ['~/.ssh', { image: 'x', mounts: [`type=bind,source=${HOME}/.ssh,target=/k`] }, /~\/\.ssh \(credentials\)/],
    [
      'a mount over the workspace',
      { image: 'x', mounts: ['type=volume,source=v,target=/workspaces/project'] },
      /overlaps \/workspaces\/project/,
    ],
    [
      'a mount over the agents folder',
      { image: 'x', mounts: [{ type: 'tmpfs', target: '/opt/warden' }] },
      /overlaps \/opt\/warden\/agents/,
    ],
    ['no-new-privileges turned off', { image: 'x', securityOpt: ['no-new-privileges:false'] }, /no policy can turn off no-new-privileges/],
    ['a network in runArgs', { image: 'x', runArgs: ['--network=host'] }, /the sandbox has no network/],
    ['an unknown runArgs flag', { image: 'x', runArgs: ['--device', '/dev/kvm'] }, /"--device" is refused: Warden honours only/],
    ['a bare -e NAME (copies a host variable)', { image: 'x', runArgs: ['-e', 'GITHUB_TOKEN'] }, /only NAME=VALUE is honoured/],
  ];
  const everything = policy({
    allowPrivileged: true,
    allowCapAdd: ['ALL'],
    allowSecurityOpt: ['no-new-privileges:false'],
    allowMounts: true,
    allowRunArgs: true,
    allowInitializeCommand: true,
  });
  for (const [what, config, message] of never) {
    it(`never: ${what}, even with every policy key set`, () => {
      assert.match(
        refusal(() => planSandbox(config, { ...base, policy: everything })),
        message,
      );
    });
  }

  it('${devcontainerId} is stable per workspace (volume names in image metadata use it)', () => {
    const volume = (ws: string): string | undefined =>
      planSandbox(
        { image: 'x', mounts: ['type=volume,source=dind-${devcontainerId},target=/var/lib/docker'] },
        { ...base, workspaceHostPath: ws },
      ).spec.HostConfig?.Mounts?.[2]?.Source;
    assert.match(volume(WS) ?? '', /^dind-[0-9a-f]{20}$/);
    assert.equal(volume(WS), volume(WS));
    assert.notEqual(volume(WS), volume('/srv/ws/other'));
  });

  it('volumes and tmpfs mounts need no policy; the SSH agent socket is never mounted', () => {
    const plan = planSandbox({ image: 'x', mounts: ['type=volume,source=cache,target=/cache', 'type=tmpfs,target=/scratch'] }, base);
    assert.deepEqual(plan.spec.HostConfig?.Mounts?.slice(2), [
      { Type: 'volume', Source: 'cache', Target: '/cache', ReadOnly: false },
      { Type: 'tmpfs', Source: '', Target: '/scratch' },
    ]);
    assert.match(
      refusal(() =>
        planSandbox(
          { image: 'x', mounts: ['type=bind,source=/run/agent.sock,target=/s'] },
          { ...base, policy: everything, sshAuthSock: '/run/agent.sock' },
        ),
      ),
      /SSH agent socket/,
    );
  });

  it('asking for no-new-privileges (which Warden sets anyway) needs no policy', () => {
    for (const opt of ['no-new-privileges', 'no-new-privileges:true', 'no-new-privileges=1']) {
      assert.deepEqual(planSandbox({ image: 'x', securityOpt: [opt] }, base).spec.HostConfig?.SecurityOpt, ['no-new-privileges']);
    }
  });

  it('the policy schema accepts the new keys with safe defaults', () => {
    assert.deepEqual(SandboxSection.parse({}), STRICT_SANDBOX_POLICY);
  });
});

describe('the host environment allow-list', () => {
  const host = {
    LANG: 'C.UTF-8',
    LC_ALL: 'C',
    TERM: 'xterm',
    HOME: '/home/ada',
    GITHUB_TOKEN: 'ghp_x',
    SSH_AUTH_SOCK: '/tmp/agent',
    DOCKER_HOST: 'tcp://x',
    AWS_SECRET_ACCESS_KEY: 'k',
    MY_TOKEN: 't',
    GIT_ASKPASS: '/x',
    PROJECT_MODE: 'dev',
  };

  it('passes only allow-listed variables; credentials never, even when listed (and says so)', () => {
    const env = hostEnvironment({
      env: host,
      allowList: [
        'LANG',
        'LC_*',
        'TERM',
        'PROJECT_MODE',
        'GITHUB_TOKEN',
        'SSH_AUTH_SOCK',
        'DOCKER_HOST',
        'AWS_*',
        '*_TOKEN',
        'GIT_ASKPASS',
      ],
    });
    assert.deepEqual(env.passed, { LANG: 'C.UTF-8', LC_ALL: 'C', TERM: 'xterm', PROJECT_MODE: 'dev' });
    assert.deepEqual(
      env.refusedEntries.map((l) => /"([^"]+)" is on the allow-list/.exec(l)?.[1]),
      ['GITHUB_TOKEN', 'SSH_AUTH_SOCK', 'DOCKER_HOST', 'AWS_*', '*_TOKEN', 'GIT_ASKPASS'],
    );
  });

  it('the default list is LANG, LANGUAGE, LC_*, TZ, TERM', () => {
    assert.deepEqual(Object.keys(hostEnvironment({ env: host }).passed).sort(), ['LANG', 'LC_ALL', 'TERM']);
  });

  const lookups: Array<[string, string[], RegExp | string]> = [
    ['LANG', [], 'C.UTF-8'],
    ['HOME', [], /"HOME" is not on the host environment allow-list .*warden\.sandbox\.environmentAllowList/],
    ['GITHUB_TOKEN', ['GITHUB_TOKEN'], /"GITHUB_TOKEN" is never passed into the sandbox \(it matches "GITHUB_\*"/],
    ['SSH_AUTH_SOCK', ['*'], /never passed/],
  ];
  for (const [name, extra, expected] of lookups) {
    it(`\${localEnv:${name}} ${typeof expected === 'string' ? 'resolves' : 'is refused'}`, () => {
      const env = hostEnvironment({ env: host, allowList: ['LANG', ...extra] });
      const plan = (): ReturnType<typeof planSandbox> =>
        planSandbox({ image: 'x', containerEnv: { V: `\${localEnv:${name}}` } }, { ...base, hostEnv: env });
      if (typeof expected === 'string') assert.ok(plan().spec.Env?.includes(`V=${expected}`));
      else assert.match(refusal(plan), expected);
    });
  }

  it('remoteEnv reads ${containerEnv:...} from the image and containerEnv; null unsets', () => {
    const plan = planSandbox(
      {
        image: 'x',
        containerEnv: { A: 'a' },
        remoteEnv: { P: '${containerEnv:IMG}:${containerEnv:A}', Q: null, R: '${containerEnv:MISSING:fallback}' },
      },
      { ...base, imageEnv: { IMG: '/img' } },
    );
    assert.deepEqual(plan.remoteEnv, { P: '/img:a', Q: null, R: 'fallback' });
    assert.match(
      refusal(() => planSandbox({ image: 'x', containerEnv: { A: '${containerEnv:B}' } }, base)),
      /only available in remoteEnv/,
    );
  });
});

describe('users, lifecycle forms, mounts, feature options', () => {
  it('the container runs as containerUser, commands as remoteUser (never root), HOME belongs to the remote user', () => {
    const plan = planSandbox({ image: 'x', containerUser: '1000', remoteUser: '1001' }, base);
    assert.equal(plan.spec.User, '1000:1000');
    assert.equal(plan.execUser, '1001:1001');
    assert.match(plan.spec.HostConfig?.Tmpfs?.['/home/warden'] ?? '', /uid=1001,gid=1001/);
    assert.match(
      refusal(() => planSandbox({ image: 'x', remoteUser: 'root' }, base)),
      /remoteUser "root": Warden never runs the sandbox as root/,
    );
  });

  it('a reused container runs only postStart and postAttach; a new one runs every hook', () => {
    const steps = mergeMetadata([
      {
        origin: 'devcontainer.json',
        entry: { onCreateCommand: 'a', updateContentCommand: 'b', postCreateCommand: 'c', postStartCommand: 'd', postAttachCommand: 'e' },
      },
    ]).lifecycle;
    assert.deepEqual(
      lifecycleStepsFor(steps, 'created').map((s) => s.command),
      ['a', 'b', 'c', 'd', 'e'],
    );
    assert.deepEqual(
      lifecycleStepsFor(steps, 'reused').map((s) => s.command),
      ['d', 'e'],
    );
  });

  it('lifecycle commands: string through sh -c, array as argv, object as named commands in order', () => {
    assert.deepEqual(lifecycleUnits('npm ci'), [{ command: 'npm ci', argv: ['/bin/sh', '-c', 'npm ci'] }]);
    assert.deepEqual(lifecycleUnits(['npm', 'ci']), [{ command: ['npm', 'ci'], argv: ['npm', 'ci'] }]);
    assert.deepEqual(
      lifecycleUnits({ b: 'x', a: ['y'] }).map((u) => [u.name, u.argv]),
      [
        ['b', ['/bin/sh', '-c', 'x']],
        ['a', ['y']],
      ],
    );
  });

  const mounts: Array<[string, ReturnType<typeof parseMount>]> = [
    ['type=bind,source=/a,target=/b,readonly', { type: 'bind', source: '/a', target: '/b', readOnly: true }],
    ['src=v,dst=/c', { type: 'volume', source: 'v', target: '/c', readOnly: false }],
    ['type=tmpfs,destination=/t', { type: 'tmpfs', source: undefined, target: '/t', readOnly: false }],
  ];
  for (const [text, expected] of mounts) {
    it(`reads the mount "${text}"`, () => assert.deepEqual(parseMount(text, 'mounts'), expected));
  }

  it('feature options become upper-case environment names', () => {
    assert.deepEqual(['version', 'install-tools', 'node.version', '9lives'].map(optionEnvName), [
      'VERSION',
      'INSTALL_TOOLS',
      'NODE_VERSION',
      '_LIVES',
    ]);
  });
});

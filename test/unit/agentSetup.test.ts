import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EXIT } from '../../src/cli/exitCodes';
import type { CliIO } from '../../src/cli/io';
import { runCli } from '../../src/cli/main';
import { AGENT_PRESETS } from '../../src/core/agent/presets';
import { planSetup, presetOf, SETUP_PRESET_IDS, unifiedDiff, type FileChange, type SetupPlan } from '../../src/core/agent/setup';
import { loadPolicyText } from '../../src/core/policy';
import { parseDevcontainer } from '../../src/core/sandbox/devcontainer';

const DEMO_DEVCONTAINER = `// The demo workspace's sandbox. Warden adds its hardening on top of whatever is here.
{
  "name": "Warden demo",
  "build": {
    "dockerfile": "Dockerfile",
    "context": "."
  },
  "containerEnv": {
    "NODE_ENV": "development"
  },
}
`;
const DEMO_DOCKERFILE = 'FROM warden-sandbox-base:dev\nLABEL org.opencontainers.image.title="warden-demo"\n';
const POLICY = `// Team policy: keep this comment
{
  "version": 1,
  "network": {
    // the package mirror
    "allow": [{ "host": "registry.npmjs.org" }]
  },
  "commands": [] // none yet
}
`;

type Files = Map<string, string>;

const reader = (files: Files) => (p: string) => Promise.resolve(files.get(p));

function apply(files: Files, plan: SetupPlan): Files {
  const next = new Map(files);
  for (const step of plan.steps) for (const c of step.changes) next.set(c.path, c.after);
  return next;
}

function demoFiles(extra: Record<string, string> = {}): Files {
  return new Map(
    Object.entries({ '.devcontainer/devcontainer.json': DEMO_DEVCONTAINER, '.devcontainer/Dockerfile': DEMO_DOCKERFILE, ...extra }),
  );
}

function allowHosts(text: string): string[] {
  const loaded = loadPolicyText(text);
  assert.ok(loaded.ok, 'the policy loader accepts the result');
  return (loaded.value.network?.allow ?? []).map((a) => a.host);
}

describe('agent setup: what each preset changes (core)', () => {
  for (const id of SETUP_PRESET_IDS) {
    const preset = presetOf(id);
    it(`${id}: installs in the Dockerfile, allows its model host, keeps comments, and a second run changes nothing`, async () => {
      const files = demoFiles({ '.warden/policy.json': POLICY });
      const plan = await planSetup(id, reader(files));
      assert.deepEqual(plan.problems, []);
      assert.equal(plan.settingPreset, id === 'demo' ? 'custom' : id);
      assert.equal(plan.apiKeyEnv, preset.apiKeyEnv);
      const after = apply(files, plan);
      // The sandbox definition itself is untouched (it builds the Dockerfile); the Dockerfile gains the install line.
      assert.equal(after.get('.devcontainer/devcontainer.json'), DEMO_DEVCONTAINER);
      const dockerfile = after.get('.devcontainer/Dockerfile')!;
      assert.ok(dockerfile.startsWith(DEMO_DOCKERFILE), 'existing lines kept');
      if (id === 'demo') assert.equal(dockerfile, DEMO_DOCKERFILE);
      else assert.ok(dockerfile.split('\n').includes(preset.install), dockerfile);
      const policy = after.get('.warden/policy.json')!;
      for (const comment of ['// Team policy: keep this comment', '// the package mirror', '// none yet'])
        assert.ok(policy.includes(comment), comment);
      assert.deepEqual(allowHosts(policy), ['registry.npmjs.org', ...preset.hosts]);
      if (id === 'demo') assert.equal(plan.steps.length, 0);
      const again = await planSetup(id, reader(after));
      assert.deepEqual(again.steps, [], 'idempotent');
      assert.deepEqual(again.problems, []);
    });
  }

  it('without a sandbox definition or policy: creates both from the defaults, valid for the sandbox and the policy loader', async () => {
    for (const id of SETUP_PRESET_IDS) {
      const plan = await planSetup(id, reader(new Map()));
      const after = apply(new Map(), plan);
      const config = parseDevcontainer(after.get('.devcontainer/devcontainer.json')!);
      assert.equal(config.build?.dockerfile, 'Dockerfile');
      assert.match(after.get('.devcontainer/Dockerfile')!, /^# .*\nFROM node:20-bookworm-slim\n/);
      const hosts = presetOf(id).hosts;
      if (hosts.length === 0) assert.equal(after.get('.warden/policy.json'), undefined, `${id}: no policy needed`);
      else assert.deepEqual(allowHosts(after.get('.warden/policy.json')!), hosts);
      assert.deepEqual((await planSetup(id, reader(after))).steps, [], `${id}: idempotent`);
    }
  });

  it('an "image" definition becomes a Dockerfile FROM that image; its comments stay', async () => {
    const files: Files = new Map([
      [
        '.devcontainer/devcontainer.json',
        '{\n  // the image we use\n  "image": "mcr.microsoft.com/devcontainers/base:bookworm",\n  "remoteUser": "vscode"\n}\n',
      ],
    ]);
    const plan = await planSetup('claude', reader(files));
    const after = apply(files, plan);
    const text = after.get('.devcontainer/devcontainer.json')!;
    assert.ok(text.includes('// the image we use'));
    const config = parseDevcontainer(text);
    assert.equal(config.image, undefined);
    assert.equal(config.build?.dockerfile, 'Dockerfile');
    assert.equal(config.remoteUser, 'vscode');
    assert.match(
      after.get('.devcontainer/Dockerfile')!,
      /FROM mcr\.microsoft\.com\/devcontainers\/base:bookworm\n[^]*RUN npm install -g @agentclientprotocol\/claude-agent-acp\n$/,
    );
    assert.deepEqual(
      (await planSetup('claude', reader(after))).steps.filter((s) => s.kind === 'sandbox'),
      [],
    );
  });

  it('a host already allowed (also through a wildcard) is not added again', async () => {
    const policy = '{ "version": 1, "network": { "allow": [{ "host": "*.googleapis.com" }] } }';
    const plan = await planSetup('gemini', reader(demoFiles({ '.warden/policy.json': policy })));
    assert.deepEqual(
      plan.steps.map((s) => s.kind),
      ['sandbox'],
    );
  });

  it('a policy or sandbox definition that does not parse is reported with line and column and left untouched', async () => {
    const broken = '{\n  "version": 1,\n  "network": { "allow": [ }\n}\n';
    const plan = await planSetup('codex-acp', reader(demoFiles({ '.warden/policy.json': broken })));
    assert.deepEqual(
      plan.problems.map((p) => [p.path, p.line, p.column]),
      [['.warden/policy.json', 3, 27]],
    );
    assert.ok(plan.steps.every((s) => s.changes.every((c) => c.path !== '.warden/policy.json')));
    assert.deepEqual(
      plan.steps.map((s) => s.kind),
      ['sandbox'],
      'the other file is still set up',
    );

    const badConfig = '{\n  "name": "x",\n  "build": { "dockerfile": "Dockerfile" \n  "x": 1\n}';
    const plan2 = await planSetup('gemini', reader(demoFiles({ '.devcontainer/devcontainer.json': badConfig })));
    assert.equal(plan2.problems.length, 1);
    assert.equal(plan2.problems[0]!.path, '.devcontainer/devcontainer.json');
    assert.equal(plan2.problems[0]!.line, 4);
    assert.ok(plan2.steps.every((s) => s.kind !== 'sandbox'));
  });

  it('a policy that parses but is not valid is reported at the offending value', async () => {
    const invalid = '{\n  "version": 1,\n  "network": { "allow": [{ "hots": "x" }] }\n}\n';
    const plan = await planSetup('gemini', reader(demoFiles({ '.warden/policy.json': invalid })));
    assert.equal(plan.problems[0]!.path, '.warden/policy.json');
    assert.equal(plan.problems[0]!.line, 3);
  });

  it('every preset with a command can be set up, and the demo agent too', () => {
    const ids: string[] = [...SETUP_PRESET_IDS];
    for (const id of Object.keys(AGENT_PRESETS)) assert.ok(id === 'custom' || ids.includes(id), id);
    assert.ok(ids.includes('demo'));
  });

  it('unified diff of a new file and of an appended line', () => {
    const created: FileChange = { path: 'a.txt', before: undefined, after: 'one\ntwo\n' };
    assert.equal(unifiedDiff(created), '--- /dev/null\n+++ b/a.txt\n@@ -0,0 +1,2 @@\n+one\n+two\n');
    const appended: FileChange = { path: 'a.txt', before: 'one\n', after: 'one\ntwo\n' };
    assert.equal(unifiedDiff(appended), '--- a/a.txt\n+++ b/a.txt\n@@ -1,1 +1,2 @@\n one\n+two\n');
  });
});

describe('warden agent setup PRESET (CLI)', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'warden-setup-'));
    await fs.mkdir(path.join(dir, '.devcontainer'));
    await fs.writeFile(path.join(dir, '.devcontainer', 'devcontainer.json'), DEMO_DEVCONTAINER);
    await fs.writeFile(path.join(dir, '.devcontainer', 'Dockerfile'), DEMO_DOCKERFILE);
  });
  afterEach(() => fs.rm(dir, { recursive: true, force: true }));

  async function cli(
    argv: string[],
    ask?: (q: string) => Promise<string>,
  ): Promise<{ code: number; stdout: string; stderr: string; questions: number }> {
    let stdout = '';
    let stderr = '';
    let questions = 0;
    const io: CliIO = {
      stdout: (t) => (stdout += t),
      stderr: (t) => (stderr += t),
      cwd: dir,
      env: {},
      agentsHostPath: path.join(dir, 'no-agents'),
      ...(ask ? { ask: (q: string) => (questions++, ask(q)) } : {}),
    };
    return { code: await runCli(argv, io), stdout, stderr, questions };
  }
  const read = (p: string) => fs.readFile(path.join(dir, p), 'utf8').catch(() => undefined);

  it('without --yes and without a terminal: prints the diffs, writes nothing, exits 2 saying why', async () => {
    const r = await cli(['agent', 'setup', 'claude']);
    assert.equal(r.code, EXIT.usage);
    assert.match(r.stdout, /\+RUN npm install -g @agentclientprotocol\/claude-agent-acp/);
    assert.match(r.stdout, /\+\+\+ b\/\.warden\/policy\.json/);
    assert.match(r.stderr, /nothing was written.*--yes/);
    assert.equal(await read('.devcontainer/Dockerfile'), DEMO_DOCKERFILE);
    assert.equal(await read('.warden/policy.json'), undefined);
  });

  it('--yes applies every change; a second run says it is set up and exits 0', async () => {
    const r = await cli(['agent', 'setup', 'codex-app-server', '--yes']);
    assert.equal(r.code, EXIT.ok, r.stderr);
    assert.ok((await read('.devcontainer/Dockerfile'))!.includes('RUN npm install -g @openai/codex\n'));
    assert.deepEqual(allowHosts((await read('.warden/policy.json'))!), ['api.openai.com']);
    assert.match(r.stdout, /warden run --preset codex-app-server --secret-env OPENAI_API_KEY=FILE/);
    const again = await cli(['agent', 'setup', 'codex-app-server']);
    assert.equal(again.code, EXIT.ok, again.stderr);
    assert.match(again.stdout, /already set up/);
  });

  it('on a terminal each change is asked; a refused one is not written', async () => {
    const answers = ['n', 'y'];
    const r = await cli(['agent', 'setup', 'gemini'], () => Promise.resolve(answers.shift()!));
    assert.equal(r.questions, 2);
    assert.equal(r.code, EXIT.usage, 'incomplete setup is not success');
    assert.equal(await read('.devcontainer/Dockerfile'), DEMO_DOCKERFILE, 'refused: untouched');
    assert.deepEqual(allowHosts((await read('.warden/policy.json'))!), ['generativelanguage.googleapis.com']);
  });

  it('a broken policy is reported as FILE:LINE:COLUMN, left untouched, exit 3', async () => {
    await fs.mkdir(path.join(dir, '.warden'));
    const broken = '{ "version": 1, "network": ';
    await fs.writeFile(path.join(dir, '.warden', 'policy.json'), broken);
    const r = await cli(['agent', 'setup', 'opencode', '--yes']);
    assert.equal(r.code, EXIT.policy);
    assert.match(r.stderr, /policy\.json:1:\d+: JSON syntax error/);
    assert.equal(await read('.warden/policy.json'), broken);
    assert.ok((await read('.devcontainer/Dockerfile'))!.includes('opencode-ai'), 'the sandbox step still applied');
  });

  it('a sandbox definition whose Dockerfile is missing is reported with its path, untouched, exit 5', async () => {
    await fs.rm(path.join(dir, '.devcontainer', 'Dockerfile'));
    const r = await cli(['agent', 'setup', 'gemini', '--yes']);
    assert.equal(r.code, EXIT.sandbox);
    assert.ok(
      r.stderr.includes(
        `${path.join(dir, '.devcontainer', 'devcontainer.json')}:1:1: its Dockerfile .devcontainer/Dockerfile does not exist`,
      ),
      r.stderr,
    );
    assert.equal(await read('.devcontainer/Dockerfile'), undefined);
    assert.equal(await read('.devcontainer/devcontainer.json'), DEMO_DEVCONTAINER);
  });

  it('an unknown preset is a usage error naming the presets', async () => {
    const r = await cli(['agent', 'setup', 'nope']);
    assert.equal(r.code, EXIT.usage);
    assert.match(r.stderr, /demo, gemini, codex-acp/);
  });
});

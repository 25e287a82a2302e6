import { strict as assert } from 'node:assert';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadPolicyText, mergePolicies, type EffectivePolicy } from '../../src/core/policy';
import {
  ensureMaskSources,
  maskMounts,
  planWithholding,
  withheldBy,
  withheldPaths,
  withholdingSummary,
} from '../../src/core/sandbox/withhold';
import { ManifestScanner, syncCopy } from '../../src/core/sandbox/workspaceCopy';
import { readDeniedBy, withheldEvent } from '../../src/core/session/withheldFiles';
import { auditEventProblem } from '../../src/core/audit/events';
import { sha256Hex } from '../../src/core/util/hash';

function policy(text: string): EffectivePolicy {
  const loaded = loadPolicyText(text);
  assert.ok(loaded.ok, loaded.ok ? '' : JSON.stringify(loaded.problems));
  return mergePolicies({ team: { status: 'loaded', policy: loaded.value } });
}

const KEYS = policy(`{
  "paths": [
    { "id": "no-keys", "paths": ["**/*.pem", "**/appsettings*"], "actions": ["read"], "decision": "deny" },
    { "id": "no-secrets", "paths": ["secrets/**"], "actions": ["read"], "decision": "deny" }
  ]
}`);

describe('files coming in: what the policy denies for reading never enters the sandbox (host side, no Docker)', () => {
  let real: string;
  let copy: string;

  beforeEach(async () => {
    real = await fs.mkdtemp(path.join(os.tmpdir(), 'warden-wh-real-'));
    copy = await fs.mkdtemp(path.join(os.tmpdir(), 'warden-wh-copy-'));
    await fs.mkdir(path.join(real, 'src/config'), { recursive: true });
    await fs.mkdir(path.join(real, 'secrets/deep'), { recursive: true });
    await fs.writeFile(path.join(real, 'src/a.js'), 'a\n');
    await fs.writeFile(path.join(real, 'key.pem'), 'SECRET-KEY\n');
    await fs.writeFile(path.join(real, 'src/config/appsettings.json'), '{"password":"SECRET"}\n');
    await fs.writeFile(path.join(real, 'secrets/token.txt'), 'SECRET-TOKEN\n');
    await fs.writeFile(path.join(real, 'secrets/deep/b.txt'), 'SECRET-B\n');
    await fs.symlink('key.pem', path.join(real, 'link.pem'));
    await fs.mkdir(path.join(real, '.git'));
    await fs.writeFile(path.join(real, '.git/x.pem'), 'not walked\n');
  });

  afterEach(async () => {
    for (const dir of [real, copy]) await fs.rm(dir, { recursive: true, force: true });
  });

  it('finds denied files (hash and size, the rule) and folders denied whole; .git is never walked', async () => {
    const plan = await planWithholding(
      real,
      readDeniedBy(() => KEYS),
    );
    assert.deepEqual(plan.entries, [
      { path: 'key.pem', kind: 'file', sha256: sha256Hex('SECRET-KEY\n'), size: 11, ruleId: 'no-keys' },
      { path: 'link.pem', kind: 'symlink', ruleId: 'no-keys' },
      { path: 'secrets/deep/b.txt', kind: 'file', sha256: sha256Hex('SECRET-B\n'), size: 9, ruleId: 'no-secrets' },
      { path: 'secrets/token.txt', kind: 'file', sha256: sha256Hex('SECRET-TOKEN\n'), size: 13, ruleId: 'no-secrets' },
      {
        path: 'src/config/appsettings.json',
        kind: 'file',
        sha256: sha256Hex('{"password":"SECRET"}\n'),
        size: 22,
        ruleId: 'no-keys',
      },
    ]);
    assert.deepEqual(plan.folders, [{ path: 'secrets', ruleId: 'no-secrets', entries: 2 }], 'the top folder only, not secrets/deep too');
    assert.equal(withheldBy(plan, 'secrets/new.txt'), 'no-secrets', 'a later file under a withheld folder is withheld');
    assert.equal(withheldBy(plan, 'src/a.js'), undefined);
    assert.match(withholdingSummary(plan) ?? '', /5 file\(s\).*1 folder\(s\) whole.*3 by rule no-keys, 2 by rule no-secrets/);
  });

  it('defaults.read deny with an allow rule: a folder holding an allowed file is walked file by file, not withheld whole', async () => {
    const strict = policy(`{
      "defaults": { "read": "deny" },
      "paths": [{ "id": "src-ok", "paths": ["src/*.js", "README.md"], "actions": ["read"], "decision": "allow" }]
    }`);
    const plan = await planWithholding(
      real,
      readDeniedBy(() => strict),
    );
    assert.ok(!plan.folders.some((f) => f.path === 'src'), 'src holds an allowed file');
    assert.ok(plan.folders.some((f) => f.path === 'src/config' && f.ruleId === 'default'));
    assert.ok(!plan.entries.some((e) => e.path === 'src/a.js'));
  });

  it('syncCopy leaves withheld files and folders out, and removes them from a reused copy that still has them', async () => {
    await fs.writeFile(path.join(copy, 'key.pem'), 'OLD COPY\n');
    await fs.mkdir(path.join(copy, 'secrets'));
    await fs.writeFile(path.join(copy, 'secrets/token.txt'), 'OLD\n');
    const plan = await planWithholding(
      real,
      readDeniedBy(() => KEYS),
    );
    await syncCopy(real, copy, 'world', withheldPaths(plan));
    const manifest = await new ManifestScanner(copy).scan();
    assert.deepEqual([...manifest.entries.keys()].sort(), ['src/a.js']);
    assert.deepEqual([...manifest.dirs].sort(), ['src', 'src/config'], 'the withheld folder is not even created');
  });

  it('without a filter the copy is the whole workspace (nothing changes for sessions without read rules)', async () => {
    await syncCopy(real, copy, 'world');
    const manifest = await new ManifestScanner(copy).scan();
    assert.ok(manifest.entries.has('key.pem') && manifest.entries.has('secrets/token.txt'));
  });

  it('read-only mode: folders masked whole, other files one by one, links never (a mount over a link lands on its target)', async () => {
    const plan = await planWithholding(
      real,
      readDeniedBy(() => KEYS),
    );
    const mounts = maskMounts(plan, '/workspaces/demo', { file: '/m/empty-file', folder: '/m/empty-folder' });
    assert.deepEqual(
      mounts.map((m) => [m.Source, m.Target, m.ReadOnly]),
      [
        ['/m/empty-folder', '/workspaces/demo/secrets', true],
        ['/m/empty-file', '/workspaces/demo/key.pem', true],
        ['/m/empty-file', '/workspaces/demo/src/config/appsettings.json', true],
      ],
    );
  });

  it('the mask sources are empty and mode 0000, also after someone wrote into the file', async () => {
    const root = path.join(copy, '.masks');
    const first = await ensureMaskSources(root);
    await fs.chmod(first.file, 0o600);
    await fs.writeFile(first.file, 'leaked?');
    const again = await ensureMaskSources(root);
    const file = await fs.stat(again.file);
    assert.equal(file.size, 0);
    assert.equal(file.mode & 0o777, 0);
    assert.equal((await fs.stat(again.folder)).mode & 0o777, 0);
  });

  it('the audit entry lists paths, hashes, sizes and rules (never contents) and fits the catalog', async () => {
    const plan = await planWithholding(
      real,
      readDeniedBy(() => KEYS),
    );
    const event = withheldEvent('copy', plan);
    assert.ok(event?.type === 'sandbox.withheld');
    assert.equal(auditEventProblem(event.type, event.data), undefined);
    assert.ok(!JSON.stringify(event).includes('SECRET'));
    assert.equal(event.data.total, 5);
    assert.equal(withheldEvent('copy', { entries: [], folders: [] }), undefined, 'nothing withheld: no entry');
  });

  it('a policy that cannot be evaluated withholds (fail closed)', () => {
    const broken = readDeniedBy(() => {
      throw new Error('boom');
    });
    assert.equal(broken('src/a.js')?.ruleId, 'builtin.policy-error');
  });
});

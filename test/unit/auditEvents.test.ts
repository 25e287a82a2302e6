import { strict as assert } from 'node:assert';
import { promises as fs, readdirSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as z from 'zod';
import {
  AUDIT_EVENT_TYPES,
  AUDIT_EVENTS,
  AuditLog,
  AuditSchemaError,
  auditEvent,
  auditEventProblem,
  exportAuditCsv,
  exportAuditJson,
  queryAuditLog,
  readAuditEvent,
  toOtlpLogRecord,
  queryAuditRows,
  verifyAuditLog,
  type AuditActor,
  type AuditDataOf,
  type AuditEventInput,
  type AuditEventOf,
  type AuditEventType,
} from '../../src/core/audit';
import { auditPanelState } from '../../src/vscode/auditPanelData';
import { sha256Hex } from '../../src/core/util/hash';

const H = sha256Hex('x');
const HUMAN_REVIEWER = { kind: 'human', name: 'Alice Lead', email: 'alice@example.com', source: 'git config' } as const;
const POLICY = { decision: 'allow', ruleId: 'node-test', reason: 'tests may run' } as const;
const DIFF = '--- a/src/greet.js\n+++ b/src/greet.js\n@@ -1 +1 @@\n-a\n+b\n';

/**
 * One real `data` per type, as its writer builds it today (src/core/session/*, supervisor.ts,
 * egress, git, proposals, repair, the extension's commands) or as test/fixtures write it.
 * Every catalog type must have one: adding a type without a sample fails the first test.
 */
const SAMPLES: { [T in AuditEventType]: Array<AuditDataOf<T>> } = {
  'session.starting': [{ workspace: '/home/alice/demo', reviewer: HUMAN_REVIEWER }],
  'session.ended': [{ reason: 'stopped by the user', wasOpen: true }],
  'session.killed': [
    { reason: 'kill switch pulled', containerId: 'c0ffee', ms: 312, removed: true },
    { reason: 'kill switch pulled', containerId: null, ms: 0, removed: false, error: 'engine gone' },
  ],
  instruction: [{ text: 'add a farewell function' }],
  'turn.ended': [
    { stopReason: 'end_turn', agentMessage: 'Done.' },
    { stopReason: 'end_turn', agentMessage: 'Done.', turn: 2 },
  ],
  error: [{ during: 'session/prompt', message: 'agent crashed' }],
  'policy.loaded': [
    {
      valid: true,
      teamPolicyValid: true,
      sources: [{ source: '/w/.warden/policy.json', origin: 'team', status: 'loaded', problems: [] }],
      rules: { paths: 2, commands: 1, overrides: [] },
    },
  ],
  'policy.invalid': [
    {
      valid: false,
      teamPolicyValid: false,
      sources: [{ source: '/w/.warden/policy.json', origin: 'team', status: 'invalid', problems: ['3:5 Property expected'] }],
      rules: { paths: 0, commands: 0, overrides: [] },
    },
  ],
  'policy.suggestion': [
    {
      proposalId: 'p-1',
      suggestionId: 'sg-1',
      section: 'commands',
      rule: { id: 'allow-npm-test', match: 'npm test', decision: 'allow' },
      summary: 'Allow npm test',
    },
    { proposalId: 'p-1', suggested: null, reason: 'nothing safe to generalize' },
  ],
  'policy.suggestion.accepted': [
    { suggestionId: 'sg-1', proposalId: 'p-1', section: 'commands', rule: { id: 'allow-npm-test', match: 'npm test', decision: 'allow' } },
  ],
  'sandbox.started': [{ containerId: 'c0ffee', image: 'warden-base', workspaceFolder: '/workspaces/demo', workspaceMode: 'copy' }],
  'sandbox.reused': [{ containerId: 'c0ffee', configHash: H }],
  'sandbox.rebuilt': [{ containerId: 'c0ffee', configHash: H, previousContainerIds: ['bead'], previousConfigHashes: [null] }],
  'sandbox.stopped': [
    { containerId: 'c0ffee', removed: true, kept: false },
    { containerId: 'c0ffee', removed: false, error: 'timeout' },
  ],
  'sandbox.withheld': [
    {
      workspaceMode: 'copy',
      entries: [
        { path: 'key.pem', kind: 'file', sha256: H, size: 12, ruleId: 'no-keys' },
        { path: 'secrets/a.txt', kind: 'file', sha256: H, size: 3, ruleId: 'no-secrets' },
        { path: 'link.pem', kind: 'symlink', ruleId: 'no-keys' },
      ],
      folders: [{ path: 'secrets', ruleId: 'no-secrets', entries: 1 }],
      total: 3,
      truncated: false,
    },
  ],
  'sandbox.withheld.exposed': [
    { entries: [{ path: 'late.pem', kind: 'file', sha256: H, size: 7, ruleId: 'no-keys' }], found: 'turn start' },
  ],
  'sandbox.changes': [{ reason: 'turn end', paths: ['src/a.js'] }],
  'sandbox.write': [{ path: 'src/a.js', hash: 'ab'.repeat(32) }],
  'sandbox.change.restored': [{ proposalId: 'p-1', path: 'src/a.js' }],
  'lifecycle.command': [
    {
      hook: 'postCreateCommand',
      origin: 'devcontainer.json',
      command: 'npm ci',
      where: 'container',
      user: 'node',
      exitCode: 0,
      output: 'added 3 packages',
      truncated: false,
    },
    {
      hook: 'onCreateCommand',
      origin: 'feature ./x',
      name: 'setup',
      command: ['make', 'setup'],
      where: 'container',
      user: 'node',
      exitCode: null,
      output: '',
      truncated: false,
    },
  ],
  'network.egress': [{ rules: ['npm registry.npmjs.org:443'], proxy: '/run/warden/egress.sock' }],
  'network.request': [
    {
      requestId: 'r-1',
      method: 'CONNECT',
      host: 'registry.npmjs.org',
      port: 443,
      allowed: true,
      rule: 'npm',
      address: '104.16.0.1',
      status: 200,
      bytesSent: 10,
      bytesReceived: 20,
      action: 'agent',
    },
    {
      requestId: 'r-2',
      method: 'CONNECT',
      host: 'evil.example',
      port: 443,
      allowed: false,
      rule: null,
      reason: 'not on the allow-list',
      status: 403,
      bytesSent: 0,
      bytesReceived: 0,
      action: 'command',
      proposalId: 'p-3',
    },
  ],
  'network.rules-invalid': [{ problems: ['bad: "*.*" is not a valid wildcard'] }],
  'network.channel.lost': [
    { reason: 'the stream ended', restoring: true },
    { reason: 'the bridge could not be restarted: no hello within 15 s', restoring: false },
  ],
  'network.channel.restored': [{ attempts: 1, lostReason: 'the stream ended' }],
  'agent.started': [
    {
      command: ['node', '/opt/warden/agents/demo.mjs'],
      protocol: 'acp',
      protocolVersion: 1,
      agentInfo: { name: 'warden-demo-agent', version: '1.0.0' },
      agentSessionId: 'sess-1',
    },
    {
      command: ['codex', 'app-server'],
      protocol: 'codex-app-server',
      protocolVersion: '2',
      agentSessionId: 'thread-1',
      resumed: true,
      agentEnvNames: ['OPENAI_API_KEY'],
    },
  ],
  'protocol.violation': [{ kind: 'malformed-frame', detail: 'not JSON' }],
  'agent.told': [{ via: 'turn/steer', itemId: 'patch-1', proposalIds: ['p-1'], notes: ['src/a.js was written by Warden as you wrote it'] }],
  proposal: [
    {
      proposalId: 'p-1',
      kind: 'edit',
      title: 'Edit src/greet.js',
      origin: 'fs/write_text_file',
      path: 'src/greet.js',
      baseHash: H,
      newHash: H,
      diff: DIFF,
    },
    {
      proposalId: 'p-2',
      kind: 'edit',
      title: 'Create b.js (changed in the sandbox)',
      origin: 'sandbox/change',
      path: 'b.js',
      baseHash: null,
      newHash: H,
      diff: DIFF,
      change: { change: 'create', binary: false, size: 3 },
    },
    {
      proposalId: 'p-3',
      kind: 'command',
      title: 'Run npm test',
      origin: 'terminal/create',
      argv: ['sh', '-c', 'npm test'],
      commandLine: 'npm test',
      cwd: '/workspaces/demo',
      env: {},
    },
    {
      proposalId: 'p-4',
      kind: 'permission',
      title: 'Edit a.js',
      origin: 'session/request_permission',
      toolKind: 'edit',
      options: [{ optionId: 'allow', name: 'Allow', kind: 'allow_once' }],
      path: 'a.js',
      newHash: H,
      diff: DIFF,
    },
    {
      proposalId: 'p-5',
      kind: 'question',
      title: 'Question: which?',
      origin: '_warden/ask_human',
      question: 'which?',
      choices: ['a', 'b'],
    },
  ],
  decision: [
    {
      proposalId: 'p-1',
      verdict: 'approve',
      reviewer: HUMAN_REVIEWER,
      reason: null,
      ruleId: 'ask-edits',
      policy: { decision: 'ask', ruleId: 'ask-edits', reason: 'edits ask' },
    },
    {
      proposalId: 'p-3',
      verdict: 'approve',
      reviewer: { kind: 'policy', name: 'node-test', source: 'policy' },
      reason: 'tests may run',
      ruleId: 'node-test',
      policy: POLICY,
    },
    {
      proposalId: 'p-6',
      verdict: 'approve',
      reviewer: { kind: 'warden', name: 'warden', source: 'earlier approval' },
      reason: 'approved as permission request p-4',
      grantedBy: 'p-4',
    },
    { proposalId: 'p-1', verdict: 'approve', reviewer: HUMAN_REVIEWER, reason: null, hunks: { accepted: [0], rejected: [1] } },
    { proposalId: 'p-1', verdict: 'approve', reviewer: HUMAN_REVIEWER, reason: null, edited: true, editedHash: H, editedDiff: DIFF },
    { proposalId: 'p-3', verdict: 'approve', reviewer: HUMAN_REVIEWER, reason: null, edited: true, editedCommand: 'npm test -- --bail' },
    { proposalId: 'p-7', verdict: 'reject', reviewer: HUMAN_REVIEWER, reason: 'discarded after its agent was gone', orphaned: true },
  ],
  refused: [
    { action: 'read', path: '.env', ruleId: 'no-secrets', reason: 'secrets stay out' },
    { action: 'write', path: 'vendor/x.js', rule: 'scope.paths', reason: 'outside the session scope' },
    { action: 'command', commandLine: 'git push --force origin main', rule: 'git.push.force.protected', reason: 'protected branch' },
    { action: 'command', proposalId: 'p-3', commandLine: 'rm -rf /', edited: true, rule: 'no-rm', reason: 'never' },
    { action: 'edit', path: '/etc/passwd', reason: 'outside the workspace' },
    { action: 'edit', itemId: 'item-1', reason: 'the patch does not apply', turnDiff: DIFF },
  ],
  'permission.answered': [
    { proposalId: 'p-4', outcome: { selected: 'allow', kind: 'allow_once' } },
    { proposalId: 'p-4', outcome: 'cancelled' },
    { proposalId: 'p-4', outcome: { selected: 'allow', kind: 'allow_once' }, reviewerPicked: { optionId: 'always', kind: 'allow_always' } },
  ],
  'proposal.rediffed': [
    { proposalId: 'p-1', path: 'a.js', previousBaseHash: H, baseHash: H, previousNewHash: H, newHash: H, diff: DIFF },
    { proposalId: 'p-1', path: 'a.js', baseHash: null, newHash: H, diff: DIFF },
  ],
  'proposal.narrowed': [
    { proposalId: 'p-1', path: 'a.js', accepted: ['h0'], rejected: ['h1'], previousNewHash: H, newHash: H, diff: DIFF },
  ],
  'edit.applied': [
    { proposalId: 'p-1', path: 'src/greet.js', reviewedHash: H, diskHash: H },
    { proposalId: 'p-2', path: 'b.js', origin: 'sandbox/change', reviewedHash: null, diskHash: null },
    { proposalId: 'p-1', path: 'a.js', reviewedHash: H, diskHash: H, hunks: { accepted: [0], rejected: [1] }, proposedHash: H },
    { proposalId: 'p-1', path: 'a.js', reviewedHash: H, diskHash: H, orphaned: true },
  ],
  'edit.mismatch': [{ proposalId: 'p-1', path: 'a.js', reviewedHash: H, diskHash: sha256Hex('y'), edited: true, proposedHash: H }],
  'edit.stale': [
    { proposalId: 'p-1', path: 'a.js', baseHash: H, currentHash: null },
    { proposalId: 'p-1', path: 'a.js', reason: 'the change no longer fits' },
  ],
  'edit.failed': [{ proposalId: 'p-1', path: 'a.js', error: 'EACCES' }],
  'command.result': [
    { proposalId: 'p-3', terminalId: 't1', exitCode: 1, signal: null, outputExcerpt: '1 failing', outputHash: H, truncated: false },
    {
      proposalId: 'p-3',
      itemId: 'item-2',
      ranBy: 'codex',
      status: 'completed',
      exitCode: 0,
      signal: null,
      outputExcerpt: '',
      outputHash: H,
      truncated: false,
    },
  ],
  'command.edited': [
    {
      proposalId: 'p-3',
      proposedCommandLine: 'npm test',
      commandLine: 'npm test -- --bail',
      argv: ['sh', '-c', 'npm test -- --bail'],
      ruleId: 'node-test',
      policy: POLICY,
    },
  ],
  'command.failed': [{ proposalId: 'p-3', error: 'no such container' }],
  'file.read': [
    { path: 'src/greet.js', hash: H, line: null, limit: null },
    { path: 'src/greet.js', hash: H },
  ],
  'git.branch': [
    { status: 'created', branch: 'warden/s1', base: 'abc123', previousBranch: 'main', carried: [], protectedBranches: ['main'] },
    { status: 'none', reason: 'not a git repository', protectedBranches: ['main'] },
  ],
  'git.committed': [
    {
      commit: 'def456',
      branch: 'warden/s1',
      paths: ['a.js'],
      audit: [H],
      approvers: ['Alice Lead <alice@example.com>'],
      author: 'Warden Agent <agent@warden>',
      committer: 'Alice Lead <alice@example.com>',
    },
  ],
  'checkpoint.created': [{ n: 1, ref: 'refs/warden/checkpoints/s1/1', commit: 'abc', paths: ['a.js'], proposalIds: ['p-1'] }],
  'checkpoint.failed': [{ proposalIds: ['p-1'], error: 'index.lock exists' }],
  'checkpoint.pruned': [{ refs: ['refs/warden/checkpoints/old/1'] }],
  'checkpoint.rolledBack': [
    {
      n: 1,
      commit: 'abc',
      safetyCheckpoint: { n: 2, ref: 'refs/warden/checkpoints/s1/2', commit: 'def' },
      restored: [{ path: 'a.js', hash: H }],
      deleted: [],
      unchanged: [],
      skipped: [],
    },
  ],
  'audit.repaired': [
    {
      file: '.warden/audit/audit-000001.jsonl',
      line: 7,
      offset: 1234,
      bytes: 17,
      sha256: H,
      savedTo: '.warden/audit/audit-000001.jsonl.torn-1',
      reason: 'torn last line',
    },
  ],
};

/** A value no field of the catalog accepts where a required field is expected. */
const WRONG = Symbol('wrong');

function requiredKeys(type: AuditEventType): string[] {
  const shape = AUDIT_EVENTS[type].data.shape as Record<string, z.ZodType>;
  return Object.entries(shape)
    .filter(([, field]) => !field.safeParse(undefined).success)
    .map(([key]) => key);
}

describe('audit event catalog', () => {
  it('has a real sample for every type, and no sample for a type it does not know', () => {
    assert.deepEqual(Object.keys(SAMPLES).sort(), [...AUDIT_EVENT_TYPES].sort());
    for (const type of AUDIT_EVENT_TYPES) assert.ok(SAMPLES[type].length > 0, type);
  });

  for (const type of AUDIT_EVENT_TYPES) {
    describe(type, () => {
      const samples: unknown[] = SAMPLES[type];
      it('accepts what its writers write (and a field added later)', () => {
        for (const sample of samples) {
          const result = AUDIT_EVENTS[type].data.safeParse(sample);
          assert.ok(result.success, `${JSON.stringify(sample)}: ${result.error?.message ?? ''}`);
          assert.ok(AUDIT_EVENTS[type].data.safeParse({ ...(sample as object), addedLater: 1 }).success);
        }
      });
      it('rejects data without a required field or with one of the wrong type', () => {
        const sample = samples[0] as Record<string, unknown>;
        const required = requiredKeys(type);
        assert.ok(required.length > 0, 'every event has at least one required field');
        for (const key of required) {
          const { [key]: _dropped, ...without } = sample;
          assert.equal(AUDIT_EVENTS[type].data.safeParse(without).success, false, `without ${key}`);
          for (const wrong of [{ [key]: WRONG }, { [key]: [WRONG] }]) {
            assert.equal(AUDIT_EVENTS[type].data.safeParse({ ...sample, ...wrong }).success, false, `${key} of the wrong type`);
          }
        }
      });
    });
  }

  it('the append check reports unknown and retired types and names the bad fields', () => {
    assert.equal(auditEventProblem('decision', SAMPLES.decision[0]), undefined);
    assert.match(auditEventProblem('test.unknown', {}) ?? '', /unknown audit event type "test.unknown"/);
    assert.match(auditEventProblem('proposal.narrowed', SAMPLES['proposal.narrowed'][0]) ?? '', /no longer written/);
    const problem = auditEventProblem('decision', { proposalId: 'p-1', verdict: 'maybe', reviewer: HUMAN_REVIEWER, reason: null }) ?? '';
    assert.match(problem, /verdict/);
    assert.doesNotMatch(problem, /reviewer/);
  });

  it('AuditEventOf and auditEvent type what a writer appends', async () => {
    const event: AuditEventOf<'refused'> = {
      sessionId: 's',
      actor: { kind: 'warden', id: 'warden' },
      type: 'refused',
      data: { action: 'read', path: '.env', ruleId: 'no-secrets', reason: 'no' },
    };
    assert.equal(auditEventProblem(event.type, event.data), undefined);
    // What the session writers' record(event: Omit<AuditEventInput, 'sessionId'>) takes.
    const record = async (e: Omit<AuditEventInput, 'sessionId'>): Promise<string> => e.type;
    assert.equal(
      await record(auditEvent('edit.failed', { kind: 'warden', id: 'warden' }, { proposalId: 'p-1', path: 'a.js', error: 'EACCES' })),
      'edit.failed',
    );
  });

  describe('reading', () => {
    it('maps the rule of older refused entries (`rule`) to `ruleId`, and leaves the entry as recorded', () => {
      const data = { action: 'write', path: 'vendor/x.js', rule: 'scope.paths', reason: 'outside the session scope' };
      const event = readAuditEvent({ type: 'refused', data });
      assert.ok(event.known && event.type === 'refused');
      assert.equal(event.data.ruleId, 'scope.paths');
      assert.equal('ruleId' in data, false, 'the recorded data is not changed');
      const current = readAuditEvent({
        type: 'refused',
        data: { action: 'read', path: '.env', ruleId: 'no-secrets', rule: 'other', reason: 'no' },
      });
      assert.equal(
        current.known && current.type === 'refused' ? current.data.ruleId : undefined,
        'no-secrets',
        'ruleId wins when both are there',
      );
    });

    it('never fails: a bad field reads as absent, nested fields one by one, unknown types keep their data', () => {
      const event = readAuditEvent({
        type: 'decision',
        data: { proposalId: 'p-1', verdict: 'maybe', reviewer: { kind: 'human', name: 'Bob', email: 7 } },
      });
      assert.ok(event.known && event.type === 'decision');
      assert.equal(event.data.verdict, undefined);
      assert.equal(event.data.proposalId, 'p-1');
      assert.equal(event.data.reviewer?.name, 'Bob');
      assert.equal(event.data.reviewer?.email, undefined);
      assert.deepEqual(readAuditEvent({ type: 'test.later', data: { a: 1 } }), { known: false, type: 'test.later', data: { a: 1 } });
    });
  });
});

describe('audit log: the append-time catalog check', () => {
  let root: string;
  const warden: AuditActor = { kind: 'warden', id: 'warden' };
  beforeEach(async () => (root = await fs.mkdtemp(path.join(os.tmpdir(), 'warden-events-'))));
  afterEach(async () => fs.rm(root, { recursive: true, force: true }));

  it("'note' writes a mismatching event with a schemaProblem note: nothing is dropped", async () => {
    const log = AuditLog.forWorkspace(root, { schemaCheck: 'note' });
    const entry = await log.append({ sessionId: 's', actor: warden, type: 'edit.applied', data: { proposalId: 'p-1', path: 'a.js' } });
    assert.equal(entry.data.proposalId, 'p-1');
    assert.match(String(entry.data.schemaProblem), /"edit.applied" data does not match the catalog: reviewedHash/);
    const ok = await log.append({
      sessionId: 's',
      actor: warden,
      type: 'edit.failed',
      data: { proposalId: 'p-1', path: 'a.js', error: 'EACCES' },
    });
    assert.equal('schemaProblem' in ok.data, false);
    assert.equal((await verifyAuditLog(root)).entries, 2);
  });

  it("'throw' refuses it with an AuditSchemaError and writes nothing", async () => {
    const log = AuditLog.forWorkspace(root, { schemaCheck: 'throw' });
    await assert.rejects(log.append({ sessionId: 's', actor: warden, type: 'made.up', data: {} }), AuditSchemaError);
    assert.equal((await verifyAuditLog(root)).entries, 0);
  });

  it('checks the data as written: undefined fields are absent', async () => {
    const log = AuditLog.forWorkspace(root, { schemaCheck: 'throw' });
    await log.append({ sessionId: 's', actor: warden, type: 'error', data: { during: undefined, message: 'x' } });
    await assert.rejects(log.append({ sessionId: 's', actor: warden, type: 'error', data: { message: undefined } }), AuditSchemaError);
  });
});

describe('older refused entries (rule under `rule`) show their rule', () => {
  let root: string;
  const warden: AuditActor = { kind: 'warden', id: 'warden' };
  before(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'warden-events-'));
    const log = AuditLog.forWorkspace(root, { now: () => new Date('2026-03-01T10:00:00.000Z') });
    // As the scope check and the git guard write them today (and older logs hold them).
    await log.append({
      sessionId: 's',
      actor: warden,
      type: 'refused',
      data: { action: 'write', path: 'vendor/x.js', rule: 'scope.paths', reason: 'outside the session scope' },
    });
    await log.append({
      sessionId: 's',
      actor: warden,
      type: 'refused',
      data: {
        action: 'command',
        commandLine: 'git push --force origin main',
        rule: 'git.push.force.protected',
        reason: 'protected branch',
      },
    });
    await log.append({
      sessionId: 's',
      actor: { kind: 'policy', id: 'no-secrets' },
      type: 'refused',
      data: { action: 'read', path: '.env', ruleId: 'no-secrets', reason: 'secrets stay out' },
    });
  });
  after(async () => fs.rm(root, { recursive: true, force: true }));

  const RULES = ['scope.paths', 'git.push.force.protected', 'no-secrets'];

  it('in the query', async () => {
    const { rows } = await queryAuditLog(root);
    assert.deepEqual(
      rows.map((r) => r.ruleId),
      RULES,
    );
    assert.match(rows[0]?.summary ?? '', /rule scope\.paths/);
  });

  it('in the Audit panel', async () => {
    const verify = {
      ok: true,
      entries: 3,
      segments: 1,
      headSeq: 3,
      head: null,
      message: 'ok',
      chains: [],
      anchorFailures: [],
      repairable: false,
      anchors: { count: 0, ok: true, message: '' },
      checkedAt: '',
    };
    const state = await auditPanelState(root, {}, verify, false);
    assert.deepEqual(state.rows.map((r) => r.ruleId).reverse(), RULES);
  });

  it('in the CSV and OpenTelemetry exports; the JSON export keeps the entries as recorded', async () => {
    const csv = (await exportAuditCsv(root)).split('\r\n');
    const ruleColumn = (csv[0] ?? '').split(',').indexOf('ruleId');
    assert.deepEqual(
      csv.slice(1, 4).map((line) => line.split(',')[ruleColumn]),
      RULES,
    );
    const otlp: string[] = [];
    for await (const { row, entry } of queryAuditRows(root)) {
      const attribute = toOtlpLogRecord(row, entry).attributes.find((a) => a.key === 'warden.decision.rule_id');
      otlp.push(attribute && 'stringValue' in attribute.value ? attribute.value.stringValue : '');
    }
    assert.deepEqual(otlp, RULES);
    const json = JSON.parse(await exportAuditJson(root)) as { entries: Array<{ data: Record<string, unknown> }> };
    assert.equal(json.entries[0]?.data.rule, 'scope.paths');
    assert.equal(json.entries[0]?.data.ruleId, undefined);
  });
});

describe('audit event catalog and the writers in src/', () => {
  /** Every .ts file under src/. */
  function sources(dir: string): string[] {
    return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
      d.isDirectory() ? sources(path.join(dir, d.name)) : d.name.endsWith('.ts') ? [path.join(dir, d.name)] : [],
    );
  }
  const text = sources(path.resolve(__dirname, '../../src'))
    .map((file) => readFileSync(file, 'utf8'))
    .join('\n');

  it('every dotted event type a writer names (type: ..., ternaries too) is in the catalog', () => {
    const written = new Set<string>();
    for (const match of text.matchAll(/type: ([^,}\n]*)/g)) {
      for (const literal of (match[1] ?? '').matchAll(/'([a-z][a-zA-Z]*(?:\.[a-zA-Z-]+)+)'/g)) written.add(literal[1] ?? '');
    }
    assert.ok(written.size > 20, 'the scan finds the writers');
    assert.deepEqual(
      [...written].filter((type) => !(AUDIT_EVENT_TYPES as string[]).includes(type)),
      [],
    );
  });

  it('every type the catalog says is still written is named somewhere in src/', () => {
    const current = AUDIT_EVENT_TYPES.filter((type) => !('retired' in AUDIT_EVENTS[type]));
    assert.deepEqual(
      current.filter((type) => !text.includes(`'${type}'`)),
      [],
    );
  });
});

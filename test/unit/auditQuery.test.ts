import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  anchorAuditHead,
  AuditAnchorError,
  AuditLog,
  csvField,
  exportAuditCsv,
  exportAuditJson,
  exportAuditOtlp,
  formatAnchorLine,
  formatChainAnchor,
  LEGACY_CHAIN,
  OtlpExportError,
  queryAuditLog,
  repairAuditLog,
  verifyAuditAnchors,
  verifyAuditLog,
  type AuditJsonExport,
} from '../../src/core/audit';
import { auditDiffSides, diffSides } from '../../src/core/audit';
import { unifiedDiff } from '../../src/core/proposals/diff';
import { sha256Hex } from '../../src/core/util/hash';
import { NEW_GREET, OLD_GREET, writeSampleAuditLog, XSS } from '../fixtures/auditSession';

const SEG1 = '.warden/audit/audit-000001.jsonl';

/** Minimal RFC 4180 parser, to check the CSV round-trips (quotes, commas, newlines). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += c;
  }
  return rows;
}

describe('audit query and export', () => {
  let root: string;
  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'warden-audit-q-'));
    await writeSampleAuditLog(root);
  });
  afterEach(async () => {
    await fs.rm(root, { recursive: true, force: true });
  });

  it('a partly approved edit counts its hunks, an edited accept is "approved with edits", and a write on an earlier permission is credited to it', async () => {
    const log = AuditLog.forWorkspace(root, { chain: 's-parts' });
    const ada = { kind: 'human', name: 'Ada', email: 'ada@example.test', source: 'git' };
    const append = (actor: { kind: 'human' | 'warden' | 'agent'; id: string }, type: string, data: Record<string, unknown>) =>
      log.append({ sessionId: 's-parts', actor, type, data });
    const agent = { kind: 'agent' as const, id: 'agent' };
    const human = { kind: 'human' as const, id: 'ada@example.test' };
    await append(agent, 'proposal', { proposalId: 'p1', kind: 'edit', title: 'Edit a.js', origin: 'fs/write_text_file', path: 'a.js' });
    await append(human, 'decision', {
      proposalId: 'p1',
      verdict: 'approve',
      reviewer: ada,
      reason: 'accepted hunk 1, rejected hunks 2-3',
      hunks: { accepted: [0], rejected: [1, 2] },
    });
    await append(agent, 'proposal', { proposalId: 'p2', kind: 'edit', title: 'Edit b.js', origin: 'fs/write_text_file', path: 'b.js' });
    await append(human, 'decision', {
      proposalId: 'p2',
      verdict: 'approve',
      reviewer: ada,
      reason: 'edited',
      edited: true,
      editedHash: 'a'.repeat(64),
      editedDiff: '',
    });
    await append(agent, 'proposal', {
      proposalId: 'p3',
      kind: 'permission',
      title: 'Edit c.js',
      origin: 'session/request_permission',
      path: 'c.js',
    });
    await append(human, 'decision', { proposalId: 'p3', verdict: 'approve', reviewer: ada, reason: null });
    await append(agent, 'proposal', { proposalId: 'p4', kind: 'edit', title: 'Edit c.js', origin: 'fs/write_text_file', path: 'c.js' });
    await append({ kind: 'warden', id: 'warden' }, 'decision', {
      proposalId: 'p4',
      verdict: 'approve',
      reviewer: { kind: 'warden', name: 'warden', source: 'earlier approval' },
      reason: 'approved as permission request p3 (by Ada)',
      grantedBy: 'p3',
    });
    const { rows, sessions } = await queryAuditLog(root, { sessionId: 's-parts' });
    const decisions = rows.filter((r) => r.type === 'decision');
    assert.deepEqual(
      decisions.map((r) => r.summary),
      [
        'Partly approved (1 of 3 hunks; 2 rejected) a.js by Ada <ada@example.test> (accepted hunk 1, rejected hunks 2-3)',
        'Approved with edits b.js by Ada <ada@example.test> (edited)',
        'Approved c.js by Ada <ada@example.test>',
        'Approved c.js by permission p3 (approved by Ada <ada@example.test>) (approved as permission request p3 (by Ada))',
      ],
    );
    assert.doesNotMatch(decisions[3]!.summary, /warden \(warden\)|warden: warden/);
    const s = sessions.find((x) => x.sessionId === 's-parts');
    assert.deepEqual(
      s && [s.approved, s.rejected, s.partlyApproved, s.approvedWithEdits, s.hunksApproved, s.hunksRejected],
      [4, 0, 1, 1, 1, 2],
    );
  });

  it('reads every entry and summarizes each session for the timeline', async () => {
    const result = await queryAuditLog(root);
    assert.equal(result.total, 17);
    assert.equal(result.rows.length, 17);
    assert.deepEqual(result.problems, []);
    assert.deepEqual(
      result.sessions.map((s) => [s.sessionId, s.agent, s.proposals, s.approved, s.rejected, s.automatic, s.errors, s.ended]),
      [
        ['session-one', 'warden-demo-agent', 2, 1, 1, 0, 0, 'stopped by the user'],
        ['session-two', 'codex-acp', 1, 1, 0, 1, 1, null],
      ],
    );
    assert.match(result.sessions[0]?.instruction ?? '', /add a farewell function/);
    assert.deepEqual(result.facets.kinds, ['command', 'edit']);
    assert.deepEqual(result.facets.agents, ['codex-acp', 'warden-demo-agent']);
  });

  it('derives agent, kind, path and decision for decisions and results from earlier entries', async () => {
    const { rows } = await queryAuditLog(root);
    const decision = rows.find((r) => r.type === 'decision' && r.proposalId === 'p-1');
    assert.deepEqual(decision && [decision.agent, decision.kind, decision.path, decision.decision, decision.automatic, decision.reviewer], [
      'warden-demo-agent',
      'edit',
      'src/greet.js',
      'approve',
      false,
      'Alice Lead <alice@example.com>',
    ]);
    const result = rows.find((r) => r.type === 'command.result');
    assert.deepEqual(
      result && [result.kind, result.commandLine, result.decision, result.automatic, result.reviewer, result.ruleId, result.exitCode],
      ['command', 'npm test', 'approve', true, 'policy rule allow-tests', 'allow-tests', 1],
    );
    assert.ok(rows.find((r) => r.type === 'proposal' && r.proposalId === 'p-1')?.hasDiff);
  });

  const cases: Array<[string, Parameters<typeof queryAuditLog>[1], number[]]> = [
    ['session', { sessionId: 'session-two' }, [12, 13, 14, 15, 16, 17]],
    ['agent (substring, any case)', { agent: 'CODEX' }, [12, 13, 14, 15, 16, 17]],
    ['decision approved', { decision: 'approved' }, [7, 8, 15, 16]],
    ['decision rejected', { decision: 'rejected' }, [10]],
    ['decision automatic (policy)', { decision: 'automatic' }, [15, 16]],
    ['decision by a human', { decision: 'human' }, [7, 8, 10]],
    ['kind', { kind: 'command' }, [9, 10, 14, 15, 16]],
    ['event type prefix', { type: 'session.' }, [1, 11]],
    ['path', { path: 'GREET' }, [5, 6, 7, 8]],
    ['reviewer', { reviewer: 'alice@' }, [7, 8, 10]],
    ['reviewer (policy rule id)', { reviewer: 'allow-tests' }, [15, 16]],
    ['date range (whole days)', { since: '2026-03-02', until: '2026-03-02' }, [12, 13, 14, 15, 16, 17]],
    ['date-time bound', { until: '2026-03-01T10:00:03.000Z' }, [1, 2, 3]],
    ['full text, every word, any field', { text: 'Too DANGEROUS' }, [10]],
    ['full text in nested data', { text: 'farewell bye' }, [6]],
    ['filters combine', { sessionId: 'session-one', kind: 'edit', decision: 'approved' }, [7, 8]],
  ];
  for (const [name, query, seqs] of cases) {
    it(`filters by ${name}`, async () => {
      const { rows, matched } = await queryAuditLog(root, query);
      assert.deepEqual(
        rows.map((r) => r.seq),
        seqs,
      );
      assert.equal(matched, seqs.length);
    });
  }

  it('keeps the newest rows when limited, and still counts every match', async () => {
    const result = await queryAuditLog(root, {}, { limit: 3 });
    assert.deepEqual(
      result.rows.map((r) => r.seq),
      [15, 16, 17],
    );
    assert.equal(result.matched, 17);
  });

  it('rejects a date it cannot read instead of matching everything', async () => {
    await assert.rejects(queryAuditLog(root, { since: 'last tuesday' }), /Not a date/);
  });

  it('skips a broken line when reading, and reports it', async () => {
    await fs.appendFile(path.join(root, SEG1), '{"torn":');
    const result = await queryAuditLog(root);
    assert.equal(result.total, 17);
    assert.deepEqual(result.problems, [{ file: SEG1, line: 18, reason: 'torn last line (no newline)' }]);
  });

  it('exports JSON with the entries exactly as recorded and the verify report', async () => {
    const json = JSON.parse(await exportAuditJson(root, { sessionId: 'session-one' })) as AuditJsonExport;
    assert.equal(json.format, 'warden-audit-export');
    assert.equal(json.verify.ok, true);
    assert.equal(json.entries.length, 11);
    const lines = (await fs.readFile(path.join(root, SEG1), 'utf8')).split('\n');
    assert.equal(JSON.stringify(json.entries[0]), lines[0], 'same keys, same order, same values');
  });

  it('exports CSV with RFC 4180 quoting that round-trips commas, quotes and newlines', async () => {
    const csv = await exportAuditCsv(root);
    const rows = parseCsv(csv);
    const header = rows[0] ?? [];
    assert.equal(rows.length, 18);
    const col = (name: string): number => header.indexOf(name);
    const rejected = rows.find((r) => r[col('decision')] === 'reject' && r[col('type')] === 'decision');
    assert.equal(rejected?.[col('reason')], 'too dangerous, "obviously", no');
    const instruction = rows.find((r) => r[col('sessionId')] === 'session-two' && r[col('type')] === 'instruction');
    assert.deepEqual(JSON.parse(instruction?.[col('data')] ?? '{}'), { text: 'run the tests, then, fix "things"\nplease' });
    for (const r of rows) assert.equal(r.length, header.length);
  });

  it('neutralizes spreadsheet formulas in text fields but not numbers', () => {
    assert.equal(csvField('=cmd|calc'), "'=cmd|calc");
    assert.equal(csvField('@SUM(A1)'), "'@SUM(A1)");
    assert.equal(csvField(-1), '-1');
    assert.equal(csvField('a,"b"'), '"a,""b"""');
    assert.equal(csvField(null), '');
  });

  describe('OpenTelemetry', () => {
    let server: http.Server;
    let requests: Array<{ url: string; headers: http.IncomingHttpHeaders; body: unknown }>;
    let status: number;
    let endpoint: string;
    beforeEach(async () => {
      requests = [];
      status = 200;
      server = http.createServer((req, res) => {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString()));
        req.on('end', () => {
          requests.push({ url: req.url ?? '', headers: req.headers, body: JSON.parse(body) as unknown });
          res.writeHead(status, { 'content-type': 'application/json' }).end('{}');
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/logs`;
    });
    afterEach(async () => {
      await new Promise((resolve) => server.close(resolve));
    });

    it('sends OTLP/HTTP JSON log records in batches to the configured endpoint', async () => {
      const result = await exportAuditOtlp(root, { endpoint, batchSize: 10, headers: { 'x-api-key': 'k' } });
      assert.deepEqual([result.records, result.requests], [17, 2]);
      assert.equal(requests[0]?.url, '/v1/logs');
      assert.equal(requests[0]?.headers['content-type'], 'application/json');
      assert.equal(requests[0]?.headers['x-api-key'], 'k');
      type Body = {
        resourceLogs: Array<{
          resource: { attributes: Array<{ key: string; value: { stringValue: string } }> };
          scopeLogs: Array<{
            logRecords: Array<{
              timeUnixNano: string;
              severityText: string;
              body: { stringValue: string };
              attributes: Array<{ key: string; value: Record<string, unknown> }>;
            }>;
          }>;
        }>;
      };
      const body = requests[1]?.body as Body;
      assert.deepEqual(body.resourceLogs[0]?.resource.attributes[0], { key: 'service.name', value: { stringValue: 'warden' } });
      const records = body.resourceLogs[0]?.scopeLogs[0]?.logRecords ?? [];
      assert.equal(records.length, 7);
      const error = records.find((r) => r.attributes.some((a) => a.key === 'warden.event.type' && a.value.stringValue === 'error'));
      assert.equal(error?.severityText, 'ERROR');
      assert.equal(error?.timeUnixNano, String(BigInt(Date.parse('2026-03-02T10:00:06.000Z')) * 1_000_000n));
      const attr = (r: (typeof records)[number], key: string): unknown => r.attributes.find((a) => a.key === key)?.value;
      const decision = records.find((r) => JSON.stringify(attr(r, 'warden.event.type')) === JSON.stringify({ stringValue: 'decision' }));
      assert.deepEqual(decision && attr(decision, 'warden.decision.automatic'), { boolValue: true });
      assert.deepEqual(decision && attr(decision, 'warden.audit.seq'), { intValue: '15' });
    });

    it('sends only the entries that match the query', async () => {
      const result = await exportAuditOtlp(root, { endpoint, query: { decision: 'rejected' } });
      assert.deepEqual([result.records, result.requests], [1, 1]);
    });

    it('fails with the status when the collector refuses', async () => {
      status = 503;
      await assert.rejects(
        exportAuditOtlp(root, { endpoint }),
        (error: unknown) => error instanceof OtlpExportError && /503/.test(error.message),
      );
    });

    it('refuses an endpoint that is not http(s)', async () => {
      await assert.rejects(exportAuditOtlp(root, { endpoint: 'file:///etc/passwd' }), OtlpExportError);
    });
  });

  it('keeps hostile text as plain data', async () => {
    const { rows } = await queryAuditLog(root, { text: 'onerror' });
    assert.equal(rows.length, 1);
    assert.ok(rows[0]?.summary.includes(XSS));
  });
});

describe('audit anchors in git', function () {
  this.timeout(30_000);
  let root: string;
  const git = (...args: string[]): string => execFileSync('git', args, { cwd: root, encoding: 'utf8' });
  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'warden-audit-git-'));
    git('init', '-q', '-b', 'main');
    git('config', 'user.name', 'Test Lead');
    git('config', 'user.email', 'lead@example.com');
    git('config', 'commit.gpgsign', 'false');
    await fs.writeFile(path.join(root, 'README.md'), '# repo\n');
    git('add', 'README.md');
    git('commit', '-q', '-m', 'initial');
    await writeSampleAuditLog(root);
  });
  afterEach(async () => {
    await fs.rm(root, { recursive: true, force: true });
  });

  it('records the verified head of each chain in an anchor commit that carries the log, and verifies it', async () => {
    const { anchors, commit, text, report } = await anchorAuditHead(root);
    assert.deepEqual(
      anchors.map((a) => [a.chain, a.seq, a.hash, a.source]),
      [['legacy', 17, report.head, 'trailer']],
    );
    assert.equal(text, formatChainAnchor('legacy', 17, report.head ?? ''));
    assert.equal(git('rev-parse', 'HEAD').trim(), commit);
    assert.match(git('log', '-1', '--format=%B'), /^Warden-Audit-Chain: legacy 17 [0-9a-f]{64}$/m);
    assert.match(
      git('show', '--name-only', '--format=', 'HEAD'),
      /\.warden\/audit\/audit-000001\.jsonl/,
      'the log is in the anchor commit',
    );
    assert.equal(git('status', '--porcelain', '--', '.warden'), '', 'nothing of the log is left uncommitted');
    const check = await verifyAuditAnchors(root);
    assert.equal(check.ok, true);
    assert.equal(check.anchors.length, 1);
  });

  it('records the heads as a git note on HEAD with --note', async () => {
    const head = git('rev-parse', 'HEAD').trim();
    const { commit, report } = await anchorAuditHead(root, { mode: 'note' });
    assert.equal(commit, head, 'no commit is made');
    assert.match(git('notes', '--ref', 'refs/notes/warden-audit', 'show', 'HEAD'), /^Warden-Audit-Chain: legacy 17 [0-9a-f]{64}$/m);
    assert.equal(report.ok, true);
    const check = await verifyAuditAnchors(root);
    assert.deepEqual(
      check.anchors.map((a) => [a.anchor.source, a.ok]),
      [['note', true]],
    );
  });

  it('still reads a legacy Warden-Audit-Head note', async () => {
    const report = await verifyAuditLog(root);
    git('notes', '--ref', 'refs/notes/warden-audit', 'add', '-m', formatAnchorLine(report.headSeq, report.head ?? ''), 'HEAD');
    const check = await verifyAuditAnchors(root);
    assert.deepEqual(
      check.anchors.map((a) => [a.anchor.chain, a.anchor.seq, a.ok]),
      [['legacy', 17, true]],
    );
  });

  it('an anchor still holds after more entries are appended', async () => {
    await anchorAuditHead(root);
    await AuditLog.forWorkspace(root).append({
      sessionId: 's',
      actor: { kind: 'warden', id: 'warden' },
      type: 'instruction',
      data: { text: 'later' },
    });
    await anchorAuditHead(root);
    const check = await verifyAuditAnchors(root);
    assert.equal(check.ok, true);
    assert.deepEqual(
      check.anchors.map((a) => [a.anchor.chain, a.anchor.seq]),
      [
        ['legacy', 17],
        ['s', 1],
      ],
      'the new entry went to the chain of session s; the second anchor commit names only the chain it brings',
    );
  });

  it('detects a truncated tail that still verifies as a chain', async () => {
    await anchorAuditHead(root);
    const file = path.join(root, SEG1);
    const lines = (await fs.readFile(file, 'utf8')).split('\n').filter(Boolean);
    await fs.writeFile(
      file,
      lines
        .slice(0, 15)
        .map((l) => `${l}\n`)
        .join(''),
    );
    assert.equal((await verifyAuditLog(root)).ok, true, 'cutting the tail leaves a valid chain: only the anchor can tell');
    const check = await verifyAuditAnchors(root);
    assert.equal(check.ok, false);
    assert.match(
      check.firstFailure?.reason ?? '',
      /session chain legacy is referenced by commit [0-9a-f]{12} but its log is shorter: the trailer anchors seq 17, the log ends at seq 15/,
    );
  });

  it('detects a rewritten and re-chained tail', async () => {
    await anchorAuditHead(root);
    const file = path.join(root, SEG1);
    const lines = (await fs.readFile(file, 'utf8')).split('\n').filter(Boolean);
    await fs.writeFile(
      file,
      lines
        .slice(0, 16)
        .map((l) => `${l}\n`)
        .join(''),
    );
    // The attacker appends a different 17th entry through the real writer: a valid chain again.
    await AuditLog.forWorkspace(root, { chain: LEGACY_CHAIN }).append({
      sessionId: 'session-two',
      actor: { kind: 'warden', id: 'warden' },
      type: 'session.ended',
      data: { reason: 'all fine', wasOpen: true },
    });
    assert.equal((await verifyAuditLog(root)).ok, true);
    const check = await verifyAuditAnchors(root);
    assert.equal(check.ok, false);
    assert.match(check.firstFailure?.reason ?? '', /entry seq 17 .* was rewritten/);
  });

  it('reads anchors from commit trailers too', async () => {
    const report = await verifyAuditLog(root);
    git('commit', '-q', '--allow-empty', '-m', `checkpoint\n\n${formatAnchorLine(report.headSeq, report.head ?? '')}`);
    const check = await verifyAuditAnchors(root);
    assert.deepEqual(
      check.anchors.map((a) => [a.anchor.source, a.ok]),
      [['trailer', true]],
    );
  });

  it('checks the entries agent commits name in Warden-Audit trailers', async () => {
    const { rows } = await queryAuditLog(root, { type: 'edit.applied' });
    const applied = rows[0]?.hash ?? '';
    git(
      'commit',
      '-q',
      '--allow-empty',
      '-m',
      `Agent: farewell\n\nApproved-by: Alice\nWarden-Audit: ${applied}\nWarden-Session: session-one`,
    );
    let check = await verifyAuditAnchors(root);
    assert.deepEqual(
      check.anchors.map((a) => [a.anchor.source, a.anchor.seq, a.ok]),
      [['commit-entry', null, true]],
    );
    assert.equal(check.ok, true);

    git('commit', '-q', '--allow-empty', '-m', `Agent: more\n\nWarden-Audit: ${'ab'.repeat(32)}`);
    check = await verifyAuditAnchors(root);
    assert.equal(check.ok, false);
    assert.match(check.firstFailure?.reason ?? '', /carries audit entry abababababab .* no longer in the log/);
  });

  it('refuses to anchor a broken log', async () => {
    await fs.appendFile(path.join(root, SEG1), '{"torn":');
    await assert.rejects(anchorAuditHead(root), AuditAnchorError);
  });
});

describe('audit repair', () => {
  let root: string;
  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'warden-audit-repair-'));
    await writeSampleAuditLog(root);
  });
  afterEach(async () => {
    await fs.rm(root, { recursive: true, force: true });
  });

  it('moves a torn last line to a side file and records audit.repaired', async () => {
    await fs.appendFile(path.join(root, SEG1), '{"v":1,"seq":18,"ti');
    const result = await repairAuditLog(root, { actor: { kind: 'human', id: 'lead@example.com', name: 'Lead' } });
    assert.equal(result.before.ok, false);
    assert.equal(result.repaired, true, result.message);
    assert.equal(result.after.ok, true);
    assert.equal(result.after.entries, 18);
    assert.equal(await fs.readFile(path.join(root, result.torn?.savedTo ?? ''), 'utf8'), '{"v":1,"seq":18,"ti');
    const { rows } = await queryAuditLog(root, { type: 'audit.repaired' });
    assert.equal(rows.length, 1);
    assert.equal(rows[0]?.actorKind, 'human');
    const last = (await fs.readFile(path.join(root, SEG1), 'utf8')).trimEnd().split('\n').at(-1) ?? '';
    assert.match(last, /"type":"audit.repaired".*"line":18.*"bytes":19/);
  });

  it('changes nothing when the log verifies', async () => {
    const before = await fs.readFile(path.join(root, SEG1));
    const result = await repairAuditLog(root);
    assert.equal(result.repaired, false);
    assert.deepEqual(await fs.readFile(path.join(root, SEG1)), before);
  });

  it('never "repairs" a break that is not a torn tail (possible tampering)', async () => {
    const file = path.join(root, SEG1);
    const lines = (await fs.readFile(file, 'utf8')).split('\n').filter(Boolean);
    lines[3] = (lines[3] ?? '').replace('farewell', 'goodbye');
    const tampered = `${lines.join('\n')}\n{"torn`;
    await fs.writeFile(file, tampered);
    const result = await repairAuditLog(root);
    assert.equal(result.repaired, false);
    assert.match(result.message, /not a torn last line/);
    assert.equal(await fs.readFile(file, 'utf8'), tampered);
  });
});

describe('audit diff sides', () => {
  const lines = Array.from({ length: 40 }, (_, i) => `line ${i + 1}`);
  const oldText = `${lines.join('\n')}\n`;
  const edited = [...lines];
  edited[4] = 'changed 5';
  edited[30] = 'changed 31';
  const newText = `${edited.join('\n')}\n`;
  const diff = unifiedDiff('f.txt', oldText, newText);
  const hashes = { baseHash: sha256Hex(oldText), newHash: sha256Hex(newText) };

  it('rebuilds the whole old file from the applied new one (reverse patch), checked by hash', () => {
    const sides = diffSides(diff, { current: newText, ...hashes });
    assert.deepEqual([sides.completeness, sides.oldText, sides.newText], ['full', oldText, newText]);
  });

  it('rebuilds the whole new file from the unchanged base (forward patch)', () => {
    const sides = diffSides(diff, { current: oldText, ...hashes });
    assert.deepEqual([sides.completeness, sides.oldText, sides.newText], ['full', oldText, newText]);
  });

  it('rebuilds a created file from the diff alone', () => {
    const sides = diffSides(unifiedDiff('n.txt', null, 'a\nb\n'), { current: null, baseHash: null, newHash: sha256Hex('a\nb\n') });
    assert.deepEqual([sides.completeness, sides.oldText, sides.newText], ['full', '', 'a\nb\n']);
  });

  it('falls back to the recorded hunks when the file changed since, marking the gaps', () => {
    const sides = diffSides(diff, { current: 'something else', ...hashes });
    assert.equal(sides.completeness, 'excerpt');
    assert.match(sides.oldText, /^⋯ lines 1–1 not recorded/);
    assert.match(sides.oldText, /line 5\n/);
    assert.match(sides.newText, /changed 5\n[\s\S]*⋯ lines 9–27 not recorded[\s\S]*changed 31/);
  });

  it('opens a proposal entry of the log against the workspace file', async () => {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), 'warden-audit-diff-'));
    try {
      await writeSampleAuditLog(root);
      await fs.mkdir(path.join(root, 'src'));
      await fs.writeFile(path.join(root, 'src/greet.js'), NEW_GREET);
      const sides = await auditDiffSides(root, 6);
      assert.deepEqual([sides.path, sides.completeness, sides.oldText, sides.newText], ['src/greet.js', 'full', OLD_GREET, NEW_GREET]);
      await assert.rejects(auditDiffSides(root, 7), /records no diff/);
    } finally {
      await fs.rm(root, { recursive: true, force: true });
    }
  });
});

/** Messages the Audit panel's webview receives, built small and valid (the contract parses them). */
import type {
  AuditBlameMessage,
  AuditRowView,
  AuditSessionView,
  AuditStateMessage,
  VerifyStatusView,
} from '../../../src/shared/auditProtocol';

export const hash = (n: number): string => n.toString(16).padStart(64, '0');

export function row(seq: number, over: Partial<AuditRowView> = {}): AuditRowView {
  return {
    seq,
    time: `2026-12-01T10:00:${String(seq % 60).padStart(2, '0')}.000Z`,
    sessionId: 's-20261201100000-0000000a',
    type: 'proposal',
    actorKind: 'agent',
    actorId: 'demo',
    actorName: null,
    agent: 'demo',
    kind: 'edit',
    path: 'src/a.js',
    commandLine: null,
    decision: null,
    automatic: null,
    reviewer: null,
    ruleId: null,
    reason: null,
    exitCode: null,
    summary: `Proposal ${seq}`,
    hasDiff: true,
    file: '.warden/audit/sessions/s.jsonl',
    line: seq,
    hash: hash(seq),
    detail: `{ "seq": ${seq} }`,
    ...over,
  };
}

export function session(id: string, over: Partial<AuditSessionView> = {}): AuditSessionView {
  return {
    sessionId: id,
    start: '2026-12-01T10:00:00.000Z',
    end: '2026-12-01T10:05:00.000Z',
    agent: 'demo',
    developer: 'Ada <ada@example.com>',
    chains: [id],
    commits: [],
    instruction: `work of ${id}`,
    entries: 10,
    proposals: 3,
    asks: 1,
    approved: 2,
    rejected: 1,
    automatic: 1,
    errors: 0,
    ended: 'completed',
    ...over,
  };
}

export function verify(over: Partial<VerifyStatusView> = {}): VerifyStatusView {
  return {
    ok: true,
    entries: 17,
    segments: 1,
    headSeq: 17,
    head: 'ab'.repeat(32),
    message: 'Chain intact: 17 entries in 1 segment',
    chains: [{ chain: 'session-one', ok: true, entries: 17, headSeq: 17 }],
    anchorFailures: [],
    repairable: false,
    anchors: { count: 0, ok: true, message: 'No git anchors.' },
    checkedAt: '2026-12-01T10:00:00.000Z',
    ...over,
  };
}

export function state(over: Partial<AuditStateMessage> = {}): AuditStateMessage {
  const rows = over.rows ?? [3, 2, 1].map((seq) => row(seq));
  return {
    type: 'state',
    filters: {},
    verify: verify(),
    rows,
    matched: rows.length,
    total: rows.length,
    limit: 500,
    sessions: [session('s-20261201100000-0000000a', { commits: ['c'.repeat(40)] })],
    sessionsTotal: 1,
    byDeveloper: [
      {
        key: 'Ada <ada@example.com>',
        sessions: 1,
        asks: 1,
        approvals: 2,
        rejections: 1,
        automatic: 1,
        medianDecideMs: 1500,
        p90DecideMs: 240_000,
      },
    ],
    byAgent: [{ key: 'demo', sessions: 1, asks: 1, approvals: 2, rejections: 1, automatic: 1, medianDecideMs: null, p90DecideMs: null }],
    facets: {
      agents: ['demo', 'codex'],
      kinds: ['edit', 'command'],
      types: ['proposal', 'decision'],
      reviewers: ['Ada'],
      developers: ['Ada <ada@example.com>', 'Bob <bob@example.com>'],
      rules: ['allow-tests'],
    },
    problems: 0,
    otlpConfigured: false,
    ...over,
  };
}

export function blame(over: Partial<AuditBlameMessage> = {}): AuditBlameMessage {
  return {
    type: 'blame',
    target: 'HEAD',
    commits: [
      {
        commit: 'c'.repeat(40),
        subject: 'Add a farewell function',
        author: 'Alice <alice@example.com>',
        time: '2026-12-01T11:00:00Z',
        sessions: ['session-one'],
        approvedBy: ['Alice <alice@example.com>'],
      },
    ],
    files: [
      {
        path: 'src/greet.js',
        lines: 7,
        attributed: 6,
        sessions: ['session-one'],
        ranges: [
          { start: 6, end: 11, commit: 'c'.repeat(40), approval: 0, linked: true, firstLine: '/** Says goodbye. */' },
          { start: 12, end: 12, commit: 'c'.repeat(40), approval: null, linked: false, firstLine: '// checked by hand' },
        ],
      },
    ],
    approvals: [
      {
        id: 0,
        sessionId: 'session-one',
        proposalId: 'p-1',
        approvedBy: 'Alice <alice@example.com>',
        ruleId: 'review-src',
        automatic: false,
        decidedAt: '2026-12-01T10:59:00Z',
        agent: 'demo',
        developer: 'Alice <alice@example.com>',
      },
    ],
    omittedRanges: 0,
    ...over,
  };
}

import { queryAuditRows, type AuditQuery, type AuditRow } from './query';
import type { AuditEntry, VerifyReport } from './types';
import { verifyAuditLog } from './verify';

/**
 * Exports of the audit log: JSON (the entries exactly as recorded, plus the verify report),
 * CSV (one flattened row per entry, RFC 4180 quoting) and OpenTelemetry logs (OTLP/HTTP JSON).
 * All of them stream the log; the JSON and CSV builders return one string.
 */

export interface AuditJsonExport {
  format: 'warden-audit-export';
  version: 1;
  exportedAt: string;
  /** The chain's verify result at export time: a reader knows whether to trust the entries. */
  verify: VerifyReport;
  query: AuditQuery;
  /** Entries exactly as recorded (with `prev`), in log order. */
  entries: AuditEntry[];
}

export async function exportAuditJson(workspaceRoot: string, query: AuditQuery = {}): Promise<string> {
  const verify = await verifyAuditLog(workspaceRoot);
  const entries: AuditEntry[] = [];
  for await (const { entry } of queryAuditRows(workspaceRoot, query)) entries.push(entry);
  const out: AuditJsonExport = { format: 'warden-audit-export', version: 1, exportedAt: new Date().toISOString(), verify, query, entries };
  return `${JSON.stringify(out, null, 2)}\n`;
}

/** CSV columns, in order: flattened fields first, then the full `data` as JSON. */
export const AUDIT_CSV_COLUMNS = [
  'seq',
  'time',
  'sessionId',
  'type',
  'actorKind',
  'actorId',
  'actorName',
  'actorEmail',
  'agent',
  'proposalId',
  'kind',
  'path',
  'commandLine',
  'cwd',
  'decision',
  'automatic',
  'reviewer',
  'ruleId',
  'reason',
  'exitCode',
  'outputHash',
  'diffHash',
  'contentHash',
  'summary',
  'file',
  'line',
  'hash',
  'prev',
  'data',
] as const satisfies ReadonlyArray<keyof AuditRow | 'data'>;

/**
 * One CSV field: quoted when it holds a comma, quote, CR or LF (quotes doubled), per RFC 4180.
 * Text that a spreadsheet would run as a formula (leading = + - @, tab or CR) gets a leading
 * apostrophe: agent-controlled text must not become a formula on a lead's machine.
 */
export function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text =
    typeof value === 'string'
      ? value
      : typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint'
        ? value.toString()
        : (JSON.stringify(value) ?? '');
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function auditCsvLine(row: AuditRow, entry: AuditEntry): string {
  return AUDIT_CSV_COLUMNS.map((column) => csvField(column === 'data' ? JSON.stringify(entry.data) : row[column])).join(',');
}

/** Header plus one row per matching entry, CRLF line ends (RFC 4180). */
export async function exportAuditCsv(workspaceRoot: string, query: AuditQuery = {}): Promise<string> {
  const lines = [AUDIT_CSV_COLUMNS.join(',')];
  for await (const { row, entry } of queryAuditRows(workspaceRoot, query)) lines.push(auditCsvLine(row, entry));
  return `${lines.join('\r\n')}\r\n`;
}

// ---------------------------------------------------------------- OpenTelemetry

export interface OtlpExportOptions {
  /** Full OTLP/HTTP logs URL, e.g. http://collector:4318/v1/logs. */
  endpoint: string;
  /** Extra request headers (e.g. an API key header for the collector). */
  headers?: Record<string, string>;
  query?: AuditQuery;
  /** Log records per request. Default 500. */
  batchSize?: number;
  /** `service.name` resource attribute. Default `warden`. */
  serviceName?: string;
  /** Per-request timeout (ms). Default 15 s. */
  timeoutMs?: number;
}

export interface OtlpExportResult {
  records: number;
  requests: number;
  endpoint: string;
}

type OtlpValue = { stringValue: string } | { intValue: string } | { boolValue: boolean };
interface OtlpAttribute {
  key: string;
  value: OtlpValue;
}

export interface OtlpLogRecord {
  timeUnixNano: string;
  observedTimeUnixNano: string;
  severityNumber: number;
  severityText: string;
  body: { stringValue: string };
  attributes: OtlpAttribute[];
}

/** OTel severity: ERROR (17) for errors and failures, WARN (13) for rejections and refusals, INFO (9) otherwise. */
function severity(row: AuditRow): { severityNumber: number; severityText: string } {
  if (row.type === 'error' || row.type.endsWith('.failed') || row.type === 'edit.mismatch')
    return { severityNumber: 17, severityText: 'ERROR' };
  if (row.type === 'refused' || row.type === 'edit.stale' || (row.type === 'decision' && row.decision === 'reject'))
    return { severityNumber: 13, severityText: 'WARN' };
  return { severityNumber: 9, severityText: 'INFO' };
}

function nanos(iso: string): string {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? '0' : (BigInt(ms) * 1_000_000n).toString();
}

/** One audit entry as an OTLP LogRecord (JSON encoding: 64-bit integers as strings). */
export function toOtlpLogRecord(row: AuditRow, entry: AuditEntry, observedAt = new Date()): OtlpLogRecord {
  const attributes: OtlpAttribute[] = [];
  const add = (key: string, value: string | number | boolean | null): void => {
    if (value === null) return;
    if (typeof value === 'number')
      attributes.push({ key, value: Number.isInteger(value) ? { intValue: String(value) } : { stringValue: String(value) } });
    else if (typeof value === 'boolean') attributes.push({ key, value: { boolValue: value } });
    else attributes.push({ key, value: { stringValue: value } });
  };
  add('event.name', `warden.audit.${row.type}`);
  add('warden.audit.seq', row.seq);
  add('warden.audit.hash', row.hash);
  add('warden.audit.prev', row.prev);
  add('warden.session.id', row.sessionId);
  add('warden.event.type', row.type);
  add('warden.actor.kind', row.actorKind);
  add('warden.actor.id', row.actorId);
  add('warden.actor.name', row.actorName);
  add('warden.actor.email', row.actorEmail);
  add('warden.agent', row.agent);
  add('warden.proposal.id', row.proposalId);
  add('warden.proposal.kind', row.kind);
  add('warden.proposal.path', row.path);
  add('warden.proposal.command_line', row.commandLine);
  add('warden.proposal.cwd', row.cwd);
  add('warden.decision', row.decision);
  add('warden.decision.automatic', row.automatic);
  add('warden.decision.reviewer', row.reviewer);
  add('warden.decision.rule_id', row.ruleId);
  add('warden.result.exit_code', row.exitCode);
  add('warden.result.output_hash', row.outputHash);
  add('warden.audit.data', JSON.stringify(entry.data));
  return {
    timeUnixNano: nanos(row.time),
    observedTimeUnixNano: nanos(observedAt.toISOString()),
    ...severity(row),
    body: { stringValue: row.summary },
    attributes,
  };
}

/** The ExportLogsServiceRequest body for a batch of records. */
export function otlpLogsRequest(records: OtlpLogRecord[], serviceName = 'warden'): unknown {
  return {
    resourceLogs: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: serviceName } }] },
        scopeLogs: [{ scope: { name: 'warden.audit', version: '1' }, logRecords: records }],
      },
    ],
  };
}

export class OtlpExportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OtlpExportError';
  }
}

/** Sends matching entries to an OTLP/HTTP logs endpoint in batches; stops at the first failed request. */
export async function exportAuditOtlp(workspaceRoot: string, options: OtlpExportOptions): Promise<OtlpExportResult> {
  let url: URL;
  try {
    url = new URL(options.endpoint);
  } catch {
    throw new OtlpExportError(`The OpenTelemetry endpoint is not a URL: ${options.endpoint}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new OtlpExportError(`The OpenTelemetry endpoint must be http(s): ${options.endpoint}`);
  const batchSize = Math.max(1, options.batchSize ?? 500);
  const result: OtlpExportResult = { records: 0, requests: 0, endpoint: url.toString() };
  let batch: OtlpLogRecord[] = [];
  const send = async (): Promise<void> => {
    if (batch.length === 0) return;
    const body = JSON.stringify(otlpLogsRequest(batch, options.serviceName));
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { ...options.headers, 'content-type': 'application/json' },
        body,
        signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
      });
    } catch (error) {
      throw new OtlpExportError(
        `Sending audit logs to ${url.origin} failed after ${result.records} records: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    const text = await response.text().catch(() => '');
    if (!response.ok)
      throw new OtlpExportError(
        `The OpenTelemetry endpoint answered ${response.status} ${response.statusText} after ${result.records} records: ${text.slice(0, 300)}`,
      );
    result.records += batch.length;
    result.requests++;
    batch = [];
  };
  for await (const { row, entry } of queryAuditRows(workspaceRoot, options.query)) {
    batch.push(toOtlpLogRecord(row, entry));
    if (batch.length >= batchSize) await send();
  }
  await send();
  return result;
}

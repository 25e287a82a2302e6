export type { AuditActor, AuditEntry, AuditEventInput, ChainVerifyReport, VerifyBreak, VerifyReport } from './types';
export { LEGACY_CHAIN, SESSIONS_DIR, chainDir, chainIdForSession, listAllSegments, listChains, writerChainId, type Chain } from './chains';
export { AuditLog, AuditLogCorruptError, AuditSchemaError, redactSecrets, type AuditLogOptions, type AuditSchemaCheck } from './auditLog';
export {
  AUDIT_EVENTS,
  AUDIT_EVENT_TYPES,
  LEGACY_DATA_KEYS,
  SCHEMA_PROBLEM_KEY,
  auditEvent,
  auditEventProblem,
  isAuditEventType,
  normalizeAuditData,
  readAuditEvent,
} from './events';
export type {
  AuditDataOf,
  AuditEntryOf,
  AuditEvent,
  AuditEventOf,
  AuditEventType,
  AuditEventView,
  RecordedEvent,
  AuditReadDataOf,
  Lenient,
} from './events';
export { AuditLockTimeoutError } from './lock';
export {
  redactString,
  configureAuditRedaction,
  compileRedaction,
  RedactionConfigError,
  MIN_SECRET_VALUE_LENGTH,
  type RedactionConfig,
} from './redact';
export { AUDIT_DIR, GENESIS_PREV, listSegments, segmentName, type Segment } from './segments';
export { auditEntrySchema, formatChainReports, formatVerifyReport, summarizeChains, verifyAuditLog, verifyChain } from './verify';
export {
  readAuditLog,
  readChainRecords,
  queryAuditLog,
  parseDateBound,
  queryAuditRows,
  auditRowFilter,
  findAuditEntry,
  AuditRowBuilder,
} from './query';
export type {
  AuditRecord,
  AuditReadProblem,
  AuditRow,
  AuditQuery,
  AuditQueryOptions,
  AuditQueryResult,
  AuditSessionSummary,
} from './query';
export {
  exportAuditJson,
  exportAuditCsv,
  exportAuditOtlp,
  csvField,
  toOtlpLogRecord,
  otlpLogsRequest,
  OtlpExportError,
  AUDIT_CSV_COLUMNS,
} from './export';
export type { AuditJsonExport, OtlpExportOptions, OtlpExportResult, OtlpLogRecord } from './export';
export {
  anchorAuditHead,
  verifyAuditAnchors,
  listAuditAnchors,
  formatAnchorReport,
  formatAnchorLine,
  formatChainAnchor,
  chainAnchorLines,
  AUDIT_CHAIN_TRAILER,
  parseAnchorLines,
  AuditAnchorError,
  AUDIT_NOTES_REF,
  AUDIT_TRAILER,
  AUDIT_ENTRY_TRAILER,
} from './anchor';
export type { AuditAnchor, AnchorMode, AnchorResult, AnchorCheck, AnchorVerifyReport } from './anchor';
export { repairAuditLog } from './repair';
export type { RepairResult, RepairOptions, TornTail } from './repair';
export { auditDiffSides, diffSides, AuditDiffError, type AuditDiffSides } from './diffSides';
export { sessionDigests, filterSessions, summarizeBy, median, percentile, SessionDigester } from './team';
export { parseCommitLog, readCommitLinks, sessionCommitsFromGit, AuditGitError, type CommitLinks } from './gitLinks';
export type { SessionDigest, SessionDecision, GroupSummary, SessionFilter } from './team';
export { auditReport, formatReportMarkdown, AuditReportError } from './report';
export type { PrReport, ReportCommit } from './report';
export { auditBlame, fileAuditBlame, attributeLines } from './blame';
export { defaultBlameTarget } from './blameTarget';
export { parseAddedLines, parseBlamePorcelain } from './gitOutput';
export type { AuditBlame, BlameApproval, BlameCommit, BlameFile, BlameLine } from './blame';
export { formatBlameText, formatBlameLine, formatBlameMarkdown } from './blameFormat';
export { approvedEdits, addedLinesByHunk, type ApprovedEdit } from './editLines';
export { resumableSessions, type ResumableSession } from './resumable';

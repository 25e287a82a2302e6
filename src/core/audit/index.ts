export type { AuditActor, AuditEntry, AuditEventInput, VerifyBreak, VerifyReport } from './types';
export { AuditLog, AuditLogCorruptError, redactSecrets, type AuditLogOptions } from './auditLog';
export { AuditLockTimeoutError } from './lock';
export { redactString } from './redact';
export { AUDIT_DIR, GENESIS_PREV, listSegments, segmentName, type Segment } from './segments';
export { auditEntrySchema, formatVerifyReport, verifyAuditLog } from './verify';

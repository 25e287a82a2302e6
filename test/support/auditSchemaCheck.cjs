// Loaded by .mocharc.json before every test file: audit events that do not match the catalog
// (src/core/audit/events.ts) throw in tests instead of being written with a note, so a writer
// that drifts from the catalog fails its test. Child processes (the CLI, writers) inherit it.
process.env.WARDEN_AUDIT_SCHEMA_CHECK ??= 'throw';

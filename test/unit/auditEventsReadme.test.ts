import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { AUDIT_EVENT_TYPES } from '../../src/core/audit/events';
import { auditEventsTable, TABLE_END, TABLE_START, withAuditEventsTable } from '../../scripts/audit-events-table';

const README = readFileSync(path.resolve(__dirname, '../../README.md'), 'utf8');

describe("the README's audit event table", () => {
  it('is the one generated from the catalog (run: npx tsx scripts/audit-events-table.ts --write)', () => {
    assert.equal(withAuditEventsTable(README), README);
  });

  it('lists exactly the catalog types, once each', () => {
    const section = README.slice(README.indexOf(TABLE_START), README.indexOf(TABLE_END));
    const listed = [...section.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]).filter((t) => t !== 'type');
    assert.deepEqual(listed, [...AUDIT_EVENT_TYPES]);
    assert.equal(auditEventsTable().split('\n').length, AUDIT_EVENT_TYPES.length + 2);
  });
});

import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { exportAuditCsv, exportAuditJson, formatAnchorReport, formatVerifyReport, verifyAuditAnchors } from '../core/audit';
import type { ParsedCommand } from './args';
import { EXIT } from './exitCodes';
import { workspaceDir, type CliIO } from './io';

type AuditArgs = Extract<ParsedCommand, { command: 'audit verify' | 'audit export' }>;

export async function auditCommand(args: AuditArgs, io: CliIO): Promise<number> {
  const workspace = await workspaceDir(io, args.workspace);
  if (args.command === 'audit verify') {
    const report = await verifyAuditAnchors(workspace);
    if (args.json) io.stdout(`${JSON.stringify({ workspace, ...report })}\n`);
    else io.stdout(`${formatVerifyReport(report.chain)}\n${formatAnchorReport(report)}\n`);
    if (report.ok) return EXIT.ok;
    const reason = report.chain.firstBreak
      ? `${report.chain.firstBreak.file}:${report.chain.firstBreak.line}: ${report.chain.firstBreak.reason}`
      : (report.firstFailure?.reason ?? 'the log does not verify');
    io.stderr(`warden: the audit log of ${workspace} does not verify: ${reason}\n`);
    return EXIT.audit;
  }
  const text = args.format === 'json' ? await exportAuditJson(workspace) : await exportAuditCsv(workspace);
  if (args.output !== undefined) await fs.writeFile(path.resolve(io.cwd, args.output), text);
  else io.stdout(text);
  return EXIT.ok;
}

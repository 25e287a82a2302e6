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
    const lines = [
      ...report.chain.chains
        .filter((c) => !c.ok && c.firstBreak)
        .map((c) => `audit chain ${c.chain} does not verify: ${c.firstBreak?.file}:${c.firstBreak?.line}: ${c.firstBreak?.reason}`),
      ...report.anchors.filter((a) => !a.ok).map((a) => a.reason ?? 'an anchor failed'),
    ];
    io.stderr(lines.map((l) => `warden: ${l}\n`).join(''));
    return EXIT.audit;
  }
  const text = args.format === 'json' ? await exportAuditJson(workspace) : await exportAuditCsv(workspace);
  if (args.output !== undefined) await fs.writeFile(path.resolve(io.cwd, args.output), text);
  else io.stdout(text);
  return EXIT.ok;
}

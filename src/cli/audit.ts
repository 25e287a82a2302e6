import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import {
  AuditAnchorError,
  AuditGitError,
  auditBlame,
  fileAuditBlame,
  formatBlameText,
  AuditReportError,
  anchorAuditHead,
  auditReport,
  exportAuditCsv,
  exportAuditJson,
  formatAnchorReport,
  formatChainReports,
  formatReportMarkdown,
  formatVerifyReport,
  verifyAuditAnchors,
} from '../core/audit';
import type { ParsedCommand } from './args';
import { EXIT } from './exitCodes';
import { workspaceDir, type CliIO } from './io';

type AuditArgs = Extract<ParsedCommand, { command: 'audit verify' | 'audit export' | 'audit anchor' | 'audit report' | 'audit blame' }>;

export async function auditCommand(args: AuditArgs, io: CliIO): Promise<number> {
  const workspace = await workspaceDir(io, args.workspace);
  switch (args.command) {
    case 'audit verify':
      return verify(workspace, args.json, io);
    case 'audit anchor':
      return anchor(workspace, args, io);
    case 'audit report':
      return report(workspace, args, io);
    case 'audit blame':
      return blame(workspace, args, io);
    case 'audit export': {
      const text = args.format === 'json' ? await exportAuditJson(workspace) : await exportAuditCsv(workspace);
      if (args.output !== undefined) await fs.writeFile(path.resolve(io.cwd, args.output), text);
      else io.stdout(text);
      return EXIT.ok;
    }
  }
}

/** Every chain on its own line, then the anchors; stderr names each broken chain and failed anchor. */
async function verify(workspace: string, json: boolean, io: CliIO): Promise<number> {
  const report = await verifyAuditAnchors(workspace);
  const { chain } = report;
  if (json) {
    io.stdout(
      `${JSON.stringify({
        workspace,
        ok: report.ok,
        entries: chain.entries,
        segments: chain.segments,
        chains: chain.chains,
        anchors: report.anchors,
        ...(chain.firstBreak ? { firstBreak: chain.firstBreak } : {}),
        ...(report.firstFailure ? { firstFailure: report.firstFailure } : {}),
      })}\n`,
    );
  } else {
    io.stdout(`${[formatVerifyReport(chain), ...formatChainReports(chain), formatAnchorReport(report)].join('\n')}\n`);
  }
  if (report.ok) return EXIT.ok;
  const lines = [
    ...chain.chains
      .filter((c) => !c.ok && c.firstBreak)
      .map((c) => `audit chain ${c.chain} does not verify: ${c.firstBreak?.file}:${c.firstBreak?.line}: ${c.firstBreak?.reason}`),
    ...report.anchors.filter((a) => !a.ok).map((a) => a.reason ?? 'an anchor failed'),
  ];
  io.stderr(lines.map((l) => `warden: ${l}\n`).join(''));
  return EXIT.audit;
}

async function anchor(workspace: string, args: { note: boolean; json: boolean }, io: CliIO): Promise<number> {
  try {
    const result = await anchorAuditHead(workspace, { mode: args.note ? 'note' : 'commit' });
    if (args.json) io.stdout(`${JSON.stringify({ workspace, ...result })}\n`);
    else {
      const where = result.mode === 'note' ? `a git note (refs/notes/warden-audit) on ${result.commit}` : `commit ${result.commit}`;
      io.stdout(`Anchored ${result.anchors.length} audit chain(s) in ${where}:\n${result.text}\n`);
      if (result.skipped.length > 0) io.stdout(`Not anchored (broken): ${result.skipped.join(', ')}\n`);
    }
    return EXIT.ok;
  } catch (error) {
    if (!(error instanceof AuditAnchorError)) throw error;
    io.stderr(`warden: ${error.message}\n`);
    return EXIT.audit;
  }
}

async function report(workspace: string, args: { range: string; json: boolean }, io: CliIO): Promise<number> {
  try {
    const result = await auditReport(workspace, args.range);
    io.stdout(args.json ? `${JSON.stringify({ workspace, ...result })}\n` : formatReportMarkdown(result));
    return result.ok ? EXIT.ok : EXIT.audit;
  } catch (error) {
    if (!(error instanceof AuditReportError)) throw error;
    io.stderr(`warden: ${error.message}\n`);
    return EXIT.audit;
  }
}

async function blame(workspace: string, args: { target: string; file?: string; json: boolean }, io: CliIO): Promise<number> {
  try {
    const result =
      args.file !== undefined
        ? await fileAuditBlame(workspace, args.file, args.target === '.' ? undefined : args.target)
        : await auditBlame(workspace, args.target);
    io.stdout(args.json ? `${JSON.stringify({ workspace, ...result })}\n` : formatBlameText(result));
    return EXIT.ok;
  } catch (error) {
    if (!(error instanceof AuditGitError)) throw error;
    io.stderr(`warden: ${error.message}\n`);
    return EXIT.usage;
  }
}

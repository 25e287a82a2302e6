import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import {
  checkExamples,
  evaluateCommand,
  evaluatePath,
  loadPolicyText,
  mergePolicies,
  TEAM_POLICY_PATH,
  type EffectivePolicy,
  type PolicyProblem,
} from '../core/policy';
import type { ParsedCommand } from './args';
import { CliError, EXIT } from './exitCodes';
import { workspaceDir, type CliIO } from './io';

type PolicyArgs = Extract<ParsedCommand, { command: 'policy check' | 'policy test' | 'policy explain' }>;

/** `FILE:LINE:COLUMN: message`, the form editors and CI annotations understand. */
export function policyProblemLine(file: string, problem: PolicyProblem): string {
  return `${file}:${problem.line}:${problem.column}: ${problem.message}`;
}

interface LoadedPolicyFile {
  file: string;
  problems: PolicyProblem[];
  policy?: EffectivePolicy;
}

/** Loads one policy file with the policy core's loader; a missing file is a policy failure. */
async function loadPolicyFile(args: PolicyArgs, io: CliIO): Promise<LoadedPolicyFile> {
  const file =
    args.file !== undefined
      ? path.resolve(io.cwd, args.file)
      : path.join(await workspaceDir(io, args.workspace), ...TEAM_POLICY_PATH.split('/'));
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // explain without a file: what Warden decides with no policy at all (the defaults).
    if (code === 'ENOENT' && args.command === 'policy explain' && args.file === undefined) {
      return { file: `${file} (absent: the defaults)`, problems: [], policy: mergePolicies({ team: { status: 'absent' } }) };
    }
    throw new CliError(
      code === 'ENOENT' ? `no policy file at ${file}` : `cannot read the policy ${file}: ${(error as Error).message}`,
      EXIT.policy,
    );
  }
  const loaded = loadPolicyText(text);
  if (!loaded.ok) return { file, problems: loaded.problems };
  return { file, problems: [], policy: mergePolicies({ team: { status: 'loaded', policy: loaded.value }, teamOrigin: file }) };
}

/** Prints the problems of an invalid file (one line each) and says so; undefined when valid. */
function reportInvalid(loaded: LoadedPolicyFile, io: CliIO, json: boolean): number | undefined {
  if (loaded.policy) return undefined;
  if (json) io.stdout(`${JSON.stringify({ file: loaded.file, valid: false, problems: loaded.problems })}\n`);
  for (const problem of loaded.problems) io.stderr(`${policyProblemLine(loaded.file, problem)}\n`);
  io.stderr(`warden: the policy ${loaded.file} is invalid (${loaded.problems.length} problem${loaded.problems.length === 1 ? '' : 's'})\n`);
  return EXIT.policy;
}

export async function policyCommand(args: PolicyArgs, io: CliIO): Promise<number> {
  const loaded = await loadPolicyFile(args, io);
  const invalid = reportInvalid(loaded, io, args.json);
  if (invalid !== undefined) return invalid;
  const policy = loaded.policy!;
  switch (args.command) {
    case 'policy check': {
      const summary = {
        file: loaded.file,
        valid: true,
        rules: { paths: policy.paths.length, commands: policy.commands.length, overrides: policy.overrides.length },
        examples: policy.examples.length,
      };
      io.stdout(
        args.json
          ? `${JSON.stringify(summary)}\n`
          : `${loaded.file} is valid: ${summary.rules.paths} path rules, ${summary.rules.commands} command rules, ${summary.rules.overrides} overrides, ${summary.examples} examples\n`,
      );
      return EXIT.ok;
    }
    case 'policy test': {
      const results = checkExamples(policy);
      const failed = results.filter((r) => !r.pass);
      if (args.json) {
        io.stdout(
          `${JSON.stringify({ file: loaded.file, passed: results.length - failed.length, failed: failed.length, results: results.map((r) => ({ example: r.example, pass: r.pass, decision: r.actual.decision, ruleId: r.actual.ruleId, reason: r.actual.reason })) })}\n`,
        );
      } else {
        for (const r of results) io.stdout(`${r.pass ? 'ok  ' : 'FAIL'} ${r.message}\n`);
        io.stdout(
          results.length === 0
            ? `${loaded.file} has no examples to test\n`
            : `${results.length - failed.length} passed, ${failed.length} failed\n`,
        );
      }
      if (failed.length > 0) {
        io.stderr(`warden: ${failed.length} policy example${failed.length === 1 ? '' : 's'} of ${loaded.file} failed\n`);
        return EXIT.policy;
      }
      return EXIT.ok;
    }
    case 'policy explain': {
      const subject = args.subject;
      const verdict =
        'command' in subject
          ? evaluateCommand(policy, { commandLine: subject.command })
          : evaluatePath(policy, 'write', subject.write.replace(/\\/g, '/').replace(/^\.\//, ''));
      if (args.json) io.stdout(`${JSON.stringify({ file: loaded.file, ...subject, ...verdict })}\n`);
      else {
        io.stdout(`${verdict.decision} (rule ${verdict.ruleId})\n${verdict.reason}\n`);
        if (verdict.labels?.length) io.stdout(`classes: ${verdict.labels.join('; ')}\n`);
      }
      return EXIT.ok;
    }
  }
}

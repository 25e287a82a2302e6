import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { planSetup, problemLine, TEAM_POLICY_FILE, unifiedDiff, type SetupStep } from '../core/agent/setup';
import type { ParsedCommand } from './args';
import { CliError, EXIT } from './exitCodes';
import { workspaceDir, type CliIO } from './io';

type SetupArgs = Extract<ParsedCommand, { command: 'agent setup' }>;

/**
 * `warden agent setup PRESET`: prints each change as a unified diff and writes it with
 * `--yes`, or after a "y" on a terminal. With neither, nothing is written and it exits 2.
 */
export async function agentSetupCommand(args: SetupArgs, io: CliIO): Promise<number> {
  const root = await workspaceDir(io, args.workspace);
  const read = async (relative: string): Promise<string | undefined> => {
    try {
      return await fs.readFile(path.join(root, ...relative.split('/')), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  };
  const plan = await planSetup(args.preset, read);
  for (const line of plan.done) io.stdout(`already done: ${line}\n`);
  const interactive = !args.yes && io.ask !== undefined;
  let written = 0;
  let refused = 0;
  for (const step of plan.steps) {
    io.stdout(`\n== ${step.title}\n`);
    for (const change of step.changes) io.stdout(unifiedDiff(change));
    let apply = args.yes;
    if (interactive) apply = /^y(es)?$/i.test((await io.ask!(`Apply this change? [y/N] `)).trim());
    if (!apply) {
      refused++;
      if (interactive) io.stdout('skipped: nothing of it was written\n');
      continue;
    }
    await writeStep(root, step, read);
    written += step.changes.length;
    io.stdout(`written: ${step.changes.map((c) => c.path).join(', ')}\n`);
  }
  io.stdout(
    `\nNext: warden run --preset ${plan.settingPreset === 'custom' ? 'custom --agent demo' : plan.settingPreset}${plan.apiKeyEnv ? ` --secret-env ${plan.apiKeyEnv}=FILE` : ''} --prompt TEXT`,
  );
  io.stdout(
    plan.apiKeyEnv ? ` (FILE holds the ${plan.label} API key; in VS Code, "Warden: Set Up Agent…" stores it in secret storage)\n` : '\n',
  );
  for (const problem of plan.problems) io.stderr(`${problemLine({ ...problem, path: path.join(root, problem.path) })} (left untouched)\n`);
  if (plan.problems.length > 0) {
    const policy = plan.problems.some((p) => p.path === TEAM_POLICY_FILE);
    throw new CliError(
      `${plan.problems.length} file${plan.problems.length === 1 ? '' : 's'} could not be changed; fix ${plan.problems.length === 1 ? 'it' : 'them'} and run the setup again`,
      policy ? EXIT.policy : EXIT.sandbox,
    );
  }
  if (refused > 0 && !interactive) {
    throw new CliError(
      `nothing was written: ${refused} change${refused === 1 ? '' : 's'} shown above need approval; run again with --yes to apply, or on a terminal to be asked`,
      EXIT.usage,
    );
  }
  if (plan.steps.length === 0) io.stdout(`${plan.label} is already set up in ${root}\n`);
  else if (written > 0) io.stdout(`${written} file${written === 1 ? '' : 's'} written; commit them to share the setup with the team\n`);
  return refused > 0 ? EXIT.usage : EXIT.ok;
}

/** Writes a step's files, each only if it still holds the text the diff was made from. */
async function writeStep(root: string, step: SetupStep, read: (relative: string) => Promise<string | undefined>): Promise<void> {
  for (const change of step.changes) {
    if ((await read(change.path)) !== change.before)
      throw new CliError(`${change.path} changed since the diff was made; nothing of "${step.title}" was written`, EXIT.usage);
  }
  for (const change of step.changes) {
    const file = path.join(root, ...change.path.split('/'));
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, change.after);
  }
}

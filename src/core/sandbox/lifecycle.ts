import { spawn } from 'node:child_process';
import type { LifecycleCommand, LifecycleStep } from './metadata';
import { TailBuffer } from './tailBuffer';
import { SandboxError, type LifecycleCommandRecord } from './types';

/** Output kept per lifecycle command (for the audit and the error message). */
export const LIFECYCLE_OUTPUT_LIMIT = 16 * 1024;

export interface CommandResult {
  exitCode: number | null;
  output: string;
  truncated: boolean;
}

/** One command to run: a shell string or an argv, with the key of an object-form command. */
export interface LifecycleUnit {
  name?: string;
  command: string | string[];
  argv: string[];
}

/**
 * The commands of one lifecycle property. A string runs through /bin/sh -c, an array as argv.
 * The object form's commands run one after the other in the order written (the reference CLI
 * runs them in parallel; in sequence each one is audited on its own and a failure is unambiguous).
 */
export function lifecycleUnits(command: LifecycleCommand): LifecycleUnit[] {
  const one = (c: string | string[], name?: string): LifecycleUnit => ({
    ...(name !== undefined ? { name } : {}),
    command: c,
    argv: typeof c === 'string' ? ['/bin/sh', '-c', c] : c,
  });
  if (typeof command === 'string' || Array.isArray(command)) return [one(command)];
  return Object.entries(command).map(([name, c]) => one(c, name));
}

/**
 * Which lifecycle steps run now: onCreate, updateContent and postCreate only when the container
 * was just created; postStart and postAttach on every start (a reused container included).
 */
export function lifecycleStepsFor(steps: readonly LifecycleStep[], container: 'created' | 'reused'): LifecycleStep[] {
  const onCreation = new Set(['onCreateCommand', 'updateContentCommand', 'postCreateCommand']);
  return steps.filter((step) => container === 'created' || !onCreation.has(step.hook));
}

function describe(record: Pick<LifecycleCommandRecord, 'hook' | 'origin' | 'name' | 'command'>): string {
  const text = typeof record.command === 'string' ? record.command : JSON.stringify(record.command);
  return `${record.hook}${record.name ? ` "${record.name}"` : ''} (${record.origin}) ${JSON.stringify(text)}`;
}

/**
 * Runs lifecycle steps in order (onCreate, updateContent, postCreate, postStart, postAttach;
 * within a hook, image metadata and features before devcontainer.json). Each finished command is
 * reported (and awaited) before the next starts; the first failure stops the start with an error
 * naming the command and showing the end of its output.
 */
export async function runLifecycleSteps(
  steps: readonly LifecycleStep[],
  run: (argv: string[]) => Promise<CommandResult>,
  options: { user: string; onRecord?: ((record: LifecycleCommandRecord) => void | Promise<void>) | undefined; log: (line: string) => void },
): Promise<void> {
  for (const step of steps) {
    for (const unit of lifecycleUnits(step.command)) {
      const base = { hook: step.hook, origin: step.origin, ...(unit.name !== undefined ? { name: unit.name } : {}), command: unit.command };
      options.log(`running ${describe(base)} as ${options.user}`);
      const result = await run(unit.argv);
      const record: LifecycleCommandRecord = { ...base, where: 'container', user: options.user, ...result };
      await options.onRecord?.(record);
      failIfFailed(record);
    }
  }
}

function failIfFailed(record: LifecycleCommandRecord): void {
  if (record.exitCode === 0) return;
  const tail = record.output.trimEnd().split('\n').slice(-15).join('\n');
  throw new SandboxError(
    `The lifecycle command ${describe(record)} failed ${record.exitCode === null ? '(no exit code: the engine lost it)' : `with exit code ${record.exitCode}`}` +
      `${tail ? `:\n${tail}` : ''}\nFix it in ${record.origin === 'devcontainer.json' ? '.devcontainer/devcontainer.json' : record.origin} and start the session again.`,
    'lifecycle-failed',
  );
}

/** initializeCommand: on the host, in the workspace folder (only when the team policy allows it). */
export async function runInitializeCommand(
  command: LifecycleCommand,
  cwd: string,
  options: { onRecord?: ((record: LifecycleCommandRecord) => void | Promise<void>) | undefined; log: (line: string) => void },
): Promise<void> {
  for (const unit of lifecycleUnits(command)) {
    const base = {
      hook: 'initializeCommand' as const,
      origin: 'devcontainer.json',
      ...(unit.name !== undefined ? { name: unit.name } : {}),
      command: unit.command,
    };
    options.log(`running ${describe(base)} on the host (allowed by sandbox.allowInitializeCommand)`);
    const result = await new Promise<CommandResult>((resolve) => {
      const tail = new TailBuffer(LIFECYCLE_OUTPUT_LIMIT);
      const [file, ...args] = unit.argv as [string, ...string[]];
      const child = spawn(file, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.on('data', (chunk: Buffer) => tail.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => tail.push(chunk));
      child.on('error', (error) => {
        tail.push(Buffer.from(String(error)));
        resolve({ exitCode: null, output: tail.read().text, truncated: tail.read().truncated });
      });
      child.on('close', (code) => resolve({ exitCode: code, output: tail.read().text, truncated: tail.read().truncated }));
    });
    const record: LifecycleCommandRecord = { ...base, where: 'host', ...result };
    await options.onRecord?.(record);
    failIfFailed(record);
  }
}

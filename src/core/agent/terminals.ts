import { randomUUID } from 'node:crypto';
import type { ExitStatus, RunningCommand } from '../sandbox/types';

export class UnknownTerminalError extends Error {
  constructor(readonly terminalId: string) {
    super(`Unknown terminal ${terminalId} (never created, or already released)`);
  }
}

/** Commands the reviewer approved, running in the sandbox, addressed by the agent's terminal ids. */
export class TerminalRegistry {
  private readonly terminals = new Map<string, RunningCommand>();

  add(command: RunningCommand): string {
    const id = `term-${randomUUID()}`;
    this.terminals.set(id, command);
    return id;
  }

  get(id: string): RunningCommand {
    const terminal = this.terminals.get(id);
    if (!terminal) throw new UnknownTerminalError(id);
    return terminal;
  }

  async release(id: string): Promise<void> {
    const terminal = this.get(id);
    this.terminals.delete(id);
    if ((await settledStatus(terminal)) === undefined) await terminal.kill();
  }

  async releaseAll(): Promise<void> {
    const ids = [...this.terminals.keys()];
    await Promise.allSettled(ids.map((id) => this.release(id)));
  }
}

/** The exit status if the command has already ended, without waiting. */
export async function settledStatus(command: RunningCommand): Promise<ExitStatus | undefined> {
  const pending = Symbol('pending');
  const result = await Promise.race([command.exited, Promise.resolve(pending)]);
  return result === pending ? undefined : result;
}

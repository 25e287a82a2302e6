import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { UsageError } from './exitCodes';

/** What a command may touch of the process: injected so unit tests run commands in-process. */
export interface CliIO {
  stdout(text: string): void;
  stderr(text: string): void;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** The folder with Warden's bundled agents (dist/agents next to dist/cli.js). */
  agentsHostPath: string;
  /** Asks a question on the terminal and resolves with the answer; absent when stdin or stdout is not a TTY. */
  ask?: (question: string) => Promise<string>;
}

/** An existing workspace folder, absolute; a usage error naming it otherwise. */
export async function workspaceDir(io: CliIO, dir: string): Promise<string> {
  const absolute = path.resolve(io.cwd, dir);
  const stat = await fs.stat(absolute).catch(() => undefined);
  if (!stat?.isDirectory()) throw new UsageError(`the workspace ${absolute} is not a folder`);
  return absolute;
}

import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** Runs git in `root` and returns its output. */
export async function gitIn(root: string, ...args: string[]): Promise<string> {
  return (await exec('git', args, { cwd: root })).stdout;
}

/** Makes `root` a git repository on `main` with one commit of what is there (`.warden/` ignored), as Ada Reviewer. */
export async function initReviewRepo(root: string): Promise<void> {
  await gitIn(root, 'init', '--quiet', '--initial-branch=main');
  await gitIn(root, 'config', 'user.name', 'Ada Reviewer');
  await gitIn(root, 'config', 'user.email', 'ada@example.test');
  await gitIn(root, 'config', 'commit.gpgsign', 'false');
  await fs.writeFile(path.join(root, '.gitignore'), '.warden/\n');
  await gitIn(root, 'add', '-A');
  await gitIn(root, 'commit', '--quiet', '-m', 'initial');
}

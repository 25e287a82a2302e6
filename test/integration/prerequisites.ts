import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import Docker from 'dockerode';

const run = promisify(execFile);
export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const BASE_IMAGE = 'warden-sandbox-base:dev';

/**
 * What the integration tier needs: a Docker engine that answers, the locally built base
 * image, and the bundled demo agent. Missing pieces fail the suite with what to do; they
 * are never skipped.
 */
export async function ensureSandboxPrerequisites(): Promise<void> {
  try {
    await new Docker().ping();
  } catch (error) {
    throw new Error(
      `The integration tests need a running Docker engine and none answered (${String(error)}). ` +
        'Run `bash scripts/bootstrap/docker.sh` (installs and starts one), or `npm test`, which does it for you.',
      { cause: error },
    );
  }
  await run('bash', [path.join(REPO_ROOT, 'scripts/bootstrap/images.sh')], { cwd: REPO_ROOT, maxBuffer: 16 * 1024 * 1024 });
  if (!existsSync(path.join(REPO_ROOT, 'dist/agents/demo-agent.mjs'))) {
    await run(process.execPath, [path.join(REPO_ROOT, 'esbuild.js')], { cwd: REPO_ROOT });
  }
}

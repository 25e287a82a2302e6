/**
 * Sandbox cold start (devcontainer.json parsed, hardened container created, started and
 * checked from inside) vs a bare `docker run` of the same image with the same hardening flags.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DockerSandboxProvider } from '../src/core/sandbox/dockerSandbox';
import { type BenchFigure, medianMs } from './lib';

const IMAGE = 'warden-sandbox-base:dev';

export async function run(): Promise<BenchFigure[]> {
  execFileSync('bash', [path.join(__dirname, '..', 'scripts', 'bootstrap', 'images.sh')], { stdio: 'ignore' });
  const workspace = mkdtempSync(path.join(os.tmpdir(), 'warden-bench-sandbox-'));
  chmodSync(workspace, 0o755);
  mkdirSync(path.join(workspace, '.devcontainer'));
  writeFileSync(path.join(workspace, '.devcontainer', 'devcontainer.json'), JSON.stringify({ image: IMAGE }));
  const provider = new DockerSandboxProvider();
  try {
    const warden = await medianMs(5, async () => {
      const sandbox = await provider.start({ workspaceHostPath: workspace, agentsHostPath: workspace, sessionId: 'bench' });
      await sandbox.stop();
    });
    const reference = await medianMs(5, () =>
      execFileSync('docker', [
        'run', '--rm', '--network', 'none', '--read-only', '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges',
        '--user', '1000:1000', '--pids-limit', '256', '--memory', '2g', '-v', `${workspace}:/workspaces/w:ro`, IMAGE, 'true',
      ]),
    );
    return [{ figure: 'sandbox cold start + stop', unit: 'ms', warden, reference, referenceLabel: 'docker run --rm (same flags)', target: 'ratio <= 3' }];
  } finally {
    rmSync(workspace, { recursive: true, force: true });
  }
}

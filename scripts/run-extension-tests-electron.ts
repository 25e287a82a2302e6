/**
 * The same extension-host suite under @vscode/test-electron, for desktop machines that can
 * download VS Code (this project's CI cannot: it uses scripts/run-extension-tests.ts and the
 * offline VS Code server). `npx tsx scripts/run-extension-tests-electron.ts [--version stable]`
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, mkdtempSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runTests } from '@vscode/test-electron';

async function main(): Promise<void> {
  const root = path.resolve(__dirname, '..');
  execFileSync(process.execPath, ['esbuild.js', '--tests'], { cwd: root, stdio: 'inherit' });
  const workspace = path.join(mkdtempSync(path.join(os.tmpdir(), 'warden-electron-')), 'demo');
  cpSync(path.join(root, 'test', 'fixtures', 'workspaces', 'demo'), workspace, { recursive: true });
  chmodSync(workspace, 0o755); // the sandbox user (uid 1000) reads the workspace
  const versionIndex = process.argv.indexOf('--version');
  await runTests({
    version: versionIndex > 0 ? process.argv[versionIndex + 1] : 'stable',
    extensionDevelopmentPath: root,
    extensionTestsPath: path.join(root, 'out', 'test', 'extension', 'index.js'),
    launchArgs: [workspace, '--disable-workspace-trust', '--disable-extensions'],
  });
}

main().catch((error: unknown) => {
  console.error(`extension tests failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});

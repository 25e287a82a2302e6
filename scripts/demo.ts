/**
 * Builds the VSIX, installs it into the offline VS Code server, copies the demo workspace
 * (a git repository, so changes show in Source Control) and serves VS Code on loopback.
 * `--check`: start, confirm the workbench answers with Warden installed, stop (used by CI).
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { vscodeServerPaths } from './vscode/paths';
import { startVSCodeServer } from './vscode/server';

const run = promisify(execFile);
const root = path.resolve(__dirname, '..');

async function main(): Promise<void> {
  const check = process.argv.includes('--check');
  const { cache, node, serverMain } = vscodeServerPaths();
  const demoDir = path.join(cache, 'demo');
  const extensionsDir = path.join(demoDir, 'extensions');
  mkdirSync(extensionsDir, { recursive: true });

  console.error('[demo] building and packaging Warden');
  await run(process.execPath, ['esbuild.js', '--production'], { cwd: root });
  const vsix = path.join(root, '.build', 'warden.vsix');
  mkdirSync(path.dirname(vsix), { recursive: true });
  await run(path.join(root, 'node_modules', '.bin', 'vsce'), ['package', '--no-dependencies', '--out', vsix], { cwd: root });
  await run(node, [serverMain, '--install-extension', vsix, '--force', '--extensions-dir', extensionsDir, '--accept-server-license-terms']);

  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
  const workspace = path.join(demoDir, `workspace-${stamp}`);
  cpSync(path.join(root, 'test', 'fixtures', 'workspaces', 'demo'), workspace, { recursive: true });
  const git = (...args: string[]): Promise<unknown> => run('git', ['-C', workspace, ...args]);
  await git('init', '-q', '-b', 'main');
  await git('add', '-A');
  await git('-c', 'user.name=Warden Demo', '-c', 'user.email=demo@warden.invalid', 'commit', '-q', '-m', 'Demo workspace');

  const port = process.env.WARDEN_DEMO_PORT ? Number(process.env.WARDEN_DEMO_PORT) : undefined;
  const server = await startVSCodeServer({ extensionsDir, ...(port ? { port } : {}), settings: { 'git.enabled': true } });
  const url = server.url(workspace);
  if (check) {
    const response = await fetch(url);
    const listed = await run(node, [serverMain, '--list-extensions', '--extensions-dir', extensionsDir, '--accept-server-license-terms']);
    await server.stop();
    rmSync(workspace, { recursive: true, force: true });
    if (!response.ok) throw new Error(`the workbench answered ${response.status}`);
    if (!listed.stdout.includes('warden-dev.warden')) throw new Error('Warden is not installed in the demo server');
    console.log(`demo check: workbench answered ${response.status} with Warden installed`);
    return;
  }
  console.log(`\nWarden demo is running. Open this URL in a browser on this machine:\n\n  ${url}\n`);
  console.log('Then run "Warden: Start Agent Session" from the command palette (F1) and type an instruction.');
  console.log(`Workspace: ${workspace}\nPress Ctrl+C to stop.`);
  const stop = (): void => void server.stop().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(`[demo] ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});

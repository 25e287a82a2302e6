/**
 * The package tier: builds the production bundles, packages the VSIX with vsce, checks what
 * it contains, and installs it into the offline VS Code server. Prints sizes and
 * `package: N passed, M failed`.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { vscodeServerPaths } from './vscode/paths';

const run = promisify(execFile);
const root = path.resolve(__dirname, '..');
const vsix = path.join(root, '.build', 'warden.vsix');
const vsce = path.join(root, 'node_modules', '.bin', 'vsce');

const results: Array<{ name: string; ok: boolean; detail?: string }> = [];

async function check(name: string, body: () => Promise<string | void>): Promise<void> {
  try {
    const detail = await body();
    results.push({ name, ok: true, ...(detail ? { detail } : {}) });
  } catch (error) {
    results.push({ name, ok: false, detail: error instanceof Error ? error.message : String(error) });
  }
}

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

async function main(): Promise<void> {
  await check('production build succeeds', async () => {
    await run(process.execPath, ['esbuild.js', '--production'], { cwd: root });
    return `dist/extension.js ${kib(statSync(path.join(root, 'dist/extension.js')).size)}, demo agent ${kib(statSync(path.join(root, 'dist/agents/demo-agent.mjs')).size)}, review webview ${kib(statSync(path.join(root, 'dist/media/review.js')).size)}`;
  });

  await check('the warden bin (package.json "bin") runs from the production build', async () => {
    const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { bin?: Record<string, string> };
    const bin = manifest.bin?.warden;
    if (bin !== 'dist/cli.js') throw new Error(`package.json bin.warden is ${String(bin)}, expected dist/cli.js`);
    const { stdout } = await run(process.execPath, [path.join(root, bin), 'run', '--help'], { cwd: os.tmpdir() });
    if (!/^Usage: warden run --workspace DIR/.test(stdout)) throw new Error(`unexpected help: ${stdout.slice(0, 200)}`);
    return `dist/cli.js ${kib(statSync(path.join(root, bin)).size)}`;
  });

  await check('the VSIX holds only the bundles, manifest and docs', async () => {
    const { stdout } = await run(vsce, ['ls', '--no-dependencies'], { cwd: root });
    const files = stdout
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
    for (const required of [
      'package.json',
      'README.md',
      'dist/extension.js',
      'dist/cli.js',
      'dist/agents/demo-agent.mjs',
      'dist/agents/egress-bridge.mjs',
      'dist/media/review.js',
      'dist/media/review.css',
      'dist/media/audit.js',
      'dist/media/audit.css',
      'dist/media/common.css',
      'dist/media/codicons/codicon.css',
      'dist/media/codicons/codicon.ttf',
      'dist/policy.schema.json',
    ]) {
      if (!files.includes(required)) throw new Error(`missing ${required}; has ${files.join(', ')}`);
    }
    // Every bundle the build wrote (the extension loads some at first use, issue 21) ships.
    const bundles = readdirSync(path.join(root, 'dist'), { recursive: true, encoding: 'utf8' })
      .filter((f) => /\.m?js$/.test(f))
      .map((f) => `dist/${f.split(path.sep).join('/')}`);
    const unshipped = bundles.filter((f) => !files.includes(f));
    if (unshipped.length > 0) throw new Error(`bundles missing from the VSIX (.vscodeignore): ${unshipped.join(', ')}`);
    const unwanted = files.filter((f) => /^(src|test|scripts|node_modules|out|\.ci)\//.test(f) || f.endsWith('.map') || f.endsWith('.ts'));
    if (unwanted.length > 0) throw new Error(`should not ship: ${unwanted.join(', ')}`);
    return `${files.length} files`;
  });

  await check('vsce package produces a VSIX', async () => {
    rmSync(vsix, { force: true });
    mkdirSync(path.dirname(vsix), { recursive: true });
    await run(vsce, ['package', '--no-dependencies', '--out', vsix], { cwd: root });
    return `.build/warden.vsix ${kib(statSync(vsix).size)}`;
  });

  await check('the VSIX installs into the offline VS Code server', async () => {
    const { node, serverMain } = vscodeServerPaths();
    const extensionsDir = mkdtempSync(path.join(os.tmpdir(), 'warden-vsix-'));
    try {
      const common = ['--extensions-dir', extensionsDir, '--accept-server-license-terms'];
      await run(node, [serverMain, '--install-extension', vsix, ...common], { timeout: 120_000 });
      const { stdout } = await run(node, [serverMain, '--list-extensions', '--show-versions', ...common], { timeout: 60_000 });
      if (!/warden-dev\.warden@0\.1\.0/.test(stdout)) throw new Error(`not listed after install: ${stdout.trim()}`);
      return stdout.trim();
    } finally {
      rmSync(extensionsDir, { recursive: true, force: true });
    }
  });

  await check('the demo launcher serves VS Code with Warden installed (npm run demo -- --check)', async () => {
    const { stdout } = await run(path.join(root, 'node_modules', '.bin', 'tsx'), ['scripts/demo.ts', '--check'], {
      cwd: root,
      timeout: 300_000,
    });
    return stdout.trim().split('\n').at(-1);
  });

  for (const r of results) console.log(`${r.ok ? '✔' : '✘'} ${r.name}${r.detail ? ` — ${r.detail}` : ''}`);
  const failed = results.filter((r) => !r.ok).length;
  console.log(`package: ${results.length - failed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

void main();

// Builds every bundle Warden ships (and the extension-host test bundle with --tests).
// `node esbuild.js [--production] [--watch] [--tests]`
const esbuild = require('esbuild');
const fs = require('node:fs');
const path = require('node:path');
const { emitPolicySchema } = require('./scripts/emit-policy-schema');

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');
const withTests = process.argv.includes('--tests');

/** The webviews: Preact views written in JSX (media/tsconfig.json says the same to tsc). */
const webview = { platform: 'browser', format: 'iife', target: 'es2022', jsx: 'automatic', jsxImportSource: 'preact' };
/**
 * The extension is several CommonJS bundles so activation loads only what it needs
 * (issue 21): `dist/extension.js` registers commands, serializers and the status bar;
 * `dist/features.js` (the wiring of sessions, panels, the policy service) loads at first use;
 * the shell parser and the Docker client each load from their own bundle at their first use.
 * Modules whose identity matters across bundles (classes checked with `instanceof`, shared
 * state) live in exactly one bundle that the others `require()`: the proposal store.
 * Each key is an import (a package, or a source file without extension) and the bundle that
 * provides it, relative to dist/.
 */
const OWN_BUNDLES = {
  'mvdan-sh': 'lib/mvdan-sh.js',
  dockerode: 'lib/dockerode.js',
  [path.join(__dirname, 'src', 'core', 'proposals', 'store')]: 'proposalStore.js',
};

/** Turns imports of OWN_BUNDLES into `require('./<bundle>')` at run time (they are not bundled in). */
const ownBundles = {
  name: 'own-bundles',
  setup(build) {
    build.onResolve({ filter: /^(mvdan-sh|dockerode)$|proposals\/store$/ }, (args) => {
      if (args.kind === 'entry-point') return undefined;
      const key = args.path.startsWith('.') ? path.resolve(args.resolveDir, args.path) : args.path;
      const bundle = OWN_BUNDLES[key];
      return bundle ? { path: `./${bundle}`, external: true } : undefined;
    });
  },
};
const extensionHost = { platform: 'node', format: 'cjs', target: 'node20', external: ['vscode', 'cpu-features', '*.node'] };
/** A package bundled on its own, loaded by require() from the bundles above. */
const packageBundle = (name) => ({
  stdin: { contents: `module.exports = require(${JSON.stringify(name)});`, resolveDir: __dirname, loader: 'js' },
  outfile: `dist/${OWN_BUNDLES[name]}`,
  ...extensionHost,
});

/** @type {import('esbuild').BuildOptions[]} */
const builds = [
  // The extension host loads CommonJS; ESM-only dependencies (the ACP SDK) are bundled in.
  { entryPoints: ['src/extension.ts'], outfile: 'dist/extension.js', ...extensionHost, plugins: [ownBundles] },
  { entryPoints: ['src/features.ts'], outfile: 'dist/features.js', ...extensionHost, plugins: [ownBundles] },
  { entryPoints: ['src/core/proposals/store.ts'], outfile: 'dist/proposalStore.js', ...extensionHost },
  packageBundle('mvdan-sh'),
  packageBundle('dockerode'),
  {
    // The headless `warden` CLI (package.json "bin"); finds the bundled agents in dist/agents.
    entryPoints: ['src/cli/index.ts'],
    outfile: 'dist/cli.js',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    banner: { js: '#!/usr/bin/env node' },
    external: ['cpu-features', '*.node'],
  },
  {
    // Runs inside the sandbox container with whatever Node the image has (>= 18).
    entryPoints: ['src/agents/demo/main.ts'],
    outfile: 'dist/agents/demo-agent.mjs',
    platform: 'node',
    format: 'esm',
    target: 'node18',
    banner: {
      js: "import { createRequire as __wardenCreateRequire } from 'node:module'; const require = __wardenCreateRequire(import.meta.url);",
    },
  },
  {
    // The egress bridge: inside the sandbox, 127.0.0.1:3128 -> streams over its exec stdio -> the proxy in Warden.
    entryPoints: ['src/agents/egress-bridge/main.ts'],
    outfile: 'dist/agents/egress-bridge.mjs',
    platform: 'node',
    format: 'esm',
    target: 'node18',
  },
  {
    entryPoints: ['media/review/index.ts'],
    outfile: 'dist/media/review.js',
    ...webview,
  },
  // The Warden panel's stylesheet: its parts (media/review/*.css) in one file.
  { entryPoints: ['media/review/panel.css'], outfile: 'dist/media/review.css' },
  {
    entryPoints: ['media/audit/index.ts'],
    outfile: 'dist/media/audit.js',
    ...webview,
  },
  // The Audit panel's stylesheet is several files (@import), bundled into one.
  { entryPoints: ['media/audit/audit.css'], outfile: 'dist/media/audit.css' },
];

if (withTests) {
  builds.push({
    // Loaded by the VS Code extension host as extensionTestsPath.
    entryPoints: ['test/extension/index.ts'],
    outfile: 'out/test/extension/index.js',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode', 'mocha', 'cpu-features', '*.node'],
  });
}

async function main() {
  // mainFields: prefer ESM builds; jsonc-parser's UMD main has requires esbuild cannot follow.
  const common = {
    mainFields: ['module', 'main'],
    bundle: true,
    sourcemap: !production,
    minify: production,
    logLevel: 'warning',
    legalComments: 'none',
  };
  // A one-off build starts from an empty dist/: a bundle an older checkout built (a removed
  // webview) would otherwise linger and ship in the VSIX.
  if (!watch) fs.rmSync('dist', { recursive: true, force: true });
  const contexts = await Promise.all(builds.map((b) => esbuild.context({ ...common, ...b })));
  if (watch) {
    await Promise.all(contexts.map((c) => c.watch()));
    return;
  }
  await Promise.all(contexts.map((c) => c.rebuild()));
  await Promise.all(contexts.map((c) => c.dispose()));
  fs.chmodSync(path.join('dist', 'cli.js'), 0o755); // the package's bin
  fs.mkdirSync('dist/media', { recursive: true });
  fs.copyFileSync(path.join('media', 'common', 'common.css'), path.join('dist', 'media', 'common.css'));
  // Codicons (the workbench's icon font) for the webviews: the stylesheet and its font only.
  fs.mkdirSync(path.join('dist', 'media', 'codicons'), { recursive: true });
  for (const file of ['codicon.css', 'codicon.ttf']) {
    fs.copyFileSync(path.join('node_modules', '@vscode', 'codicons', 'dist', file), path.join('dist', 'media', 'codicons', file));
  }
  // The JSON schema of .warden/policy.json, emitted from the zod schema (jsonValidation).
  await emitPolicySchema(path.join('dist', 'policy.schema.json'));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

#!/usr/bin/env bash
# The one test command (`npm test`): bootstraps everything the tiers need on a fresh
# Debian machine with Node 20, type-checks, builds, then runs every tier.
# `npm test -- unit integration` runs only those tiers.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
bash scripts/install-deps.sh
bash scripts/bootstrap/docker.sh
bash scripts/bootstrap/images.sh
bash scripts/bootstrap/engines.sh
bash scripts/bootstrap/agents.sh
bash scripts/bootstrap/chromium.sh
# The VS Code server (minutes of native builds on a first run) is installed by run-tests.ts
# while the unit and integration tiers run; the tiers that need it wait for it.
echo "[test] type-checking" >&2
npm run --silent typecheck
echo "[test] linting (typescript-eslint with type information) and checking the format (prettier)" >&2
npm run --silent lint
npm run --silent format:check > /dev/null || { echo "[test] some files are not formatted: run \`npm run format\`" >&2; npm run --silent format:check >&2 || true; exit 1; }
echo "[test] building" >&2
node esbuild.js --tests
status=0
npx tsx scripts/run-tests.ts "$@" || status=$?
echo "[test] finished in $(( $(date +%s) - started ))s" >&2
exit $status

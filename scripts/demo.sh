#!/usr/bin/env bash
# The demo (`npm run demo`): bootstraps everything on a fresh Debian machine with Node 20,
# builds and installs Warden into an offline VS Code server, opens the demo workspace,
# and prints the URL. `npm run demo -- --check` starts it, checks it answers, and stops.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/bootstrap/docker.sh
bash scripts/bootstrap/images.sh
bash scripts/bootstrap/vscode-server.sh
exec npx tsx scripts/demo.ts "$@"

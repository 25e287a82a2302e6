#!/usr/bin/env bash
# Installs the project's npm dependencies when node_modules is missing or older than the lockfile.
source "$(dirname "$0")/bootstrap/common.sh"
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "npm ci"
  without_outer_npm npm ci --no-audit --no-fund --loglevel=error
  summary "npm ci installed the project's dependencies"
else
  summary "node_modules is up to date"
fi

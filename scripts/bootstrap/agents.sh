#!/usr/bin/env bash
# Builds warden-agents:dev, the image the real-agent integration tests run in: a minimal
# Debian bookworm root file system (mmdebstrap: glibc, libssl3, ca-certificates, git, bash)
# plus the host's Node 20 binary and the pinned third-party agents installed from npm
# (codex-acp, Gemini CLI, Codex, Claude Code's ACP adapter, GitHub Copilot CLI, OpenCode) under
# /opt/agents, with a `warden` user (uid 1000).
# No registry image is needed. Caches under $WARDEN_CACHE: the rootfs tarball and the npm
# install are reused; the image is rebuilt only when the label (versions) changes.
# Idempotent: WARDEN_REBUILD_IMAGES=1 forces a rebuild.
source "$(dirname "$0")/common.sh"
IMAGE="warden-agents:dev"
# Pinned agent versions: the tests name them, the README lists them. Bump together.
CODEX_ACP_VERSION="0.16.0"
GEMINI_CLI_VERSION="0.61.0"
CODEX_VERSION="0.169.0"
# Claude Code through its ACP adapter (formerly @zed-industries/claude-code-acp). The adapter
# pins the Claude Agent SDK exactly, and the SDK's platform package carries the native Claude
# Code binary (2.1.318 for SDK 0.3.318): named here so a missing optional dependency fails the
# install instead of the first session. Bump the two together (npm view
# @agentclientprotocol/claude-agent-acp@V dependencies).
CLAUDE_AGENT_ACP_VERSION="0.101.0"
CLAUDE_AGENT_SDK_VERSION="0.3.318"
# GitHub Copilot CLI (`copilot --acp`); its native binary is the platform package, named so a
# missing optional dependency fails the install. Bump the two together.
COPILOT_VERSION="1.0.102"
# OpenCode (`opencode acp`); its native binary is the platform package (same version).
OPENCODE_VERSION="1.18.33"
PACKAGES=("@zed-industries/codex-acp@$CODEX_ACP_VERSION" "@zed-industries/codex-acp-linux-x64@$CODEX_ACP_VERSION" "@google/gemini-cli@$GEMINI_CLI_VERSION" "@openai/codex@$CODEX_VERSION" "@agentclientprotocol/claude-agent-acp@$CLAUDE_AGENT_ACP_VERSION" "@anthropic-ai/claude-agent-sdk-linux-x64@$CLAUDE_AGENT_SDK_VERSION"
  "@github/copilot@$COPILOT_VERSION" "@github/copilot-linux-x64@$COPILOT_VERSION" "opencode-ai@$OPENCODE_VERSION" "opencode-linux-x64@$OPENCODE_VERSION")
DEBIAN_PACKAGES="ca-certificates,libssl3,git"
IMAGE_RECIPE=2

if ! docker info >/dev/null 2>&1; then
  echo "no Docker engine answers; run scripts/bootstrap/docker.sh first" >&2; exit 1
fi
NODE_BIN="$(readlink -f "$(command -v node)")"
NODE_VERSION="$("$NODE_BIN" --version)"
LABEL="recipe=$IMAGE_RECIPE debian=bookworm[$DEBIAN_PACKAGES] node=$NODE_VERSION ${PACKAGES[*]}"
if [ "${WARDEN_REBUILD_IMAGES:-}" != "1" ] \
  && [ "$(docker image inspect -f '{{index .Config.Labels "dev.warden.agents"}}' "$IMAGE" 2>/dev/null || true)" = "$LABEL" ]; then
  summary "$IMAGE exists ($LABEL)"
  exit 0
fi

# 1. The Debian root file system (about 10 s from the Debian mirror; cached).
ROOTFS_TAR="$WARDEN_CACHE/images/agents-rootfs-bookworm-r$IMAGE_RECIPE.tar"
if [ ! -s "$ROOTFS_TAR" ]; then
  apt_install mmdebstrap
  mkdir -p "$(dirname "$ROOTFS_TAR")"
  log "mmdebstrap bookworm (minbase + $DEBIAN_PACKAGES)"
  mmdebstrap --quiet --format=tar --variant=minbase --include="$DEBIAN_PACKAGES" \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    bookworm "$ROOTFS_TAR.partial" \
    "deb http://deb.debian.org/debian bookworm main" \
    "deb http://deb.debian.org/debian bookworm-updates main" \
    "deb http://deb.debian.org/debian-security bookworm-security main"
  mv "$ROOTFS_TAR.partial" "$ROOTFS_TAR"
fi

# 2. The agents, pinned, from the npm registry (cached; reinstalled when the pins change).
NPM_DIR="$WARDEN_CACHE/agents-npm"
PINS="$NPM_DIR/.pins"
if [ "$(cat "$PINS" 2>/dev/null || true)" != "${PACKAGES[*]}" ]; then
  log "npm install ${PACKAGES[*]}"
  rm -rf "$NPM_DIR"; mkdir -p "$NPM_DIR"
  (cd "$NPM_DIR" && without_outer_npm npm install --silent --no-audit --no-fund --save-exact --prefix . "${PACKAGES[@]}")
  printf '%s' "${PACKAGES[*]}" > "$PINS"
fi

# 3. Assemble and import.
STAGE="$(mktemp -d "${TMPDIR:-/tmp}/warden-agents-image.XXXXXX")"
on_exit 'rm -rf "$STAGE"'
tar -C "$STAGE" -xf "$ROOTFS_TAR"
cp "$NODE_BIN" "$STAGE/usr/local/bin/node"
mkdir -p "$STAGE/opt/agents" "$STAGE/home/warden" "$STAGE/workspaces" "$STAGE/opt/warden/agents"
cp "$NPM_DIR/package.json" "$STAGE/opt/agents/"
grep -q '^warden:' "$STAGE/etc/passwd" || echo 'warden:x:1000:1000:Warden sandbox:/home/warden:/bin/bash' >> "$STAGE/etc/passwd"
grep -q '^warden:' "$STAGE/etc/group" || echo 'warden:x:1000:' >> "$STAGE/etc/group"
chown 1000:1000 "$STAGE/home/warden"
rm -rf "$STAGE/var/cache/apt/"* "$STAGE/var/lib/apt/lists/"*

CANDIDATE="warden-agents:candidate"
# The npm tree (about 700 MB) goes into the same stream under /opt/agents, without a copy.
tar --numeric-owner -c -C "$STAGE" . -C "$NPM_DIR" --transform='s,^\./node_modules,./opt/agents/node_modules,' ./node_modules | docker import \
  --change 'CMD ["/bin/sh"]' \
  --change 'ENV PATH=/opt/agents/node_modules/.bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change "LABEL dev.warden.agents=\"$LABEL\"" \
  - "$CANDIDATE" >/dev/null
# Checked under a temporary tag, so a broken build never passes for a good one next time.
for check in 'node --version' 'codex-acp --help' 'gemini --version' 'codex --version' 'claude-agent-acp --version' 'claude-agent-acp --cli --version' 'copilot --version' 'opencode --version' 'git --version'; do
  docker run --rm --network none --user 1000:1000 "$CANDIDATE" sh -c "$check" >/dev/null 2>&1 \
    || { echo "$IMAGE was built but \`$check\` fails inside it" >&2; docker rmi "$CANDIDATE" >/dev/null; exit 1; }
done
PREVIOUS="$(docker image inspect -f '{{.Id}}' "$IMAGE" 2>/dev/null || true)"
docker tag "$CANDIDATE" "$IMAGE" && docker rmi "$CANDIDATE" >/dev/null
# The replaced image (about 1 GB) is removed unless a container still uses it.
if [ -n "$PREVIOUS" ] && [ "$PREVIOUS" != "$(docker image inspect -f '{{.Id}}' "$IMAGE")" ]; then
  docker rmi "$PREVIOUS" >/dev/null 2>&1 || true
fi
summary "built $IMAGE ($LABEL)"

#!/usr/bin/env bash
# Builds the local sandbox base image warden-sandbox-base:dev (no registry needed):
# Debian's static busybox for the shell and coreutils, plus the host's own `node` binary
# with the shared libraries and dynamic loader it needs, and a `warden` user (uid 1000).
# Idempotent: does nothing when the image exists (WARDEN_REBUILD_IMAGES=1 forces a rebuild).
source "$(dirname "$0")/common.sh"
IMAGE="warden-sandbox-base:dev"

if ! docker info >/dev/null 2>&1; then
  echo "no Docker engine answers; run scripts/bootstrap/docker.sh first" >&2; exit 1
fi
if [ "${WARDEN_REBUILD_IMAGES:-}" != "1" ] && docker image inspect "$IMAGE" >/dev/null 2>&1; then
  summary "$IMAGE exists ($(docker image inspect -f '{{index .Config.Labels "dev.warden.source"}}' "$IMAGE"))"
  exit 0
fi

apt_install busybox-static
BUSYBOX=/bin/busybox
NODE_BIN="$(command -v node || true)"
[ -n "$NODE_BIN" ] || { echo "node is not on PATH; install Node 20 first" >&2; exit 1; }
NODE_BIN="$(readlink -f "$NODE_BIN")"
NODE_VERSION="$("$NODE_BIN" --version)"
BUSYBOX_VERSION="$(dpkg-query -W -f '${Version}' busybox-static)"

ROOTFS="$(mktemp -d "${TMPDIR:-/tmp}/warden-rootfs.XXXXXX")"
on_exit 'rm -rf "$ROOTFS"'
mkdir -p "$ROOTFS"/{bin,sbin,usr/bin,usr/sbin,usr/local/bin,etc,tmp,proc,sys,dev,home/warden,workspaces,opt/warden/agents}
chmod 1777 "$ROOTFS/tmp"

# busybox and one symlink per applet at its usual path (sh, id, cat, env, kill, ...).
cp "$BUSYBOX" "$ROOTFS/bin/busybox"
while read -r applet; do
  [ -z "$applet" ] && continue
  target="$ROOTFS/$applet"
  mkdir -p "$(dirname "$target")"
  [ -e "$target" ] || ln -s /bin/busybox "$target"
done < <("$BUSYBOX" --list-full)

# node plus every library ldd names, each at the same absolute path (symlinks resolved).
cp "$NODE_BIN" "$ROOTFS/usr/local/bin/node"
ldd "$NODE_BIN" | grep -oE '/[^ ]+' | sort -u | while read -r lib; do
  mkdir -p "$ROOTFS$(dirname "$lib")"
  cp -L "$lib" "$ROOTFS$lib"
done
# An ld.so.cache so the loader finds the libraries whatever its built-in search path is.
ldd "$NODE_BIN" | grep -oE '/[^ ]+' | xargs -n1 dirname | sort -u > "$ROOTFS/etc/ld.so.conf"
ldconfig -r "$ROOTFS"

cat > "$ROOTFS/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
warden:x:1000:1000:Warden sandbox:/home/warden:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat > "$ROOTFS/etc/group" <<'EOF'
root:x:0:
warden:x:1000:
nogroup:x:65534:
EOF
# Owners in the image: root for everything, warden for its home. Without root the files
# cannot be chowned, so tar records them as root and the home is world-writable instead.
TAR_OWNER=(--numeric-owner)
if [ "$(id -u)" -eq 0 ]; then chown 1000:1000 "$ROOTFS/home/warden"
else chmod 1777 "$ROOTFS/home/warden"; TAR_OWNER+=(--owner=0 --group=0); fi

SOURCE="busybox-static $BUSYBOX_VERSION ($BUSYBOX) + node $NODE_VERSION ($NODE_BIN)"
tar -C "$ROOTFS" "${TAR_OWNER[@]}" -c . | docker import \
  --change 'CMD ["/bin/sh"]' \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change "LABEL dev.warden.source=\"$SOURCE\"" \
  - "$IMAGE" >/dev/null
docker run --rm --network none --user 1000:1000 "$IMAGE" node --version >/dev/null \
  || { echo "$IMAGE was built but node does not run inside it" >&2; exit 1; }
summary "built $IMAGE from $SOURCE"

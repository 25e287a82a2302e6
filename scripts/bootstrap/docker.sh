#!/usr/bin/env bash
# Makes sure a Docker engine answers on /var/run/docker.sock (or $DOCKER_HOST):
# installs docker.io and starts dockerd without bridge networking when none runs.
source "$(dirname "$0")/common.sh"
if docker info >/dev/null 2>&1; then summary "engine is running"; exit 0; fi
if [ -n "${DOCKER_HOST:-}" ]; then
  echo "DOCKER_HOST=$DOCKER_HOST is set but the engine does not answer; start it or unset DOCKER_HOST" >&2; exit 1
fi
{ command -v dockerd >/dev/null 2>&1 && ! package_broken docker.io; } || apt_install docker.io
log "starting dockerd (no bridge, no iptables); log: $WARDEN_CACHE/dockerd.log"
# setsid: the engine outlives this script and the test run that started it.
setsid dockerd --bridge=none --iptables=false --ip-masq=false >>"$WARDEN_CACHE/dockerd.log" 2>&1 < /dev/null &
for _ in $(seq 1 120); do
  if docker info >/dev/null 2>&1; then summary "engine is up"; exit 0; fi
  sleep 0.5
done
echo "dockerd did not come up within 60s; the last lines of $WARDEN_CACHE/dockerd.log:" >&2
tail -n 20 "$WARDEN_CACHE/dockerd.log" >&2 || true
echo "Fix what the log names (another engine holding /var/run/docker.pid, no cgroups, not root), or start a Docker engine yourself, then run the command again." >&2
exit 1

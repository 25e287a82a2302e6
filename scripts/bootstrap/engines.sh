#!/usr/bin/env bash
# What the remote-engine integration tests need besides the Docker engine: openssl (TLS
# certificates for a second dockerd on loopback), openssh-server (an ssh:// engine on
# loopback) and podman (its Docker-compatible API). Idempotent: installs only what is missing.
source "$(dirname "$0")/common.sh"
apt_install openssl openssh-server podman
summary "engine test tools present: $(openssl version | cut -d' ' -f1-2), $(/usr/sbin/sshd -V 2>&1 | head -n1 | cut -d, -f1), $(podman --version)"

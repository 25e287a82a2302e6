#!/usr/bin/env bash
# Debian's Chromium for the Playwright-driven UI tests (Playwright's own browser download cannot work offline).
source "$(dirname "$0")/common.sh"
# apt_install checks dpkg's status, not the binary: an interrupted install can leave either.
apt_install chromium
# Debian's wrapper script complains on stderr on some machines (a memory check); only the version matters.
version="$(/usr/bin/chromium --version 2>/dev/null)" || {
  echo "chromium is installed but does not run: $(/usr/bin/chromium --version 2>&1 | tail -n 3)" >&2
  echo "To repair: sudo apt-get install --reinstall chromium" >&2; exit 1; }
summary "$version"

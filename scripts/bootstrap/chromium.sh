#!/usr/bin/env bash
# Debian's Chromium for the Playwright-driven UI tests (Playwright's own browser download cannot work offline).
source "$(dirname "$0")/common.sh"
[ -x /usr/bin/chromium ] || apt_install chromium
/usr/bin/chromium --version >&2

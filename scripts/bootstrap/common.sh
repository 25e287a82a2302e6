# Shared helpers for bootstrap scripts. Sourced, not executed.
set -euo pipefail
WARDEN_CACHE="${WARDEN_CACHE:-$HOME/.cache/warden-dev}"
mkdir -p "$WARDEN_CACHE"
log() { printf '[bootstrap] %s\n' "$*" >&2; }
APT_UPDATED_MARK="$WARDEN_CACHE/.apt-updated"
apt_install() {
  # Installs Debian packages that are missing; runs `apt-get update` at most once per hour.
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  if [ ! -f "$APT_UPDATED_MARK" ] || [ -n "$(find "$APT_UPDATED_MARK" -mmin +60)" ]; then
    log "apt-get update"; $sudo apt-get update -qq >/dev/null && touch "$APT_UPDATED_MARK"
  fi
  log "apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Shared helpers for bootstrap scripts. Sourced, not executed.
# Each script that sources this prints one closing line with its name and time, so a new
# user sees where the first-run minutes go: `[bootstrap] docker: engine is up (3.2s)`.
set -euo pipefail
WARDEN_CACHE="${WARDEN_CACHE:-$HOME/.cache/warden-dev}"
mkdir -p "$WARDEN_CACHE"
log() { printf '[bootstrap] %s\n' "$*" >&2; }

BOOTSTRAP_STEP="$(basename "$0" .sh)"
BOOTSTRAP_STARTED_MS="$(date +%s%3N)"
BOOTSTRAP_SUMMARY="done"
BOOTSTRAP_CLEANUP=()
# The text of the closing line (what this step found or did).
summary() { BOOTSTRAP_SUMMARY="$*"; }
# Runs COMMAND (a string) when the script exits, whatever the exit status.
on_exit() { BOOTSTRAP_CLEANUP+=("$1"); }
finish_step() {
  local status=$? elapsed
  for command in "${BOOTSTRAP_CLEANUP[@]+"${BOOTSTRAP_CLEANUP[@]}"}"; do eval "$command" || true; done
  elapsed="$(( $(date +%s%3N) - BOOTSTRAP_STARTED_MS ))"
  elapsed="$((elapsed / 1000)).$(( (elapsed % 1000) / 100 ))s"
  if [ "$status" -eq 0 ]; then log "$BOOTSTRAP_STEP: $BOOTSTRAP_SUMMARY ($elapsed)"
  else log "$BOOTSTRAP_STEP: FAILED after $elapsed (exit $status); the lines above say why"; fi
}
trap finish_step EXIT

# npm under `npm test` / `npm run` exports its own settings as npm_config_* variables. A
# nested `npm install` reads them as its own: npm_config_user_agent names the outer Node
# (code-server's postinstall then refuses Node 24 as "v20"), and the prefix and node-gyp
# paths point at the outer project and Node. Nested installs run through this, which drops
# them; what a user set themselves (registry, cache, proxy) is kept. Usage, as for env(1):
#   without_outer_npm [NAME=VALUE ...] npm install ...
without_outer_npm() {
  env -u npm_config_user_agent -u npm_config_local_prefix -u npm_config_node_gyp \
    -u npm_config_npm_version -u npm_config_nodedir -u npm_config_loglevel \
    -u npm_lifecycle_event -u npm_lifecycle_script -u npm_package_json -u npm_package_name \
    -u npm_package_version -u npm_command -u npm_execpath -u npm_node_execpath "$@"
}

# dpkg's status of a package: "install ok installed" when it is usable, "not-installed"
# when dpkg does not know it; anything else (half-installed, unpacked, reinstreq) is broken.
package_status() {
  local status
  status="$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" || status=""
  case "$status" in
    "" | *" not-installed" | *" config-files") echo "not-installed" ;;
    *) echo "$status" ;;
  esac
}
package_broken() {
  local status; status="$(package_status "$1")"
  [ "$status" != "install ok installed" ] && [ "$status" != "not-installed" ]
}

APT_UPDATED_MARK="$WARDEN_CACHE/.apt-updated"
APT_LOG="$WARDEN_CACHE/apt.log"
apt_install() {
  # Installs Debian packages that are missing and repairs ones an interrupted install left
  # half-done (dpkg --configure -a, then a reinstall); runs `apt-get update` at most hourly.
  local missing=() broken=() status pkg
  for pkg in "$@"; do
    status="$(package_status "$pkg")"
    if [ "$status" = "not-installed" ]; then missing+=("$pkg")
    elif [ "$status" != "install ok installed" ]; then broken+=("$pkg"); log "$pkg is not fully installed (dpkg: $status)"; fi
  done
  [ ${#missing[@]} -eq 0 ] && [ ${#broken[@]} -eq 0 ] && return 0
  local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  if [ ${#broken[@]} -gt 0 ]; then
    log "repairing ${broken[*]}: dpkg --configure -a, then apt-get install --reinstall (an earlier install was interrupted)"
    $sudo dpkg --configure -a >>"$APT_LOG" 2>&1 || true
  fi
  if [ ! -f "$APT_UPDATED_MARK" ] || [ -n "$(find "$APT_UPDATED_MARK" -mmin +60)" ]; then
    log "apt-get update"
    $sudo apt-get update -qq >>"$APT_LOG" 2>&1 || apt_failed "apt-get update" "$@"
    touch "$APT_UPDATED_MARK"
  fi
  if [ ${#broken[@]} -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends --reinstall "${broken[@]}" >>"$APT_LOG" 2>&1 \
      || apt_failed "apt-get install --reinstall ${broken[*]}" "$@"
  fi
  if [ ${#missing[@]} -gt 0 ]; then
    log "apt-get install ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$APT_LOG" 2>&1 \
      || apt_failed "apt-get install ${missing[*]}" "$@"
  fi
  for pkg in "$@"; do
    status="$(package_status "$pkg")"
    [ "$status" = "install ok installed" ] || apt_failed "installing $pkg (dpkg still says: $status)" "$@"
  done
}
apt_failed() {
  local what="$1"; shift
  echo "$what failed; the last lines of $APT_LOG:" >&2
  tail -n 15 "$APT_LOG" >&2 2>/dev/null || true
  echo "To repair by hand: sudo dpkg --configure -a && sudo apt-get install --reinstall $*  (then run the command again)" >&2
  exit 1
}

#!/usr/bin/env bash
# Check the user units in systemd/ with `systemd-analyze --user verify`.
#
# Usage: scripts/verify-systemd.sh      (exit 0 = every unit verified cleanly)
#
# Works without a running systemd (CI containers): systemd-analyze only needs a private
# XDG_RUNTIME_DIR for --user mode. verify insists that ExecStart= binaries exist, so we
# point HOME (%h) at a temp dir holding a stub %h/.local/bin/mailroom. verify prints
# bad lines as warnings but still exits 0, so ANY output counts as a failure here.
# Documentation=man:NAME(N) pages are checked against the repo's man/ directory (when
# it exists) instead of the system man database, where they are not installed.
set -euo pipefail
cd "$(dirname "$0")/.."
SCRIPT=verify-systemd.sh
log() { printf '%s: %s\n' "$SCRIPT" "$*" >&2; }
die() { printf '%s: error: %s\n' "$SCRIPT" "$*" >&2; exit 1; }

if ! command -v systemd-analyze >/dev/null; then
  [ "$(id -u)" -eq 0 ] || die "systemd-analyze not found; install the 'systemd' package"
  log "systemd-analyze not found; installing the systemd package (it will not be started)"
  apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends systemd >&2
fi

shopt -s nullglob
units=(systemd/*.service systemd/*.timer)
[ "${#units[@]}" -gt 0 ] || die "no units in systemd/"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/home/.local/bin" "$tmp/run"
chmod 700 "$tmp/run"
printf '#!/bin/sh\nexit 0\n' >"$tmp/home/.local/bin/mailroom"
chmod +x "$tmp/home/.local/bin/mailroom"

rc=0
out=$(HOME=$tmp/home XDG_RUNTIME_DIR=$tmp/run systemd-analyze --user --man=no verify "${units[@]}" 2>&1) || rc=$?
if [ "$rc" -ne 0 ] || [ -n "$out" ]; then
  printf '%s\n' "$out" >&2
  die "systemd-analyze --user verify failed (exit $rc) for: ${units[*]}"
fi

# Man pages named in Documentation= must exist once man/ is generated.
if [ -d man ]; then
  missing=0
  while read -r page; do
    name=${page%(*} sec=${page#*(}
    sec=${sec%)}
    if [ ! -e "man/$name.$sec" ] && [ ! -e "man/man$sec/$name.$sec" ]; then
      log "Documentation=man:$page but man/$name.$sec does not exist"
      missing=1
    fi
  done < <(sed -n 's/^Documentation=.*man:\([^ ]*([0-9])\).*/\1/p' "${units[@]}" | sort -u)
  [ "$missing" -eq 0 ] || die "units reference man pages that man/ does not have"
else
  log "no man/ directory yet; skipped the Documentation= man page check"
fi

log "OK: ${#units[@]} units verified (${units[*]##*/})"

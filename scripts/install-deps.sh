#!/usr/bin/env bash
# Install the system packages the test suite needs (Debian 12 / bookworm).
#
# Idempotent and cheap: one dpkg-query call decides whether anything is missing;
# if nothing is, we exit without touching apt (well under a second). Otherwise we
# run `apt-get update` once and install only what is missing, noninteractively.
#
# Packages:
#   dovecot-core dovecot-imapd dovecot-lmtpd  throwaway IMAP/LMTP server (scripts/dovecot-up.sh)
#   postfix                                   throwaway SMTP server (scripts/postfix-up.sh)
#   openssl                                   self-signed test certificates
#   swaks libnet-ssleay-perl libio-socket-ssl-perl
#                                             SMTP probe; the perl TLS modules are only
#                                             "Recommends" of swaks, but `swaks --tls` needs them
#   python3                                   free-port picking (AUTO_PORTS=1), imaplib checks
#   chromium chromium-driver                  browser tests of `review serve`
#   tmux                                      terminal tests of `review`
#   systemd                                   systemd-analyze for scripts/verify-systemd.sh (never started)
#
# Apt never starts the daemons here (policy-rc.d exits 101); our scripts run
# private instances with their own config instead.
set -euo pipefail

PKGS=(
  dovecot-core dovecot-imapd dovecot-lmtpd
  postfix openssl
  systemd
  swaks libnet-ssleay-perl libio-socket-ssl-perl
  python3
  chromium chromium-driver
  tmux
)

log() { printf 'install-deps: %s\n' "$*" >&2; }

missing() {
  # "ii " = desired install, currently installed. Anything else (absent, half-configured,
  # removed with config left behind) counts as missing. dpkg-query exits 1 for unknown
  # packages, which is fine: they print nothing and are reported as missing.
  local installed
  installed=$(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' "${PKGS[@]}" 2>/dev/null \
              | awk '$1 == "ii" { print $2 }' || true)
  local p
  for p in "${PKGS[@]}"; do
    grep -qxF -- "$p" <<<"$installed" || printf '%s\n' "$p"
  done
}

mapfile -t MISSING < <(missing)
if [ "${#MISSING[@]}" -eq 0 ]; then
  log "all ${#PKGS[@]} packages already installed; nothing to do"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  log "missing packages: ${MISSING[*]}"
  log "error: need root to install them (run: sudo $0)"
  exit 1
fi

log "missing packages: ${MISSING[*]}"
export DEBIAN_FRONTEND=noninteractive

# Postfix asks debconf questions on install; answer them up front ("Local only": it
# must not try to relay anywhere; the system instance is never started anyway).
log "preseeding postfix debconf answers"
debconf-set-selections <<'SEL'
postfix postfix/main_mailer_type select Local only
postfix postfix/mailname string localhost.localdomain
SEL

log "apt-get update"
apt-get update -q >&2

log "apt-get install ${MISSING[*]}"
apt-get install -y -q --no-install-recommends \
  -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
  "${MISSING[@]}" >&2

# Double-check: a package that apt silently skipped would otherwise show up
# later as a confusing test failure.
mapfile -t STILL < <(missing)
if [ "${#STILL[@]}" -ne 0 ]; then
  log "error: still missing after install: ${STILL[*]}"
  exit 1
fi
log "done"

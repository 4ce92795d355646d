#!/usr/bin/env bash
# Smoke test of the throwaway mail servers: Dovecot + Postfix on auto-picked ports.
#
# Usage: scripts/servers-smoke.sh        (KEEP=1 keeps the temp dir for inspection)
#
# Checks: mail via Postfix (plain SMTP, STARTTLS, implicit TLS, with SMTP AUTH) lands
# in the right Maildir through LMTP; IMAPS and IMAP+STARTTLS logins verify against
# CA_FILE and see the mail and the \Sent/\Drafts mailboxes; forced 550/451 and the
# unknown-user / relay-denied rejections; the WATCH_PID watcher; clean teardown.
# Prints the time of each phase. Exit 0 = all good.
set -euo pipefail
cd "$(dirname "$0")/.."
SCRIPT=servers-smoke.sh
# shellcheck source-path=SCRIPTDIR source=lib/servers.sh
. scripts/lib/servers.sh

for c in swaks python3 dovecot postfix; do
  command -v "$c" >/dev/null || die "$c not found; run scripts/install-deps.sh"
done

T0=$(date +%s.%N)
lap() { # lap LABEL: print seconds since the previous lap
  local now
  now=$(date +%s.%N)
  printf '%s: %-44s %6.2f s\n' "$SCRIPT" "$1" "$(echo "$now - ${LAST:-$T0}" | bc -l 2>/dev/null || python3 -c "print($now - ${LAST:-$T0})")" >&2
  LAST=$now
}

T=$(mktemp -d /tmp/mr-smoke.XXXXXX)
D=$T/srv
FAILED=1
cleanup() {
  scripts/postfix-down.sh "$D" 2>/dev/null || true
  scripts/dovecot-down.sh "$D" 2>/dev/null || true
  if [ "$FAILED" = 1 ] || [ "${KEEP:-0}" = 1 ]; then
    log "left $T for inspection (logs: $D/dovecot.log $D/pf/maillog)"
  else
    rm -rf "$T"
  fi
}
trap cleanup EXIT

fail() {
  tail_logs "$D/pf/maillog" "$D/dovecot.log"
  die "$*"
}

# --- start -----------------------------------------------------------------------
AUTO_PORTS=1 WATCH_PID=$$ scripts/dovecot-up.sh "$D"
lap "dovecot-up"
AUTO_PORTS=1 WATCH_PID=$$ scripts/postfix-up.sh "$D"
lap "postfix-up"
# shellcheck source=/dev/null
. "$D/env"
for k in IMAP_PORT IMAPS_PORT LMTP_PORT SMTP_PORT SMTPS_PORT CA_FILE MAILDIR_ROOT; do
  [ -n "${!k:-}" ] || fail "$D/env lacks $k"
done

# --- SMTP sends that must succeed ---------------------------------------------------
ID=$$-$RANDOM
out=$T/swaks.out
send() { # send NAME EXPECTED_EXIT swaks-args...: run swaks and check its exit code
  local name=$1 want=$2 rc=0
  shift 2
  swaks --server 127.0.0.1 --from customer@shop.example --helo smoke.test "$@" >"$out" 2>&1 || rc=$?
  if [ "$rc" != "$want" ]; then
    cat "$out" >&2
    fail "$name: swaks exited $rc, expected $want"
  fi
}
send "plain SMTP" 0 --port "$SMTP_PORT" --to test@example.test \
  --header "Subject: smoke plain $ID"
send "STARTTLS (verified)" 0 --port "$SMTP_PORT" --to test@example.test \
  --tls --tls-verify --tls-ca-path "$CA_FILE" --header "Subject: smoke starttls $ID"
grep -q 'TLS started' "$out" || { cat "$out" >&2; fail "STARTTLS: no 'TLS started' in swaks output"; }
send "STARTTLS + AUTH PLAIN" 0 --port "$SMTP_PORT" --to customer@shop.example \
  --tls --tls-verify --tls-ca-path "$CA_FILE" --auth PLAIN --auth-user test --auth-password secret \
  --header "Subject: smoke auth $ID"
grep -q '235 2.7.0 Authentication successful' "$out" || { cat "$out" >&2; fail "AUTH: not accepted"; }
send "implicit TLS (SMTPS)" 0 --port "$SMTPS_PORT" --to test+tag@localhost \
  --tls-on-connect --tls-verify --tls-ca-path "$CA_FILE" --header "Subject: smoke smtps $ID"
lap "4 sends (plain, STARTTLS, AUTH, SMTPS)"

# --- SMTP sends that must fail -------------------------------------------------------
expect_reply() { # expect_reply NAME PATTERN: the last swaks transcript must contain PATTERN
  grep -q -- "$2" "$out" || { cat "$out" >&2; fail "$1: expected '$2' in the reply"; }
}
send "forced 550" 24 --port "$SMTP_PORT" --to reject550@example.test
expect_reply "forced 550" '^<[~*]\* *550 5.1.1 .*no such user'
send "forced 451" 24 --port "$SMTP_PORT" --to tempfail@example.test
expect_reply "forced 451" '^<[~*]\* *451 4.3.0 .*try again later'
send "unknown user" 24 --port "$SMTP_PORT" --to nosuchuser@example.test
expect_reply "unknown user" '^<[~*]\* *550 5.1.1 .*User unknown'
send "relay denied" 24 --port "$SMTP_PORT" --to someone@gmail.example
expect_reply "relay denied" '^<[~*]\* *554 5.7.1 .*Relay access denied'
send "bad password" 28 --port "$SMTP_PORT" --to test@example.test \
  --tls --tls-verify --tls-ca-path "$CA_FILE" --auth PLAIN --auth-user test --auth-password wrong
expect_reply "bad password" '^<[~*]\* *535 5.7.8'
lap "5 rejections (550, 451, unknown, relay, 535)"

# --- delivery into the Maildirs --------------------------------------------------------
wait_mail() { # wait_mail USER SUBJECT: up to 10 s for a file with that subject
  local i
  for ((i = 0; i < 200; i++)); do
    grep -rqsF -- "Subject: $2" "$MAILDIR_ROOT/$1/Maildir/new" "$MAILDIR_ROOT/$1/Maildir/cur" && return 0
    sleep 0.05
  done
  fail "no mail '$2' in $MAILDIR_ROOT/$1/Maildir after 10 s"
}
wait_mail test "smoke plain $ID"
wait_mail test "smoke starttls $ID"
wait_mail test "smoke smtps $ID"
wait_mail customer "smoke auth $ID"
lap "delivered to Maildirs"

# --- IMAP: TLS verified against CA_FILE only ----------------------------------------------
python3 - "$IMAPS_PORT" "$IMAP_PORT" "$CA_FILE" "$ID" <<'PY' || fail "IMAP checks failed"
import imaplib, ssl, sys
imaps_port, imap_port, ca, ident = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
ctx = ssl.create_default_context(cafile=ca)          # verifies chain + hostname
def check(m, how):
    m.login("test", "secret")
    typ, data = m.list()
    listing = b"\n".join(data)
    assert b"\\Sent" in listing and b"\\Drafts" in listing, f"{how}: no \\Sent/\\Drafts: {listing!r}"
    typ, data = m.select("INBOX", readonly=True)
    for what in ("plain", "starttls", "smtps"):
        typ, hits = m.search(None, "SUBJECT", f'"smoke {what} {ident}"')
        assert typ == "OK" and hits[0].split(), f"{how}: message 'smoke {what}' not found"
    m.logout()
check(imaplib.IMAP4_SSL("localhost", imaps_port, ssl_context=ctx), "IMAPS")
m = imaplib.IMAP4("127.0.0.1", imap_port)
m.starttls(ssl_context=ctx)
check(m, "IMAP+STARTTLS")
# A wrong CA must be refused (proves verification is really on).
try:
    imaplib.IMAP4_SSL("localhost", imaps_port, ssl_context=ssl.create_default_context())
    sys.exit("IMAPS accepted a cert not signed by a system CA?")
except ssl.SSLCertVerificationError:
    pass
PY
lap "IMAPS + STARTTLS logins, verified"

# --- teardown ----------------------------------------------------------------------------
dpid=$(cat "$D/dovecot.pid")
mpid=$(cat "$D/postfix-master.pid")
scripts/postfix-down.sh "$D"
lap "postfix-down"
scripts/dovecot-down.sh "$D"
lap "dovecot-down"
for p in "$dpid" "$mpid"; do alive "$p" && fail "server pid $p still running after down"; done
for f in dovecot-watch.pid postfix-watch.pid; do [ ! -e "$D/$f" ] || fail "$f left behind"; done
for p in $(pgrep -f "bash scripts/lib/watch.sh $$ " || true); do fail "watcher $p still running"; done

FAILED=0
printf '%s: OK, total %.2f s\n' "$SCRIPT" "$(python3 -c "print($(date +%s.%N) - $T0)")" >&2

#!/usr/bin/env bash
# IMAP fetch benchmark: `mailroom fetch` of COUNT messages (default 10000) from a throwaway
# Dovecot on loopback over implicit TLS: the first full fetch (backfill), then an incremental
# fetch with nothing new. When mbsync (Debian package isync) is installed, it syncs the same
# mailbox into a Maildir for comparison.
#
# Usage: scripts/bench-fetch.sh [COUNT]
# Environment: MAILROOM_BIN (default: a release build, made first), BENCH_DIR (kept if given).
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-10000}
work=${BENCH_DIR:-$(mktemp -d /tmp/mailroom-bench-fetch.XXXXXX)}
mkdir -p "$work"
# mbsync's Maildir gets a new name each run and is removed at exit, not just before mbsync
# runs: ext4 skips recently freed inodes when it creates files, which made mbsync's first sync
# several times slower right after the previous run's 10,000 files were deleted.
maildir=$(mktemp -d "$work/mbsync.XXXXXX")
cleanup() {
  scripts/dovecot-down.sh "$work/srv" >/dev/null 2>&1 || true
  rm -rf "$maildir"
  [ -n "${BENCH_DIR:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
if [ -z "${MAILROOM_BIN:-}" ]; then
  cargo build --release --quiet
  MAILROOM_BIN=target/release/mailroom
fi

AUTO_PORTS=1 scripts/dovecot-up.sh "$work/srv" >/dev/null
# shellcheck source=/dev/null
. "$work/srv/env"

# Seed: COUNT distinct real messages, written straight into a Maildir folder "bench".
python3 scripts/gen-mbox.py "$work/seed.mbox" --count "$count" --quiet
python3 - "$work/seed.mbox" "$MAILDIR_ROOT/test/Maildir/.bench" <<'PY'
import os, re, sys
src, dst = sys.argv[1], sys.argv[2]
for d in ("cur", "new", "tmp"):
    os.makedirs(os.path.join(dst, d), exist_ok=True)
data = open(src, "rb").read()
unescape = re.compile(rb"^>(>*From )", re.M)
for i, part in enumerate(p for p in re.split(rb"^From [^\n]*\n", data, flags=re.M) if p.strip()):
    with open(os.path.join(dst, "cur", "%d.bench.mailroom:2," % i), "wb") as f:
        f.write(unescape.sub(rb"\1", part))
PY
chown -R nobody:nogroup "$MAILDIR_ROOT/test/Maildir/.bench"
mb=$(du -sm "$MAILDIR_ROOT/test/Maildir/.bench" | cut -f1)

cat >"$work/config.toml" <<CONF
[accounts.bench.imap]
host = "127.0.0.1"
port = $IMAPS_PORT
tls = "implicit"
user = "test"
password = "secret"
ca_file = "$CA_FILE"
mailboxes = ["bench"]
CONF

# Let Dovecot build its index first, so neither tool pays for it.
python3 - "$IMAP_PORT" <<'PY'
import imaplib, sys
m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1])); m.login("test", "secret"); m.select("bench"); m.logout()
PY

run() { # label, command...
  local label=$1; shift
  /usr/bin/time -f '%e %M' -o "$work/time" "$@" >"$work/out" 2>"$work/err" || { cat "$work/err"; exit 1; }
  read -r secs rss_kb <"$work/time"
  awk -v l="$label" -v n="$(wc -l <"$work/out")" -v t="$secs" -v r="$rss_kb" -v c="$count" -v mb="$mb" 'BEGIN {
    printf "| %s | %d | %.2f | %.0f | %.1f | %.0f |\n", l, n, t, (t > 0 ? c / t : 0), (t > 0 ? mb / t : 0), r / 1024 }'
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $count messages, $mb MB in Maildir"
printf '| run | records out | seconds | messages/s | MB/s | peak RSS MB |\n|---|---|---|---|---|---|\n'
ledger="$work/ledger.sqlite"
# A kept BENCH_DIR must not turn the first, full fetch into an incremental one.
rm -rf "$ledger" "$ledger"-wal "$ledger"-shm
run "mailroom fetch (first, full)" "$MAILROOM_BIN" --quiet --config "$work/config.toml" --ledger "$ledger" fetch
run "mailroom fetch (again, nothing new)" "$MAILROOM_BIN" --quiet --config "$work/config.toml" --ledger "$ledger" fetch

if command -v mbsync >/dev/null; then
  mkdir -p "$maildir/bench"
  # FSync no: mbsync otherwise fsyncs every message; mailroom's ledger syncs per batch (WAL).
  cat >"$work/mbsyncrc" <<CONF
FSync no

IMAPAccount bench
Host 127.0.0.1
Port $IMAPS_PORT
User test
Pass secret
SSLType IMAPS
CertificateFile $CA_FILE

IMAPStore bench-remote
Account bench

MaildirStore bench-local
Path $maildir/
Inbox $maildir/INBOX
SubFolders Verbatim

Channel bench
Far :bench-remote:bench
Near :bench-local:bench
Create Near
Sync Pull
SyncState *
CONF
  run "mbsync (first, full)" mbsync -q -c "$work/mbsyncrc" bench
  run "mbsync (again, nothing new)" mbsync -q -c "$work/mbsyncrc" bench
  echo "(mbsync prints no records; it stored $(find "$maildir/bench" -type f -path '*/cur/*' -o -type f -path '*/new/*' | wc -l) messages)"
else
  echo "(mbsync not installed: apt-get install isync to compare)"
fi

#!/usr/bin/env bash
# Digest and heartbeat benchmark: wall time of `mailroom digest` and `mailroom heartbeat` on a
# generated ledger of N messages spread over DAYS days (with filter verdicts, triage, drafts in
# every state, IMAP and model-call events), best of three runs each; then `mailroom export` of
# the whole ledger to /dev/null, once.
#
# Usage: scripts/bench-digest.sh [N] [DAYS]      (default: 1000000 730)
#   PROFILE=debug scripts/bench-digest.sh        use the debug build (default: release)
#   BENCH_DIR=DIR                                keep the ledger in DIR (reused when present)
# Needs the sqlite3 command-line shell to generate the ledger quickly.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
days=${2:-730}
profile=${PROFILE:-release}
work=${BENCH_DIR:-$(mktemp -d /tmp/mailroom-bench-digest.XXXXXX)}
mkdir -p "$work"
command -v sqlite3 >/dev/null || { echo "bench-digest.sh: needs sqlite3 (apt-get install sqlite3)" >&2; exit 1; }

if [ "$profile" = release ]; then cargo build --release --quiet; else cargo build --quiet; fi
bin=target/$profile/mailroom
ledger=$work/ledger-$n-$days.sqlite

if [ ! -f "$ledger" ]; then
  echo "generating $n messages over $days days in $ledger ..." >&2
  "$bin" --quiet --ledger "$ledger" heartbeat --json >/dev/null || true   # creates and migrates it
  start=$(date +%s)
  sqlite3 "$ledger" >/dev/null <<SQL
PRAGMA journal_mode = WAL;
PRAGMA synchronous = OFF;
BEGIN;
INSERT INTO raw_sources (sha256, size, raw) VALUES ('bench', 1, x'00');
-- Message i arrived (days * 86400 * (n - i) / n) seconds ago; fetched a minute later.
CREATE TEMP TABLE gen AS
  WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i < $n - 1)
  SELECT i,
         strftime('%Y-%m-%dT%H:%M:%SZ', 'now', printf('-%d seconds', ($days * 86400 * ($n - i)) / $n)) AS t,
         strftime('%Y-%m-%dT%H:%M:%SZ', 'now', printf('-%d seconds', ($days * 86400 * ($n - i)) / $n - 60)) AS f
  FROM k;
INSERT INTO messages (id, raw_sha256, account, mailbox, date_utc, from_addr, subject, record_json, fetched_at)
  SELECT printf('m%08d', i), 'bench', 'support', 'INBOX', t, printf('customer%d@example.com', i % 50000),
         printf('Order question %d', i), json_object('id', printf('m%08d', i), 'from', json_object('name', 'Customer')), f
  FROM gen;
-- One in five is dropped by the filter.
INSERT INTO stage_results (message, stage, version, summary, result_json, created_at)
  SELECT printf('m%08d', i), 'filter', 1, CASE WHEN i % 5 = 0 THEN 'spam' ELSE 'pass' END, '{}',
         strftime('%Y-%m-%dT%H:%M:%SZ', f, '+60 seconds')
  FROM gen;
INSERT INTO stage_results (message, stage, version, summary, result_json, created_at)
  SELECT printf('m%08d', i), 'triage', 1, c,
         json_object('category', c, 'priority', 'P' || (1 + i % 4), 'escalate', json(CASE WHEN i % 50 = 1 THEN 'true' ELSE 'false' END)),
         strftime('%Y-%m-%dT%H:%M:%SZ', f, '+120 seconds')
  FROM (SELECT i, f, CASE i % 7 WHEN 0 THEN 'shipping' WHEN 1 THEN 'refund' WHEN 2 THEN 'return' WHEN 3 THEN 'complaint'
                     WHEN 4 THEN 'product' WHEN 5 THEN 'payment' ELSE 'other' END AS c FROM gen WHERE i % 5 <> 0);
-- Drafts for half of what passed, in every state.
INSERT INTO drafts (id, message, state, subject, body, risk, draft_json, decided_by, decided_at, sent_at, created_at, updated_at)
  SELECT printf('d%08d', i), printf('m%08d', i), s, 'Re', 'Hello', 'low', '{}',
         CASE WHEN s = 'pending' THEN NULL WHEN i % 3 = 0 THEN 'policy' ELSE 'alice' END,
         CASE WHEN s = 'pending' THEN NULL ELSE strftime('%Y-%m-%dT%H:%M:%SZ', f, '+3600 seconds') END,
         CASE WHEN s = 'sent' THEN strftime('%Y-%m-%dT%H:%M:%SZ', f, '+3700 seconds') END,
         strftime('%Y-%m-%dT%H:%M:%SZ', f, '+600 seconds'), strftime('%Y-%m-%dT%H:%M:%SZ', f, '+3700 seconds')
  FROM (SELECT i, f, CASE WHEN i > $n - 2000 AND i % 4 = 0 THEN 'pending'
                          ELSE CASE (i / 2) % 6 WHEN 0 THEN 'sent' WHEN 1 THEN 'sent' WHEN 2 THEN 'handled'
                               WHEN 3 THEN 'rejected' WHEN 4 THEN 'approved' ELSE 'failed' END END AS s
        FROM gen WHERE i % 5 <> 0 AND i % 2 = 0);
-- A model call per triaged message, and an IMAP login every five minutes.
INSERT INTO events (at, kind, status, latency_ms, detail_json)
  SELECT strftime('%Y-%m-%dT%H:%M:%SZ', f, '+90 seconds'), 'model.call', CASE WHEN i % 97 = 0 THEN 'error' ELSE 'ok' END, 800,
         CASE WHEN i % 97 = 0 THEN '{"status": 429}' ELSE '{"status": 200}' END
  FROM gen WHERE i % 5 <> 0;
WITH RECURSIVE k(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM k WHERE j < $days * 288)
INSERT INTO events (at, kind, account, status)
  SELECT strftime('%Y-%m-%dT%H:%M:%SZ', 'now', printf('-%d seconds', j * 300)), 'imap.login', 'support', 'ok' FROM k;
COMMIT;
PRAGMA wal_checkpoint(TRUNCATE);
SQL
  echo "generated in $(( $(date +%s) - start )) s" >&2
fi

config=$work/config.toml
printf '[team]\nname = "Bench"\ntimezone = "Europe/Berlin"\n' > "$config"
best() { # best wall time of three runs, in ms
  local b=999999 t s e
  for _ in 1 2 3; do
    s=$(date +%s%N); "$@" >/dev/null 2>&1 || true; e=$(date +%s%N)
    t=$(( (e - s) / 1000000 )); [ "$t" -lt "$b" ] && b=$t
  done
  echo "$b"
}
yesterday=$(date -u -d yesterday +%Y-%m-%d)
rows=$(sqlite3 "$ledger" 'SELECT (SELECT COUNT(*) FROM messages) || " messages, " || (SELECT COUNT(*) FROM stage_results) || " stage results, " || (SELECT COUNT(*) FROM drafts) || " drafts, " || (SELECT COUNT(*) FROM events) || " events"')
echo "ledger: $rows; $(du -h "$ledger" | cut -f1); $profile build; machine: $(nproc) cores"
printf '| command | best of 3 |\n|---|---|\n'
run() { printf '| `mailroom %s` | %s ms |\n' "$*" "$(best "$bin" --quiet --config "$config" --ledger "$ledger" "$@")"; }
run digest --since 24h --json
run digest --date "$yesterday" --format html
run digest --since 7d --json
run digest --since 30d --json
run heartbeat --max-idle 2h --json
# export writes every message of the ledger as a record: once, with peak memory.
/usr/bin/time -f '%e %U %S %M' -o "$work/export-time" "$bin" --quiet --config "$config" --ledger "$ledger" export > /dev/null
read -r secs user sys rss_kb < <(tail -n 1 "$work/export-time")
awk -v t="$secs" -v u="$user" -v s="$sys" -v r="$rss_kb" -v n="$n" 'BEGIN { printf "| `mailroom export > /dev/null` (all %d records, once) | %.0f ms (%.0f records/s; CPU %.1f s; peak RSS %.0f MB) |\n", n, t * 1000, n / t, u + s, r / 1024 }'
[ -n "${BENCH_DIR:-}" ] || rm -rf "$work"

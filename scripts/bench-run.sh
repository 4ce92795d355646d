#!/usr/bin/env bash
# End-to-end benchmark: `mailroom run` (fetch → filter → classify → draft, embedded backends,
# no webhooks) over the bundled sample inbox with examples/config.toml, then over COUNT
# generated messages (scripts/gen-mbox.py) with the same config. Wall time, CPU time,
# messages/s and peak RSS, each on a fresh ledger.
#
#   scripts/bench-run.sh [COUNT]      (default 100000)
# Environment: MAILROOM_BIN (default: release build), BENCH_DIR (kept if given; the mbox is reused).
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-100000}
work=${BENCH_DIR:-$(mktemp -d /tmp/mailroom-bench-run.XXXXXX)}
mkdir -p "$work"
[ -n "${BENCH_DIR:-}" ] || trap 'rm -rf "$work"' EXIT
if [ -z "${MAILROOM_BIN:-}" ]; then
  cargo build --release --quiet
  MAILROOM_BIN=target/release/mailroom
fi
mbox=$work/run-$count.mbox
[ -f "$mbox" ] || python3 scripts/gen-mbox.py "$mbox" --count "$count" --quiet

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '| input | messages | records out | wall s | CPU s | messages/s (wall) | CPU ms/message | peak RSS MB |\n|---|---|---|---|---|---|---|---|\n'
for input in examples/sample.mbox "$mbox"; do
  rm -f "$work/ledger.sqlite"*
  /usr/bin/time -f '%e %U %S %M' -o "$work/time" "$MAILROOM_BIN" --quiet --config examples/config.toml \
    --ledger "$work/ledger.sqlite" run --no-notify --mbox "$input" > "$work/out.jsonl"
  read -r wall user sys rss < <(tail -n 1 "$work/time")
  msgs=$(grep -c '^From ' "$input")
  awk -v i="$(basename "$input")" -v m="$msgs" -v o="$(wc -l < "$work/out.jsonl")" -v w="$wall" -v u="$user" -v s="$sys" -v r="$rss" 'BEGIN {
    printf "| %s | %d | %d | %.2f | %.2f | %.0f | %.2f | %.0f |\n", i, m, o, w, u + s, m / w, 1000 * (u + s) / m, r / 1024 }'
done

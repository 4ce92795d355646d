#!/usr/bin/env bash
# Import benchmark: throughput (MB/s, messages/s) and peak RSS of `mailroom fetch --mbox`
# on generated mboxes of growing size. Usage: scripts/bench-import.sh [SIZE...]  (default: 100M 1G)
# A SIZE with a K/M/G suffix is bytes; a plain number is a count of messages (10000 100000 1000000).
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@"); [ ${#sizes[@]} -gt 0 ] || sizes=(100M 1G)
work=${BENCH_DIR:-$(mktemp -d /tmp/mailroom-bench.XXXXXX)}
mkdir -p "$work"
cargo build --release --quiet
bin=target/release/mailroom
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
printf '| mbox | messages | MB | seconds | MB/s | messages/s | peak RSS MB |\n|---|---|---|---|---|---|---|\n'
for size in "${sizes[@]}"; do
  mbox=$work/bench-$size.mbox
  if [[ $size =~ ^[0-9]+$ ]]; then how=(--count "$size"); else how=(--size "$size"); fi
  [ -f "$mbox" ] || python3 scripts/gen-mbox.py "$mbox" "${how[@]}"
  rm -f "$work/ledger-$size.sqlite"*
  bytes=$(stat -c %s "$mbox")
  /usr/bin/time -f '%e %M' -o "$work/time-$size" "$bin" --quiet --ledger "$work/ledger-$size.sqlite" \
      fetch --mbox "$mbox" > "$work/out-$size.jsonl"
  read -r secs rss_kb < "$work/time-$size"
  msgs=$(wc -l < "$work/out-$size.jsonl")
  awk -v s="$size" -v m="$msgs" -v b="$bytes" -v t="$secs" -v r="$rss_kb" 'BEGIN {
    mb = b / 1048576; printf "| %s | %d | %.0f | %.1f | %.1f | %.0f | %.0f |\n", s, m, mb, t, mb / t, m / t, r / 1024 }'
done
[ -n "${BENCH_DIR:-}" ] || rm -rf "$work"

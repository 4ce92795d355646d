#!/usr/bin/env bash
# Classification benchmark: records/s of `mailroom classify` (embedded backend) on ONE core
# (taskset -c 0), release build. The records are real mail (the shared spam-ham corpus and the
# sample inbox, via scripts/gen-mbox.py), imported into a fresh ledger first, so the figure
# includes everything a real run does: JSON in and out, language, entities, rules, the model,
# the repeated-contact query and storing each result as a new version in the ledger.
#
#   scripts/bench-classify.sh [COUNT]      (default 20000 messages)
#   CPUS=0,1 scripts/bench-classify.sh     pin to other cores (CPUS= for no pinning)
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-20000}
work=${BENCH_DIR:-$(mktemp -d /tmp/mailroom-bench-classify.XXXXXX)}
mkdir -p "$work"
cargo build --release --quiet
bin=target/release/mailroom
cpus=${CPUS-0}
pin=(); [ -z "$cpus" ] || pin=(taskset -c "$cpus")
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); classify pinned to cores: ${cpus:-none}"
mbox=$work/bench-$count.mbox
[ -f "$mbox" ] || python3 scripts/gen-mbox.py "$mbox" --count "$count" --quiet
rm -f "$work/ledger.sqlite"*
"$bin" --quiet --ledger "$work/ledger.sqlite" fetch --mbox "$mbox" > "$work/records.jsonl"
n=$(wc -l < "$work/records.jsonl")
bytes=$(stat -c %s "$work/records.jsonl")
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) (other work on core 0 slows the wall-clock figure; CPU seconds are what classify itself used)"
printf '| run | records | MB of JSONL | wall s | records/s (wall) | CPU s (user+sys) | records per CPU-second |\n|---|---|---|---|---|---|---|\n'
for run in "first (stores every result)" "rerun (results unchanged, nothing stored)"; do
  /usr/bin/time -f '%e %U %S' -o "$work/time" "${pin[@]}" "$bin" --quiet --ledger "$work/ledger.sqlite" \
      classify "$work/records.jsonl" > "$work/triaged.jsonl"
  read -r wall user sys < "$work/time"
  awk -v r="$run" -v n="$n" -v b="$bytes" -v w="$wall" -v u="$user" -v s="$sys" 'BEGIN {
    c = u + s; printf "| %s | %d | %.0f | %.2f | %.0f | %.2f | %.0f |\n", r, n, b / 1048576, w, n / w, c, n / c }'
done
[ "$(wc -l < "$work/triaged.jsonl")" = "$n" ] || { echo "bench-classify: output count differs" >&2; exit 1; }
[ -n "${BENCH_DIR:-}" ] || rm -rf "$work"

#!/usr/bin/env bash
# Import benchmark: throughput (MB/s, messages/s) and peak RSS of `mailroom fetch --mbox`
# on generated mboxes of growing size. Usage: scripts/bench-import.sh [SIZE...]
# (default: 10000 100000 1000000). A plain number is a count of messages; a SIZE with a K/M/G
# suffix is bytes. The mboxes come from the shared corpus and the sample inbox
# (scripts/gen-mbox.py, about 5.4 KB a message); each is read once before it is timed, so every
# run starts from the page cache as a freshly generated one does, whatever the disk.
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@"); [ ${#sizes[@]} -gt 0 ] || sizes=(10000 100000 1000000)
work=${BENCH_DIR:-$(mktemp -d /tmp/mailroom-bench.XXXXXX)}
mkdir -p "$work"
cargo build --release --quiet
bin=target/release/mailroom
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
printf '| mbox | messages | MB | seconds | MB/s | messages/s | peak RSS MB | ledger MB |\n|---|---|---|---|---|---|---|---|\n'
for size in "${sizes[@]}"; do
  mbox=$work/bench-$size.mbox
  if [[ $size =~ ^[0-9]+$ ]]; then how=(--count "$size"); else how=(--size "$size"); fi
  rm -f "$work/ledger-$size.sqlite"*
  # The ledger takes about 2.1 times the mbox (3.3 times with the mbox still to write): stop
  # early rather than fill the disk.
  if [ -f "$mbox" ]; then
    need=$(( $(stat -c %s "$mbox") * 22 / 10 ))
  elif [[ $size =~ ^[0-9]+$ ]]; then
    need=$(( size * 5400 * 33 / 10 ))
  else
    need=$(( $(numfmt --from=iec "${size^^}") * 33 / 10 ))
  fi
  free=$(( $(df --output=avail -B1 "$work" | tail -1) ))
  if [ "$free" -lt "$need" ]; then
    echo "| $size | skipped: needs about $((need >> 20)) MiB free in $work, $((free >> 20)) MiB there | | | | | | |"
    continue
  fi
  if [ ! -f "$mbox" ]; then
    # Written aside first: an interrupted run leaves no partial mbox for the next one to reuse.
    python3 scripts/gen-mbox.py "$mbox.part" "${how[@]}"
    mv "$mbox.part" "$mbox"
  fi
  bytes=$(stat -c %s "$mbox")
  cat "$mbox" > /dev/null
  /usr/bin/time -f '%e %M' -o "$work/time-$size" "$bin" --quiet --ledger "$work/ledger-$size.sqlite" \
      fetch --mbox "$mbox" | wc -l > "$work/count-$size"
  read -r secs rss_kb < "$work/time-$size"
  msgs=$(cat "$work/count-$size")
  ledger=$(stat -c %s "$work/ledger-$size.sqlite")
  awk -v s="$size" -v m="$msgs" -v b="$bytes" -v t="$secs" -v r="$rss_kb" -v l="$ledger" 'BEGIN {
    mb = b / 1048576; printf "| %s | %d | %.0f | %.1f | %.1f | %.0f | %.0f | %.0f |\n", s, m, mb, t, mb / t, m / t, r / 1024, l / 1048576 }'
  rm -f "$work/ledger-$size.sqlite"*
done
[ -n "${BENCH_DIR:-}" ] || rm -rf "$work"

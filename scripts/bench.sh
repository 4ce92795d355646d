#!/usr/bin/env bash
# Every benchmark in one run, mailroom next to the tools people use instead, on this machine:
#   import   scripts/bench-import.sh        mbox import MB/s, messages/s, peak RSS as size grows
#   fetch    scripts/bench-fetch.sh         IMAPS fetch vs mbsync (Dovecot on loopback)
#   filter   scripts/bench-filter.sh        filter vs bogofilter and SpamAssassin, speed and accuracy
#   classify scripts/bench-classify.sh      embedded classify on one core and on all cores
#   llm      scripts/bench-model.sh         classify and draft, model backend against a 200 ms mock, -j 1 / 8 / 32
#   run      scripts/bench-run.sh           end-to-end `run` over the sample inbox and N messages
#   digest   scripts/bench-digest.sh        digest, heartbeat, export on a 1M-message ledger
#   idle     scripts/bench-run-idle.sh      delivery-to-notification latency of `run --idle`
# Each of them also runs alone. The report (markdown, machine and load noted) goes to stdout and
# to $BENCH_DIR/report.md; with --readme it replaces the block between the bench markers in
# README.md. Peers are installed with apt when missing (root needed).
#
#   scripts/bench.sh [--readme] [SECTION...]      (default: all sections)
# Environment: BENCH_DIR (default /tmp/mailroom-bench; generated mboxes and the 1M ledger are kept
# and reused), IMPORT_SIZES ("10000 100000 1000000"), FETCH_COUNT (10000), CLASSIFY_COUNT (20000),
# RUN_COUNT (100000), DIGEST_COUNT (1000000), IDLE_TRIALS (5).
set -euo pipefail
cd "$(dirname "$0")/.."
readme=0
if [ "${1:-}" = --readme ]; then readme=1; shift; fi
sections=("$@"); [ ${#sections[@]} -gt 0 ] || sections=(import fetch filter classify llm run digest idle)
work=${BENCH_DIR:-/tmp/mailroom-bench}
mkdir -p "$work"
report=$work/report.md

peers=(bogofilter spamassassin spamd spamc isync sqlite3)
missing=()
for p in "${peers[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" -eq 0 ] || { echo "bench.sh: missing ${missing[*]}; run as root or: sudo apt-get install ${missing[*]}" >&2; exit 1; }
  echo "bench.sh: installing ${missing[*]}" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 \
    || { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2; }
fi
case " ${sections[*]} " in *" fetch "*|*" idle "*) scripts/install-deps.sh ;; esac

cargo build --release --quiet
export MAILROOM_BIN=$PWD/target/release/mailroom

{
  echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/^Mem:/ { print $2 }') GB RAM;"
  echo "load average at start $(cut -d' ' -f1-3 /proc/loadavg) (the machine is shared; CPU-time columns are less affected than wall time)."
  echo "mailroom $(git rev-parse --short HEAD), release build; $(date -u +%Y-%m-%d). Command: \`scripts/bench.sh ${sections[*]}\`."
  echo
} > "$report"

section() { # name, title, command...
  local name=$1 title=$2; shift 2
  printf '#### %s\n\n' "$title" >> "$report"
  echo "== $title (load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
  if BENCH_DIR=$work/$name "$@" > "$work/$name.out" 2> "$work/$name.err"; then
    sed -n '/^|/p; /^[a-z(].*:/p' "$work/$name.out" | sed 's/^\([a-z(].*\)$/\n\1\n/' >> "$report"
  else
    { echo "(failed: $(tail -n 3 "$work/$name.err" | tr '\n' ' '))"; } >> "$report"
  fi
  echo >> "$report"
}
# shellcheck disable=SC2086
for s in "${sections[@]}"; do
  case $s in
    import)   section import "Import (\`fetch --mbox\`)" scripts/bench-import.sh ${IMPORT_SIZES:-10000 100000 1000000} ;;
    fetch)    section fetch "IMAP fetch vs mbsync" scripts/bench-fetch.sh "${FETCH_COUNT:-10000}" ;;
    filter)   section filter "Filter vs bogofilter and SpamAssassin (held-out corpus)" scripts/bench-filter.sh ;;
    classify) section classify "Classify, embedded, one core" scripts/bench-classify.sh "${CLASSIFY_COUNT:-20000}"
              section classify-all "Classify, embedded, all cores" env CPUS= scripts/bench-classify.sh "${CLASSIFY_COUNT:-20000}" ;;
    llm)      section llm "Classify and draft, model backend (mock, 200 ms per answer)" scripts/bench-model.sh 1 8 32 ;;
    run)      section run "End to end: \`run\`" scripts/bench-run.sh "${RUN_COUNT:-100000}" ;;
    digest)   section digest "Digest, heartbeat, export on a large ledger" scripts/bench-digest.sh "${DIGEST_COUNT:-1000000}" 730 ;;
    idle)     section idle "\`run --idle\` latency" scripts/bench-run-idle.sh "${IDLE_TRIALS:-5}" ;;
    *) echo "bench.sh: unknown section $s" >&2; exit 2 ;;
  esac
done

# Ratios against the peers and the goals of the issue, from the tables above.
{
  echo "#### Ratios and goals"
  echo
  echo "| comparison | figures | ratio | goal | met? |"
  echo "|---|---|---|---|---|"
  col() { awk -F'|' -v pat="$2" -v c="$3" 'index($2, pat) { gsub(/ /, "", $(c + 1)); print $(c + 1); exit }' "$work/$1.out" 2>/dev/null; }
  if [ -f "$work/import.out" ]; then
    # Rows of sizes that ran (a skipped size has no message count), matched by the whole size.
    mapfile -t sizes < <(awk -F'|' '{ gsub(/ /, "", $2); gsub(/ /, "", $3) } $2 ~ /^[0-9]+[KMG]?$/ && $3 ~ /^[0-9]+$/ { print $2 }' "$work/import.out")
    import_col() { awk -F'|' -v size="$1" -v c="$2" '{ gsub(/ /, "", $2) } $2 == size { gsub(/ /, "", $(c + 1)); print $(c + 1); exit }' "$work/import.out"; }
    for sz in "${sizes[@]}"; do
      mbs=$(import_col "$sz" 5); rss=$(import_col "$sz" 7)
      awk -v s="$sz" -v m="$mbs" -v r="$rss" 'BEGIN { printf "| import %s | %s MB/s, peak RSS %s MB | %.2f× the goal | ≥ 100 MB/s, memory flat | %s |\n", s, m, r, m / 100, (m >= 100 ? "yes" : "no") }'
    done
  fi
  if [ -f "$work/filter.out" ]; then
    a=$(col filter "mailroom filter + classify" 4); b=$(col filter "bogofilter -b" 4)
    # The ratio from the unrounded CPU seconds bench-filter.sh keeps, when they are there.
    fa=$(cat "$work/filter/cpu-mailroom-filter-classify" 2>/dev/null || echo "$a"); fb=$(cat "$work/filter/cpu-bogofilter" 2>/dev/null || echo "$b")
    awk -v a="$a" -v b="$b" -v fa="$fa" -v fb="$fb" 'BEGIN { printf "| filter + classify vs bogofilter alone, CPU per message on one core | %s ms vs %s ms (%s s vs %s s) | %.2f× | faster per core | %s |\n", a, b, fa, fb, fa / fb, (fa < fb ? "yes" : "no") }'
    a=$(col filter "mailroom filter (1" 4); s=$(col filter "SpamAssassin" 4)
    awk -v a="$a" -v s="$s" 'BEGIN { printf "| filter vs SpamAssassin (spamd), CPU per message | %s ms vs %s ms | %.0f× less | (none) | |\n", a, s, s / a }'
  fi
  if [ -f "$work/fetch.out" ]; then
    a=$(col fetch "mailroom fetch (first" 3); b=$(col fetch "mbsync (first" 3)
    awk -v a="$a" -v b="$b" 'BEGIN { printf "| fetch vs mbsync, first full sync | %s s vs %s s | %.2f× | not slower | %s |\n", a, b, a / b, (a <= b ? "yes" : "no") }'
    a=$(col fetch "mailroom fetch (again" 3); b=$(col fetch "mbsync (again" 3)
    awk -v a="$a" -v b="$b" 'BEGIN { printf "| fetch vs mbsync, nothing new | %s s vs %s s | %.2f× | not slower | %s |\n", a, b, (b > 0 ? a / b : 0), (a <= b ? "yes" : "no") }'
  fi
  if [ -f "$work/digest.out" ]; then
    for w in "since 24h" "since 7d" "since 30d"; do
      ms=$(col digest "digest --$w" 2 | tr -dc 0-9)
      awk -v w="$w" -v m="$ms" 'BEGIN { printf "| digest --%s on 1M messages | %d ms | %.2f× the limit | < 1 s | %s |\n", w, m, m / 1000, (m < 1000 ? "yes" : "no") }'
    done
  fi
  echo
} >> "$report"

cat "$report"
if [ "$readme" = 1 ]; then
  python3 - "$report" README.md <<'PY'
import sys
report, readme = open(sys.argv[1]).read(), sys.argv[2]
text = open(readme).read()
start, end = "<!-- bench:start -->", "<!-- bench:end -->"
block = f"{start}\n{report.strip()}\n{end}"
if start in text and end in text:
    text = text[:text.index(start)] + block + text[text.index(end) + len(end):]
else:
    text = text.rstrip("\n") + "\n\n" + block + "\n"
open(readme, "w").write(text)
PY
  echo "bench.sh: README.md updated" >&2
fi

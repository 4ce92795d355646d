#!/usr/bin/env bash
# Spam filter benchmark: `mailroom filter` against bogofilter and SpamAssassin on the held-out
# quarter of the shared SpamAssassin corpus (the split scripts/eval-filter.sh and the embedded
# model use: first byte of SHA-256(file name) divisible by 4). bogofilter is trained first on
# the other three quarters, the same files the embedded model was trained on. SpamAssassin runs
# through spamd + spamc (offline rules, no Bayes) on a fixed sample of SA_SAMPLE messages
# (default 200: every held-out file in name order, spread evenly), since it needs ~43 ms each.
#
# Figures: messages/s (wall) and CPU ms per message (user+sys, what the tool itself used,
# so other work on the machine matters less; from getrusage, to the microsecond, and the median
# of RUNS runs, default 7, taken in turn with bogofilter's, since one run of either tool is under 0.2 s), ham called spam %,
# spam caught %.
# mailroom counts spam caught as spam or bulk (as eval-filter.sh does); the peers as spam.
#
#   scripts/bench-filter.sh            (needs bogofilter, spamd, spamc: apt-get install bogofilter spamassassin spamd spamc)
# Environment: MAILROOM_BIN (default: release build), BENCH_DIR (kept if given), SA_SAMPLE, DATA, RUNS.
set -euo pipefail
cd "$(dirname "$0")/.."
data=${DATA:-../shared/data}/spam-ham
[ -d "$data" ] || data=/work/shared/data/spam-ham
sa_sample=${SA_SAMPLE:-200}
runs=${RUNS:-7}
work=${BENCH_DIR:-$(mktemp -d /tmp/mailroom-bench-filter.XXXXXX)}
mkdir -p "$work"
cleanup() {
  [ -z "${spamd_pid:-}" ] || kill "$spamd_pid" 2>/dev/null || true
  [ -n "${BENCH_DIR:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
if [ -z "${MAILROOM_BIN:-}" ]; then
  cargo build --release --quiet
  MAILROOM_BIN=target/release/mailroom
fi
for tool in bogofilter spamd spamc; do
  command -v "$tool" >/dev/null || { echo "bench-filter.sh: needs $tool (apt-get install bogofilter spamassassin spamd spamc)" >&2; exit 1; }
done

# The split, as files: train-{ham,spam}, test-{ham,spam}, and the SpamAssassin sample.
python3 - "$data" "$work" "$sa_sample" <<'PY'
import hashlib, os, sys
data, work, sample = sys.argv[1], sys.argv[2], int(sys.argv[3])
held = lambda name: hashlib.sha256(name.encode()).digest()[0] % 4 == 0
sets = {"ham": ["easy-ham-1", "hard-ham-1"], "spam": ["spam-1"]}
test = []
for label, dirs in sets.items():
    files = sorted(os.path.join(data, d, f) for d in dirs for f in os.listdir(os.path.join(data, d)) if not f.startswith("."))
    for part, keep in (("train", False), ("test", True)):
        with open(os.path.join(work, f"{part}-{label}"), "w") as out:
            out.writelines(p + "\n" for p in files if held(os.path.basename(p)) == keep)
    test += [(label, p) for p in files if held(os.path.basename(p))]
step = max(1, len(test) / sample)
with open(os.path.join(work, "sa-sample"), "w") as out:
    out.writelines(f"{label} {test[int(i * step)][1]}\n" for i in range(min(sample, len(test))) for label in [test[int(i * step)][0]])
PY
n_ham=$(wc -l < "$work/test-ham"); n_spam=$(wc -l < "$work/test-spam")
cat "$work/test-ham" "$work/test-spam" > "$work/test-all"
n=$((n_ham + n_spam))

cpu() { # file written by /usr/bin/time -f '%e %U %S' or `timed` -> "wall cpu"
  tail -n 1 "$1" | awk '{ printf "%s %.4f\n", $1, $2 + $3 }'
}
timed() { # out-file command... : runs it (stdin and stdout as given), writes "wall user sys"
  local out=$1; shift
  python3 -c '
import resource, subprocess, sys, time
before = resource.getrusage(resource.RUSAGE_CHILDREN)  # not zero: Python starts helpers of its own
start = time.perf_counter()
code = subprocess.call(sys.argv[2:])
wall = time.perf_counter() - start
r = resource.getrusage(resource.RUSAGE_CHILDREN)
open(sys.argv[1], "w").write("%.4f %.4f %.4f\n" % (wall, r.ru_utime - before.ru_utime, r.ru_stime - before.ru_stime))
sys.exit(code)' "$out" "$@"
}
median_of() { # files written by `timed` -> the line whose CPU is the median
  for f in "$@"; do awk '{ printf "%s %.4f\n", $1, $2 + $3 }' "$f"; done | sort -k2 -n | awk '{ l[NR] = $0 } END { print l[int((NR + 1) / 2)] }'
}
row() { # tool, messages, wall, cpu, ham-as-spam, ham, spam-caught, spam
  awk -v t="$1" -v n="$2" -v w="$3" -v c="$4" -v hs="$5" -v h="$6" -v sc="$7" -v s="$8" 'BEGIN {
    printf "| %s | %d | %.0f | %.2f | %.1f %% (%d/%d) | %.1f %% (%d/%d) |\n",
      t, n, (w > 0 ? n / w : 0), 1000 * c / n, 100 * hs / h, hs, h, 100 * sc / s, sc, s }'
}

echo "held-out split: $n_ham ham, $n_spam spam; trained on $(wc -l < "$work/train-ham") ham, $(wc -l < "$work/train-spam") spam"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '| tool | messages | messages/s (wall) | CPU ms/message | ham called spam | spam caught |\n|---|---|---|---|---|---|\n'

# mailroom: import once (not timed; the peers read the files directly), then time `filter --all`
# alone, then filter + classify, the whole triage of a message.
rm -f "$work/ledger.sqlite"*
xargs -a "$work/test-all" -d '\n' "$MAILROOM_BIN" --quiet --ledger "$work/ledger.sqlite" fetch --eml > "$work/records.jsonl"
[ "$(wc -l < "$work/records.jsonl")" = "$n" ] || { echo "bench-filter: fetch gave $(wc -l < "$work/records.jsonl") records for $n files" >&2; exit 1; }
printf '[team]\nname = "Bench"\n' > "$work/config.toml"
mr=("$MAILROOM_BIN" --quiet --config "$work/config.toml" --ledger "$work/ledger.sqlite")
# bogofilter is trained on the training quarters (bulk mode: file names on stdin).
rm -rf "$work/bogo"; mkdir -p "$work/bogo"
/usr/bin/time -f '%e %U %S' -o "$work/t-bogo-train" sh -c \
  "bogofilter -d '$work/bogo' -s -b < '$work/train-spam' && bogofilter -d '$work/bogo' -n -b < '$work/train-ham'"
# The tools take turns, run by run, so a change in the machine's load falls on both. Each
# mailroom run starts from the same ledger (filter --all adds a version of each result).
cp "$work/ledger.sqlite" "$work/ledger.orig"
rm -f "$work"/t-mr.* "$work"/t-mrc.* "$work"/t-mrfc.* "$work"/t-bogo.*   # a kept BENCH_DIR's older runs
for i in $(seq 1 "$runs"); do
  cp "$work/ledger.orig" "$work/ledger.sqlite"; rm -f "$work/ledger.sqlite-wal" "$work/ledger.sqlite-shm"
  timed "$work/t-mr.$i" taskset -c 0 "${mr[@]}" filter --all "$work/records.jsonl" > "$work/filtered.jsonl"
  timed "$work/t-mrc.$i" taskset -c 0 "${mr[@]}" classify "$work/filtered.jsonl" > /dev/null
  paste -d' ' "$work/t-mr.$i" "$work/t-mrc.$i" | awk '{ print $1 + $4, $2 + $5, $3 + $6 }' > "$work/t-mrfc.$i"
  timed "$work/t-bogo.$i" taskset -c 0 bogofilter -d "$work/bogo" -b -t < "$work/test-all" > "$work/bogo.out" || true   # exit status: the last verdict
done
read -r wall c < <(median_of "$work"/t-mr.*)
python3 - "$work/filtered.jsonl" "$n_ham" > "$work/acc-mr" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
nh = int(sys.argv[2])
ham, spam = recs[:nh], recs[nh:]
print(sum(r["filter"]["verdict"] == "spam" for r in ham), sum(r["filter"]["verdict"] in ("spam", "bulk") for r in spam))
PY
read -r hs sc < "$work/acc-mr"
row "mailroom filter (1 core)" "$n" "$wall" "$c" "$hs" "$n_ham" "$sc" "$n_spam"
echo "$c" > "$work/cpu-mailroom-filter"
read -r wsum csum < <(median_of "$work"/t-mrfc.*)
row "mailroom filter + classify (1 core)" "$n" "$wsum" "$csum" "$hs" "$n_ham" "$sc" "$n_spam"
echo "$csum" > "$work/cpu-mailroom-filter-classify"

# bogofilter: the held-out files classified in one process (-b), each verdict printed; timed
# above, in turn with mailroom.
[ "$(wc -l < "$work/bogo.out")" = "$n" ] || { echo "bench-filter: bogofilter gave $(wc -l < "$work/bogo.out") verdicts for $n files" >&2; exit 1; }
read -r wall c < <(median_of "$work"/t-bogo.*)
hs=$(head -n "$n_ham" "$work/bogo.out" | awk '$1 == "S"' | wc -l)
sc=$(tail -n "$n_spam" "$work/bogo.out" | awk '$1 == "S"' | wc -l)
row "bogofilter -b (1 core, trained)" "$n" "$wall" "$c" "$hs" "$n_ham" "$sc" "$n_spam"
echo "$c" > "$work/cpu-bogofilter"
# and the way a mail pipeline calls it: one process per message
/usr/bin/time -f '%e %U %S' -o "$work/t-bogo1" taskset -c 0 sh -c \
  "while read -r f; do bogofilter -d '$work/bogo' -t < \"\$f\" || [ \$? -lt 3 ]; done" < "$work/test-all" > "$work/bogo1.out"
read -r wall c < <(cpu "$work/t-bogo1")
row "bogofilter, a process per message" "$n" "$wall" "$c" "$hs" "$n_ham" "$sc" "$n_spam"

# SpamAssassin: spamd (rules only, no Bayes, no network tests) and one spamc per message.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$work/sahome"; chown nobody:nogroup "$work/sahome" 2>/dev/null || true
HOME=$work/sahome spamd -L -x --listen="127.0.0.1:$port" --allowed-ips=127.0.0.1 --max-children=2 \
  --cf='use_bayes 0' --cf='bayes_auto_learn 0' -s stderr -u nobody > "$work/spamd.log" 2>&1 &
spamd_pid=$!
for _ in $(seq 1 100); do spamc -d 127.0.0.1 -p "$port" -c < /dev/null >/dev/null 2>&1 && break; sleep 0.2; done
sa_n=$(wc -l < "$work/sa-sample")
# spamd's own CPU counts too (it does the work): measure its children's CPU around the run.
spamd_cpu() { local t=0 p; for p in $spamd_pid $(pgrep -P "$spamd_pid"); do
  t=$((t + $(awk '{ print $14 + $15 + $16 + $17 }' "/proc/$p/stat" 2>/dev/null || echo 0))); done; echo "$t"; }
before=$(spamd_cpu)
/usr/bin/time -f '%e %U %S' -o "$work/t-sa" sh -c \
  "while read -r label f; do printf '%s %s\n' \"\$label\" \"\$(spamc -d 127.0.0.1 -p $port -c < \"\$f\")\"; done" < "$work/sa-sample" > "$work/sa.out" || true
after=$(spamd_cpu)
read -r wall c < <(cpu "$work/t-sa")
c=$(awk -v c="$c" -v d=$((after - before)) -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.3f", c + d / hz }')
sa_h=$(awk '$1 == "ham"' "$work/sa.out" | wc -l); sa_s=$(awk '$1 == "spam"' "$work/sa.out" | wc -l)
hs=$(awk '$1 == "ham" { split($2, a, "/"); if (a[1] + 0 >= a[2] + 0) n++ } END { print n + 0 }' "$work/sa.out")
sc=$(awk '$1 == "spam" { split($2, a, "/"); if (a[1] + 0 >= a[2] + 0) n++ } END { print n + 0 }' "$work/sa.out")
row "SpamAssassin (spamd + spamc, sample)" "$sa_n" "$wall" "$c" "$hs" "$sa_h" "$sc" "$sa_s"

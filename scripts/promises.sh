#!/usr/bin/env bash
# Runs the promise suites (tests/promises_*.rs) and prints what mailroom promises, one line per
# test: what holds under overlapping runs, kill -9 and power cuts, hostile input and untrusted
# content. The same tests run in `scripts/test.sh`; this is the readable view.
#
#   scripts/promises.sh                  all four suites
#   scripts/promises.sh crash hostile    some of them (overlap, crash, hostile, untrusted)
#
# Random kill moments print their seed on failure; replay with PROMISE_SEED=N.
set -euo pipefail
cd "$(dirname "$0")/.."
export RUST_BACKTRACE=0
suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(overlap crash hostile untrusted)
args=()
for s in "${suites[@]}"; do args+=(--test "promises_$s"); done
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
cargo test --locked "${args[@]}" -- --test-threads=4 >"$log" 2>&1 || status=$?
# One block per suite, its promises in alphabetical order.
awk '
    /Running tests\/promises_/ { match($0, /promises_[a-z]+/); suite = substr($0, RSTART + 9, RLENGTH - 9) }
    /^test .* \.\.\. / {
        line = $0; sub(/^test /, "", line); result = line; sub(/.* \.\.\. /, "", result); sub(/ \.\.\. .*/, "", line)
        gsub(/_/, " ", line)
        print suite "\t" (result == "ok" ? "ok  " : "FAIL") " " line
    }' "$log" | sort | awk -F '\t' '
    $1 != last { printf "\n%s%s:\n", toupper(substr($1, 1, 1)), substr($1, 2); last = $1 }
    { print "  " $2 }'
if [ "$status" -ne 0 ]; then
    echo; echo "promises.sh: some promises are broken; the test output follows" >&2
    sed -n '/^failures:/,$p' "$log" >&2
fi
exit "$status"

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
current=""
while IFS= read -r line; do
    case $line in
        *"Running tests/promises_"*)
            current=$(sed -E 's/.*promises_([a-z]+)\.rs.*/\1/' <<<"$line")
            echo; echo "${current^}:" ;;
        "test "*" ... "*)
            name=${line#test }; result=${name##* ... }; name=${name% ... *}
            mark="ok  "; [ "$result" = ok ] || mark="FAIL"
            echo "  $mark ${name//_/ }" ;;
    esac
done <"$log"
if [ "$status" -ne 0 ]; then
    echo; echo "promises.sh: some promises are broken; the test output follows" >&2
    sed -n '/^failures:/,$p' "$log" >&2
fi
exit "$status"

#!/usr/bin/env bash
# Fuzzes mailroom's parsers for a fixed time each, with cargo-fuzz (libFuzzer + AddressSanitizer).
# Not run in CI; run it by hand after touching parsing code.
#
#   scripts/fuzz.sh SECONDS [TARGET...]      e.g.  scripts/fuzz.sh 300
#
# Targets: parse_message (raw mail → record), jsonl_line (one JSONL line → record), mbox (the
# mbox reader), reply_headers (a reply built from hostile parts). Seeds come from the shared MIME
# corpus (../shared/data/mime), the sample inbox and fuzz/regressions/TARGET (inputs that once
# crashed, kept so they are tried first); each target's corpus grows in fuzz/corpus/TARGET.
# A crash leaves its input in fuzz/artifacts/TARGET/; the other targets still run, and the
# script exits 1 naming the crashed ones. Replay one with
# `cargo +nightly fuzz run TARGET fuzz/artifacts/TARGET/crash-...`.
#
# Needs cargo-fuzz (installed here if missing) and a nightly toolchain for -Zsanitizer; without
# nightly, the stable toolchain is used with RUSTC_BOOTSTRAP=1 (it accepts the same flags).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:?usage: scripts/fuzz.sh SECONDS [TARGET...]}
shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(parse_message jsonl_line mbox reply_headers)

command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
if cargo +nightly --version >/dev/null 2>&1; then
    cargo=(cargo +nightly)
else
    echo "fuzz.sh: no nightly toolchain; using stable with RUSTC_BOOTSTRAP=1" >&2
    export RUSTC_BOOTSTRAP=1
    cargo=(cargo)
fi
# The fuzz crate keeps the main crate's dependency versions.
[ -f fuzz/Cargo.lock ] || cp Cargo.lock fuzz/Cargo.lock

data=${MAILROOM_SHARED_DATA:-../shared/data}
crashed=()
for t in "${targets[@]}"; do
    mkdir -p "fuzz/corpus/$t"
    seeds=()
    [ -d "fuzz/regressions/$t" ] && seeds+=("fuzz/regressions/$t")
    case $t in
        parse_message|mbox|reply_headers)
            [ -d "$data/mime" ] && seeds+=("$data/mime")
            seeds+=(examples/inbox) ;;
        jsonl_line)
            seeds+=(fuzz/seeds/jsonl) ;;
    esac
    echo "fuzz.sh: $t for ${secs}s" >&2
    # -rss_limit_mb: a leak or a blow-up past 2 GB is a finding too; -timeout: one input over 10 s is a hang.
    "${cargo[@]}" fuzz run "$t" "fuzz/corpus/$t" "${seeds[@]}" -- \
        -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -max_len=1048576 -print_final_stats=1 \
        || crashed+=("$t")
done
if [ ${#crashed[@]} -gt 0 ]; then
    echo "fuzz.sh: crashes in: ${crashed[*]} (inputs in fuzz/artifacts/)" >&2
    exit 1
fi
echo "fuzz.sh: no crash in ${#targets[@]} targets x ${secs}s" >&2

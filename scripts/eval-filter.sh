#!/usr/bin/env bash
# Prints the filter's figures on data it was not trained on:
#   - the held-out quarter of the SpamAssassin corpus (ham called spam; spam caught as spam or bulk),
#   - every bounce of the sisimai set (bounce or autoreply),
#   - the held-out quarter of the Bitext customer utterances, each wrapped as a plain e-mail
#     (customer text called spam, or not passed),
#   - the bundled sample inbox against examples/labels.jsonl, through the real CLI
#     (fetch --eml | filter --all with examples/config.toml), listing every mismatch.
# The held-out split is fixed: first byte of SHA-256(file name or utterance) divisible by 4.
#
#   scripts/eval-filter.sh [--data DIR] [--show-errors]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet
bin=target/debug/mailroom
$bin generate filter-eval "$@"

echo
echo "sample inbox (examples/labels.jsonl):"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ls examples/inbox/*.eml | sort > "$tmp/files"
$bin --ledger "$tmp/ledger.sqlite" --config examples/config.toml --quiet fetch --eml $(cat "$tmp/files") > "$tmp/in.jsonl"
$bin --ledger "$tmp/ledger.sqlite" --config examples/config.toml --quiet filter --all < "$tmp/in.jsonl" > "$tmp/out.jsonl"
python3 - "$tmp/files" "$tmp/out.jsonl" <<'PY'
import json, os, sys
labels = {}
for line in open("examples/labels.jsonl"):
    d = json.loads(line)
    labels[os.path.basename(d["file"])] = d["verdict"]
files = [os.path.basename(l.strip()) for l in open(sys.argv[1])]
out = [json.loads(l) for l in open(sys.argv[2])]
assert len(files) == len(out), "fetch emitted a different number of records than files"
right = customers = customers_passed = 0
for name, rec in zip(files, out):
    got, want = rec["filter"]["verdict"], labels.get(name)
    right += got == want
    if want == "pass":
        customers += 1
        customers_passed += got == "pass"
    if got != want:
        print(f"  {name}: expected {want}, got {got} ({rec['filter']['reasons'][0]})")
print(f"  verdicts as labelled: {right}/{len(files)}; customer messages passed: {customers_passed}/{customers}")
PY

#!/usr/bin/env bash
# Retrains the spam model embedded in mailroom (src/stages/filter/spam_model.bin) from the
# training split of the shared development data, reproducibly: the same data gives the same
# bytes. Then rebuild, and run scripts/eval-filter.sh for the figures on the held-out split.
#
#   scripts/train-spam-model.sh [--data DIR]     (default: the first shared/data here or above)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet
target/debug/mailroom generate spam-model --out src/stages/filter/spam_model.bin "$@"
cargo build --quiet

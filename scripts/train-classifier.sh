#!/usr/bin/env bash
# Retrains the embedded classifier shipped in the binary (src/stages/classify/default-model.bin)
# from the intents corpus (its train split only; the held-out fifth is chosen by a hash of each
# utterance and never trained on) and the project's own multilingual seed set
# (src/stages/classify/seed.jsonl). Deterministic: the same inputs give the same bytes.
#
#   scripts/train-classifier.sh            (MAILROOM_SHARED_DATA overrides ../shared/data)
# Then: scripts/eval-classify.sh, and commit the model file.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${MAILROOM_SHARED_DATA:-$(cd .. && pwd)/shared/data}
[ -d "$DATA/intents" ] || DATA=$(cd ../.. && pwd)/shared/data
cargo build -q
target/debug/mailroom generate classify-model --intents "$DATA/intents" --out src/stages/classify/default-model.bin
cargo build -q   # embed the new model

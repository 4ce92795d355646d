#!/usr/bin/env bash
# Scores the embedded classifier:
#   1. the intents corpus held-out split (never trained on): precision, recall, F1 per category, macro-F1;
#   2. the bundled sample inbox (examples/, never trained on): accuracy of category, priority and
#      language on the messages whose expected verdict is "pass".
#
#   scripts/eval-classify.sh [--model FILE]     (MAILROOM_SHARED_DATA overrides ../shared/data)
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${MAILROOM_SHARED_DATA:-$(cd .. && pwd)/shared/data}
[ -d "$DATA/intents" ] || DATA=$(cd ../.. && pwd)/shared/data
MODEL_ARGS=()
if [ "${1:-}" = "--model" ]; then MODEL_ARGS=(--model "$2"); fi
cargo build -q
BIN=target/debug/mailroom

echo "== intents held-out split"
"$BIN" generate classify-eval --intents "$DATA/intents" "${MODEL_ARGS[@]}"

echo
echo "== sample inbox (examples/labels.jsonl, verdict = pass)"
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
# The labels assume the sample inbox's own config (its [team] vip list decides some priorities).
cp examples/config.toml "$T/config.toml"
sed -i "s#^knowledge_dir = .*#knowledge_dir = \"$(realpath examples/knowledge)\"#; s#^order_lookup_command = .*#order_lookup_command = \"$(realpath examples/order-lookup.sh)\"#" "$T/config.toml"
if [ "${1:-}" = "--model" ]; then printf '\n[classify]\nmodel_path = "%s"\n' "$(realpath "$2")" >> "$T/config.toml"; fi
CFG=(--config "$T/config.toml")
"$BIN" -q --ledger "$T/ledger.sqlite" "${CFG[@]}" fetch --eml examples/inbox/*.eml > "$T/records.jsonl"
"$BIN" -q --ledger "$T/ledger.sqlite" "${CFG[@]}" classify "$T/records.jsonl" > "$T/triaged.jsonl"
python3 - "$T/triaged.jsonl" examples/labels.jsonl "$T/records.jsonl" <<'PY'
import json, sys, collections
triaged, labels, records = sys.argv[1:4]
by_id = {}
for line in open(records):
    r = json.loads(line); by_id[r["id"]] = r
out = {}
for line in open(triaged):
    r = json.loads(line)
    # match records to label files by subject + sender (ids are content hashes)
    out[(r.get("subject", ""), (r.get("from") or {}).get("address", ""))] = r["triage"]
import email, email.policy, os
res = collections.Counter(); n = 0; wrong = []; wrong_p = []
per = collections.defaultdict(lambda: [0, 0])
for line in open(labels):
    lab = json.loads(line)
    if lab.get("verdict") != "pass" or not lab.get("category"):
        continue
    msg = email.message_from_bytes(open(os.path.join("examples", lab["file"]), "rb").read(), policy=email.policy.default)
    subj = str(msg["subject"] or "").strip()
    sender = email.utils.parseaddr(str(msg["from"] or ""))[1]
    t = next((v for (s, a), v in out.items() if s == subj and a.lower() == sender.lower()), None)
    if t is None:
        print("not classified:", lab["file"]); continue
    n += 1
    per[lab["category"]][1] += 1
    for k in ("category", "priority", "language"):
        if lab.get(k) and t[k] == lab[k]:
            res[k] += 1
    if t["category"] == lab["category"]:
        per[lab["category"]][0] += 1
    else:
        wrong.append(f'  {lab["file"]}: expected {lab["category"]}, got {t["category"]} ({t["confidence"]})')
    if lab.get("priority") and t["priority"] != lab["priority"]:
        wrong_p.append(f'  {lab["file"]}: expected {lab["priority"]}, got {t["priority"]}')
print(f"{'category':<16} {'correct':>8} {'total':>6}")
for c, (ok, tot) in sorted(per.items()):
    print(f"{c:<16} {ok:>8} {tot:>6}")
for k in ("category", "priority", "language"):
    print(f"{k} accuracy {res[k]/max(n,1):.3f} ({res[k]}/{n})")
if wrong:
    print("misclassified:"); print("\n".join(wrong))
if wrong_p:
    print("wrong priority:"); print("\n".join(wrong_p))
PY

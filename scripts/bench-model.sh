#!/usr/bin/env bash
# Model-backend benchmark: messages/minute of `mailroom classify --backend model` and of
# `mailroom draft --backend model` against a local OpenAI-compatible chat-completions server
# that answers every request after LATENCY_MS (default 200 ms), at -j 1, 8 and 32. Each -j gets
# a fresh ledger (classify answers are cached) and enough messages to run a few seconds. The
# figures show how well concurrency hides a provider's latency; a real provider adds its own
# rate limits.
#
#   scripts/bench-model.sh [JOBS...]        (default: 1 8 32)
# Environment: MAILROOM_BIN (default: release build), BENCH_DIR (kept if given), LATENCY_MS.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=("$@"); [ ${#jobs[@]} -gt 0 ] || jobs=(1 8 32)
latency_ms=${LATENCY_MS:-200}
work=${BENCH_DIR:-$(mktemp -d /tmp/mailroom-bench-llm.XXXXXX)}
mkdir -p "$work"
cleanup() {
  [ -z "${mock_pid:-}" ] || kill "$mock_pid" 2>/dev/null || true
  [ -n "${BENCH_DIR:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
if [ -z "${MAILROOM_BIN:-}" ]; then
  cargo build --release --quiet
  MAILROOM_BIN=target/release/mailroom
fi

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# The mock: POST /v1/chat/completions, Bearer auth, a `chat.completion` body whose content is the
# JSON the classify prompt asks for; a threaded server so concurrent requests overlap. Without
# TCP_NODELAY it sent its headers and body as two segments and the second waited for the client's
# delayed ACK: 40 ms more per call, the mock's own, not mailroom's.
python3 - "$port" "$latency_ms" "$work/calls" <<'PY' &
import http.server, json, sys, time
port, latency, log = int(sys.argv[1]), int(sys.argv[2]) / 1000, sys.argv[3]
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    def do_POST(self):
        req = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        time.sleep(latency)
        with open(log, "a") as f:
            f.write("call\n")
        if self.headers.get("Authorization") != "Bearer bench-key":
            self.reply(401, {"error": {"message": "Incorrect API key provided.", "type": "invalid_request_error"}})
            return
        text = json.dumps(req.get("messages", [])).lower()
        if "you write the answer part" in text:
            # The draft prompt: an answer that passes the draft's checks (no invented facts).
            content = json.dumps({"answer": "A colleague will check this and reply to you.", "sources": [],
                                  "knows": False, "language_line": None})
        else:
            category = next((c for k, c in (("refund", "refund"), ("return", "return"), ("track", "shipping"),
                                            ("deliver", "shipping"), ("pay", "payment")) if k in text), "other")
            content = json.dumps({"category": category, "confidence": 0.9, "sentiment": "neutral",
                                  "reasons": ["bench"]})
        self.reply(200, {"id": "chatcmpl-bench", "object": "chat.completion", "created": int(time.time()),
                         "model": req.get("model", "bench"),
                         "choices": [{"index": 0, "message": {"role": "assistant", "content": content, "refusal": None},
                                      "logprobs": None, "finish_reason": "stop"}],
                         "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}})
    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer.request_queue_size = 128
http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
PY
mock_pid=$!
for _ in $(seq 1 50); do python3 -c "import socket; socket.create_connection(('127.0.0.1', $port))" 2>/dev/null && break; sleep 0.1; done

cat > "$work/config.toml" <<CONF
[team]
name = "Bench"
[draft]
knowledge_dir = "$PWD/examples/knowledge"
[model]
base_url = "http://127.0.0.1:$port/v1"
model = "bench-model"
api_key_env = "BENCH_MODEL_KEY"
CONF
[ -f "$work/seed.mbox" ] || python3 scripts/gen-mbox.py "$work/seed.mbox" --count 3000 --quiet

echo "mock: ${latency_ms} ms per answer; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
# One row: STAGE over enough messages to keep J calls busy for a few seconds.
measure() {
  local stage=$1 j=$2 count
  count=$(( j * 25 < 3000 ? j * 25 : 3000 ))
  [ "$count" -ge 50 ] || count=50
  rm -f "$work/ledger.sqlite"*; : > "$work/calls"
  "$MAILROOM_BIN" --quiet --config "$work/config.toml" --ledger "$work/ledger.sqlite" fetch --mbox "$work/seed.mbox" > "$work/all.jsonl"
  # The generated mbox repeats the corpus's texts, and the model cache is keyed on the text:
  # number each subject so every record is a distinct question. Draft gets records that
  # passed the filter and were triaged (as classify would leave them).
  head -n "$count" "$work/all.jsonl" | python3 -c 'import json, sys
for i, line in enumerate(sys.stdin):
    r = json.loads(line); r["subject"] = (r.get("subject") or "") + " #%d" % i
    if sys.argv[1] == "draft":
        r["filter"] = {"verdict": "pass", "reasons": []}
        r["triage"] = {"category": "shipping", "priority": "P3", "sentiment": "neutral", "language": "en",
                       "confidence": 0.9, "escalate": False, "reasons": [], "entities": {}, "backend": "bench", "model": ""}
    print(json.dumps(r))' "$stage" > "$work/records.jsonl"
  /usr/bin/time -f '%e' -o "$work/time" env BENCH_MODEL_KEY=bench-key "$MAILROOM_BIN" --quiet --config "$work/config.toml" \
    --ledger "$work/ledger.sqlite" "$stage" --backend model -j "$j" "$work/records.jsonl" > "$work/out.jsonl" 2> "$work/err" \
    || { cat "$work/err" >&2; exit 1; }
  got=$(wc -l < "$work/out.jsonl")
  [ "$got" = "$count" ] || { echo "bench-model: $stage: $got records out of $count" >&2; cat "$work/err" >&2; exit 1; }
  if [ "$stage" = draft ]; then
    used=$(grep -c '"backend":"model"' "$work/out.jsonl" || true)
    [ "$used" = "$count" ] || { echo "bench-model: only $used of $count drafts used the model's answer" >&2; exit 1; }
  fi
  awk -v j="$j" -v n="$count" -v c="$(wc -l < "$work/calls")" -v t="$(tail -n 1 "$work/time")" -v l="$latency_ms" 'BEGIN {
    printf "| %d | %d | %d | %.2f | %.0f | %.0f | %.0f |\n", j, n, c, t, 60 * n / t, 60 * c / t, j * 60000 / l }'
}

for stage in classify draft; do
  echo
  echo "$stage --backend model:"
  printf '| -j | messages | model calls | seconds | messages/minute | model calls/minute | ideal calls/minute (j × 60 s / latency) |\n|---|---|---|---|---|---|---|\n'
  for j in "${jobs[@]}"; do measure "$stage" "$j"; done
done

#!/usr/bin/env bash
# Latency of `mailroom run --idle`: from a message landing in Dovecot (LMTP delivery) to its
# notification arriving at the team's webhook, with the embedded backend. Prints each trial
# and the median. Usage: scripts/bench-run-idle.sh [TRIALS]  (default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
trials=${1:-5}
scripts/install-deps.sh
cargo build --release --quiet
bin=$PWD/target/release/mailroom
work=$(mktemp -d /tmp/mr-idle.XXXXXX)
srv=$work/srv
trap 'kill ${run_pid:-0} ${hook_pid:-0} 2>/dev/null || true; scripts/dovecot-down.sh "$srv" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
AUTO_PORTS=1 WATCH_PID=$$ scripts/dovecot-up.sh "$srv" >/dev/null 2>&1
# shellcheck disable=SC1091
. "$srv/env"
hook_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# A webhook receiver that logs the arrival time of each post.
python3 - "$hook_port" "$work/posts" <<'PY' &
import http.server, sys, time
port, log = int(sys.argv[1]), sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(log, "a") as f:
            f.write(f"{time.time():.3f} {body[:2000].decode('utf-8', 'replace')}\n")
        self.send_response(200); self.end_headers(); self.wfile.write(b"{}")
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
PY
hook_pid=$!
cat > "$work/config.toml" <<CONF
[team]
domains = ["shop.example"]
[accounts.support]
imap = { host = "127.0.0.1", port = $IMAPS_PORT, tls = "implicit", user = "test", password_env = "BENCH_IMAP_PASSWORD", ca_file = "$CA_FILE", mailboxes = ["INBOX"] }
[[notify.webhooks]]
name = "bench"
kind = "json"
url = "http://127.0.0.1:$hook_port/hook"
CONF
BENCH_IMAP_PASSWORD=secret "$bin" --quiet --config "$work/config.toml" --ledger "$work/ledger.sqlite" run --idle > "$work/out.jsonl" 2> "$work/run.err" &
run_pid=$!
sleep 2   # connect, catch up, enter IDLE
: > "$work/posts"
times=()
for i in $(seq 1 "$trials"); do
  subject="Where is my order NW-9$i$RANDOM?"
  sent=$(python3 - "$LMTP_PORT" "$subject" <<'PY'
import smtplib, sys, time
port, subject = int(sys.argv[1]), sys.argv[2]
msg = (f"From: Jane Customer <jane{time.time_ns()}@customer.example>\r\nTo: test@example.test\r\n"
       f"Subject: {subject}\r\nMessage-ID: <{time.time_ns()}@customer.example>\r\n\r\n"
       "Hello, my parcel has not arrived yet. Could you check the tracking? Thanks, Jane\r\n")
t = time.time()
with smtplib.LMTP("127.0.0.1", port) as l:
    l.sendmail("jane@customer.example", ["test@example.test"], msg.encode())
print(f"{t:.3f}")
PY
)
  got=""
  for _ in $(seq 1 200); do
    got=$(grep -F "$subject" "$work/posts" | head -1 | cut -d' ' -f1 || true)
    [ -n "$got" ] && break
    sleep 0.05
  done
  [ -n "$got" ] || { echo "trial $i: no notification within 10 s" >&2; cat "$work/run.err" >&2; exit 1; }
  t=$(awk -v a="$sent" -v b="$got" 'BEGIN { printf "%.2f", b - a }')
  echo "trial $i: ${t} s from delivery to notification"
  times+=("$t")
done
printf '%s\n' "${times[@]}" | sort -n | awk '{ a[NR] = $1 } END { printf "median: %.2f s over %d trials (goal: under 5 s)\n", a[int((NR + 1) / 2)], NR }'

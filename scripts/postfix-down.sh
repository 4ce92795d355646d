#!/usr/bin/env bash
# Stop the throwaway Postfix started by scripts/postfix-up.sh DIR.
#
# Usage: scripts/postfix-down.sh DIR
#
# Idempotent: succeeds if nothing is running. SIGTERM to the master (it stops its
# children), wait until it and the start-fg wrapper are gone, SIGKILL after 10 s.
# DIR (maillog, queue) is left in place for inspection; the caller removes it.
set -euo pipefail
SCRIPT=$(basename "$0")
# shellcheck source-path=SCRIPTDIR source=lib/servers.sh
. "$(dirname "$0")/lib/servers.sh"

[ $# -eq 1 ] || die "usage: $SCRIPT DIR"
DIR=$1
[ -d "$DIR" ] || { log "no directory $DIR; nothing to stop"; exit 0; }

stop_watcher "$DIR/postfix-watch.pid"

mpid=$(cat "$DIR/postfix-master.pid" 2>/dev/null || true)
pid=$(cat "$DIR/postfix.pid" 2>/dev/null || true)
if [ -z "$mpid$pid" ]; then
  log "no postfix.pid in $DIR; nothing to stop"
  exit 0
fi
stopped=''
for p in $mpid $pid; do
  if alive "$p"; then
    stop_pid "$p" 10 || die "postfix (pid $p) is still running after SIGKILL"
    stopped="$stopped $p"
  fi
done
rm -f "$DIR/postfix.pid" "$DIR/postfix-master.pid"
if [ -n "$stopped" ]; then log "postfix (pids$stopped) stopped"; else log "postfix was not running"; fi

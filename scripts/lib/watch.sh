#!/usr/bin/env bash
# Background watcher started by the up-scripts when WATCH_PID is set (see
# start_watcher in servers.sh). Usage: watch.sh WATCH_PID SERVER_PID...
#
# Polls every 0.5 s. When WATCH_PID is gone (or a zombie), stops every SERVER_PID
# (SIGTERM, then SIGKILL to its process group after 10 s). It keeps the PIDs in memory
# instead of reading pid files, so it still works after the test deleted DIR. It exits
# on its own once all servers are gone (stopped by a down-script).
set -uo pipefail
SCRIPT=${SCRIPT:-watch.sh}
# shellcheck source-path=SCRIPTDIR source=servers.sh
. "$(dirname "$0")/servers.sh"

watch=$1
shift
while alive "$watch"; do
  any=0
  for p in "$@"; do alive "$p" && any=1; done
  [ "$any" = 1 ] || exit 0
  sleep 0.5
done
log "watched pid $watch exited; stopping pids $*"
for p in "$@"; do stop_pid "$p" 10 || log "pid $p survived SIGKILL"; done

#!/usr/bin/env bash
# Stop the throwaway Dovecot started by scripts/dovecot-up.sh DIR.
#
# Usage: scripts/dovecot-down.sh DIR
#
# Idempotent: succeeds if nothing is running. Waits until the master process is gone
# (Dovecot takes ~1-2 s to shut down; starting again too early fails with "Dovecot is
# already running"), then SIGKILLs the process group if it takes longer than 10 s.
# DIR itself (logs, mail) is left in place for inspection; the caller removes it.
set -euo pipefail
SCRIPT=$(basename "$0")
# shellcheck source-path=SCRIPTDIR source=lib/servers.sh
. "$(dirname "$0")/lib/servers.sh"

[ $# -eq 1 ] || die "usage: $SCRIPT DIR"
DIR=$1
[ -d "$DIR" ] || { log "no directory $DIR; nothing to stop"; exit 0; }

stop_watcher "$DIR/dovecot-watch.pid"

pid=$(cat "$DIR/dovecot.pid" 2>/dev/null || true)
if [ -z "$pid" ]; then
  log "no dovecot.pid in $DIR; nothing to stop"
  exit 0
fi
if ! alive "$pid"; then
  rm -f "$DIR/dovecot.pid"
  log "dovecot (pid $pid) was not running"
  exit 0
fi
stop_pid "$pid" 10 || die "dovecot (pid $pid) is still running after SIGKILL"
rm -f "$DIR/dovecot.pid"
log "dovecot (pid $pid) stopped"

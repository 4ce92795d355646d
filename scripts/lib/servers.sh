# shellcheck shell=bash
# Shared helpers for the throwaway mail servers (dovecot-up/down, postfix-up/down).
# Sourced, not executed. Every helper prints to stderr only: the up-scripts' stdout
# stays empty so callers can capture it without surprises.

# Name used in messages; the sourcing script sets SCRIPT before sourcing.
SCRIPT=${SCRIPT:-$(basename "$0")}

log() { printf '%s: %s\n' "$SCRIPT" "$*" >&2; }
die() { printf '%s: error: %s\n' "$SCRIPT" "$*" >&2; exit 1; }

# abs_dir DIR -> absolute path (creating it); configs need absolute paths.
abs_dir() {
  mkdir -p -- "$1" || die "cannot create directory $1"
  (cd -- "$1" && pwd -P)
}

# check_dir DIR: refuse paths that would break the servers in non-obvious ways.
check_dir() {
  local dir=$1
  # Both servers put unix sockets under DIR; sun_path is limited to 108 bytes and the
  # longest socket name we create adds ~35 characters.
  if [ "${#dir}" -gt 70 ]; then
    die "DIR is too long (${#dir} > 70 chars) for unix socket paths: $dir
  use a shorter one, e.g. \$(mktemp -d /tmp/mr.XXXXXX)"
  fi
  # Values go unquoted into dovecot.conf/main.cf and the env file.
  case $dir in
    *[!A-Za-z0-9_./+-]*) die "DIR contains characters we cannot put in server configs: $dir" ;;
  esac
}

# open_ancestors DIR: the servers drop privileges (dovecot, dovenull, nobody, postfix)
# and those users must be able to traverse every ancestor of DIR. mktemp -d creates
# 0700 directories, so add o+x (search only, never read) where it is missing -- but
# only inside the temp directory; elsewhere fail with the exact fix instead of
# silently loosening e.g. /root.
open_ancestors() {
  local dir=$1 tmp p
  tmp=$(cd -- "${TMPDIR:-/tmp}" 2>/dev/null && pwd -P || echo /tmp)
  chmod 755 -- "$dir"
  p=$(dirname -- "$dir")
  while [ "$p" != / ]; do
    if [ -n "$(find "$p" -maxdepth 0 ! -perm -o+x 2>/dev/null)" ]; then
      case $p/ in
        "$tmp"/?*) log "chmod o+x $p (server users must traverse it)"; chmod o+x -- "$p" ;;
        *) die "directory $p is not searchable by other users (mode $(stat -c %a "$p")); the
  servers' unprivileged users cannot reach $dir. Fix: chmod o+x $p, or use a DIR under /tmp" ;;
      esac
    fi
    p=$(dirname -- "$p")
  done
}

# pick_ports N -> N distinct free TCP ports on 127.0.0.1, space separated.
# All sockets are held open until every port is chosen, so they are distinct; the
# kernel then does not hand them out again right away. A small race with other
# processes remains, which the up-scripts cover by retrying on "address in use".
pick_ports() {
  python3 - "$1" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
}

# port_open PORT: does something accept TCP connections on 127.0.0.1:PORT?
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# greets PORT PREFIX: connect and read the first line; true if it starts with PREFIX.
# Stronger than port_open: Dovecot's login process only greets once auth is ready, and
# Postfix's smtpd only greets once it can work.
greets() {
  local line=''
  {
    exec 3<>"/dev/tcp/127.0.0.1/$1" || return 1
    IFS= read -r -t 2 line <&3 || true
    exec 3<&-
  } 2>/dev/null
  [[ $line == "$2"* ]]
}

# port_in_use PORT: like port_open, for the pre-flight check of fixed ports.
port_in_use() { port_open "$1"; }

# check_port NAME VALUE: ports from the environment must be numbers.
check_port() {
  case $2 in
    '' | *[!0-9]*) die "$1 must be a TCP port number, got '$2'" ;;
  esac
  if [ "$2" -lt 1 ] || [ "$2" -gt 65535 ]; then die "$1 out of range: $2"; fi
}

# alive PID: running and not a zombie (kill -0 succeeds on zombies, which would make
# a watcher wait forever for a test binary whose parent has not reaped it yet).
alive() {
  local state
  kill -0 "$1" 2>/dev/null || return 1
  state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
  [ "$state" != Z ]
}

# stop_pid PID TIMEOUT_S: SIGTERM, wait up to TIMEOUT_S for the process to be gone,
# then SIGKILL its whole process group (each server runs in its own session via
# setsid, so pgid == pid and the group is exactly the server and its children).
stop_pid() {
  local pid=$1 timeout=$2 i
  alive "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < timeout * 20; i++)); do
    alive "$pid" || return 0
    sleep 0.05
  done
  log "pid $pid did not exit within ${timeout}s after SIGTERM; sending SIGKILL to its group"
  kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 40; i++)); do
    alive "$pid" || return 0
    sleep 0.05
  done
  return 1
}

# stop_all PID...: stop_pid each, never failing (cleanup path of the up-scripts).
stop_all() {
  local p
  for p in "$@"; do stop_pid "$p" 5 || true; done
}

# check_watch_pid PID: validate WATCH_PID up front, before any server is started.
check_watch_pid() {
  case $1 in '' | *[!0-9]*) die "WATCH_PID must be a process id, got '$1'" ;; esac
  alive "$1" || die "WATCH_PID=$1 is not a running process"
}

# start_watcher WATCH_PID PIDFILE LOG PID...: start scripts/lib/watch.sh in the
# background (own session, all fds redirected so it never holds a caller's pipe open).
# It waits for WATCH_PID to exit and then stops the given server PIDs. Its PID goes to
# PIDFILE so the down-script can cancel it.
start_watcher() {
  local watch=$1 pidfile=$2 logf=$3
  shift 3
  check_watch_pid "$watch"
  SCRIPT="$SCRIPT watcher" setsid bash "$(dirname "${BASH_SOURCE[0]}")/watch.sh" "$watch" "$@" \
    </dev/null >>"$logf" 2>&1 &
  echo $! >"$pidfile"
}

# stop_watcher PIDFILE: cancel a watcher (if any) so it does not outlive the server.
stop_watcher() {
  local pidfile=$1 pid
  [ -f "$pidfile" ] || return 0
  pid=$(cat "$pidfile" 2>/dev/null || true)
  rm -f "$pidfile"
  if [ -n "$pid" ] && [ "$pid" != "$$" ]; then kill -TERM "$pid" 2>/dev/null || true; fi
}

# env_set FILE KEY VALUE...: set keys in the shell-sourceable env file, replacing any
# earlier value of the same key, atomically (rename), so readers never see half a file.
# Format: KEY=VALUE per line, no quoting (check_dir guarantees safe characters), which
# is both `source`-able and trivial to parse from Rust.
env_set() {
  local file=$1 tmp k
  shift
  tmp=$(mktemp "$file.XXXXXX")
  if [ -f "$file" ]; then cp -- "$file" "$tmp"; fi
  while [ $# -ge 2 ]; do
    k=$1
    grep -v "^$k=" "$tmp" >"$tmp.n" || true
    printf '%s=%s\n' "$k" "$2" >>"$tmp.n"
    mv -- "$tmp.n" "$tmp"
    shift 2
  done
  chmod 644 "$tmp"
  mv -- "$tmp" "$file"
}

# tail_logs FILE...: the last lines of each existing file, for failure messages.
tail_logs() {
  local f
  for f in "$@"; do
    [ -s "$f" ] || continue
    printf -- '--- last lines of %s ---\n' "$f" >&2
    tail -n 25 -- "$f" >&2
  done
}

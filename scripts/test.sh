#!/usr/bin/env bash
# THE project test command: the README and CI (.ci/run) call exactly this.
#
#   scripts/test.sh [extra args for the test binaries]
#
# It installs the system packages the tests need (fast no-op when present) and runs
# the whole cargo test suite. It does NOT start mail servers: each test binary that
# needs them starts its own once (scripts/dovecot-up.sh / postfix-up.sh with
# AUTO_PORTS=1 and WATCH_PID=<its pid>). Checks such as the staleness of generated
# man pages and completions are tests themselves, not steps here.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh

# rustup installs cargo in ~/.cargo/bin, which a non-login shell may not have on PATH.
if ! command -v cargo >/dev/null && [ -x "$HOME/.cargo/bin/cargo" ]; then
  PATH=$HOME/.cargo/bin:$PATH
fi
command -v cargo >/dev/null || { echo "test.sh: error: cargo not found (install Rust via rustup)" >&2; exit 1; }

# The environment sets RUST_BACKTRACE; tests compare CLI error output, which must not
# carry backtraces.
export RUST_BACKTRACE=0

# ---- formatting / lint gate (not enabled yet) --------------------------------------
# Later: uncomment to fail fast on unformatted code, before the long build.
# cargo fmt --all --check
# --------------------------------------------------------------------------------------

exec cargo test --locked --all-targets -- --test-threads=4 "$@"

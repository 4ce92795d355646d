//! Operator logs (tracing) to stderr. The ledger's event log is the audit trail, not this.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::env;

pub fn init(verbose: u8, quiet: bool) {
    let default = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "mailroom=debug,warn",
        (false, _) => "mailroom=trace,info",
    };
    let filter = EnvFilter::try_from_env(env::MAILROOM_LOG).unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .try_init();
}

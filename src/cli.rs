//! The command line: global flags and the command enum. No logic lives here.

use std::path::PathBuf;

use clap::{Args, Parser};

use crate::commands::Command;
use crate::env;

const AFTER_HELP: &str = "\
Pipeline:
  mailroom fetch | mailroom filter | mailroom classify | mailroom draft | mailroom notify
  mailroom review        humans approve / edit / reject / mark handled
  mailroom send          SMTP, only what is approved (or allowed by the auto-send policy)

Every stage reads JSON Lines on stdin (or files named as arguments) and writes JSON Lines on
stdout; diagnostics and progress go to stderr only.

Exit status:
  0    success (also: nothing new, the reader closed the pipe, heartbeat healthy)
  1    the work failed or partly failed (bad input lines, server or model errors, heartbeat alerting)
  2    usage or configuration error (bad flag, invalid config, unknown account, unusable ledger)
  101  a bug in mailroom (please report it)

Environment:
  MAILROOM_CONFIG   config file (default $XDG_CONFIG_HOME/mailroom/config.toml)
  MAILROOM_LEDGER   ledger file (default $XDG_DATA_HOME/mailroom/ledger.sqlite)
  MAILROOM_LOG      log filter, e.g. mailroom=debug
  MAILROOM_USER     name recorded for your review decisions (default $USER)";

/// Runs a support team's shared mailbox: fetch, filter, triage, draft, review, send, report.
#[derive(Debug, Parser)]
#[command(name = "mailroom", version, propagate_version = true, after_long_help = AFTER_HELP)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Config file [default: $XDG_CONFIG_HOME/mailroom/config.toml]
    #[arg(long, global = true, env = env::MAILROOM_CONFIG, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Ledger file [default: $XDG_DATA_HOME/mailroom/ledger.sqlite]
    #[arg(long, global = true, env = env::MAILROOM_LEDGER, value_name = "PATH")]
    pub ledger: Option<PathBuf>,
    /// More detail on stderr (-v debug, -vv trace); hides progress bars
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Only errors on stderr, no progress
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Stop at the first bad input line instead of reporting it and going on
    #[arg(long, global = true)]
    pub strict: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn verify_cli() {
        Cli::command().debug_assert();
    }
}

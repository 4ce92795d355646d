//! `mailroom filter`: drop spam, blank, test, auto-reply, bounce and bulk mail.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use super::Ctx;
use crate::error::{Outcome, not_built};

/// Give each record a verdict (pass, spam, blank, test, autoreply, bounce, bulk, duplicate)
/// with reasons. Passing records go to stdout; the rest are kept in the ledger, where they
/// can be rescued.
#[derive(Debug, Args)]
pub struct FilterArgs {
    /// JSONL files to read [default: stdin]
    pub inputs: Vec<PathBuf>,
    /// Emit every record with its verdict, not only the passing ones
    #[arg(long)]
    pub all: bool,
    /// Also write the rejected records to FILE
    #[arg(long, value_name = "FILE")]
    pub rejected: Option<PathBuf>,
}

pub async fn run(_args: FilterArgs, _ctx: &mut Ctx) -> Result<Outcome> {
    Err(not_built("filter"))
}

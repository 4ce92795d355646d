//! `mailroom run`: the whole chain in one process.

use anyhow::Result;
use clap::Args;

use super::Ctx;
use crate::error::{Outcome, not_built};

/// fetch → filter → classify → draft → notify in one process, from config (for one timer).
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Stay connected and process mail as it arrives (IMAP IDLE)
    #[arg(long)]
    pub idle: bool,
}

pub async fn run(_args: RunArgs, _ctx: &mut Ctx) -> Result<Outcome> {
    Err(not_built("run"))
}

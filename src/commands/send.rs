//! `mailroom send`: SMTP replies, exactly once.

use anyhow::Result;
use clap::Args;

use super::Ctx;
use crate::error::{Outcome, not_built};

/// Send approved drafts over SMTP with correct threading, exactly once.
#[derive(Debug, Args)]
pub struct SendArgs {
    /// Print the exact messages instead of sending them
    #[arg(long)]
    pub dry_run: bool,
}

pub async fn run(_args: SendArgs, _ctx: &mut Ctx) -> Result<Outcome> {
    Err(not_built("send"))
}

//! `mailroom cases`: threads with an owner, a waiting state and a next step.

use anyhow::Result;
use clap::Args;

use super::Ctx;
use crate::error::{Outcome, not_built};

/// List and show service cases.
#[derive(Debug, Args)]
pub struct CasesArgs {
    /// Print JSON instead of a table
    #[arg(long)]
    pub json: bool,
}

pub async fn run(_args: CasesArgs, _ctx: &mut Ctx) -> Result<Outcome> {
    Err(not_built("cases"))
}

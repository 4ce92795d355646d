//! `mailroom digest`: the manager's daily summary.

use anyhow::Result;
use clap::Args;

use super::Ctx;
use crate::error::{Outcome, not_built};

/// Counts and samples over a window: new, pending, sent, handled, rejected, failed,
/// filter verdicts, categories, response times, high-urgency samples.
#[derive(Debug, Args)]
pub struct DigestArgs {
    /// Window ending now, e.g. 24h, 7d
    #[arg(long, value_name = "DURATION")]
    pub since: Option<String>,
}

pub async fn run(_args: DigestArgs, _ctx: &mut Ctx) -> Result<Outcome> {
    Err(not_built("digest"))
}

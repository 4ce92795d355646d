//! `mailroom heartbeat`: is the chain alive?

use anyhow::Result;
use clap::Args;

use super::Ctx;
use crate::error::{Outcome, not_built};

/// Check the ledger for silence and failures; exit 1 while alerting.
#[derive(Debug, Args)]
pub struct HeartbeatArgs {
    /// Alert when no triage happened for this long while mail arrives, e.g. 2h
    #[arg(long, value_name = "DURATION")]
    pub max_idle: Option<String>,
}

pub async fn run(_args: HeartbeatArgs, _ctx: &mut Ctx) -> Result<Outcome> {
    Err(not_built("heartbeat"))
}

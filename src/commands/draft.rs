//! `mailroom draft`: English reply drafts with a missing-information checklist.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use super::Ctx;
use crate::error::{Outcome, not_built};

/// Add a `draft` to each classified record: an English reply, the missing-information
/// checklist, a risk level, and the knowledge sources it is grounded in.
#[derive(Debug, Args)]
pub struct DraftArgs {
    /// JSONL files to read [default: stdin]
    pub inputs: Vec<PathBuf>,
}

pub async fn run(_args: DraftArgs, _ctx: &mut Ctx) -> Result<Outcome> {
    Err(not_built("draft"))
}

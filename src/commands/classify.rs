//! `mailroom classify`: category, priority, sentiment, language, escalation.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use super::Ctx;
use crate::error::{Outcome, not_built};

/// Add a `triage` object to each record: category, priority P1-P4, sentiment, language,
/// confidence, escalation with reasons, and extracted entities.
#[derive(Debug, Args)]
pub struct ClassifyArgs {
    /// JSONL files to read [default: stdin]
    pub inputs: Vec<PathBuf>,
    /// Concurrent model calls (LLM backend)
    #[arg(short = 'j', long, value_name = "N")]
    pub jobs: Option<usize>,
}

pub async fn run(_args: ClassifyArgs, _ctx: &mut Ctx) -> Result<Outcome> {
    Err(not_built("classify"))
}

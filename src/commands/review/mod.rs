//! `mailroom review`: humans approve, edit, reject or mark drafts handled.

use anyhow::Result;
use clap::Args;

use super::Ctx;
use crate::error::{Outcome, not_built};

/// Review pending drafts: interactive on a terminal, scriptable sub-actions, or a web page
/// (`review serve`).
#[derive(Debug, Args)]
pub struct ReviewArgs {}

pub async fn run(_args: ReviewArgs, _ctx: &mut Ctx) -> Result<Outcome> {
    Err(not_built("review"))
}

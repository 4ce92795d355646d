//! `mailroom notify`: post each record to the team's group chat.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use super::Ctx;
use crate::error::{Outcome, not_built};

/// Post one message per record to the configured webhooks (Slack, WeCom, Feishu/Lark,
/// DingTalk, generic JSON) with a link to its review page. Records pass through unchanged.
#[derive(Debug, Args)]
pub struct NotifyArgs {
    /// JSONL files to read [default: stdin]
    pub inputs: Vec<PathBuf>,
}

pub async fn run(_args: NotifyArgs, _ctx: &mut Ctx) -> Result<Outcome> {
    Err(not_built("notify"))
}

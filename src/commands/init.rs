//! `mailroom init`: a commented starter config and an empty ledger.

use anyhow::{Context, Result};
use clap::Args;

use super::Ctx;
use crate::config::{Config, default_config_path};
use crate::error::{Outcome, UsageError};

pub const STARTER_CONFIG: &str = include_str!("starter-config.toml");

/// Write a commented starter config (to --config, MAILROOM_CONFIG or the XDG default) and
/// create the ledger.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Overwrite an existing config file
    #[arg(long)]
    pub force: bool,
}

pub async fn run(args: InitArgs, ctx: &mut Ctx) -> Result<Outcome> {
    let path = ctx.global.config.clone().unwrap_or_else(default_config_path);
    if path.exists() && !args.force {
        return Err(UsageError(format!(
            "{} already exists; keep it, or pass --force to overwrite it",
            path.display()
        ))
        .into());
    }
    // The starter must itself be valid: a broken template would be a bug.
    Config::parse(STARTER_CONFIG, &path)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    std::fs::write(&path, STARTER_CONFIG).with_context(|| format!("cannot write {}", path.display()))?;
    let ledger_path = ctx.ledger()?.path().to_path_buf();
    ctx.info(format!("wrote {}", path.display()));
    ctx.info(format!("ledger ready at {}", ledger_path.display()));
    ctx.info("next: add an [accounts.NAME] table, then `mailroom fetch | mailroom filter`");
    Ok(Outcome::Success)
}

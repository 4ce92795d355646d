//! `mailroom ledger`: looking after the ledger file itself.

use std::io::Write;

use anyhow::Result;
use clap::{Args, Subcommand};
use serde::Serialize;

use super::Ctx;
use crate::error::{ConfigError, Outcome};
use crate::ledger::Ledger;

/// Look after the ledger file: check it after a crash, a power cut or a restored backup.
#[derive(Debug, Args)]
pub struct LedgerArgs {
    #[command(subcommand)]
    pub action: LedgerAction,
}

#[derive(Debug, Subcommand)]
pub enum LedgerAction {
    Check(CheckArgs),
}

/// Check the ledger: SQLite's integrity and foreign-key checks plus mailroom's own promises
/// (every message stored once with its raw source, every draft's history legal, every sent
/// draft sent exactly once, no send left without its claim). Read-only apart from applying
/// pending schema migrations.
///
/// Exit status: 0 sound, 1 problems found (each printed), 2 the ledger cannot be opened.
///
/// Examples:
///   mailroom ledger check
///   mailroom --ledger /backup/ledger.sqlite ledger check --json | jq .problems
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct CheckArgs {
    /// Print the result as one JSON object on stdout
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Serialize)]
struct CheckReport {
    ledger: String,
    ok: bool,
    messages: i64,
    drafts: i64,
    events: i64,
    problems: Vec<String>,
}

pub async fn run(args: LedgerArgs, ctx: &mut Ctx) -> Result<Outcome> {
    match args.action {
        LedgerAction::Check(a) => check(a, ctx),
    }
}

fn check(args: CheckArgs, ctx: &mut Ctx) -> Result<Outcome> {
    let path = ctx.ledger_path();
    if !path.exists() {
        return Err(ConfigError::with_hint(
            format!("no ledger at {}", path.display()),
            "pass --ledger PATH or set MAILROOM_LEDGER",
        )
        .into());
    }
    // Opened directly, not through ctx: a check is not a run worth recording.
    let ledger = Ledger::open(&path)?;
    let count = |table: &str| -> Result<i64> {
        Ok(ledger.conn().query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))?)
    };
    let problems = ledger.check_integrity()?;
    let report = CheckReport {
        ledger: path.display().to_string(),
        ok: problems.is_empty(),
        messages: count("messages")?,
        drafts: count("drafts")?,
        events: count("events")?,
        problems,
    };
    let mut out = std::io::stdout().lock();
    let written = if args.json {
        serde_json::to_writer(&mut out, &report).map_err(std::io::Error::other).and_then(|()| writeln!(out))
    } else {
        let verdict = if report.ok { "sound".to_string() } else { format!("{} problems", report.problems.len()) };
        writeln!(
            out,
            "{}: {verdict} ({} messages, {} drafts, {} events)",
            report.ledger, report.messages, report.drafts, report.events
        )
        .and_then(|()| report.problems.iter().try_for_each(|p| writeln!(out, "  {p}")))
    };
    match written {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(e.into()),
        _ => {}
    }
    Ok(Outcome::from_failed(!report.ok))
}

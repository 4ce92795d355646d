//! `mailroom export`: messages from the ledger as records.

use anyhow::Result;
use clap::Args;
use rusqlite::types::Value as SqlValue;

use super::Ctx;
use crate::error::{Outcome, UsageError};
use crate::jsonl::RecordWriter;
use crate::ledger::DraftState;

/// Print messages from the ledger as records, with their current filter, triage and draft
/// results, for reclassification and jq.
#[derive(Debug, Args)]
#[command(after_long_help = EXAMPLES)]
pub struct ExportArgs {
    /// Messages dated on or after DATE (YYYY-MM-DD or RFC 3339)
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Messages dated before DATE
    #[arg(long, value_name = "DATE")]
    pub until: Option<String>,
    /// Messages whose latest draft is in this state (pending, approved, rejected, handled, sending, sent, failed)
    #[arg(long, value_name = "STATE")]
    pub state: Option<String>,
    /// Messages currently in this category
    #[arg(long, value_name = "NAME")]
    pub category: Option<String>,
    /// Messages with this current filter verdict
    #[arg(long, value_name = "VERDICT")]
    pub verdict: Option<String>,
    /// Messages of this account ("files" for imports)
    #[arg(long, value_name = "NAME")]
    pub account: Option<String>,
    /// Only these message ids; repeatable
    #[arg(long, value_name = "ID")]
    pub id: Vec<String>,
    /// At most N messages
    #[arg(long, value_name = "N")]
    pub limit: Option<u64>,
}

const EXAMPLES: &str = "\
Examples:
  mailroom export --since 2026-01-01 | mailroom classify
  mailroom export --category refund --state pending | jq -r .subject
  mailroom export --verdict spam | jq -r .from.address | sort | uniq -c";

fn normalize_date(d: &str, flag: &str) -> Result<String> {
    if chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").is_ok() {
        return Ok(format!("{d}T00:00:00Z"));
    }
    match chrono::DateTime::parse_from_rfc3339(d) {
        Ok(t) => Ok(t.with_timezone(&chrono::Utc).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        Err(_) => Err(UsageError(format!("{flag} {d}: expected YYYY-MM-DD or an RFC 3339 time")).into()),
    }
}

const LATEST: &str = "SELECT summary FROM stage_results s WHERE s.message = m.id AND s.stage = ?STAGE \
    ORDER BY s.version DESC LIMIT 1";

pub async fn run(args: ExportArgs, ctx: &mut Ctx) -> Result<Outcome> {
    let mut sql = String::from("SELECT m.id FROM messages m WHERE 1 = 1");
    let mut params: Vec<SqlValue> = Vec::new();
    if let Some(d) = &args.since {
        params.push(SqlValue::Text(normalize_date(d, "--since")?));
        sql += &format!(" AND COALESCE(m.date_utc, m.fetched_at) >= ?{}", params.len());
    }
    if let Some(d) = &args.until {
        params.push(SqlValue::Text(normalize_date(d, "--until")?));
        sql += &format!(" AND COALESCE(m.date_utc, m.fetched_at) < ?{}", params.len());
    }
    if let Some(a) = &args.account {
        params.push(SqlValue::Text(a.clone()));
        sql += &format!(" AND m.account = ?{}", params.len());
    }
    if let Some(c) = &args.category {
        params.push(SqlValue::Text(c.clone()));
        sql += &format!(" AND ({}) = ?{}", LATEST.replace("?STAGE", "'triage'"), params.len());
    }
    if let Some(v) = &args.verdict {
        params.push(SqlValue::Text(v.clone()));
        sql += &format!(" AND ({}) = ?{}", LATEST.replace("?STAGE", "'filter'"), params.len());
    }
    if let Some(s) = &args.state {
        if DraftState::parse(s).is_none() {
            return Err(UsageError(format!(
                "--state {s}: expected one of pending, approved, rejected, handled, sending, sent, failed"
            ))
            .into());
        }
        params.push(SqlValue::Text(s.clone()));
        sql += &format!(
            " AND (SELECT d.state FROM drafts d WHERE d.message = m.id ORDER BY d.created_at DESC, d.rowid DESC LIMIT 1) = ?{}",
            params.len()
        );
    }
    if !args.id.is_empty() {
        let mut marks = Vec::new();
        for id in &args.id {
            params.push(SqlValue::Text(id.clone()));
            marks.push(format!("?{}", params.len()));
        }
        sql += &format!(" AND m.id IN ({})", marks.join(","));
    }
    sql += " ORDER BY COALESCE(m.date_utc, m.fetched_at), m.rowid";
    if let Some(n) = args.limit {
        sql += &format!(" LIMIT {n}");
    }
    let ledger = ctx.ledger()?;
    let ids: Vec<String> = {
        let mut stmt = ledger.conn().prepare(&sql)?;
        stmt.query_map(rusqlite::params_from_iter(params), |r| r.get(0))?.collect::<Result<_, _>>()?
    };
    let mut writer = RecordWriter::stdout(false);
    let mut written = 0u64;
    for id in ids {
        let Some(record) = ledger.current_record(&id)? else { continue };
        match writer.write(&record) {
            Ok(()) => written += 1,
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => break,
            Err(e) => return Err(e.into()),
        }
    }
    match writer.flush() {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(e.into()),
        _ => {}
    }
    ctx.count("written", written);
    Ok(Outcome::Success)
}

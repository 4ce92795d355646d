//! `mailroom send`: SMTP replies, exactly once.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Result;
use clap::Args;

use super::Ctx;
use crate::config;
use crate::error::{ConfigError, Outcome, UsageError};
use crate::jsonl::{RecordReader, RecordWriter};
use crate::stages::send::shadow::ShadowOptions;
use crate::stages::send::{self, SendOptions, SendOutcome};

/// Send approved drafts over SMTP with correct threading, exactly once.
///
/// Without INPUT, sends the approved drafts in the ledger whose retry time has come (oldest
/// first). With INPUT (record files, `-` for stdin), sends the drafts of those records if they
/// are approved. Every run first settles sends a crash interrupted: a draft whose message never
/// left is queued again with the same Message-ID; one that may have left is looked up in the
/// Sent folder and is never resent blindly (not found: `failed`, for a human to check).
///
/// Prints one JSON line per attempt: {draft, message, message_id, state, smtp_response,
/// attempts, account, to, actor, next_attempt_at?, reason?}, where state is sent, failed,
/// approved (a temporary failure; retried at next_attempt_at), sending (outcome unknown,
/// settled by the next run), skipped or dry_run. Exits 1 when a draft failed, an outcome is
/// unknown or a server could not be reached.
///
/// With --auto --shadow nothing is sent: one JSON line per pending draft shadowed,
/// {draft, message, category, confidence, risk, verdict (would_send|would_hold), reason}.
///
/// Examples:
///   mailroom send                          # what is approved, at policy.rate_per_minute
///   mailroom send --dry-run --max 1 | jq -r .raw
///   mailroom send --auto                   # plus what the auto-send policy allows
///   mailroom send --auto --shadow          # only record what the policy would send
///   mailroom send --draft d3f2a1 --draft d77b00
///   mailroom export --state approved --category shipping | mailroom send -
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct SendArgs {
    /// Record files whose drafts to send (`-` for stdin) [default: the ledger's approved drafts]
    #[arg(value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
    /// Print each message (RFC 822, the `raw` key of each line; as plain text on a terminal)
    /// instead of sending it; changes nothing in the ledger
    #[arg(long)]
    pub dry_run: bool,
    /// Send at most N drafts this run, e.g. `--max 10`
    #[arg(long, value_name = "N")]
    pub max: Option<usize>,
    /// SMTP transactions per minute, e.g. `--rate 10`; 0 = no limit [default: policy.rate_per_minute]
    #[arg(long, value_name = "N")]
    pub rate: Option<u32>,
    /// Also send pending drafts that the auto-send policy allows (low risk, category in
    /// policy.categories, confidence ≥ policy.min_confidence, within policy.daily_cap), as
    /// actor `policy`; stops while policy.auto_send = false or policy.pause_file exists
    #[arg(long)]
    pub auto: bool,
    /// With --auto: send nothing and change no draft; record what the auto-send policy would
    /// do with each pending draft (a `policy.shadow` event: would_send or would_hold, and why),
    /// once per draft. Works while policy.auto_send = false (try the policy before trusting
    /// it); the rules, policy.daily_cap and policy.pause_file still apply. When a person later
    /// approves, edits, rejects or handles a shadowed draft, their agreement with the verdict
    /// is recorded (`policy.agreement`) and shown per category by `mailroom digest`.
    /// Example: `mailroom send --auto --shadow && mailroom digest --since 7d`
    #[arg(long, requires = "auto", conflicts_with_all = ["dry_run", "rate", "account"])]
    pub shadow: bool,
    /// Only this draft (repeatable); sent now even if a retry is scheduled later
    #[arg(long = "draft", value_name = "ID")]
    pub drafts: Vec<String>,
    /// Send from this account when a message's own account has no SMTP (file imports),
    /// e.g. `--account support`
    #[arg(long, value_name = "NAME")]
    pub account: Option<String>,
}

pub async fn run(args: SendArgs, ctx: &mut Ctx) -> Result<Outcome> {
    if !args.inputs.is_empty() && !args.drafts.is_empty() {
        return Err(UsageError("give either INPUT records or --draft IDs, not both".into()).into());
    }
    let config = ctx.config()?.clone();
    if let Some(name) = &args.account {
        let account = config.account(name)?;
        if account.smtp.is_none() {
            return Err(ConfigError::new(format!("account \"{name}\" has no smtp settings")).into());
        }
    }
    let only = if args.inputs.is_empty() {
        (!args.drafts.is_empty()).then(|| args.drafts.clone())
    } else {
        Some(drafts_of_records(&args.inputs, ctx)?)
    };
    if args.shadow {
        return shadow(&config, only, args.max, ctx);
    }
    ctx.ledger()?;
    // SIGINT/SIGTERM: finish the transaction under way, then stop (a second signal kills).
    let stop = Arc::new(AtomicBool::new(false));
    let listener = tokio::spawn(stop_on_signal(stop.clone()));
    let opts = SendOptions {
        actor: config::current_user(),
        dry_run: args.dry_run,
        max: args.max,
        rate_per_minute: args.rate.unwrap_or(config.policy.rate_per_minute),
        auto: args.auto,
        only,
        default_account: args.account.clone(),
        run_id: ctx.run_id(),
        stop: Some(stop.clone()),
    };
    let plain = args.dry_run && std::io::stdout().is_terminal();
    // Flushed per line: each attempt is on stdout the moment it is in the ledger.
    let mut writer = RecordWriter::stdout(true);
    let quiet = ctx.global.quiet;
    let mut emit = |o: &SendOutcome| -> Result<()> {
        // The line on stdout is for programs; a person reading the journal sees why here.
        let why = o.reason.as_deref().or(o.smtp_response.as_deref()).unwrap_or("");
        match o.state.as_str() {
            "failed" => eprintln!("mailroom send: draft {} failed: {why}", o.draft),
            "sending" => eprintln!("mailroom send: draft {}: outcome unknown: {why}", o.draft),
            "approved" if !quiet => eprintln!("mailroom send: warning: draft {}: {why}; retry after {}", o.draft, o.next_attempt_at.as_deref().unwrap_or("?")),
            "skipped" if !quiet => eprintln!("mailroom send: warning: draft {} skipped: {why}", o.draft),
            _ => {}
        }
        match (&o.raw, plain) {
            (Some(raw), true) => {
                use std::io::Write;
                let mut out = std::io::stdout().lock();
                writeln!(out, "# draft {} ({})\n{}", o.draft, o.reason.as_deref().unwrap_or(""), raw.replace("\r\n", "\n"))?;
            }
            _ => writer.write_value(o)?,
        }
        Ok(())
    };
    let ledger = ctx.ledger()?;
    let summary = send::run_batch(&config, ledger, &opts, &mut emit).await;
    listener.abort();
    let summary = summary?;
    for note in &summary.notes {
        ctx.info(note);
    }
    for e in &summary.errors {
        ctx.error(e);
    }
    if summary.failed_work() || stop.load(Ordering::SeqCst) {
        ctx.mark_failed();
    }
    ctx.count("sent", summary.sent);
    ctx.count("failed", summary.failed);
    ctx.count("retry", summary.retry);
    ctx.count("unknown", summary.unknown);
    ctx.count("skipped", summary.skipped);
    ctx.count("previewed", summary.previewed);
    Ok(ctx.outcome())
}

/// `--auto --shadow`: the policy's verdicts, recorded and printed; nothing sent.
fn shadow(config: &config::Config, only: Option<Vec<String>>, max: Option<usize>, ctx: &mut Ctx) -> Result<Outcome> {
    let opts = ShadowOptions { only, max, run_id: ctx.run_id() };
    let mut writer = RecordWriter::stdout(true);
    let summary = send::shadow::run(config, ctx.ledger()?, &opts, &mut |o| Ok(writer.write_value(o)?))?;
    for note in &summary.notes {
        ctx.info(note);
    }
    ctx.count("would_send", summary.would_send);
    ctx.count("would_hold", summary.would_hold);
    ctx.count("already_shadowed", summary.already);
    ctx.count("skipped", summary.skipped);
    Ok(ctx.outcome())
}

async fn stop_on_signal(stop: Arc<AtomicBool>) {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(mut term) = signal(SignalKind::terminate()) else { return };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    stop.store(true, Ordering::SeqCst);
    // SAFETY: restoring the default disposition; no handler code of ours runs in signal context.
    unsafe {
        libc::signal(libc::SIGINT, libc::SIG_DFL);
        libc::signal(libc::SIGTERM, libc::SIG_DFL);
    }
}

/// The draft of each record: its `draft.id`, or the newest draft of its message.
fn drafts_of_records(inputs: &[PathBuf], ctx: &mut Ctx) -> Result<Vec<String>> {
    let mut ids = Vec::new();
    for item in RecordReader::new(inputs) {
        match item {
            Err(bad) => {
                ctx.error(&bad);
                if ctx.global.strict {
                    anyhow::bail!("stopped at {} (--strict)", bad.pos);
                }
            }
            Ok((pos, record)) => {
                let id = match &record.draft {
                    Some(d) => Some(d.id.clone()),
                    None => ctx.ledger()?.latest_draft_for(&record.id)?.map(|d| d.id),
                };
                match id {
                    Some(id) if !ids.contains(&id) => ids.push(id),
                    Some(_) => {}
                    None => ctx.warn(format!("{pos}: message {} has no draft", record.id)),
                }
            }
        }
    }
    Ok(ids)
}

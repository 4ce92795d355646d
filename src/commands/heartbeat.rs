//! `mailroom heartbeat`: is the chain alive?

use std::io::Write;

use anyhow::{Context, Result};
use chrono::Utc;
use clap::Args;

use super::Ctx;
use super::deliver::{self, Report};
use crate::error::{Outcome, UsageError};
use crate::output;
use crate::stages::duration;
use crate::stages::health::{self, Health, NoticeKind, Settings};

/// Check the ledger for silence and failures; alert once per incident, say once when it is
/// over, and exit 1 while alerting.
///
/// Incidents: no triage for longer than --max-idle while mail waits for it (or while fetch
/// fails); an IMAP account failing `[heartbeat] failure_threshold` times since its last good
/// login; model calls failing that many times in a row, or a storm of HTTP 429s; pending
/// reviews older than `[review] sla_hours`. Each new incident and each recovery is printed on
/// stderr and posted to the `[notify]` webhooks; an incident that is still open stays quiet.
/// The open incidents are kept in the ledger, so a timer can run this every few minutes.
///
/// Exit status: 0 healthy, 1 alerting (or a notification could not be delivered; it is
/// retried on the next run), 2 usage or config error.
#[derive(Debug, Args)]
#[command(after_long_help = EXAMPLES)]
pub struct HeartbeatArgs {
    /// Alert when no triage happened for this long while mail waits, e.g. 2h, 90m
    /// [default: [heartbeat] max_idle, 2h]
    #[arg(long, value_name = "DURATION")]
    pub max_idle: Option<String>,
    /// Print the status object as JSON on stdout (for monitoring systems)
    #[arg(long)]
    pub json: bool,
}

const EXAMPLES: &str = "\
Examples:
  mailroom heartbeat --max-idle 2h                 # every 15 minutes from a timer
  mailroom heartbeat --json | jq .incidents        # for a monitoring system";

pub async fn run(args: HeartbeatArgs, ctx: &mut Ctx) -> Result<Outcome> {
    let now = Utc::now();
    let (config, ledger) = ctx.config_and_ledger()?;
    let (max_idle, flag) = match &args.max_idle {
        Some(m) => (m.clone(), "--max-idle"),
        None => (config.heartbeat.max_idle.clone(), "[heartbeat] max_idle"),
    };
    let max_idle = duration::parse(&max_idle).map_err(|e| UsageError(format!("{flag}: {e}")))?;
    let settings = Settings {
        max_idle,
        failure_threshold: config.heartbeat.failure_threshold,
        sla_hours: config.review.sla_hours,
        accounts: config.accounts.iter().filter(|(_, a)| a.imap.is_some()).map(|(n, _)| n.clone()).collect(),
    };
    let config = config.clone();
    let mut status = health::check(ledger, &settings, now).context("checking the ledger")?;
    let notices = health::changes(ledger, &mut status, now).context("recording incidents")?;

    for notice in &notices {
        eprintln!("mailroom heartbeat: {}: {}", notice.title, notice.text);
        if config.notify.webhooks.is_empty() {
            continue;
        }
        let data = serde_json::json!({ "notice": notice, "status": &status });
        let title = format!("{}: {}", config.team.name, notice.title);
        let report = Report { kind: "heartbeat", title: &title, text: &notice.text, data: &data };
        let run_id = ctx.run_id();
        let results = deliver::to_webhooks(&config, ctx.ledger()?, run_id, &report).await;
        let delivered = results.iter().any(|(_, r)| r.is_ok());
        for (_, r) in &results {
            if let Err(e) = r {
                ctx.warn(format!("{e:#}"));
            }
        }
        if !delivered {
            health::undo(ctx.ledger()?, notice).context("giving back an undelivered notice")?;
            let what = if notice.kind == NoticeKind::Alert { "alert" } else { "recovery message" };
            ctx.error(format!("could not post the {what} to any webhook; the next run tries again"));
        }
    }
    for incident in &status.incidents {
        if !notices.iter().any(|n| n.incident.key == incident.key) {
            ctx.info(format!("still alerting since {}: {}", incident.since, incident.summary));
        }
    }
    ctx.count("incidents", status.incidents.len() as u64);

    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&status)?)?;
    } else if output::stdout_is_tty() {
        write!(out, "{}", table(&status))?;
    }
    out.flush()?;
    Ok(if status.incidents.is_empty() { ctx.outcome() } else { Outcome::PartialFailure })
}

fn table(h: &Health) -> String {
    let mut t = output::table(vec!["check", "state"]);
    let or_never = |s: &Option<String>| s.clone().unwrap_or_else(|| "never".into());
    t.add_row(vec!["status".to_string(), h.status.to_string()]);
    t.add_row(vec![
        "last fetch".to_string(),
        match &h.last_fetch {
            Some(r) => format!("{} {} ({})", r.command, r.started_at, r.status),
            None => "never".into(),
        },
    ]);
    t.add_row(vec![format!("last triage (max idle {})", h.max_idle), or_never(&h.last_triage_at)]);
    t.add_row(vec![
        "waiting for triage".to_string(),
        match &h.waiting_for_triage.oldest_fetched_at {
            Some(oldest) => format!("{} (oldest fetched {oldest})", h.waiting_for_triage.count),
            None => "0".into(),
        },
    ]);
    for a in &h.accounts {
        t.add_row(vec![
            format!("IMAP {}", a.account),
            format!(
                "last good login {}; {} errors since{}",
                or_never(&a.last_login_ok_at),
                a.failures,
                a.last_error.as_ref().map(|e| format!(" (latest: {e})")).unwrap_or_default()
            ),
        ]);
    }
    t.add_row(vec![
        "model, last hour".to_string(),
        format!(
            "{} calls, {} errors, {} rate-limited",
            h.model.calls_last_hour, h.model.errors_last_hour, h.model.rate_limited_last_hour
        ),
    ]);
    t.add_row(vec![
        format!("reviews (SLA {}h)", h.reviews.sla_hours),
        format!("{} pending, {} overdue", h.reviews.pending, h.reviews.overdue),
    ]);
    for i in &h.incidents {
        t.add_row(vec![format!("incident {}", i.key), format!("since {}: {}", i.since, i.summary)]);
    }
    format!("{t}\n")
}

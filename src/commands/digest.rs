//! `mailroom digest`: the manager's daily summary.

use std::io::Write;

use anyhow::{Context, Result};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use clap::{Args, ValueEnum};

use super::Ctx;
use super::deliver::{self, Report};
use crate::error::{ConfigError, Outcome, UsageError};
use crate::output;
use crate::stages::digest::{self, Digest, Settings, Window, render};
use crate::stages::duration;

/// Counts and samples over a window: new, pending (with age), approved, sent, auto-sent,
/// handled, rejected and failed; filter verdicts and spam ratio; categories and priorities;
/// median time to first draft and to send; high-urgency samples with review links; the change
/// against the previous window; messages per day for the last 14 days.
///
/// And the acceptance figures that tell a team when to trust automation (`acceptance` in
/// JSON): cases opened and resolved; automated reception coverage (customer mail the filter
/// dropped or the draft stage answered with no person correcting, editing, rejecting or
/// handling it); review pass rate (drafts approved as written, of those people decided);
/// shadow-policy agreement per category (`mailroom send --auto --shadow`: would-send vs
/// approved as written); waiting-timeout rate (cases that timed out waiting on the customer,
/// of those that waited); median time from a case's first message to its first reply (ours
/// or from a mail client); evidence completeness (cases whose every state change has its
/// `case.state` event).
///
/// Days are calendar days in the team's time zone (`[team] timezone`). A message counts in
/// the window it arrived in (its Date header, or when it was fetched if the header is missing
/// or later); drafts, decisions and sends count in the window they happened in.
#[derive(Debug, Args)]
#[command(after_long_help = EXAMPLES)]
pub struct DigestArgs {
    /// Start of the window: a duration back from --until (24h, 7d, 90m) or a local date
    /// (YYYY-MM-DD) or RFC 3339 time [default: 24h]
    #[arg(long, value_name = "DURATION|DATE", conflicts_with = "date")]
    pub since: Option<String>,
    /// End of the window: a local date (YYYY-MM-DD, meaning its midnight) or RFC 3339 time [default: now]
    #[arg(long, value_name = "DATE", conflicts_with = "date")]
    pub until: Option<String>,
    /// One calendar day in the team's time zone, compared with the day before, e.g. 2026-11-20
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub date: Option<String>,
    /// Output format [default: table on a terminal, json otherwise]
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<Format>,
    /// The same as --format json
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
    /// Where the digest goes: stdout, the [notify] webhooks (a short text), or e-mail (HTML
    /// with a Markdown text part) through an account's SMTP settings
    #[arg(long, value_enum, value_name = "WHERE", default_value_t = Deliver::Stdout)]
    pub deliver: Deliver,
    /// Recipient of --deliver email; repeatable
    #[arg(long, value_name = "ADDRESS")]
    pub to: Vec<String>,
    /// Account whose SMTP settings send --deliver email [default: the only account with smtp]
    #[arg(long, value_name = "NAME")]
    pub account: Option<String>,
    /// How many high-urgency messages (P1, P2, escalated) to list
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub samples: usize,
}

const EXAMPLES: &str = "\
Examples:
  mailroom digest                                  # the last 24 hours, as a table
  mailroom digest --date 2026-11-20 --format html > digest.html
  mailroom digest --since 7d --json | jq .counts
  mailroom digest --since 2026-11-01 --until 2026-12-01 --format markdown
  mailroom digest --since 24h --deliver notify     # post to the [notify] webhooks";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Markdown,
    Html,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Deliver {
    Stdout,
    Notify,
    Email,
}

/// The review page of a message.
///
/// SEAM: once the review server's signed links are merged, build
/// `LinkSigner::from_ledger(ledger)?.message_url(base, id, config.review.link_ttl_hours, now)`
/// here instead; until then the page asks the agent to sign in.
fn review_link(base: &str, id: &str) -> String {
    format!("{}/m/{}", base.trim_end_matches('/'), id)
}

/// A bound of the window: a local date (its midnight in `tz`) or an RFC 3339 time.
enum Bound {
    Date(NaiveDate),
    Time(DateTime<Utc>),
}

impl Bound {
    fn parse(text: &str, flag: &str) -> Result<Bound> {
        if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            return Ok(Bound::Date(day));
        }
        DateTime::parse_from_rfc3339(text).map(|t| Bound::Time(t.with_timezone(&Utc))).map_err(|_| {
            UsageError(format!(
                "{flag} {text}: expected YYYY-MM-DD, an RFC 3339 time or (for --since) a duration like 24h"
            ))
            .into()
        })
    }

    fn at(&self, tz: Tz) -> Result<DateTime<Utc>> {
        match self {
            Bound::Date(d) => digest::local_midnight(*d, tz),
            Bound::Time(t) => Ok(*t),
        }
    }
}

/// The window the flags describe.
fn window(args: &DigestArgs, tz: Tz, now: DateTime<Utc>) -> Result<Window> {
    if let Some(d) = &args.date {
        let day = NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .map_err(|_| UsageError(format!("--date {d}: expected YYYY-MM-DD")))?;
        return Window::day(day, tz);
    }
    let until = args.until.as_deref().map(|u| Bound::parse(u, "--until")).transpose()?;
    let end = match &until {
        Some(b) => b.at(tz)?,
        None => now,
    };
    let since = args.since.as_deref().unwrap_or("24h");
    let window = match duration::parse(since) {
        Ok(span) => Window::last(span, end),
        Err(e) => match Bound::parse(since, "--since")
            .map_err(|_| UsageError(format!("--since: {e}; or give a date, YYYY-MM-DD")))?
        {
            Bound::Date(first) => match until {
                Some(Bound::Date(last)) if first < last => Window::days(first, last, tz)?,
                _ => Window::between(digest::local_midnight(first, tz)?, end),
            },
            Bound::Time(start) => Window::between(start, end),
        },
    };
    if window.start >= window.end {
        return Err(UsageError(format!("--since {since} is not before the end of the window")).into());
    }
    Ok(window)
}

pub async fn run(args: DigestArgs, ctx: &mut Ctx) -> Result<Outcome> {
    // Ledger times are whole seconds: a window ending now must include this second.
    let now = DateTime::from_timestamp(Utc::now().timestamp() + 1, 0).unwrap_or_else(Utc::now);
    let (config, ledger) = ctx.config_and_ledger()?;
    let tz: Tz = config.team.timezone.parse().map_err(|_| {
        ConfigError::with_hint(
            format!("[team] timezone = {:?} is not a time zone", config.team.timezone),
            "use an IANA name such as \"Europe/Berlin\", \"Asia/Shanghai\" or \"UTC\"",
        )
    })?;
    let window = window(&args, tz, now)?;
    let base = config.team.review_url.clone();
    let link = move |id: &str| review_link(&base, id);
    let settings = Settings {
        team: config.team.name.clone(),
        tz,
        sla_hours: config.review.sla_hours,
        samples: args.samples,
        link: &link,
        case_sla: crate::stages::cases::timeouts::Sla::from_config(&config.cases),
    };
    let d = digest::build(ledger, &window, &settings, now).context("building the digest")?;
    let data = serde_json::to_value(&d)?;
    let config = config.clone();
    ctx.count("new", d.counts.new.max(0) as u64);

    match args.deliver {
        Deliver::Stdout => {
            let format = match (args.json, args.format) {
                (true, _) => Format::Json,
                (false, Some(f)) => f,
                (false, None) if output::stdout_is_tty() => Format::Table,
                (false, None) => Format::Json,
            };
            let text = match format {
                Format::Json => format!("{}\n", serde_json::to_string_pretty(&d)?),
                Format::Markdown => render::markdown(&d),
                Format::Html => render::html(&d)?,
                Format::Table => table(&d),
            };
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())?;
            out.flush()?;
        }
        Deliver::Notify => {
            deliver::webhooks(&config)?;
            let title = render::title(&d);
            let text = render::chat(&d);
            let report = Report { kind: "digest", title: &title, text: &text, data: &data };
            let run_id = ctx.run_id();
            let results = deliver::to_webhooks(&config, ctx.ledger()?, run_id, &report).await;
            for (name, result) in results {
                match result {
                    Ok(()) => ctx.info(format!("digest posted to webhook \"{name}\"")),
                    Err(e) => ctx.error(format!("{e:#}")),
                }
            }
        }
        Deliver::Email => {
            if args.to.is_empty() {
                return Err(UsageError("--deliver email needs at least one --to ADDRESS".into()).into());
            }
            let html = render::html(&d)?;
            deliver::by_email(
                &config,
                args.account.as_deref(),
                &args.to,
                &render::title(&d),
                &render::markdown(&d),
                &html,
            )
            .await?;
            ctx.info(format!("digest e-mailed to {}", args.to.join(", ")));
        }
    }
    Ok(ctx.outcome())
}

/// The digest as terminal tables.
fn table(d: &Digest) -> String {
    let mut out =
        format!("{} digest: {} ({}), compared with {}\n", d.team, d.window.label, d.timezone, d.previous_window.label);
    let mut t = output::table(vec!["", "this window", "previous", "change"]);
    for ((label, now), (_, before)) in d.counts.rows().into_iter().zip(d.previous.rows()) {
        t.add_row(vec![label.to_string(), now.to_string(), before.to_string(), render::signed(now - before)]);
    }
    right_align(&mut t, &[1, 2, 3]);
    out.push_str(&format!("{t}\n"));
    out.push_str(&format!("Pending review: {}\n", render::pending_line(d)));
    out.push_str(&format!("Filter: {}\n", render::filter_line(d)));
    out.push_str(&format!("Cases: {}\n", render::cases_line(d)));
    for line in render::trust_lines(d) {
        out.push_str(&format!("Drafts, {line}\n"));
    }
    for line in render::acceptance_lines(d) {
        out.push_str(&format!("{line}\n"));
    }
    out.push_str(&format!(
        "Median time to first draft: {} (n={}); to send: {} (n={})\n\n",
        render::minutes(d.response.first_draft.median_minutes),
        d.response.first_draft.count,
        render::minutes(d.response.send.median_minutes),
        d.response.send.count
    ));
    let mut t = output::table(vec!["category", "messages", "priority", "messages"]);
    let rows = d.categories.len().max(d.priorities.len());
    for i in 0..rows {
        let cell = |list: &[digest::NameCount], name: bool| {
            list.get(i).map(|c| if name { c.name.clone() } else { c.count.to_string() }).unwrap_or_default()
        };
        t.add_row(vec![
            cell(&d.categories, true),
            cell(&d.categories, false),
            cell(&d.priorities, true),
            cell(&d.priorities, false),
        ]);
    }
    right_align(&mut t, &[1, 3]);
    out.push_str(&format!("{t}\n"));
    if d.urgent.is_empty() {
        out.push_str("Needs attention: no P1 or P2 messages.\n");
    } else {
        // A list rather than a table: a review link that wraps cannot be clicked.
        out.push_str("Needs attention:\n");
        for s in &d.urgent {
            out.push_str(&format!(
                "  {}{} {}: {}\n      from {}, draft {}\n      {}\n",
                s.priority.as_deref().unwrap_or("?"),
                if s.escalate { " (escalated)" } else { "" },
                s.category.as_deref().unwrap_or("uncategorised"),
                one_line(&s.subject),
                one_line(&s.sender),
                s.draft_state.as_deref().unwrap_or("none"),
                s.link
            ));
        }
    }
    let values: Vec<i64> = d.volume.iter().map(|v| v.messages).collect();
    if let (Some(first), Some(last)) = (d.volume.first(), d.volume.last()) {
        out.push_str(&format!(
            "Messages per day {} to {}: {} (most: {})\n",
            first.date,
            last.date,
            render::sparkline(&values),
            values.iter().max().unwrap_or(&0)
        ));
    }
    out
}

/// Customer text in a table cell: one line, no control characters.
fn one_line(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

fn right_align(t: &mut comfy_table::Table, columns: &[usize]) {
    for &i in columns {
        if let Some(c) = t.column_mut(i) {
            c.set_cell_alignment(comfy_table::CellAlignment::Right);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct T {
        #[command(flatten)]
        a: DigestArgs,
    }

    fn w(args: &[&str], tz: &str) -> Result<Window> {
        let t = T::try_parse_from(std::iter::once("digest").chain(args.iter().copied()))
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let now = DateTime::parse_from_rfc3339("2026-11-21T10:00:00Z").unwrap().with_timezone(&Utc);
        window(&t.a, tz.parse().unwrap(), now)
    }

    fn span(w: &Window) -> (String, String) {
        (w.start.to_rfc3339(), w.end.to_rfc3339())
    }

    #[test]
    fn windows_from_flags() {
        let s = |a: &[&str]| span(&w(a, "Europe/Berlin").unwrap());
        assert_eq!(s(&[]), ("2026-11-20T10:00:00+00:00".into(), "2026-11-21T10:00:00+00:00".into()));
        assert_eq!(s(&["--since", "7d"]).0, "2026-11-14T10:00:00+00:00");
        assert_eq!(
            s(&["--date", "2026-11-20"]),
            ("2026-11-19T23:00:00+00:00".into(), "2026-11-20T23:00:00+00:00".into())
        );
        assert_eq!(
            s(&["--since", "2026-11-01", "--until", "2026-11-08"]),
            ("2026-10-31T23:00:00+00:00".into(), "2026-11-07T23:00:00+00:00".into())
        );
        assert_eq!(s(&["--since", "24h", "--until", "2026-11-02T00:00:00Z"]).0, "2026-11-01T00:00:00+00:00");
    }

    #[test]
    fn bad_windows_are_usage_errors() {
        for args in
            [&["--since", "2x"][..], &["--since", "yesterday"], &["--date", "20.11.2026"], &["--since", "2026-11-22"]]
        {
            let err = w(args, "UTC").unwrap_err();
            assert_eq!(crate::error::exit_code_for(&err), 2, "{args:?}: {err:#}");
        }
        assert!(w(&["--date", "2026-11-20", "--since", "24h"], "UTC").is_err());
    }
}

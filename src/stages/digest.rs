//! The manager's digest: what happened to the shared mailbox over a window of time, compared
//! with the window just before it.
//!
//! Every figure is one indexed range query on the ledger (time columns are RFC 3339 UTC text,
//! which sorts as time), so a digest of one day costs the same on a ledger of a thousand
//! messages as on one of a million. What each figure counts:
//!
//! - `new`: messages that *arrived* in the window (`messages.arrived_at`: the Date header,
//!   capped at the time we fetched it), with their current filter verdict and triage;
//! - `drafted`, `approved`, `sent`, `handled`, … : things that *happened* in the window, read
//!   from the draft's own time columns (`created_at`, `decided_at`, `sent_at`, `updated_at`);
//! - `pending`: drafts waiting for a human at the end of the window, with their age;
//! - response times: arrival → first draft (for drafts first written in the window) and
//!   arrival → send (for replies sent in the window).
//!
//! Rendering lives in [`render`]; this module returns plain values.

pub mod acceptance;
pub mod cases;
pub mod render;

use anyhow::{Context, Result};
use chrono::{DateTime, Days, NaiveDate, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;
use rusqlite::{Connection, params};
use serde::Serialize;

use crate::ledger::Ledger;
use crate::stages::sql::prepare;

/// The verdicts of the filter stage, in the order a digest lists them.
pub const VERDICTS: [&str; 8] = ["pass", "spam", "blank", "test", "autoreply", "bounce", "bulk", "duplicate"];
/// Priorities a digest always lists (with zeros), most urgent first.
pub const PRIORITIES: [&str; 4] = ["P1", "P2", "P3", "P4"];
/// Model calls a dropped message would have cost: one to classify it, one to draft a reply.
pub const CALLS_PER_MESSAGE: i64 = 2;
/// Days of the volume chart.
pub const CHART_DAYS: u64 = 14;

/// A half-open span of time `[start, end)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// Whole local calendar days `[first, end)` (`--date`, or `--since`/`--until` dates): the
    /// previous window is as many calendar days before, which are not always 24 hours long
    /// (daylight saving time).
    pub days: Option<(NaiveDate, NaiveDate)>,
}

impl Window {
    /// The `span` before `end`.
    pub fn last(span: TimeDelta, end: DateTime<Utc>) -> Window {
        Window { start: end - span, end, days: None }
    }

    /// One calendar day in the team's time zone.
    pub fn day(day: NaiveDate, tz: Tz) -> Result<Window> {
        Window::days(day, day.checked_add_days(Days::new(1)).context("date out of range")?, tz)
    }

    /// The calendar days from `first` up to (not including) `end`, in the team's time zone.
    pub fn days(first: NaiveDate, end: NaiveDate, tz: Tz) -> Result<Window> {
        Ok(Window { start: local_midnight(first, tz)?, end: local_midnight(end, tz)?, days: Some((first, end)) })
    }

    pub fn between(start: DateTime<Utc>, end: DateTime<Utc>) -> Window {
        Window { start, end, days: None }
    }

    /// The window just before this one: as many calendar days, or the same length of time.
    pub fn previous(&self, tz: Tz) -> Result<Window> {
        if let Some((first, end)) = self.days {
            let n = u64::try_from((end - first).num_days()).context("window ends before it starts")?;
            return Window::days(first.checked_sub_days(Days::new(n)).context("date out of range")?, first, tz);
        }
        let span = self.end - self.start;
        Ok(Window { start: self.start - span, end: self.start, days: None })
    }

    fn bounds(&self) -> (String, String) {
        (stamp(self.start), stamp(self.end))
    }
}

/// 00:00 of `day` in `tz`, as UTC. Where midnight does not exist (a DST jump at midnight),
/// the first moment of the day after the gap.
pub fn local_midnight(day: NaiveDate, tz: Tz) -> Result<DateTime<Utc>> {
    let midnight = day.and_hms_opt(0, 0, 0).context("date out of range")?;
    (0..=2)
        .find_map(|h| tz.from_local_datetime(&(midnight + TimeDelta::hours(h))).earliest())
        .map(|t| t.with_timezone(&Utc))
        .with_context(|| format!("{day} has no midnight in {tz}"))
}

/// The ledger's time format.
fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn parse_stamp(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s).ok().map(|t| t.with_timezone(&Utc))
}

/// What the digest needs besides the ledger.
pub struct Settings<'a> {
    pub team: String,
    pub tz: Tz,
    /// Pending drafts older than this are overdue.
    pub sla_hours: u64,
    /// How many high-urgency samples to show.
    pub samples: usize,
    /// The review page of a message (a signed link when the review server provides one).
    pub link: &'a dyn Fn(&str) -> String,
    /// How long a service case may wait on us.
    pub case_sla: crate::stages::cases::timeouts::Sla,
}

#[derive(Debug, Clone, Serialize)]
pub struct Digest {
    pub team: String,
    pub timezone: String,
    pub generated_at: String,
    pub window: WindowInfo,
    pub previous_window: WindowInfo,
    pub counts: Counts,
    pub previous: Counts,
    /// `counts - previous`, field by field.
    pub change: Counts,
    pub filter: FilterFigures,
    pub pending: PendingFigures,
    pub categories: Vec<NameCount>,
    pub priorities: Vec<NameCount>,
    pub response: ResponseTimes,
    pub urgent: Vec<Sample>,
    /// Messages per local day for the last [`CHART_DAYS`] days of the window, oldest first.
    pub volume: Vec<DayVolume>,
    /// Service cases: opened and moved in the window; open and over their SLA now.
    pub cases: cases::CaseFigures,
    /// Per category: how often people approve the drafts as written (when to trust automation).
    pub trust: Vec<cases::TrustRow>,
    /// The weekly acceptance figures: coverage, pass rate, shadow agreement, timeouts, first
    /// reply, evidence.
    pub acceptance: acceptance::Acceptance,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct WindowInfo {
    /// UTC, RFC 3339; `end` is exclusive.
    pub start: String,
    pub end: String,
    /// The same in the team's time zone, "YYYY-MM-DD HH:MM".
    pub local_start: String,
    pub local_end: String,
    /// "2026-11-20" for a day, "2026-11-01 – 2026-11-07" for whole days (both included),
    /// "2026-11-20 10:00 – 2026-11-21 10:00" otherwise.
    pub label: String,
}

/// The figures compared between windows.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct Counts {
    /// Messages that arrived.
    pub new: i64,
    /// … and passed the filter.
    pub passed: i64,
    /// … and were dropped by it (spam, blank, test, …).
    pub dropped: i64,
    /// … and have a triage (category, priority).
    pub triaged: i64,
    /// Drafts written.
    pub drafted: i64,
    /// Drafts waiting for review at the end of the window.
    pub pending: i64,
    /// Drafts approved by a person.
    pub approved: i64,
    /// Replies sent (auto-sent included).
    pub sent: i64,
    /// Replies sent by the auto-send policy, without a person.
    pub auto_sent: i64,
    pub handled: i64,
    /// Rejected by a person (a draft superseded by a newer one is not counted).
    pub rejected: i64,
    /// Drafts whose sending failed (and that are still failed).
    pub failed: i64,
}

impl Counts {
    fn minus(&self, o: &Counts) -> Counts {
        Counts {
            new: self.new - o.new,
            passed: self.passed - o.passed,
            dropped: self.dropped - o.dropped,
            triaged: self.triaged - o.triaged,
            drafted: self.drafted - o.drafted,
            pending: self.pending - o.pending,
            approved: self.approved - o.approved,
            sent: self.sent - o.sent,
            auto_sent: self.auto_sent - o.auto_sent,
            handled: self.handled - o.handled,
            rejected: self.rejected - o.rejected,
            failed: self.failed - o.failed,
        }
    }

    /// (label, field) pairs in display order; the renderers share them.
    pub fn rows(&self) -> [(&'static str, i64); 12] {
        [
            ("New messages", self.new),
            ("Passed the filter", self.passed),
            ("Dropped by the filter", self.dropped),
            ("Triaged", self.triaged),
            ("Drafts written", self.drafted),
            ("Pending review (at end)", self.pending),
            ("Approved", self.approved),
            ("Sent", self.sent),
            ("Auto-sent (policy)", self.auto_sent),
            ("Handled otherwise", self.handled),
            ("Rejected", self.rejected),
            ("Failed to send", self.failed),
        ]
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct NameCount {
    pub name: String,
    pub count: i64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FilterFigures {
    /// Current verdict of each message that arrived, every known verdict listed.
    pub verdicts: Vec<NameCount>,
    /// Messages with a verdict.
    pub filtered: i64,
    /// Messages the filter has not seen yet.
    pub unfiltered: i64,
    /// spam / filtered.
    pub spam_ratio: Option<f64>,
    /// Messages dropped before classify and draft …
    pub dropped: i64,
    /// … and the model calls that saved ([`CALLS_PER_MESSAGE`] each).
    pub model_calls_saved: i64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PendingFigures {
    /// Drafts waiting for review at the end of the window.
    pub count: i64,
    /// … of which older than the review SLA.
    pub overdue: i64,
    pub sla_hours: u64,
    pub oldest_age_hours: Option<f64>,
    pub median_age_hours: Option<f64>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ResponseTimes {
    pub first_draft: Timing,
    pub send: Timing,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Timing {
    /// How many measurements.
    pub count: i64,
    pub median_minutes: Option<f64>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Sample {
    pub id: String,
    pub arrived_at: String,
    pub priority: Option<String>,
    pub category: Option<String>,
    pub escalate: bool,
    pub subject: String,
    pub sender: String,
    /// State of the latest draft, if any.
    pub draft_state: Option<String>,
    pub link: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DayVolume {
    /// Local date, YYYY-MM-DD.
    pub date: String,
    pub messages: i64,
    pub dropped: i64,
}

/// The current result of `stage` for message `m`, joined as `s`. CROSS JOIN keeps `messages`
/// (read by its arrival index) the outer loop: the other way round reads every result ever.
fn current(stage: &str) -> String {
    format!(
        "CROSS JOIN stage_results s ON s.message = m.id AND s.stage = '{stage}' AND s.version = \
         (SELECT MAX(x.version) FROM stage_results x WHERE x.message = m.id AND x.stage = '{stage}')"
    )
}

/// Builds the digest of `window` as of `now`.
pub fn build(ledger: &Ledger, window: &Window, settings: &Settings<'_>, now: DateTime<Utc>) -> Result<Digest> {
    // One read transaction: every figure comes from the same snapshot while timers write.
    let snapshot = ledger.conn().unchecked_transaction()?;
    let conn: &Connection = &snapshot;
    let previous_window = window.previous(settings.tz)?;
    let verdicts = verdict_counts(conn, window)?;
    let counts = counts(conn, window, &verdicts)?;
    let previous = counts_of(conn, &previous_window)?;
    let filtered: i64 = verdicts.iter().map(|v| v.count).sum();
    let spam = verdicts.iter().find(|v| v.name == "spam").map_or(0, |v| v.count);
    let filter = FilterFigures {
        filtered,
        unfiltered: counts.new - filtered,
        spam_ratio: (filtered > 0).then(|| spam as f64 / filtered as f64),
        dropped: counts.dropped,
        model_calls_saved: counts.dropped * CALLS_PER_MESSAGE,
        verdicts,
    };
    let (categories, priorities) = triage_counts(conn, window)?;
    let case_figures = cases::case_figures(conn, window, &settings.case_sla, now, settings.samples)?;
    let trust = cases::trust(conn, window)?;
    let acceptance = acceptance::acceptance(conn, window, &case_figures, &trust, settings.samples)?;
    Ok(Digest {
        team: settings.team.clone(),
        timezone: settings.tz.name().to_string(),
        generated_at: stamp(now),
        window: info(window, settings.tz),
        previous_window: info(&previous_window, settings.tz),
        change: counts.minus(&previous),
        counts,
        previous,
        filter,
        pending: pending(conn, window, settings.sla_hours)?,
        categories,
        priorities,
        response: response_times(conn, window)?,
        urgent: urgent(conn, window, settings)?,
        volume: volume(conn, window, settings.tz)?,
        cases: case_figures,
        trust,
        acceptance,
    })
}

fn info(w: &Window, tz: Tz) -> WindowInfo {
    let local = |t: DateTime<Utc>| t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string();
    let label = match w.days {
        // The end is exclusive: the days from 3 to 7 November are "3 – 6 November".
        Some((first, end)) => match end.pred_opt().filter(|last| *last > first) {
            Some(last) => format!("{first} – {last}"),
            None => first.to_string(),
        },
        None => format!("{} – {}", local(w.start), local(w.end)),
    };
    WindowInfo { start: stamp(w.start), end: stamp(w.end), local_start: local(w.start), local_end: local(w.end), label }
}

/// Current filter verdicts of the messages that arrived, every known verdict listed.
fn verdict_counts(conn: &Connection, w: &Window) -> Result<Vec<NameCount>> {
    let (start, end) = w.bounds();
    let sql = format!(
        "SELECT s.summary, COUNT(*) FROM messages m {} WHERE m.arrived_at >= ?1 AND m.arrived_at < ?2 \
         GROUP BY s.summary",
        current("filter")
    );
    let mut stmt = prepare(conn, &sql)?;
    let found: Vec<(Option<String>, i64)> =
        stmt.query_map(params![start, end], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
    let mut out: Vec<NameCount> = VERDICTS.iter().map(|v| NameCount { name: v.to_string(), count: 0 }).collect();
    for (name, n) in found {
        let name = name.unwrap_or_else(|| "unknown".into());
        match out.iter_mut().find(|v| v.name == name) {
            Some(v) => v.count += n,
            None => out.push(NameCount { name, count: n }),
        }
    }
    Ok(out)
}

fn counts_of(conn: &Connection, w: &Window) -> Result<Counts> {
    let verdicts = verdict_counts(conn, w)?;
    counts(conn, w, &verdicts)
}

fn counts(conn: &Connection, w: &Window, verdicts: &[NameCount]) -> Result<Counts> {
    let (start, end) = w.bounds();
    let one = |sql: &str| -> Result<i64> { Ok(prepare(conn, sql)?.query_row(params![start, end], |r| r.get(0))?) };
    let passed = verdicts.iter().find(|v| v.name == "pass").map_or(0, |v| v.count);
    let filtered: i64 = verdicts.iter().map(|v| v.count).sum();
    Ok(Counts {
        new: one("SELECT COUNT(*) FROM messages WHERE arrived_at >= ?1 AND arrived_at < ?2")?,
        passed,
        dropped: filtered - passed,
        triaged: one(&format!(
            "SELECT COUNT(*) FROM messages m {} WHERE m.arrived_at >= ?1 AND m.arrived_at < ?2",
            current("triage")
        ))?,
        drafted: one("SELECT COUNT(*) FROM drafts WHERE created_at >= ?1 AND created_at < ?2")?,
        pending: pending_at_end(conn, w)?.len() as i64,
        approved: one("SELECT COUNT(*) FROM drafts WHERE decided_at >= ?1 AND decided_at < ?2 \
             AND decided_by IS NOT 'policy' AND +state IN ('approved', 'sending', 'sent', 'failed')")?,
        sent: one("SELECT COUNT(*) FROM drafts WHERE sent_at >= ?1 AND sent_at < ?2")?,
        auto_sent: one("SELECT COUNT(*) FROM drafts WHERE sent_at >= ?1 AND sent_at < ?2 AND decided_by = 'policy'")?,
        handled: one("SELECT COUNT(*) FROM drafts WHERE decided_at >= ?1 AND decided_at < ?2 AND +state = 'handled'")?,
        // Not the drafts the draft stage rejected itself when it wrote a newer one.
        rejected: one(&format!(
            "SELECT COUNT(*) FROM drafts WHERE decided_at >= ?1 AND decided_at < ?2 AND +state = 'rejected' \
             AND decided_by IS NOT '{}'",
            crate::stages::draft::store::ACTOR
        ))?,
        failed: one("SELECT COUNT(*) FROM drafts WHERE +state = 'failed' AND updated_at >= ?1 AND updated_at < ?2")?,
    })
}

/// Drafts waiting for a human at the end of a window (`?1`): written before it, and either
/// still pending or decided only afterwards. (`+state` keeps the second half on its
/// `decided_at` index.)
const PENDING_AT_END: &str = "SELECT created_at FROM drafts WHERE state = 'pending' AND created_at < ?1 \
     UNION ALL SELECT created_at FROM drafts WHERE decided_at >= ?1 AND created_at < ?1 AND +state <> 'pending'";

/// Creation times of the drafts pending at the end of `w`.
fn pending_at_end(conn: &Connection, w: &Window) -> Result<Vec<String>> {
    let mut stmt = prepare(conn, PENDING_AT_END)?;
    let rows = stmt.query_map([stamp(w.end)], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn pending(conn: &Connection, w: &Window, sla_hours: u64) -> Result<PendingFigures> {
    let created = pending_at_end(conn, w)?;
    let mut ages: Vec<f64> = created
        .iter()
        .filter_map(|c| parse_stamp(c))
        .map(|c| (w.end - c).num_seconds().max(0) as f64 / 3600.0)
        .collect();
    ages.sort_by(f64::total_cmp);
    Ok(PendingFigures {
        count: created.len() as i64,
        overdue: ages.iter().filter(|a| **a > sla_hours as f64).count() as i64,
        sla_hours,
        oldest_age_hours: ages.last().copied(),
        median_age_hours: median(&ages),
    })
}

/// Median of sorted values.
fn median(sorted: &[f64]) -> Option<f64> {
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
    }
}

/// Minutes between pairs of (arrival, later) stamps, sorted.
fn minutes_between(pairs: &[(String, String)]) -> Vec<f64> {
    let mut v: Vec<f64> = pairs
        .iter()
        .filter_map(|(a, b)| Some((parse_stamp(b)? - parse_stamp(a)?).num_seconds().max(0) as f64 / 60.0))
        .collect();
    v.sort_by(f64::total_cmp);
    v
}

fn response_times(conn: &Connection, w: &Window) -> Result<ResponseTimes> {
    let (start, end) = w.bounds();
    let pairs = |sql: &str| -> Result<Vec<(String, String)>> {
        let mut stmt = prepare(conn, sql)?;
        let rows = stmt.query_map(params![start, end], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    };
    // A message's first draft, when that was written in the window.
    let first = minutes_between(&pairs(
        "SELECT m.arrived_at, f.first FROM \
           (SELECT message, MIN(created_at) AS first FROM drafts WHERE message IN \
              (SELECT message FROM drafts WHERE created_at >= ?1 AND created_at < ?2) GROUP BY message) f \
         JOIN messages m ON m.id = f.message WHERE f.first >= ?1",
    )?);
    let sent = minutes_between(&pairs(
        "SELECT m.arrived_at, d.sent_at FROM drafts d JOIN messages m ON m.id = d.message \
         WHERE d.sent_at >= ?1 AND d.sent_at < ?2",
    )?);
    Ok(ResponseTimes {
        first_draft: Timing { count: first.len() as i64, median_minutes: median(&first) },
        send: Timing { count: sent.len() as i64, median_minutes: median(&sent) },
    })
}

/// Per-category and per-priority counts of the messages that arrived (current triage).
fn triage_counts(conn: &Connection, w: &Window) -> Result<(Vec<NameCount>, Vec<NameCount>)> {
    let (start, end) = w.bounds();
    let sql = format!(
        "SELECT s.summary, json_extract(s.result_json, '$.priority'), COUNT(*) FROM messages m {} \
         WHERE m.arrived_at >= ?1 AND m.arrived_at < ?2 GROUP BY 1, 2",
        current("triage")
    );
    let mut stmt = prepare(conn, &sql)?;
    let rows: Vec<(Option<String>, Option<String>, i64)> = stmt
        .query_map(params![start, end], |r| Ok((r.get(0)?, r.get(1).ok().flatten(), r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    let mut categories: Vec<NameCount> = Vec::new();
    let mut priorities: Vec<NameCount> =
        PRIORITIES.iter().map(|p| NameCount { name: p.to_string(), count: 0 }).collect();
    let add = |list: &mut Vec<NameCount>, name: String, n: i64| match list.iter_mut().find(|c| c.name == name) {
        Some(c) => c.count += n,
        None => list.push(NameCount { name, count: n }),
    };
    for (category, priority, n) in rows {
        add(&mut categories, category.unwrap_or_else(|| "none".into()), n);
        add(&mut priorities, priority.unwrap_or_else(|| "none".into()), n);
    }
    categories.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.name.cmp(&b.name)));
    Ok((categories, priorities))
}

/// The most urgent messages that arrived: P1 and P2, and anything triage escalated.
fn urgent(conn: &Connection, w: &Window, settings: &Settings<'_>) -> Result<Vec<Sample>> {
    let (start, end) = w.bounds();
    let sql = format!(
        "SELECT m.id, m.arrived_at, m.from_addr, json_extract(m.record_json, '$.from.name'), m.subject, \
                s.summary, json_extract(s.result_json, '$.priority') AS p, \
                COALESCE(json_extract(s.result_json, '$.escalate'), 0) AS e, \
                (SELECT d.state FROM drafts d WHERE d.message = m.id ORDER BY d.created_at DESC, d.rowid DESC LIMIT 1) \
         FROM messages m {} \
         WHERE m.arrived_at >= ?1 AND m.arrived_at < ?2 AND (p IN ('P1', 'P2') OR e = 1) \
         ORDER BY COALESCE(p, 'P9'), e DESC, m.arrived_at LIMIT ?3",
        current("triage")
    );
    let mut stmt = prepare(conn, &sql)?;
    let rows = stmt.query_map(params![start, end, settings.samples as i64], |r| {
        let address: Option<String> = r.get(2)?;
        let name: Option<String> = r.get(3).ok().flatten();
        let sender = match (name.filter(|n| !n.trim().is_empty()), address) {
            (Some(n), Some(a)) => format!("{n} <{a}>"),
            (Some(n), None) => n,
            (None, Some(a)) => a,
            (None, None) => String::new(),
        };
        let id: String = r.get(0)?;
        Ok(Sample {
            link: (settings.link)(&id),
            id,
            arrived_at: r.get(1)?,
            sender,
            subject: r.get::<_, Option<String>>(4)?.unwrap_or_default(),
            category: r.get(5)?,
            priority: r.get(6).ok().flatten(),
            escalate: r.get::<_, i64>(7).unwrap_or(0) != 0,
            draft_state: r.get(8)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Messages (and dropped ones) per local day, for the [`CHART_DAYS`] days ending with the
/// window's last day.
fn volume(conn: &Connection, w: &Window, tz: Tz) -> Result<Vec<DayVolume>> {
    let last_day = (w.end - TimeDelta::seconds(1)).with_timezone(&tz).date_naive();
    let first_day = last_day.checked_sub_days(Days::new(CHART_DAYS - 1)).context("date out of range")?;
    let mut count = prepare(conn, "SELECT COUNT(*) FROM messages WHERE arrived_at >= ?1 AND arrived_at < ?2")?;
    let mut dropped = prepare(
        conn,
        &format!(
            "SELECT COUNT(*) FROM messages m {} WHERE m.arrived_at >= ?1 AND m.arrived_at < ?2 AND s.summary <> 'pass'",
            current("filter")
        ),
    )?;
    let mut out = Vec::with_capacity(CHART_DAYS as usize);
    let mut day = first_day;
    while day <= last_day {
        let (start, end) = Window::day(day, tz)?.bounds();
        out.push(DayVolume {
            date: day.to_string(),
            messages: count.query_row(params![start, end], |r| r.get(0))?,
            dropped: dropped.query_row(params![start, end], |r| r.get(0))?,
        });
        day = day.checked_add_days(Days::new(1)).context("date out of range")?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::drafts::{NewDraft, insert_draft};
    use crate::ledger::messages::{NewMessage, insert_message};
    use crate::ledger::results::{NewResult, Stage, add_result};
    use crate::record::{Address, Record};

    fn t(s: &str) -> DateTime<Utc> {
        parse_stamp(s).unwrap()
    }

    fn add_message(ledger: &mut Ledger, id: &str, date: &str, verdict: Option<&str>, triage: Option<(&str, &str)>) {
        let mut rec = Record::new(id);
        rec.account = "support".into();
        rec.date = Some(date.into());
        rec.subject = format!("Subject of {id}");
        rec.from = Some(Address { name: Some("Ann".into()), address: format!("{id}@example.com") });
        ledger
            .write(|tx| {
                insert_message(tx, &NewMessage { record: &rec, raw: id.as_bytes(), raw_sha256: id }, None)?;
                if let Some(v) = verdict {
                    let json = serde_json::json!({"verdict": v});
                    add_result(tx, &result(id, Stage::Filter, v, &json))?;
                }
                if let Some((category, priority)) = triage {
                    let json = serde_json::json!({"category": category, "priority": priority});
                    add_result(tx, &result(id, Stage::Triage, category, &json))?;
                }
                Ok(())
            })
            .unwrap();
    }

    fn result<'a>(id: &'a str, stage: Stage, summary: &'a str, json: &'a serde_json::Value) -> NewResult<'a> {
        NewResult {
            message: id,
            stage,
            summary,
            backend: "t",
            model: "t",
            prompt_version: "1",
            result: json,
            run_id: None,
        }
    }

    fn add_draft(ledger: &mut Ledger, id: &str, message: &str, created: &str) {
        let json = serde_json::json!({});
        let d = NewDraft {
            id,
            message,
            subject: "Re",
            body: "b",
            risk: "low",
            category: None,
            priority: None,
            confidence: None,
            draft_json: &json,
        };
        ledger.write(|tx| insert_draft(tx, &d, None)).unwrap();
        ledger.conn().execute("UPDATE drafts SET created_at = ?2 WHERE id = ?1", params![id, created]).unwrap();
    }

    fn settings(link: &dyn Fn(&str) -> String) -> Settings<'_> {
        Settings {
            team: "T".into(),
            tz: chrono_tz::UTC,
            sla_hours: 24,
            samples: 5,
            link,
            case_sla: crate::stages::cases::timeouts::Sla::default(),
        }
    }

    #[test]
    fn a_calendar_day_follows_the_team_time_zone_and_daylight_saving() {
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        // 25 October 2026: clocks go back, the day has 25 hours.
        let w = Window::day(NaiveDate::from_ymd_opt(2026, 10, 25).unwrap(), berlin).unwrap();
        assert_eq!(stamp(w.start), "2026-10-24T22:00:00Z");
        assert_eq!(stamp(w.end), "2026-10-25T23:00:00Z");
        let prev = w.previous(berlin).unwrap();
        assert_eq!(
            (stamp(prev.start), stamp(prev.end)),
            ("2026-10-23T22:00:00Z".into(), "2026-10-24T22:00:00Z".into())
        );
        let last = Window::last(TimeDelta::hours(24), t("2026-11-21T10:00:00Z"));
        let prev = last.previous(berlin).unwrap();
        assert_eq!(
            (stamp(prev.start), stamp(prev.end)),
            ("2026-11-19T10:00:00Z".into(), "2026-11-20T10:00:00Z".into())
        );
        // A week across the change: the week before starts at midnight too, not at 01:00.
        let day = |d| NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
        let week = Window::days(day(1), day(8), berlin).unwrap();
        let prev = week.previous(berlin).unwrap();
        assert_eq!(
            (stamp(prev.start), stamp(prev.end)),
            ("2026-10-24T22:00:00Z".into(), "2026-10-31T23:00:00Z".into())
        );
        assert_eq!(info(&prev, berlin).label, "2026-10-25 – 2026-10-31");
        assert_eq!(info(&last, berlin).label, "2026-11-20 11:00 – 2026-11-21 11:00");
    }

    #[test]
    fn midnight_that_does_not_exist_starts_the_day_after_the_gap() {
        // Chile skips 00:00–01:00 on the first Sunday of September (2026-09-06).
        let santiago: Tz = "America/Santiago".parse().unwrap();
        let start = local_midnight(NaiveDate::from_ymd_opt(2026, 9, 6).unwrap(), santiago).unwrap();
        assert_eq!(stamp(start), "2026-09-06T04:00:00Z");
    }

    #[test]
    fn arrival_is_the_date_header_unless_it_is_later_than_the_fetch() {
        let mut ledger = Ledger::open_in_memory().unwrap();
        add_message(&mut ledger, "past", "2026-11-01T10:00:00Z", None, None);
        add_message(&mut ledger, "future", "2099-01-01T00:00:00Z", None, None);
        let arrived = |id: &str| -> String {
            ledger.conn().query_row("SELECT arrived_at FROM messages WHERE id = ?1", [id], |r| r.get(0)).unwrap()
        };
        assert_eq!(arrived("past"), "2026-11-01T10:00:00Z");
        let fetched: String =
            ledger.conn().query_row("SELECT fetched_at FROM messages WHERE id = 'future'", [], |r| r.get(0)).unwrap();
        assert_eq!(arrived("future"), fetched);
    }

    #[test]
    fn figures_count_the_current_results_of_messages_in_the_window() {
        let mut ledger = Ledger::open_in_memory().unwrap();
        add_message(&mut ledger, "a", "2026-11-02T09:00:00Z", Some("pass"), Some(("refund", "P1")));
        add_message(&mut ledger, "b", "2026-11-02T10:00:00Z", Some("pass"), Some(("shipping", "P3")));
        add_message(&mut ledger, "c", "2026-11-02T11:00:00Z", Some("spam"), None);
        add_message(&mut ledger, "d", "2026-11-02T12:00:00Z", None, None);
        add_message(&mut ledger, "old", "2026-11-01T12:00:00Z", Some("pass"), Some(("refund", "P2")));
        // A reclassification: the latest version counts.
        let json = serde_json::json!({"category": "return", "priority": "P2"});
        ledger.add_result(&result("b", Stage::Triage, "return", &json)).unwrap();
        add_draft(&mut ledger, "da", "a", "2026-11-02T09:30:00Z");
        add_draft(&mut ledger, "db", "b", "2026-11-02T11:00:00Z");
        add_draft(&mut ledger, "dold", "old", "2026-11-01T13:00:00Z");
        // The draft stage replaced an earlier draft of "b": not a rejection anyone made.
        add_draft(&mut ledger, "db0", "b", "2026-11-02T10:30:00Z");
        ledger
            .transition_draft(
                "db0",
                crate::ledger::DraftState::Rejected,
                crate::stages::draft::store::ACTOR,
                None,
                None,
            )
            .unwrap();
        ledger.conn().execute("UPDATE drafts SET decided_at = '2026-11-02T11:00:00Z' WHERE id = 'db0'", []).unwrap();
        ledger.transition_draft("da", crate::ledger::DraftState::Approved, "alice", None, None).unwrap();
        ledger.transition_draft("da", crate::ledger::DraftState::Sending, "send", None, None).unwrap();
        ledger.transition_draft("da", crate::ledger::DraftState::Sent, "send", None, None).unwrap();
        ledger
            .conn()
            .execute(
                "UPDATE drafts SET decided_at = '2026-11-02T10:00:00Z', sent_at = '2026-11-02T10:30:00Z' WHERE id = 'da'",
                [],
            )
            .unwrap();

        let link = |id: &str| format!("http://review/m/{id}");
        let w = Window::day(NaiveDate::from_ymd_opt(2026, 11, 2).unwrap(), chrono_tz::UTC).unwrap();
        let d = build(&ledger, &w, &settings(&link), t("2026-11-03T00:00:00Z")).unwrap();
        assert_eq!(d.counts.new, 4);
        assert_eq!((d.counts.passed, d.counts.dropped, d.counts.triaged), (2, 1, 2));
        assert_eq!((d.filter.filtered, d.filter.unfiltered, d.filter.model_calls_saved), (3, 1, 2));
        assert_eq!(d.filter.spam_ratio, Some(1.0 / 3.0));
        assert_eq!((d.counts.drafted, d.counts.approved, d.counts.sent, d.counts.auto_sent), (3, 1, 1, 0));
        assert_eq!(d.counts.rejected, 0);
        // "db" is pending at the end of the day, and so is yesterday's "dold" (35 hours old: overdue).
        assert_eq!(d.counts.pending, 2);
        assert_eq!(d.pending.overdue, 1);
        assert_eq!(d.pending.oldest_age_hours, Some(35.0));
        let cats: Vec<(&str, i64)> = d.categories.iter().map(|c| (c.name.as_str(), c.count)).collect();
        assert_eq!(cats, [("refund", 1), ("return", 1)]);
        let prios: Vec<(&str, i64)> = d.priorities.iter().map(|c| (c.name.as_str(), c.count)).collect();
        assert_eq!(prios, [("P1", 1), ("P2", 1), ("P3", 0), ("P4", 0)]);
        // First drafts: "a" after 30 minutes, "b" after 30 (the superseded one counts as its first).
        assert_eq!(d.response.first_draft, Timing { count: 2, median_minutes: Some(30.0) });
        assert_eq!(d.response.send, Timing { count: 1, median_minutes: Some(90.0) });
        let urgent: Vec<(&str, Option<&str>)> =
            d.urgent.iter().map(|s| (s.id.as_str(), s.priority.as_deref())).collect();
        assert_eq!(urgent, [("a", Some("P1")), ("b", Some("P2"))]);
        assert_eq!(d.urgent[0].sender, "Ann <a@example.com>");
        assert_eq!(d.urgent[0].link, "http://review/m/a");
        assert_eq!(d.urgent[0].draft_state.as_deref(), Some("sent"));
        // The day before had one message, its draft, and "dold" pending at its end.
        assert_eq!((d.previous.new, d.previous.drafted, d.previous.pending), (1, 1, 1));
        assert_eq!((d.change.new, d.change.drafted, d.change.pending), (3, 2, 1));
        assert_eq!(d.volume.len(), CHART_DAYS as usize);
        let last2: Vec<(&str, i64, i64)> =
            d.volume[12..].iter().map(|v| (v.date.as_str(), v.messages, v.dropped)).collect();
        assert_eq!(last2, [("2026-11-01", 1, 0), ("2026-11-02", 4, 1)]);
    }

    #[test]
    fn every_query_reads_through_an_index() {
        let mut ledger = Ledger::open_in_memory().unwrap();
        add_message(&mut ledger, "a", "2026-11-02T09:00:00Z", Some("pass"), Some(("refund", "P1")));
        let link = |id: &str| id.to_string();
        let w = Window::day(NaiveDate::from_ymd_opt(2026, 11, 2).unwrap(), chrono_tz::UTC).unwrap();
        build(&ledger, &w, &settings(&link), t("2026-11-03T00:00:00Z")).unwrap();
        let seen = crate::stages::sql::seen();
        assert!(seen.len() >= 15, "{seen:?}");
        for sql in seen {
            crate::stages::sql::assert_indexed(ledger.conn(), &sql);
        }
    }
}

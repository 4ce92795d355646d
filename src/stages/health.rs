//! Heartbeat: is the chain alive? Reads the ledger's runs and events and decides which
//! incidents are open, and which alerts and "recovered" messages that calls for.
//!
//! Incidents (each with a stable key, so one incident gives one alert however often the
//! heartbeat runs):
//!
//! - `idle`: no triage for longer than `max_idle`, while mail has waited for triage that long
//!   (fetched, not dropped by the filter, not triaged), or while fetch itself fails;
//! - `imap:<account>`: `failure_threshold` or more IMAP errors (`imap.connect`, `imap.login`,
//!   `imap.error` events) since the account's last good login;
//! - `model`: the last `failure_threshold` model calls of the last day all failed (a revoked
//!   key gives 401s), or a storm of 429s in the last hour (at least ten, and half the calls);
//! - `reviews`: pending drafts older than the review SLA;
//! - `cases`: service cases waiting on us (new, waiting_internal) longer than their SLA, among
//!   those that began to wait within the last week.
//!
//! Open incidents live in the ledger's `kv` table (`heartbeat.incident.<key>`). Opening one
//! (alert) or closing it (recovered) is claimed in one `BEGIN IMMEDIATE` transaction, so two
//! heartbeats running at once cannot both announce it; when delivery fails, [`undo`] gives
//! the claim back and the next run tries again.

use anyhow::Result;
use chrono::{DateTime, TimeDelta, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ledger::{Ledger, now as ledger_now};
use crate::stages::cases::timeouts::{Overdue, Sla, over_sla};
use crate::stages::duration;
use crate::stages::sql::prepare;

/// `kv` key prefix of open incidents.
pub const KV_PREFIX: &str = "heartbeat.incident.";
/// Event kinds of IMAP connections and logins, as the fetch stage records them.
pub const IMAP_KINDS: [&str; 3] = ["imap.connect", "imap.login", "imap.error"];
/// How far back "mail waiting" and per-account IMAP failures are looked for.
const LOOKBACK_DAYS: i64 = 7;

/// What the checks need besides the ledger.
#[derive(Debug, Clone)]
pub struct Settings {
    pub max_idle: TimeDelta,
    /// Failures in a row (IMAP, model) that make an incident.
    pub failure_threshold: u32,
    /// Pending drafts older than this are overdue.
    pub sla_hours: u64,
    /// IMAP accounts of the config; when empty, every account with recent IMAP events.
    pub accounts: Vec<String>,
    /// How long a service case may wait on us.
    pub case_sla: Sla,
}

/// The status object (`mailroom heartbeat --json`).
#[derive(Debug, Clone, Serialize)]
pub struct Health {
    /// "healthy" or "alerting".
    pub status: &'static str,
    pub checked_at: String,
    pub max_idle: String,
    pub last_triage_at: Option<String>,
    pub last_fetch: Option<RunInfo>,
    pub waiting_for_triage: Waiting,
    pub accounts: Vec<AccountHealth>,
    pub model: ModelHealth,
    pub reviews: ReviewHealth,
    /// Service cases waiting on us beyond their SLA, longest waiting first.
    pub cases_over_sla: Vec<Overdue>,
    /// Open incidents, each announced once.
    pub incidents: Vec<Incident>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunInfo {
    pub command: String,
    pub started_at: String,
    pub ended_at: Option<String>,
    pub status: String,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Waiting {
    /// Messages fetched in the last week that passed (or have not met) the filter and have no triage.
    pub count: i64,
    pub oldest_fetched_at: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AccountHealth {
    pub account: String,
    pub last_login_ok_at: Option<String>,
    /// IMAP errors since the last good login.
    pub failures: i64,
    pub last_error_at: Option<String>,
    pub last_error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ModelHealth {
    pub calls_last_hour: i64,
    pub errors_last_hour: i64,
    pub rate_limited_last_hour: i64,
    /// Failed calls in a row, newest first, among the last day's calls (up to the threshold).
    pub consecutive_failures: i64,
    pub last_error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReviewHealth {
    pub pending: i64,
    pub overdue: i64,
    pub sla_hours: u64,
    pub oldest_pending_at: Option<String>,
}

/// One open problem.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Incident {
    /// Stable identity: `idle`, `imap:<account>`, `model`, `reviews`.
    pub key: String,
    pub summary: String,
    /// When it was first seen (kept from the first alert while it lasts).
    pub since: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    Alert,
    Recovered,
}

/// A message to send because an incident opened or closed.
#[derive(Debug, Clone, Serialize)]
pub struct Notice {
    pub kind: NoticeKind,
    pub incident: Incident,
    pub title: String,
    pub text: String,
}

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn parse_stamp(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s).ok().map(|t| t.with_timezone(&Utc))
}

fn ago(now: DateTime<Utc>, then: &str) -> String {
    parse_stamp(then).map_or_else(|| then.to_string(), |t| format!("{} ago", duration::format(now - t)))
}

/// A readable line from an event's detail JSON: its `error`/`message`/`reason`, HTTP status.
fn describe(detail: Option<&str>) -> Option<String> {
    let v: Value = serde_json::from_str(detail?).ok()?;
    let text = ["error", "message", "reason"].iter().find_map(|k| v.get(*k).and_then(Value::as_str));
    let status = http_status(&v);
    match (status, text) {
        (Some(s), Some(t)) => Some(format!("HTTP {s}: {t}")),
        (Some(s), None) => Some(format!("HTTP {s}")),
        (None, Some(t)) => Some(t.to_string()),
        (None, None) => Some(v.to_string()).filter(|s| s != "{}"),
    }
}

/// The HTTP status of a model call's detail (`status` or `http_status`, number or text).
fn http_status(v: &Value) -> Option<i64> {
    ["http_status", "status"].iter().find_map(|k| match v.get(*k)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    })
}

/// Reads the ledger and decides which incidents are open now. Changes nothing.
pub fn check(ledger: &Ledger, settings: &Settings, now: DateTime<Utc>) -> Result<Health> {
    // One read transaction: one consistent snapshot while timers write.
    let snapshot = ledger.conn().unchecked_transaction()?;
    let conn: &Connection = &snapshot;
    let lookback = stamp(now - TimeDelta::days(LOOKBACK_DAYS));
    let last_triage_at: Option<String> =
        prepare(conn, "SELECT created_at FROM stage_results WHERE stage = 'triage' ORDER BY created_at DESC LIMIT 1")?
            .query_row([], |r| r.get(0))
            .optional()?;
    let last_fetch = last_fetch(conn)?;
    let waiting = waiting(conn, &lookback)?;
    let accounts = account_health(conn, settings, &lookback)?;
    let model = model_health(conn, settings, now)?;
    let reviews = review_health(conn, settings, now)?;
    // Like mail waiting for triage, only what began to wait within the lookback: a history
    // import is not an incident (the digest and `mailroom cases --over-sla` list it all).
    let cases_over_sla = over_sla(conn, &settings.case_sla, now, Some(now - TimeDelta::days(LOOKBACK_DAYS)))?;

    let mut incidents = Vec::new();
    let since = stamp(now);
    let threshold = i64::from(settings.failure_threshold.max(1));
    for a in accounts.iter().filter(|a| a.failures >= threshold) {
        let last_ok = match &a.last_login_ok_at {
            Some(t) => format!("last good login {}", ago(now, t)),
            None => "no good login on record".into(),
        };
        incidents.push(Incident {
            key: format!("imap:{}", a.account),
            summary: format!(
                "IMAP account \"{}\" keeps failing: {} errors since the last good login ({last_ok}); latest: {}",
                a.account,
                a.failures,
                a.last_error.as_deref().unwrap_or("no detail")
            ),
            since: since.clone(),
        });
    }
    let imap_failing = !incidents.is_empty();

    let idle_cutoff = now - settings.max_idle;
    let triage_stale = last_triage_at.as_deref().and_then(parse_stamp).is_none_or(|t| t < idle_cutoff);
    let mail_waiting_long = waiting.oldest_fetched_at.as_deref().and_then(parse_stamp).is_some_and(|t| t < idle_cutoff);
    let fetch_failing = last_fetch.as_ref().filter(|r| r.status == "error");
    if triage_stale && (mail_waiting_long || (fetch_failing.is_some() && !imap_failing)) {
        let quiet = match &last_triage_at {
            Some(t) => format!("no triage for {} (last at {t})", ago(now, t).trim_end_matches(" ago")),
            None => "no triage has run yet".into(),
        };
        let why = if mail_waiting_long {
            format!(
                "{} messages wait for triage, the oldest fetched {}",
                waiting.count,
                ago(now, waiting.oldest_fetched_at.as_deref().unwrap_or(""))
            )
        } else {
            let run = fetch_failing.expect("checked above");
            format!("`mailroom {}` is failing: {}", run.command, run.error.as_deref().unwrap_or("no detail"))
        };
        incidents.push(Incident { key: "idle".into(), summary: format!("{quiet} while {why}"), since: since.clone() });
    }

    if model.consecutive_failures >= threshold {
        incidents.push(Incident {
            key: "model".into(),
            summary: format!(
                "model calls keep failing: the last {} calls failed; latest: {}",
                model.consecutive_failures,
                model.last_error.as_deref().unwrap_or("no detail")
            ),
            since: since.clone(),
        });
    } else if model.rate_limited_last_hour >= 10 && model.rate_limited_last_hour * 2 >= model.calls_last_hour {
        incidents.push(Incident {
            key: "model".into(),
            summary: format!(
                "the model provider is rate-limiting: {} of {} calls in the last hour got HTTP 429",
                model.rate_limited_last_hour, model.calls_last_hour
            ),
            since: since.clone(),
        });
    }

    if reviews.overdue > 0 {
        incidents.push(Incident {
            key: "reviews".into(),
            summary: format!(
                "{} of {} pending reviews are older than the {}h SLA (oldest waiting {})",
                reviews.overdue,
                reviews.pending,
                reviews.sla_hours,
                ago(now, reviews.oldest_pending_at.as_deref().unwrap_or("")).trim_end_matches(" ago")
            ),
            since: since.clone(),
        });
    }

    if let Some(oldest) = cases_over_sla.first() {
        incidents.push(Incident {
            key: "cases".into(),
            summary: format!(
                "{} service case{} waiting on us beyond the SLA (longest: case {} \"{}\", {}h against {}h{})",
                cases_over_sla.len(),
                if cases_over_sla.len() == 1 { "" } else { "s" },
                oldest.case,
                oldest.subject.as_deref().unwrap_or("").chars().filter(|c| !c.is_control()).take(80).collect::<String>(),
                oldest.waiting_hours,
                oldest.sla_hours,
                oldest.owner.as_deref().map(|o| format!(", owner {o}")).unwrap_or_default()
            ),
            since,
        });
    }

    Ok(Health {
        status: if incidents.is_empty() { "healthy" } else { "alerting" },
        checked_at: stamp(now),
        max_idle: duration::format(settings.max_idle),
        last_triage_at,
        last_fetch,
        waiting_for_triage: waiting,
        accounts,
        model,
        reviews,
        cases_over_sla,
        incidents,
    })
}

/// The latest run of `fetch` or `run` (one indexed lookup each).
fn last_fetch(conn: &Connection) -> Result<Option<RunInfo>> {
    let mut latest: Option<RunInfo> = None;
    for command in ["fetch", "run"] {
        let run = prepare(
            conn,
            "SELECT command, started_at, ended_at, status, error FROM runs WHERE command = ?1 \
             ORDER BY started_at DESC, id DESC LIMIT 1",
        )?
        .query_row([command], |r| {
            Ok(RunInfo {
                command: r.get(0)?,
                started_at: r.get(1)?,
                ended_at: r.get(2)?,
                status: r.get(3)?,
                error: r.get(4)?,
            })
        })
        .optional()?;
        if let Some(run) = run.filter(|r| latest.as_ref().is_none_or(|l| r.started_at > l.started_at)) {
            latest = Some(run);
        }
    }
    Ok(latest)
}

const WAITING: &str = "SELECT COUNT(*), MIN(m.fetched_at) FROM messages m WHERE m.fetched_at >= ?1 \
     AND NOT EXISTS (SELECT 1 FROM stage_results t WHERE t.message = m.id AND t.stage = 'triage') \
     AND COALESCE((SELECT s.summary FROM stage_results s WHERE s.message = m.id AND s.stage = 'filter' \
                   ORDER BY s.version DESC LIMIT 1), 'pass') = 'pass'";

fn waiting(conn: &Connection, lookback: &str) -> Result<Waiting> {
    let (count, oldest_fetched_at) = prepare(conn, WAITING)?.query_row([lookback], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(Waiting { count, oldest_fetched_at })
}

fn account_health(conn: &Connection, settings: &Settings, lookback: &str) -> Result<Vec<AccountHealth>> {
    let mut names = settings.accounts.clone();
    if names.is_empty() {
        let mut stmt = prepare(
            conn,
            "SELECT DISTINCT account FROM events INDEXED BY events_kind_at WHERE kind = ?1 AND at >= ?2 AND account IS NOT NULL",
        )?;
        for kind in IMAP_KINDS {
            for name in stmt.query_map(params![kind, lookback], |r| r.get::<_, String>(0))? {
                let name = name?;
                if !names.contains(&name) {
                    names.push(name);
                }
            }
        }
        names.sort();
    }
    let mut out = Vec::new();
    for account in names {
        // The last good login; events of one second are ordered by id.
        let last_ok: Option<(i64, String)> = prepare(
            conn,
            "SELECT id, at FROM events WHERE kind = 'imap.login' AND account = ?1 AND status = 'ok' \
             ORDER BY at DESC, id DESC LIMIT 1",
        )?
        .query_row([&account], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
        // Errors since then (or within the lookback when there never was one).
        let (after_id, after) = match &last_ok {
            Some((id, at)) => (*id, at.clone()),
            None => (0, lookback.to_string()),
        };
        let mut failures = 0;
        let mut last_error: Option<(i64, String, Option<String>)> = None;
        let mut stmt = prepare(
            conn,
            "SELECT id, at, detail_json FROM events WHERE kind = ?1 AND account = ?2 AND at >= ?3 AND id > ?4 \
             AND status = 'error'",
        )?;
        for kind in IMAP_KINDS {
            let rows =
                stmt.query_map(params![kind, account, after, after_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            for row in rows {
                let (id, at, detail) = row?;
                failures += 1;
                if last_error.as_ref().is_none_or(|(last, _, _)| id > *last) {
                    last_error = Some((id, at, detail));
                }
            }
        }
        let last_login_ok_at = last_ok.map(|(_, at)| at);
        let (last_error_at, last_error) = match last_error {
            Some((_, at, detail)) => (Some(at), Some(describe(detail.as_deref()).unwrap_or_else(|| "error".into()))),
            None => (None, None),
        };
        out.push(AccountHealth { account, last_login_ok_at, failures, last_error_at, last_error });
    }
    Ok(out)
}

fn model_health(conn: &Connection, settings: &Settings, now: DateTime<Utc>) -> Result<ModelHealth> {
    let hour_ago = stamp(now - TimeDelta::hours(1));
    let day_ago = stamp(now - TimeDelta::days(1));
    let mut calls_last_hour = 0;
    let mut errors_last_hour = 0;
    let mut rate_limited_last_hour = 0;
    let mut stmt = prepare(conn, "SELECT status, detail_json FROM events WHERE kind = 'model.call' AND at >= ?1")?;
    for row in stmt.query_map([&hour_ago], |r| Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?)))? {
        let (status, detail) = row?;
        calls_last_hour += 1;
        if status == "error" {
            errors_last_hour += 1;
        }
        let code = detail.and_then(|d| serde_json::from_str::<Value>(&d).ok()).and_then(|v| http_status(&v));
        if code == Some(429) {
            rate_limited_last_hour += 1;
        }
    }
    let mut consecutive_failures = 0;
    let mut last_error = None;
    let mut stmt = prepare(
        conn,
        "SELECT status, detail_json FROM events WHERE kind = 'model.call' AND at >= ?1 ORDER BY at DESC, id DESC LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![day_ago, settings.failure_threshold.max(1)], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))
    })?;
    for row in rows {
        let (status, detail) = row?;
        if status != "error" {
            break;
        }
        if last_error.is_none() {
            last_error = Some(describe(detail.as_deref()).unwrap_or_else(|| "error".into()));
        }
        consecutive_failures += 1;
    }
    Ok(ModelHealth { calls_last_hour, errors_last_hour, rate_limited_last_hour, consecutive_failures, last_error })
}

fn review_health(conn: &Connection, settings: &Settings, now: DateTime<Utc>) -> Result<ReviewHealth> {
    let cutoff = stamp(now - TimeDelta::hours(settings.sla_hours as i64));
    let (pending, overdue, oldest_pending_at) = prepare(
        conn,
        "SELECT COUNT(*), COALESCE(SUM(created_at < ?1), 0), MIN(created_at) FROM drafts WHERE state = 'pending'",
    )?
    .query_row([cutoff], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(ReviewHealth { pending, overdue, sla_hours: settings.sla_hours, oldest_pending_at })
}

fn title(kind: NoticeKind, incident: &Incident) -> String {
    let what = match incident.key.split_once(':') {
        Some(("imap", account)) => format!("IMAP account \"{account}\" failing"),
        _ => match incident.key.as_str() {
            "idle" => "triage is idle".to_string(),
            "model" => "model calls failing".to_string(),
            "reviews" => "reviews overdue".to_string(),
            "cases" => "cases over SLA".to_string(),
            other => other.to_string(),
        },
    };
    match kind {
        NoticeKind::Alert => format!("ALERT: {what}"),
        NoticeKind::Recovered => format!("RECOVERED: {what}"),
    }
}

/// Compares the open incidents with the ones already announced, claims the changes in the
/// ledger, and returns what to announce: an alert per new incident, a "recovered" message per
/// incident that is gone. Fills in `since` of incidents that were already open.
pub fn changes(ledger: &mut Ledger, health: &mut Health, now: DateTime<Utc>) -> Result<Vec<Notice>> {
    ledger.write(|tx| {
        let mut stmt = tx.prepare("SELECT key, value FROM kv WHERE key >= ?1 AND key < ?2")?;
        let upper = format!("{}\u{10FFFF}", KV_PREFIX);
        let stored: Vec<(String, String)> =
            stmt.query_map(params![KV_PREFIX, upper], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
        let mut notices = Vec::new();
        for incident in health.incidents.iter_mut() {
            let key = format!("{KV_PREFIX}{}", incident.key);
            match stored.iter().find(|(k, _)| *k == key) {
                Some((_, value)) => {
                    if let Ok(open) = serde_json::from_str::<Incident>(value) {
                        incident.since = open.since;
                    }
                }
                None => {
                    store(tx, incident)?;
                    notices.push(Notice {
                        kind: NoticeKind::Alert,
                        title: title(NoticeKind::Alert, incident),
                        text: incident.summary.clone(),
                        incident: incident.clone(),
                    });
                }
            }
        }
        for (key, value) in &stored {
            let name = key.trim_start_matches(KV_PREFIX);
            if health.incidents.iter().any(|i| i.key == name) {
                continue;
            }
            tx.execute("DELETE FROM kv WHERE key = ?1", [key])?;
            let incident = serde_json::from_str::<Incident>(value).unwrap_or_else(|_| Incident {
                key: name.to_string(),
                summary: String::new(),
                since: String::new(),
            });
            let lasted = parse_stamp(&incident.since).map(|s| duration::format(now - s));
            let text = match lasted {
                Some(l) => format!("recovered after {l}; it was: {}", incident.summary),
                None => format!("recovered; it was: {}", incident.summary),
            };
            notices.push(Notice {
                kind: NoticeKind::Recovered,
                title: title(NoticeKind::Recovered, &incident),
                text,
                incident,
            });
        }
        Ok(notices)
    })
}

fn store(conn: &Connection, incident: &Incident) -> Result<()> {
    conn.execute(
        "INSERT INTO kv (key, value, updated_at) VALUES (?1, ?2, ?3) \
         ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        params![format!("{KV_PREFIX}{}", incident.key), serde_json::to_string(incident)?, ledger_now()],
    )?;
    Ok(())
}

/// Gives back the claim of a notice that could not be delivered, so the next run retries it.
pub fn undo(ledger: &mut Ledger, notice: &Notice) -> Result<()> {
    ledger.write(|tx| {
        match notice.kind {
            NoticeKind::Alert => {
                tx.execute("DELETE FROM kv WHERE key = ?1", [format!("{KV_PREFIX}{}", notice.incident.key)])?;
            }
            NoticeKind::Recovered => store(tx, &notice.incident)?,
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::Event;
    use crate::ledger::drafts::{NewDraft, insert_draft};
    use crate::ledger::messages::{NewMessage, insert_message};
    use crate::ledger::results::{NewResult, Stage, add_result};
    use crate::record::Record;

    fn t(s: &str) -> DateTime<Utc> {
        parse_stamp(s).unwrap()
    }

    fn settings() -> Settings {
        Settings {
            max_idle: TimeDelta::hours(2),
            failure_threshold: 3,
            sla_hours: 24,
            accounts: vec![],
            case_sla: Sla::default(),
        }
    }

    fn message(ledger: &mut Ledger, id: &str, fetched_at: &str) {
        let rec = Record::new(id);
        ledger
            .write(|tx| {
                insert_message(tx, &NewMessage { record: &rec, raw: id.as_bytes(), raw_sha256: id }, None).map(|_| ())
            })
            .unwrap();
        ledger.conn().execute("UPDATE messages SET fetched_at = ?2 WHERE id = ?1", params![id, fetched_at]).unwrap();
    }

    fn result(ledger: &mut Ledger, id: &str, stage: Stage, summary: &str, at: &str) {
        let json = serde_json::json!({});
        let r = NewResult {
            message: id,
            stage,
            summary,
            backend: "t",
            model: "t",
            prompt_version: "1",
            result: &json,
            run_id: None,
        };
        ledger.write(|tx| add_result(tx, &r)).unwrap();
        ledger
            .conn()
            .execute(
                "UPDATE stage_results SET created_at = ?3 WHERE message = ?1 AND stage = ?2",
                params![id, stage.as_str(), at],
            )
            .unwrap();
    }

    /// Events are append-only, so tests write them at a chosen time directly.
    fn event_at(ledger: &Ledger, e: Event, at: &str) {
        ledger
            .conn()
            .execute(
                "INSERT INTO events (at, kind, account, status, detail_json) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![at, e.kind, e.account, e.status, e.detail.map(|d| d.to_string())],
            )
            .unwrap();
    }

    #[test]
    fn an_empty_ledger_is_healthy() {
        let ledger = Ledger::open_in_memory().unwrap();
        let h = check(&ledger, &settings(), t("2026-11-21T10:00:00Z")).unwrap();
        assert_eq!(h.status, "healthy");
        assert!(h.incidents.is_empty());
    }

    #[test]
    fn idle_only_counts_mail_that_waits_for_triage() {
        let mut ledger = Ledger::open_in_memory().unwrap();
        let now = t("2026-11-21T10:00:00Z");
        result_fixture(&mut ledger);
        // Spam waiting three hours is not a reason to alert: the filter dropped it.
        message(&mut ledger, "spam", "2026-11-21T07:00:00Z");
        result(&mut ledger, "spam", Stage::Filter, "spam", "2026-11-21T07:01:00Z");
        assert!(check(&ledger, &settings(), now).unwrap().incidents.is_empty());
        // A customer mail fetched 30 minutes ago is not late yet.
        message(&mut ledger, "fresh", "2026-11-21T09:30:00Z");
        assert!(check(&ledger, &settings(), now).unwrap().incidents.is_empty());
        // One that waited three hours is.
        message(&mut ledger, "late", "2026-11-21T07:00:00Z");
        let h = check(&ledger, &settings(), now).unwrap();
        assert_eq!(h.incidents.len(), 1, "{:?}", h.incidents);
        assert_eq!(h.incidents[0].key, "idle");
        assert!(h.incidents[0].summary.contains("2 messages wait for triage"), "{}", h.incidents[0].summary);
        assert_eq!(h.waiting_for_triage.oldest_fetched_at.as_deref(), Some("2026-11-21T07:00:00Z"));
    }

    /// One message triaged five hours ago.
    fn result_fixture(ledger: &mut Ledger) {
        message(ledger, "done", "2026-11-21T04:50:00Z");
        result(ledger, "done", Stage::Triage, "shipping", "2026-11-21T05:00:00Z");
    }

    #[test]
    fn a_failing_fetch_counts_as_idle_when_no_account_explains_it() {
        let mut ledger = Ledger::open_in_memory().unwrap();
        result_fixture(&mut ledger);
        let run = ledger.start_run("fetch", &Value::Null).unwrap();
        ledger.finish_run(run, "error", &Value::Null, Some("ledger is locked")).unwrap();
        let h = check(&ledger, &settings(), t("2026-11-21T10:00:00Z")).unwrap();
        let keys: Vec<&str> = h.incidents.iter().map(|i| i.key.as_str()).collect();
        assert_eq!(keys, ["idle"]);
        assert!(h.incidents[0].summary.contains("`mailroom fetch` is failing: ledger is locked"));
    }

    #[test]
    fn imap_failures_since_the_last_good_login_name_the_account() {
        let ledger = Ledger::open_in_memory().unwrap();
        let login = |status: &str| Event::new("imap.login", status).account("support");
        event_at(&ledger, login("error"), "2026-11-21T08:00:00Z");
        event_at(&ledger, login("ok"), "2026-11-21T08:05:00Z");
        event_at(&ledger, Event::new("imap.connect", "ok").account("support"), "2026-11-21T08:10:00Z");
        event_at(
            &ledger,
            login("error").detail(serde_json::json!({"error": "AUTHENTICATIONFAILED"})),
            "2026-11-21T08:10:01Z",
        );
        event_at(&ledger, login("error"), "2026-11-21T08:15:00Z");
        event_at(&ledger, login("ok").account("sales"), "2026-11-21T08:15:00Z");
        let now = t("2026-11-21T09:00:00Z");
        assert!(check(&ledger, &settings(), now).unwrap().incidents.is_empty());
        event_at(&ledger, Event::new("imap.connect", "error").account("support"), "2026-11-21T08:20:00Z");
        let h = check(&ledger, &settings(), now).unwrap();
        assert_eq!(h.incidents.len(), 1);
        assert_eq!(h.incidents[0].key, "imap:support");
        assert!(h.incidents[0].summary.contains("\"support\""), "{}", h.incidents[0].summary);
        let support = h.accounts.iter().find(|a| a.account == "support").unwrap();
        assert_eq!(support.failures, 3);
        assert_eq!(support.last_login_ok_at.as_deref(), Some("2026-11-21T08:05:00Z"));
        // Only configured accounts are checked when the config names them.
        let only_sales = Settings { accounts: vec!["sales".into()], ..settings() };
        assert!(check(&ledger, &only_sales, now).unwrap().incidents.is_empty());
    }

    #[test]
    fn model_failures_in_a_row_and_429_storms_alert() {
        let ledger = Ledger::open_in_memory().unwrap();
        let now = t("2026-11-21T10:00:00Z");
        let call =
            |status: &str, code: i64| Event::new("model.call", status).detail(serde_json::json!({"status": code}));
        event_at(&ledger, call("ok", 200), "2026-11-21T09:00:00Z");
        event_at(&ledger, call("error", 401), "2026-11-21T09:01:00Z");
        event_at(&ledger, call("error", 401), "2026-11-21T09:02:00Z");
        assert!(check(&ledger, &settings(), now).unwrap().incidents.is_empty());
        event_at(&ledger, call("error", 401), "2026-11-21T09:03:00Z");
        let h = check(&ledger, &settings(), now).unwrap();
        assert_eq!(h.incidents.len(), 1);
        assert!(h.incidents[0].summary.contains("HTTP 401"), "{}", h.incidents[0].summary);

        // 429s that retries get past still make a storm.
        let storm = Ledger::open_in_memory().unwrap();
        for i in 0..12 {
            event_at(&storm, call("error", 429), &format!("2026-11-21T09:{:02}:00Z", 10 + i * 2));
            event_at(&storm, call("ok", 200), &format!("2026-11-21T09:{:02}:30Z", 10 + i * 2));
        }
        let h = check(&storm, &settings(), now).unwrap();
        assert_eq!(h.model.rate_limited_last_hour, 12);
        assert_eq!(h.incidents.len(), 1);
        assert!(h.incidents[0].summary.contains("12 of 24 calls"), "{}", h.incidents[0].summary);
    }

    #[test]
    fn overdue_reviews_alert() {
        let mut ledger = Ledger::open_in_memory().unwrap();
        message(&mut ledger, "m", "2026-11-19T10:00:00Z");
        result(&mut ledger, "m", Stage::Triage, "refund", "2026-11-19T10:01:00Z");
        let json = serde_json::json!({});
        let d = NewDraft {
            id: "d",
            message: "m",
            subject: "s",
            body: "b",
            risk: "high",
            category: None,
            priority: None,
            confidence: None,
            draft_json: &json,
        };
        ledger.write(|tx| insert_draft(tx, &d, None)).unwrap();
        ledger.conn().execute("UPDATE drafts SET created_at = '2026-11-20T09:00:00Z'", []).unwrap();
        assert!(check(&ledger, &settings(), t("2026-11-21T08:00:00Z")).unwrap().incidents.is_empty());
        let h = check(&ledger, &settings(), t("2026-11-21T10:00:00Z")).unwrap();
        assert_eq!(h.incidents.len(), 1);
        assert!(
            h.incidents[0].summary.contains("1 of 1 pending reviews are older than the 24h SLA (oldest waiting 1d 1h)")
        );
    }

    #[test]
    fn cases_waiting_on_us_beyond_their_sla_alert() {
        use crate::stages::ingest::{Ingestor, Origin};
        let mut ledger = Ledger::open_in_memory().unwrap();
        let origin = Origin { account: "files".into(), mailbox: "INBOX".into(), max_parse_bytes: 1 << 20, run_id: None };
        let mut ing = Ingestor::new(origin);
        ing.add(
            b"From: Ann <ann@example.com>\r\nSubject: Where is my parcel\r\nDate: Thu, 19 Nov 2026 10:00:00 +0000\r\n\r\nHello\r\n"
                .to_vec(),
            None,
        );
        let id = ing.flush(&mut ledger).unwrap().remove(0).id;
        result(&mut ledger, &id, Stage::Triage, "shipping", "2026-11-19T10:01:00Z");
        let quiet = Settings { max_idle: TimeDelta::days(30), ..settings() };
        assert!(check(&ledger, &quiet, t("2026-11-20T09:00:00Z")).unwrap().incidents.is_empty(), "23h of 24h");
        let h = check(&ledger, &quiet, t("2026-11-20T11:00:00Z")).unwrap();
        assert_eq!(h.incidents.iter().map(|i| i.key.as_str()).collect::<Vec<_>>(), ["cases"]);
        assert!(h.incidents[0].summary.starts_with("1 service case waiting on us beyond the SLA"), "{}", h.incidents[0].summary);
        assert!(h.incidents[0].summary.contains("\"Where is my parcel\", 25h against 24h"), "{}", h.incidents[0].summary);
        assert_eq!(h.cases_over_sla.len(), 1);
    }

    #[test]
    fn one_alert_per_incident_and_one_recovered_message() {
        let mut ledger = Ledger::open_in_memory().unwrap();
        result_fixture(&mut ledger);
        message(&mut ledger, "late", "2026-11-21T07:00:00Z");
        let s = settings();
        let now = t("2026-11-21T10:00:00Z");
        let mut h = check(&ledger, &s, now).unwrap();
        let first = changes(&mut ledger, &mut h, now).unwrap();
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].kind, NoticeKind::Alert);
        assert_eq!(first[0].title, "ALERT: triage is idle");

        let later = t("2026-11-21T10:15:00Z");
        let mut h = check(&ledger, &s, later).unwrap();
        assert!(changes(&mut ledger, &mut h, later).unwrap().is_empty());
        assert_eq!(h.incidents[0].since, "2026-11-21T10:00:00Z", "since is kept from the first alert");

        // A failed delivery gives the claim back: the next run alerts again.
        undo(&mut ledger, &first[0]).unwrap();
        let mut h = check(&ledger, &s, later).unwrap();
        assert_eq!(changes(&mut ledger, &mut h, later).unwrap().len(), 1);

        result(&mut ledger, "late", Stage::Triage, "refund", "2026-11-21T10:20:00Z");
        let end = t("2026-11-21T10:30:00Z");
        let mut h = check(&ledger, &s, end).unwrap();
        let done = changes(&mut ledger, &mut h, end).unwrap();
        assert_eq!(done.len(), 1);
        assert_eq!(done[0].kind, NoticeKind::Recovered);
        assert!(done[0].text.starts_with("recovered after 15m"), "{}", done[0].text);
        let mut h = check(&ledger, &s, end).unwrap();
        assert!(changes(&mut ledger, &mut h, end).unwrap().is_empty());
    }

    #[test]
    fn every_query_reads_through_an_index() {
        let mut ledger = Ledger::open_in_memory().unwrap();
        result_fixture(&mut ledger);
        event_at(&ledger, Event::new("imap.login", "error").account("support"), "2026-11-21T08:00:00Z");
        let mut h = check(&ledger, &settings(), t("2026-11-21T10:00:00Z")).unwrap();
        changes(&mut ledger, &mut h, t("2026-11-21T10:00:00Z")).unwrap();
        let seen = crate::stages::sql::seen();
        assert!(seen.len() >= 9, "{seen:?}");
        for sql in seen {
            crate::stages::sql::assert_indexed(ledger.conn(), &sql);
        }
    }
}

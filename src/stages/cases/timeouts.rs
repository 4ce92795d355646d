//! Cases that waited too long.
//!
//! - On the customer (`waiting_customer` for longer than `waiting_customer_days`): with
//!   `on_timeout = "follow_up"` a low-risk reminder draft asking again for what is still
//!   missing (reviewed, or sent by the auto-send policy like any other draft); when a
//!   reminder was already sent since the customer last wrote, or with `on_timeout = "close"`,
//!   the case is `cancelled` ("no answer from the customer").
//! - On us (`new` or `waiting_internal`) for longer than its SLA (`sla_hours`, per priority
//!   `sla_hours_by_priority`): reported by heartbeat and digest, never changed here.

use std::collections::BTreeMap;

use anyhow::{Result, bail};
use chrono::{DateTime, TimeDelta, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::state::{self, CaseState, Change};
use crate::config::CasesConfig;
use crate::ledger::drafts::{NewDraft, insert_draft};
use crate::ledger::events::insert as insert_event;
use crate::ledger::{Event, Ledger};
use crate::record::Record;
use crate::stages::draft::checklist::Need;
use crate::stages::draft::greeting;
use crate::stages::sql::prepare;

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// How long a case may wait on us, by priority.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sla {
    pub default_hours: u64,
    pub by_priority: BTreeMap<String, u64>,
}

impl Default for Sla {
    fn default() -> Self {
        Sla::from_config(&CasesConfig::default())
    }
}

impl Sla {
    pub fn from_config(c: &CasesConfig) -> Sla {
        Sla { default_hours: c.sla_hours, by_priority: c.sla_hours_by_priority.clone() }
    }

    pub fn hours_for(&self, priority: Option<&str>) -> u64 {
        priority.and_then(|p| self.by_priority.get(p)).copied().unwrap_or(self.default_hours)
    }

    fn shortest(&self) -> u64 {
        self.by_priority.values().copied().chain([self.default_hours]).min().unwrap_or(self.default_hours)
    }
}

/// A case waiting on us beyond its SLA.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Overdue {
    pub case: String,
    pub state: String,
    pub priority: Option<String>,
    pub subject: Option<String>,
    pub owner: Option<String>,
    pub waiting_since: String,
    pub sla_hours: u64,
    pub waiting_hours: f64,
}

/// Cases waiting on us (`new`, `waiting_internal`) longer than their SLA at `now` (and, with
/// `since`, only since then), longest waiting first. Reads the candidates through the
/// (state, waiting_since) index.
pub fn over_sla(
    conn: &Connection,
    sla: &Sla,
    now: DateTime<Utc>,
    since: Option<DateTime<Utc>>,
) -> Result<Vec<Overdue>> {
    let cutoff = stamp(now - TimeDelta::hours(sla.shortest() as i64));
    let since = since.map(stamp).unwrap_or_default();
    let sql = format!(
        "SELECT c.id, c.state, c.priority, c.subject, c.owner, c.waiting_since FROM cases c \
         WHERE c.state = ?1 AND c.waiting_since < ?2 AND c.waiting_since >= ?3 AND {}",
        super::story::LIVE
    );
    let mut stmt = prepare(conn, &sql)?;
    let mut out = Vec::new();
    for s in [CaseState::New, CaseState::WaitingInternal] {
        let rows = stmt.query_map(params![s.as_str(), cutoff, since], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get::<_, String>(5)?,
            ))
        })?;
        for row in rows {
            let (case, state, priority, subject, owner, since) = row?;
            let Ok(since_t) = DateTime::parse_from_rfc3339(&since) else { continue };
            let waited = now - since_t.with_timezone(&Utc);
            let hours = sla.hours_for(priority.as_deref());
            if waited > TimeDelta::hours(hours as i64) {
                out.push(Overdue {
                    case,
                    state,
                    priority,
                    subject,
                    owner,
                    waiting_since: since,
                    sla_hours: hours,
                    waiting_hours: (waited.num_minutes() as f64 / 60.0 * 10.0).round() / 10.0,
                });
            }
        }
    }
    out.sort_by(|a, b| a.waiting_since.cmp(&b.waiting_since).then_with(|| a.case.cmp(&b.case)));
    Ok(out)
}

/// What to do with a customer who does not answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnTimeout {
    FollowUp,
    Close,
}

impl OnTimeout {
    pub fn parse(s: &str) -> Option<OnTimeout> {
        match s {
            "follow_up" => Some(OnTimeout::FollowUp),
            "close" => Some(OnTimeout::Close),
            _ => None,
        }
    }
}

/// What a sweep needs besides the ledger.
#[derive(Debug, Clone)]
pub struct SweepSettings {
    pub waiting_customer_days: u32,
    pub on_timeout: OnTimeout,
    pub sign_off: String,
}

/// What a sweep did (or, in a dry run, would do) to one case.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TimeoutAction {
    pub case: String,
    /// `follow_up` or `closed`.
    pub action: &'static str,
    pub waiting_since: String,
    pub waiting_for: Vec<String>,
    /// The reminder draft (follow_up).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub draft: Option<String>,
}

/// Applies the waiting timeout to every case that waited on the customer for too long.
/// Each case is decided in its own transaction, after checking it still waits.
pub fn sweep(
    ledger: &mut Ledger,
    settings: &SweepSettings,
    now: DateTime<Utc>,
    dry_run: bool,
    run_id: Option<i64>,
) -> Result<Vec<TimeoutAction>> {
    let cutoff = stamp(now - TimeDelta::days(i64::from(settings.waiting_customer_days)));
    let due: Vec<String> = {
        let mut stmt = ledger.conn().prepare(
            "SELECT id FROM cases WHERE state = 'waiting_customer' AND waiting_since < ?1 ORDER BY waiting_since",
        )?;
        stmt.query_map([&cutoff], |r| r.get(0))?.collect::<Result<_, _>>()?
    };
    let mut out = Vec::new();
    for case in due {
        let action = ledger.write(|tx| {
            let Some(state::Current { state, waiting_for, waiting_since, .. }) = state::current(tx, &case)? else {
                return Ok(None);
            };
            let since = waiting_since.unwrap_or_default();
            if state != CaseState::WaitingCustomer || since >= cutoff {
                return Ok(None);
            }
            let reminded = follow_up_sent_since_customer(tx, &case)?;
            let close = settings.on_timeout == OnTimeout::Close || reminded;
            let mut action = TimeoutAction {
                case: case.clone(),
                action: if close { "closed" } else { "follow_up" },
                waiting_since: since.clone(),
                waiting_for: waiting_for.clone(),
                draft: None,
            };
            if dry_run {
                return Ok(Some(action));
            }
            let days = settings.waiting_customer_days;
            if close {
                let why = if reminded { " after a reminder" } else { "" };
                let change = Change::new(
                    CaseState::Cancelled,
                    "timeout",
                    format!("no answer from the customer for {days} days{why}"),
                )
                .actor("mailroom-cases");
                state::apply(tx, &case, &change, run_id)?;
            } else {
                let draft = write_follow_up(tx, &case, &waiting_for, &since, &settings.sign_off, run_id)?;
                let change = Change::new(
                    CaseState::WaitingInternal,
                    "timeout",
                    format!("no answer from the customer for {days} days: follow-up draft {draft} written"),
                )
                .next_step(format!("review follow-up draft {draft}"))
                .draft(draft.clone())
                .actor("mailroom-cases");
                state::apply(tx, &case, &change, run_id)?;
                action.draft = Some(draft);
            }
            let mut e = Event::new("case.timeout", "ok").run(run_id).actor("mailroom-cases").detail(
                json!({"case": case, "action": action.action, "waiting_since": since, "waiting_for": waiting_for}),
            );
            e.draft = action.draft.clone();
            insert_event(tx, &e)?;
            Ok(Some(action))
        })?;
        out.extend(action);
    }
    Ok(out)
}

/// A reminder of this case was sent after the customer last wrote.
fn follow_up_sent_since_customer(conn: &Connection, case: &str) -> Result<bool> {
    Ok(conn.query_row(
        "SELECT EXISTS(SELECT 1 FROM case_messages cm JOIN drafts d ON d.message = cm.message \
         WHERE cm.case_id = ?1 AND d.state = 'sent' AND json_extract(d.draft_json, '$.kind') = 'follow_up' \
         AND d.sent_at >= COALESCE((SELECT MAX(m.arrived_at) FROM case_messages c2 JOIN messages m ON m.id = c2.message \
                                    WHERE c2.case_id = ?1 AND c2.role = 'customer'), ''))",
        [case],
        |r| r.get(0),
    )?)
}

/// The reminder: a pending low-risk draft replying to the customer's latest message.
fn write_follow_up(
    conn: &Connection,
    case: &str,
    waiting_for: &[String],
    since: &str,
    sign_off: &str,
    run_id: Option<i64>,
) -> Result<String> {
    let latest: Option<(String, String)> = conn
        .query_row(
            "SELECT m.id, m.record_json FROM case_messages cm JOIN messages m ON m.id = cm.message \
             WHERE cm.case_id = ?1 AND cm.role = 'customer' ORDER BY m.arrived_at DESC LIMIT 1",
            [case],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((message, json)) = latest else { bail!("case {case} has no customer message to follow up") };
    let record: Record = serde_json::from_str(&json)?;
    // Category, priority and confidence of the case's last draft, for the auto-send policy.
    let last: Option<(Option<String>, Option<String>, Option<f64>)> = conn
        .query_row(
            "SELECT d.category, d.priority, d.confidence FROM case_messages cm JOIN drafts d ON d.message = cm.message \
             WHERE cm.case_id = ?1 ORDER BY d.created_at DESC, d.rowid DESC LIMIT 1",
            [case],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let (category, priority, confidence) = last.unwrap_or((None, None, None));
    let subject = greeting::reply_subject(&record.subject);
    let body = follow_up_body(&record, waiting_for, sign_off);
    let id = {
        let h = Sha256::digest(format!("follow_up\0{case}\0{message}\0{since}").as_bytes());
        format!("d{}", &format!("{h:x}")[..24])
    };
    let draft_json = json!({
        "id": id,
        "subject": subject,
        "body": body,
        // Still missing: sending the reminder makes the case wait for it again.
        "missing_info": waiting_for,
        "risk": "low",
        "review_required": false,
        "backend": "template",
        "model": "",
        "sources": [],
        "category": category,
        "kind": "follow_up",
        "case": case,
        "risk_reasons": [],
        "notes": [format!("reminder: the customer has not answered since {since}")],
    });
    insert_draft(
        conn,
        &NewDraft {
            id: &id,
            message: &message,
            subject: &subject,
            body: &body,
            risk: "low",
            category: category.as_deref(),
            priority: priority.as_deref(),
            confidence,
            draft_json: &draft_json,
        },
        run_id,
    )?;
    Ok(id)
}

/// "Hello Daniel, we are writing again about …; we still need: …".
pub fn follow_up_body(record: &Record, waiting_for: &[String], sign_off: &str) -> String {
    let first = greeting::first_name(record.from.as_ref().and_then(|a| a.name.as_deref()));
    let mut body = format!("{}\n\n", greeting::greeting(first.as_deref()));
    let subject = super::threading::clean_subject(&record.subject);
    let about = if subject.is_empty() { "your message".to_string() } else { format!("your message \"{subject}\"") };
    let questions: Vec<&str> = waiting_for.iter().filter_map(|k| Need::parse(k)).map(Need::question).collect();
    if questions.is_empty() {
        body.push_str(&format!(
            "We are following up on {about}. We have not heard back from you yet: could you let us know how we \
             can help further, or whether everything is sorted?\n\n"
        ));
    } else {
        body.push_str(&format!(
            "We are following up on {about}. So that we can help you further, could you please send us:\n\n"
        ));
        for q in questions {
            body.push_str(&format!("- {q}\n"));
        }
        body.push_str("\nAs soon as we have this, we will take care of it right away.\n\n");
    }
    body.push_str(sign_off);
    body.push('\n');
    body
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Address;

    #[test]
    fn sla_hours_follow_the_priority() {
        let sla = Sla::default();
        assert_eq!(sla.hours_for(Some("P1")), 4);
        assert_eq!(sla.hours_for(Some("P3")), 24);
        assert_eq!(sla.hours_for(None), 24);
        assert_eq!(sla.shortest(), 4);
    }

    #[test]
    fn the_reminder_asks_again_for_what_is_missing() {
        let mut r = Record::new("m");
        r.subject = "Re: Parcel hasn't arrived".into();
        r.from = Some(Address { name: Some("Daniel Okafor".into()), address: "d@example.com".into() });
        let body = follow_up_body(&r, &["order_number".into()], "Best regards,\nSupport");
        assert!(body.starts_with("Hi Daniel,") || body.starts_with("Hello Daniel,"), "{body}");
        assert!(body.contains("\"Parcel hasn't arrived\""), "{body}");
        assert!(body.contains("your order number"), "{body}");
        assert!(body.ends_with("Support\n"));
        let general = follow_up_body(&r, &["answer".into()], "S");
        assert!(general.contains("how we can help further"), "{general}");
    }
}

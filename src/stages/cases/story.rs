//! What `mailroom cases` lists and shows: a summary per case, and the full story of one
//! (its messages, drafts and every event about them, in order).

use anyhow::{Result, bail};
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row};
use serde::Serialize;
use serde_json::Value;

use super::state::CaseState;
use super::threading::Role;
use super::timeouts::Sla;
use crate::ledger::drafts::drafts_for_message;
use crate::ledger::events::StoredEvent;
use crate::record::{Address, Record};

/// One line of `mailroom cases`.
#[derive(Debug, Clone, Serialize)]
pub struct CaseSummary {
    pub id: String,
    pub state: CaseState,
    pub customer: Address,
    pub subject: String,
    /// The latest of its messages' classifications and its drafts' categories (a draft of an
    /// answer to our question keeps the case's category; a person's recategorization counts).
    pub category: Option<String>,
    pub priority: Option<String>,
    pub owner: Option<String>,
    /// Open checklist items (or what a person said it waits for).
    pub waiting_for: Vec<String>,
    pub next_step: Option<String>,
    pub waiting_since: Option<String>,
    /// Waiting on us longer than its SLA.
    pub over_sla: bool,
    /// Every customer message of the case was dropped by the filter (spam, auto-replies, …):
    /// listed only with `--all`, never counted as waiting.
    pub dropped: bool,
    pub message_count: i64,
    pub last_message_at: Option<String>,
    /// The newest draft of the case and its state.
    pub latest_draft: Option<DraftRef>,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct DraftRef {
    pub id: String,
    pub state: String,
}

/// Which cases to list.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// These states only; empty: the open ones (not resolved or cancelled), or all with `all`.
    pub states: Vec<CaseState>,
    pub all: bool,
    pub owner: Option<String>,
}

/// SQL condition on a case `c`: some customer message of it passed the filter (or was not
/// filtered yet). Cases are opened when mail is stored, before the filter has spoken.
pub const LIVE: &str = "EXISTS (SELECT 1 FROM case_messages cm WHERE cm.case_id = c.id AND cm.role = 'customer' \
    AND COALESCE((SELECT s.summary FROM stage_results s WHERE s.message = cm.message AND s.stage = 'filter' \
                  ORDER BY s.version DESC LIMIT 1), 'pass') = 'pass')";

/// The columns `summary` reads, from `cases c`.
fn summary_sql() -> String {
    format!(
        "SELECT c.id, c.state, c.customer_address, c.customer_name, c.subject, \
        COALESCE((SELECT category FROM ( \
            SELECT s.summary AS category, s.created_at AS at, 0 AS src FROM case_messages cm \
            JOIN stage_results s ON s.message = cm.message AND s.stage = 'triage' WHERE cm.case_id = c.id \
            UNION ALL SELECT d.category, d.created_at, 1 FROM case_messages cm \
            JOIN drafts d ON d.message = cm.message WHERE cm.case_id = c.id AND d.category IS NOT NULL) \
          ORDER BY at DESC, src DESC LIMIT 1), c.category), \
        c.priority, c.owner, c.waiting_for_json, c.next_step, c.waiting_since, \
        (SELECT COUNT(*) FROM case_messages cm WHERE cm.case_id = c.id), c.last_message_at, \
        (SELECT d.id || ' ' || d.state FROM case_messages cm JOIN drafts d ON d.message = cm.message \
        WHERE cm.case_id = c.id ORDER BY d.created_at DESC, d.rowid DESC LIMIT 1), \
        c.created_at, c.updated_at, NOT {LIVE} FROM cases c"
    )
}

fn summary(r: &Row<'_>, sla: &Sla, now: DateTime<Utc>) -> rusqlite::Result<CaseSummary> {
    let state = CaseState::parse(&r.get::<_, String>(1)?).unwrap_or(CaseState::New);
    let priority: Option<String> = r.get(6)?;
    let waiting_since: Option<String> = r.get(10)?;
    let dropped: bool = r.get(16)?;
    let over_sla = !dropped
        && state.side() == super::state::Side::Us
        && waiting_since.as_deref().and_then(|s| DateTime::parse_from_rfc3339(s).ok()).is_some_and(|t| {
            now - t.with_timezone(&Utc) > chrono::TimeDelta::hours(sla.hours_for(priority.as_deref()) as i64)
        });
    let latest: Option<String> = r.get(13)?;
    Ok(CaseSummary {
        id: r.get(0)?,
        state,
        customer: Address { name: r.get(3)?, address: r.get::<_, Option<String>>(2)?.unwrap_or_default() },
        subject: r.get::<_, Option<String>>(4)?.unwrap_or_default(),
        category: r.get(5)?,
        priority,
        owner: r.get(7)?,
        waiting_for: r.get::<_, Option<String>>(8)?.and_then(|w| serde_json::from_str(&w).ok()).unwrap_or_default(),
        next_step: r.get(9)?,
        waiting_since,
        over_sla,
        message_count: r.get(11)?,
        last_message_at: r.get(12)?,
        latest_draft: latest.and_then(|l| {
            let (id, state) = l.split_once(' ')?;
            Some(DraftRef { id: id.into(), state: state.into() })
        }),
        created_at: r.get(14)?,
        updated_at: r.get(15)?,
        dropped: r.get(16)?,
    })
}

/// The cases of `filter`, most recently active first.
pub fn list(conn: &Connection, filter: &Filter, sla: &Sla, now: DateTime<Utc>) -> Result<Vec<CaseSummary>> {
    let states: Vec<&str> = if !filter.states.is_empty() {
        filter.states.iter().map(|s| s.as_str()).collect()
    } else if filter.all {
        CaseState::ALL.iter().map(|s| s.as_str()).collect()
    } else {
        CaseState::ALL.iter().filter(|s| s.is_open()).map(|s| s.as_str()).collect()
    };
    let marks: Vec<String> = states.iter().map(|s| format!("'{s}'")).collect();
    let mut sql = format!("{} WHERE c.state IN ({})", summary_sql(), marks.join(","));
    if !filter.all {
        sql += &format!(" AND {LIVE}");
    }
    if filter.owner.is_some() {
        sql += " AND c.owner = ?1";
    }
    sql += " ORDER BY COALESCE(c.last_message_at, c.updated_at) DESC, c.id";
    let mut stmt = conn.prepare(&sql)?;
    let rows = match &filter.owner {
        Some(o) => stmt.query_map([o], |r| summary(r, sla, now))?.collect::<Result<Vec<_>, _>>()?,
        None => stmt.query_map([], |r| summary(r, sla, now))?.collect::<Result<Vec<_>, _>>()?,
    };
    Ok(rows)
}

/// One case by id.
pub fn get(conn: &Connection, id: &str, sla: &Sla, now: DateTime<Utc>) -> Result<Option<CaseSummary>> {
    Ok(conn.query_row(&format!("{} WHERE c.id = ?1", summary_sql()), [id], |r| summary(r, sla, now)).optional()?)
}

/// A message of a case.
#[derive(Debug, Clone, Serialize)]
pub struct CaseMessage {
    pub id: String,
    pub role: Role,
    pub at: String,
    pub from: String,
    pub subject: String,
    pub message_id: Option<String>,
    /// The new part of its text (quoted history removed).
    pub text_new: String,
}

/// A draft of a case.
#[derive(Debug, Clone, Serialize)]
pub struct CaseDraft {
    pub id: String,
    pub message: String,
    pub state: String,
    pub risk: String,
    pub missing_info: Vec<String>,
    pub kind: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    pub sent_at: Option<String>,
    pub out_message_id: Option<String>,
    pub created_at: String,
}

/// One line of the story.
#[derive(Debug, Clone, Serialize)]
pub struct StoryLine {
    pub at: String,
    pub kind: String,
    pub actor: Option<String>,
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub draft: Option<String>,
}

/// Everything about one case.
#[derive(Debug, Clone, Serialize)]
pub struct CaseDetail {
    #[serde(flatten)]
    pub summary: CaseSummary,
    pub messages: Vec<CaseMessage>,
    pub drafts: Vec<CaseDraft>,
    /// The evidence: every event of its messages, their drafts and the case itself, in order.
    pub events: Vec<StoredEvent>,
    /// Messages and events merged in time order, in words.
    pub story: Vec<StoryLine>,
}

/// Orders messages of a case `m`: by arrival, and within one second (Date headers have no
/// more) the deeper reply after what it answers.
pub const IN_ORDER: &str =
    "ORDER BY m.arrived_at, COALESCE(json_array_length(m.record_json, '$.references'), 0), m.rowid";

/// The messages of a case in arrival order: (message id, role).
pub fn message_ids(conn: &Connection, case: &str) -> Result<Vec<(String, Role)>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT cm.message, cm.role FROM case_messages cm JOIN messages m ON m.id = cm.message \
         WHERE cm.case_id = ?1 {IN_ORDER}"
    ))?;
    let rows = stmt
        .query_map([case], |r| Ok((r.get::<_, String>(0)?, Role::parse(&r.get::<_, String>(1)?))))?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// The full story of a case.
pub fn show(conn: &Connection, id: &str, sla: &Sla, now: DateTime<Utc>) -> Result<CaseDetail> {
    let Some(summary) = get(conn, id, sla, now)? else { bail!("no case with id {id}") };
    let mut messages = Vec::new();
    let mut drafts = Vec::new();
    let mut message_list = Vec::new();
    for (mid, role) in message_ids(conn, id)? {
        let (json, at): (String, String) =
            conn.query_row("SELECT record_json, arrived_at FROM messages WHERE id = ?1", [&mid], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?;
        let record: Record = serde_json::from_str(&json)?;
        messages.push(CaseMessage {
            id: mid.clone(),
            role,
            at,
            from: crate::stages::review::queue::sender(&record),
            subject: record.subject.clone(),
            message_id: record.message_id.clone(),
            text_new: record.best_text().trim().to_string(),
        });
        for d in drafts_for_message(conn, &mid)? {
            drafts.push(CaseDraft {
                missing_info: super::state::missing_info(&d.draft_json),
                kind: d.draft_json.get("kind").and_then(Value::as_str).map(str::to_string),
                id: d.id,
                message: d.message,
                state: d.state.as_str().to_string(),
                risk: d.risk,
                decided_by: d.decided_by,
                decided_at: d.decided_at,
                sent_at: d.sent_at,
                out_message_id: d.out_message_id,
                created_at: d.created_at,
            });
        }
        message_list.push(mid);
    }
    let events = evidence(conn, id, &message_list)?;
    let story = story(&messages, &events);
    Ok(CaseDetail { summary, messages, drafts, events, story })
}

/// Events of the case's messages, of their drafts, and of the case itself, oldest first.
fn evidence(conn: &Connection, case: &str, messages: &[String]) -> Result<Vec<StoredEvent>> {
    let mut ids: Vec<i64> = Vec::new();
    {
        let mut by_message = conn.prepare_cached(
            "SELECT id FROM events WHERE message = ?1 UNION SELECT e.id FROM drafts d JOIN events e ON e.draft = d.id \
             WHERE d.message = ?1",
        )?;
        for m in messages {
            for id in by_message.query_map([m], |r| r.get(0))? {
                ids.push(id?);
            }
        }
        // Case events without a message (assignment, a person's state change, timeouts).
        let mut by_case = conn.prepare_cached(
            "SELECT id FROM events WHERE kind >= 'case.' AND kind < 'case/' AND json_extract(detail_json, '$.case') = ?1",
        )?;
        for id in by_case.query_map([case], |r| r.get(0))? {
            ids.push(id?);
        }
    }
    ids.sort_unstable();
    ids.dedup();
    let mut stmt = conn.prepare_cached(
        "SELECT id, at, kind, status, account, message, draft, actor, latency_ms, detail_json FROM events WHERE id = ?1",
    )?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        out.push(stmt.query_row([id], |r| {
            let detail: Option<String> = r.get(9)?;
            Ok(StoredEvent {
                id: r.get(0)?,
                at: r.get(1)?,
                kind: r.get(2)?,
                status: r.get(3)?,
                account: r.get(4)?,
                message: r.get(5)?,
                draft: r.get(6)?,
                actor: r.get(7)?,
                latency_ms: r.get(8)?,
                detail: detail.and_then(|d| serde_json::from_str(&d).ok()),
            })
        })?);
    }
    Ok(out)
}

fn detail_str<'a>(e: &'a StoredEvent, key: &str) -> Option<&'a str> {
    e.detail.as_ref()?.get(key)?.as_str()
}

/// An event in words, or `None` for events the story leaves out (a message's own arrival,
/// told by the message line).
fn event_text(e: &StoredEvent) -> Option<String> {
    let draft = e.draft.as_deref().unwrap_or("?");
    let reason = detail_str(e, "reason").map(|r| format!(": {r}")).unwrap_or_default();
    Some(match e.kind.as_str() {
        "case.message" => return None,
        "case.state" => {
            format!("case {} → {}{reason}", detail_str(e, "from").unwrap_or("?"), detail_str(e, "to").unwrap_or("?"))
        }
        "case.assigned" => match detail_str(e, "owner").filter(|o| !o.is_empty()) {
            Some(o) => format!("assigned to {o}"),
            None => "owner removed".into(),
        },
        "case.team_reply" => {
            let handled =
                e.detail.as_ref().and_then(|d| d.get("handled_drafts")).and_then(Value::as_array).map_or(0, Vec::len);
            format!("answered from a mail client; {handled} open draft(s) marked handled")
        }
        "case.timeout" => format!("waiting timeout: {}", detail_str(e, "action").unwrap_or("?")),
        "draft.created" => format!("draft {draft} written"),
        "draft.edited" => format!("draft {draft} edited"),
        "draft.superseded" => format!("draft {draft} replaces an earlier pending draft"),
        "smtp.send" => format!("SMTP: {}", detail_str(e, "outcome").unwrap_or(&e.status)),
        k if k.starts_with("draft.") => format!("draft {draft} {}{reason}", &k["draft.".len()..]),
        k => format!("{k} ({})", e.status),
    })
}

fn story(messages: &[CaseMessage], events: &[StoredEvent]) -> Vec<StoryLine> {
    let mut lines: Vec<(String, u8, i64, StoryLine)> = Vec::new();
    for (i, m) in messages.iter().enumerate() {
        let who = match m.role {
            Role::Customer => "customer wrote",
            Role::Team => "team replied from a mail client",
            Role::Ours => "our reply (copy read back)",
        };
        let excerpt: String = m.text_new.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(160).collect();
        lines.push((
            m.at.clone(),
            0,
            i as i64,
            StoryLine {
                at: m.at.clone(),
                kind: format!("message.{}", m.role.as_str()),
                actor: Some(m.from.clone()),
                text: format!("{who}: \"{}\" — {excerpt}", m.subject),
                message: Some(m.id.clone()),
                draft: None,
            },
        ));
    }
    for e in events {
        let Some(text) = event_text(e) else { continue };
        lines.push((
            e.at.clone(),
            1,
            e.id,
            StoryLine {
                at: e.at.clone(),
                kind: e.kind.clone(),
                actor: e.actor.clone(),
                text,
                message: e.message.clone(),
                draft: e.draft.clone(),
            },
        ));
    }
    lines.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    lines.into_iter().map(|l| l.3).collect()
}

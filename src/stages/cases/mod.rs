//! Service cases: messages grouped by thread, each case with a customer, an owner, a state,
//! what it waits for, a next step and its evidence.
//!
//! - [`threading`]: which case a message joins, and whether a customer, a person of the team
//!   or mailroom itself wrote it;
//! - [`state`]: the states and the moves between them (called by ingest, draft, review and
//!   send, each in the transaction that changed the message or draft);
//! - [`timeouts`]: cases that waited too long (on the customer: follow-up or close; on us:
//!   over the SLA);
//! - [`story`]: what `mailroom cases` lists and shows.
//!
//! The hooks are single calls: [`attach_new`] after a message is stored, [`draft_changed`] after
//! a draft is written or changes state.

pub mod state;
pub mod story;
pub mod threading;
pub mod timeouts;

#[cfg(test)]
mod tests;

use anyhow::{Result, bail};
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::json;

use crate::ledger::drafts::{drafts_for_message, transition};
use crate::ledger::events::insert as insert_event;
use crate::ledger::{DraftState, Event, now};
use crate::record::{Attachment, Entities, Record};
use crate::stages::draft::checklist::CaseContext;
use crate::stages::draft::merge_entities;
use crate::stages::entities;

pub use state::{CaseState, Change, draft_changed};
pub use threading::{Role, Rules};
use threading::{case_by_subject, case_id_for, case_of_message, clean_subject, key_of_clean};

/// Where a message went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attached {
    pub case: String,
    pub role: Role,
}

/// When a message just stored arrived: its Date, capped at now (as `messages.arrived_at`).
fn arrival(record: &Record) -> String {
    let t = now();
    match &record.date {
        Some(d) if *d <= t => d.clone(),
        _ => t,
    }
}

fn days_before(t: &str, days: u32) -> String {
    match chrono::DateTime::parse_from_rfc3339(t) {
        Ok(t) => (t.with_timezone(&chrono::Utc) - chrono::Duration::days(i64::from(days)))
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        Err(_) => t.to_string(),
    }
}

/// Who wrote a message, for an event's actor: "Name <address>", or the address.
fn author(record: &Record) -> String {
    let s = crate::stages::review::queue::sender(record);
    if s.is_empty() { "unknown sender".into() } else { s }
}

fn customer_of(conn: &Connection, case: &str) -> Result<Option<String>> {
    Ok(conn.query_row("SELECT customer_address FROM cases WHERE id = ?1", [case], |r| r.get(0)).optional()?.flatten())
}

/// Puts a stored message into its case (opening one when it starts a new conversation), and
/// applies what it means: a customer answer moves the case back to us, a reply a person
/// wrote from their mail client marks the case's open drafts handled. Call it in the
/// transaction that stored the message. Returns `None` for team mail outside any case.
/// Idempotent: a message already in a case is left alone.
pub fn attach(conn: &Connection, record: &Record, rules: &Rules, run_id: Option<i64>) -> Result<Option<Attached>> {
    if let Some(case) = case_of_message(conn, &record.id)? {
        let role = role_of(conn, &record.id)?.unwrap_or(Role::Customer);
        return Ok(Some(Attached { case, role }));
    }
    attach_new(conn, record, rules, run_id)
}

/// [`attach`] for a message stored a moment ago (by ingest), which is in no case yet.
pub fn attach_new(conn: &Connection, record: &Record, rules: &Rules, run_id: Option<i64>) -> Result<Option<Attached>> {
    let at = arrival(record);
    let known = threading::lookup(conn, record)?;
    // A reply mailroom sent, read back (Sent folder, Bcc copy): it only joins its case.
    if let Some((draft, original)) = known.sent_as {
        let Some(case) = ensure_case(conn, &original, rules, run_id)? else { return Ok(None) };
        add_message(conn, &case, record, Role::Ours, &at, run_id, json!({"draft": draft}))?;
        return Ok(Some(Attached { case, role: Role::Ours }));
    }
    // A second copy of a message already in a case (the same Message-ID fetched twice).
    if let Some((case, role)) = known.copy_of {
        add_message(conn, &case, record, role, &at, run_id, json!({"copy": true}))?;
        return Ok(Some(Attached { case, role }));
    }
    let by_thread = known.by_thread;
    let sender = record.sender_address().to_lowercase();
    let subject = clean_subject(&record.subject);
    let key = key_of_clean(&subject);
    let since = days_before(&at, rules.window_days);
    if is_team(conn, record, rules, by_thread.as_deref())? {
        let case = match (&by_thread, &key, record.to.first()) {
            (Some(c), _, _) => Some(c.clone()),
            (None, Some(k), Some(to)) => case_by_subject(conn, &to.address, k, &since)?,
            _ => None,
        };
        let Some(case) = case else { return Ok(None) };
        team_reply(conn, &case, record, &at, run_id)?;
        return Ok(Some(Attached { case, role: Role::Team }));
    }
    let case = match (&by_thread, &key) {
        (Some(c), _) => Some(c.clone()),
        (None, Some(k)) if !sender.is_empty() => case_by_subject(conn, &sender, k, &since)?,
        _ => None,
    };
    match case {
        Some(case) => {
            customer_message(conn, &case, record, &at, run_id)?;
            Ok(Some(Attached { case, role: Role::Customer }))
        }
        None => {
            let case = open_case(conn, record, &subject, key.as_deref(), &at)?;
            Ok(Some(Attached { case, role: Role::Customer }))
        }
    }
}

/// Who wrote a message, when it is in a case.
pub fn role_of(conn: &Connection, message: &str) -> Result<Option<Role>> {
    let role: Option<String> = conn
        .query_row("SELECT role FROM case_messages WHERE message = ?1 LIMIT 1", [message], |r| r.get(0))
        .optional()?;
    Ok(role.map(|r| Role::parse(&r)))
}

/// The case of a message that was stored before cases existed (an older ledger), attached now.
pub fn ensure_case(conn: &Connection, message: &str, rules: &Rules, run_id: Option<i64>) -> Result<Option<String>> {
    if let Some(c) = case_of_message(conn, message)? {
        return Ok(Some(c));
    }
    let json: Option<String> =
        conn.query_row("SELECT record_json FROM messages WHERE id = ?1", [message], |r| r.get(0)).optional()?;
    let Some(json) = json else { return Ok(None) };
    let record: Record = serde_json::from_str(&json)?;
    Ok(attach(conn, &record, rules, run_id)?.map(|a| a.case))
}

/// A person of the team wrote it: from a team address, found in a Sent folder, or written in
/// a case's thread to the case's customer by someone who is not that customer.
fn is_team(conn: &Connection, record: &Record, rules: &Rules, case: Option<&str>) -> Result<bool> {
    if rules.is_team_address(record.sender_address()) || rules.is_sent_mailbox(&record.mailbox) {
        return Ok(true);
    }
    let Some(case) = case else { return Ok(false) };
    let Some(customer) = customer_of(conn, case)? else { return Ok(false) };
    let sender = record.sender_address();
    Ok(!sender.eq_ignore_ascii_case(&customer)
        && record.to.iter().chain(&record.cc).any(|a| a.address.eq_ignore_ascii_case(&customer)))
}

fn add_message(
    conn: &Connection,
    case: &str,
    record: &Record,
    role: Role,
    at: &str,
    run_id: Option<i64>,
    extra: serde_json::Value,
) -> Result<()> {
    // Cached statements: this runs for every message of a history import.
    conn.prepare_cached(
        "INSERT OR IGNORE INTO case_messages (case_id, message, added_at, role) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![case, record.id, now(), role.as_str()])?;
    conn.prepare_cached(
        "UPDATE cases SET last_message_at = MAX(COALESCE(last_message_at, ''), ?2), updated_at = ?3 WHERE id = ?1",
    )?
    .execute(params![case, at, now()])?;
    // A customer message that moves the case is told by its `case.state` event.
    if role == Role::Customer {
        return Ok(());
    }
    let mut detail = json!({"case": case, "role": role.as_str(), "subject": record.subject});
    if let (Some(d), Some(extra)) = (detail.as_object_mut(), extra.as_object()) {
        d.extend(extra.clone());
    }
    insert_event(
        conn,
        &Event::new("case.message", "ok")
            .run(run_id)
            .message(record.id.clone())
            .actor(author(record))
            .detail(detail),
    )?;
    Ok(())
}

fn open_case(conn: &Connection, record: &Record, subject: &str, key: Option<&str>, at: &str) -> Result<String> {
    let id = case_id_for(&record.id);
    let triage = record.triage.as_ref();
    let t = now();
    conn.prepare_cached(
        "INSERT OR IGNORE INTO cases (id, customer_address, customer_name, subject, subject_key, category, priority, \
         state, waiting_for_json, next_step, created_at, updated_at, last_message_at, waiting_since) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'new', '[]', 'draft a reply', ?8, ?9, ?8, ?8)",
    )?
    .execute(params![
        id,
        Some(record.sender_address().to_lowercase()).filter(|a| !a.is_empty()),
        record.from.as_ref().and_then(|a| a.name.clone()),
        subject,
        key,
        triage.map(|t| t.category.clone()),
        triage.map(|t| t.priority.clone()),
        at,
        t,
    ])?;
    conn.prepare_cached(
        "INSERT OR IGNORE INTO case_messages (case_id, message, added_at, role) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![id, record.id, t, Role::Customer.as_str()])?;
    Ok(id)
}

/// The customer wrote again: the case waits on us; what it waited for counts as answered.
fn customer_message(conn: &Connection, case: &str, record: &Record, at: &str, run_id: Option<i64>) -> Result<()> {
    add_message(conn, case, record, Role::Customer, at, run_id, json!({}))?;
    let Some(state::Current { state: from, waiting_for, .. }) = state::current(conn, case)? else {
        bail!("no case with id {case}")
    };
    if from == CaseState::New {
        return Ok(());
    }
    let reason = match from {
        CaseState::WaitingCustomer if !waiting_for.is_empty() => {
            format!("the customer answered (we waited for: {})", state::labels(&waiting_for))
        }
        CaseState::Resolved | CaseState::Cancelled => {
            format!("the customer wrote again; reopened from {}", from.as_str())
        }
        _ => "the customer wrote again".to_string(),
    };
    let change = Change::new(CaseState::WaitingInternal, "customer", reason)
        .next_step("draft a reply to the customer's new message")
        .actor(author(record))
        .message(record.id.clone())
        .at(at);
    state::apply(conn, case, &change, run_id)?;
    Ok(())
}

/// A person answered from their own mail client: the case's open drafts become `handled` by
/// them (so nobody answers twice), and the case waits on the customer when the reply asks
/// something, or is resolved.
fn team_reply(conn: &Connection, case: &str, record: &Record, at: &str, run_id: Option<i64>) -> Result<()> {
    add_message(conn, case, record, Role::Team, at, run_id, json!({}))?;
    let actor = author(record);
    let reason = format!("answered from a mail client (Message-ID {})", record.message_id.as_deref().unwrap_or("none"));
    let mut handled = Vec::new();
    let mut asked: Vec<String> = Vec::new();
    for message in case_messages_before(conn, case, at)? {
        for d in drafts_for_message(conn, &message)? {
            if matches!(d.state, DraftState::Pending | DraftState::Approved | DraftState::Failed) {
                transition(conn, &d.id, DraftState::Handled, &actor, Some(&reason), run_id)?;
                crate::stages::send::shadow::record_agreement(conn, &d.id, run_id)?;
                for key in state::missing_info(&d.draft_json) {
                    if !asked.contains(&key) {
                        asked.push(key);
                    }
                }
                handled.push(d.id);
            }
        }
    }
    insert_event(
        conn,
        &Event::new("case.team_reply", "ok").run(run_id).message(record.id.clone()).actor(actor.clone()).detail(
            json!({
                 "case": case,
                 "message_id": record.message_id,
                 "handled_drafts": handled,
            }),
        ),
    )?;
    let asks = record.best_text().contains(['?', '？']);
    let change = if asks {
        let waiting = if asked.is_empty() { vec!["answer".to_string()] } else { asked };
        Change::new(
            CaseState::WaitingCustomer,
            "team_reply",
            format!("{actor} answered from a mail client and asked the customer"),
        )
        .next_step(format!("wait for the customer: {}", state::labels(&waiting)))
        .waiting_for(waiting)
    } else {
        Change::new(CaseState::Resolved, "team_reply", format!("{actor} answered from a mail client"))
    };
    state::apply(conn, case, &change.actor(actor).message(record.id.clone()).at(at), run_id)?;
    Ok(())
}

/// Messages of a case that arrived at or before `at`.
fn case_messages_before(conn: &Connection, case: &str, at: &str) -> Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT cm.message FROM case_messages cm JOIN messages m ON m.id = cm.message \
         WHERE cm.case_id = ?1 AND m.arrived_at <= ?2 ORDER BY m.arrived_at",
    )?;
    let ids = stmt.query_map(params![case, at], |r| r.get(0))?.collect::<Result<_, _>>()?;
    Ok(ids)
}

/// Finds the case someone means: a case id (or a unique prefix of one, at least 4
/// characters), a message id, or a draft id.
pub fn resolve(conn: &Connection, id: &str) -> Result<String> {
    let id = id.trim();
    if conn.query_row("SELECT EXISTS(SELECT 1 FROM cases WHERE id = ?1)", [id], |r| r.get::<_, bool>(0))? {
        return Ok(id.to_string());
    }
    if let Some(c) = case_of_message(conn, id)? {
        return Ok(c);
    }
    let draft_message: Option<String> =
        conn.query_row("SELECT message FROM drafts WHERE id = ?1", [id], |r| r.get(0)).optional()?;
    if let Some(m) = draft_message {
        if let Some(c) = case_of_message(conn, &m)? {
            return Ok(c);
        }
        bail!("draft {id} belongs to message {m}, which is in no case");
    }
    if id.len() >= 4 && id.starts_with('c') {
        let mut stmt = conn.prepare("SELECT id FROM cases WHERE id >= ?1 AND id < ?1 || 'g' ORDER BY id LIMIT 2")?;
        let found: Vec<String> = stmt.query_map([id], |r| r.get(0))?.collect::<Result<_, _>>()?;
        match found.as_slice() {
            [one] => return Ok(one.clone()),
            [_, _] => bail!("{id} matches several cases; give more of the id"),
            _ => {}
        }
    }
    bail!("no case, message or draft with id {id} (see `mailroom cases`)")
}

/// A case's new owner.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Assignment {
    pub case: String,
    pub owner: Option<String>,
    pub previous: Option<String>,
}

/// Gives a case an owner (an agent's name); an empty name clears it.
pub fn assign(conn: &Connection, id: &str, owner: &str, actor: &str, run_id: Option<i64>) -> Result<Assignment> {
    let case = resolve(conn, id)?;
    let owner: String = owner.chars().filter(|c| !c.is_control()).take(64).collect::<String>().trim().to_string();
    let owner = Some(owner).filter(|o| !o.is_empty());
    let previous: Option<String> = conn.query_row("SELECT owner FROM cases WHERE id = ?1", [&case], |r| r.get(0))?;
    conn.execute("UPDATE cases SET owner = ?2, updated_at = ?3 WHERE id = ?1", params![case, owner, now()])?;
    insert_event(
        conn,
        &Event::new("case.assigned", "ok")
            .run(run_id)
            .actor(actor)
            .detail(json!({"case": case, "owner": owner, "previous": previous})),
    )?;
    Ok(Assignment { case, owner, previous })
}

/// What a draft of `message` should know from its case, or `None` when the message is the
/// team's own (a reply read back from the Sent folder): there is nothing to answer.
pub fn draft_context(conn: &Connection, message: &str) -> Result<Option<CaseContext>> {
    match role_of(conn, message)? {
        Some(Role::Team | Role::Ours) => Ok(None),
        _ => Ok(Some(context(conn, message)?)),
    }
}

/// What earlier customer messages of the message's case already told us: their texts,
/// attachments and entities (an order number given in an earlier answer, say), and the
/// case's category. Empty when the message is in no case or is the first.
pub fn context(conn: &Connection, message: &str) -> Result<CaseContext> {
    let mut ctx = CaseContext::default();
    let Some(case) = case_of_message(conn, message)? else { return Ok(ctx) };
    let mut stmt = conn.prepare_cached(
        "SELECT m.record_json, (SELECT s.summary FROM stage_results s WHERE s.message = m.id AND s.stage = 'triage' \
                                ORDER BY s.version DESC LIMIT 1) \
         FROM case_messages cm JOIN messages m ON m.id = cm.message \
         WHERE cm.case_id = ?1 AND cm.role = 'customer' AND cm.message <> ?2 \
         AND m.arrived_at <= (SELECT arrived_at FROM messages WHERE id = ?2) ORDER BY m.arrived_at",
    )?;
    let rows: Vec<(String, Option<String>)> =
        stmt.query_map(params![case, message], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
    let mut found = Entities::default();
    let mut attachments: Vec<Attachment> = Vec::new();
    for (json, category) in rows {
        let Ok(r) = serde_json::from_str::<Record>(&json) else { continue };
        let text = format!("{}\n{}", r.subject, r.best_text());
        merge_entities(&mut found, entities::extract(&text));
        attachments.extend(r.attachments);
        ctx.texts.push(text);
        if let Some(c) = category.filter(|c| c != "other") {
            ctx.category = Some(c);
        }
    }
    if let Some(category) = asked_about(conn, &case, message)? {
        ctx.answers_request = true;
        ctx.category = category.or(ctx.category);
    }
    ctx.case = Some(case);
    ctx.entities = found;
    ctx.attachments = attachments;
    Ok(ctx)
}

/// The category `context` would give, without reading the case's messages (classify needs
/// only this, for every reply: a case of many messages made the whole context its main cost).
pub fn category_before(conn: &Connection, message: &str) -> Result<Option<String>> {
    let Some(case) = case_of_message(conn, message)? else { return Ok(None) };
    let latest: Option<String> = conn
        .prepare_cached(
            "SELECT s.summary FROM case_messages cm JOIN messages m ON m.id = cm.message \
             JOIN stage_results s ON s.message = m.id AND s.stage = 'triage' \
             AND s.version = (SELECT MAX(version) FROM stage_results x WHERE x.message = m.id AND x.stage = 'triage') \
             WHERE cm.case_id = ?1 AND cm.role = 'customer' AND cm.message <> ?2 AND s.summary <> 'other' \
             AND m.arrived_at <= (SELECT arrived_at FROM messages WHERE id = ?2) ORDER BY m.arrived_at DESC LIMIT 1",
        )?
        .query_row(params![case, message], |r| r.get(0))
        .optional()?;
    Ok(match asked_about(conn, &case, message)? {
        Some(category) => category.or(latest),
        None => latest,
    })
}

/// When `message` answers our request for information: the category of what we asked about
/// (our latest sent reply of the case; `Some(None)` when it had none).
fn asked_about(conn: &Connection, case: &str, message: &str) -> Result<Option<Option<String>>> {
    Ok(conn
        .prepare_cached(
            "SELECT (SELECT d.category FROM case_messages cm JOIN drafts d ON d.message = cm.message \
                     WHERE cm.case_id = ?2 AND d.state = 'sent' ORDER BY d.sent_at DESC LIMIT 1) \
             FROM events WHERE message = ?1 AND kind = 'case.state' \
             AND json_extract(detail_json, '$.from') = 'waiting_customer' \
             AND json_extract(detail_json, '$.cause') = 'customer' LIMIT 1",
        )?
        .query_row(params![message, case], |r| r.get(0))
        .optional()?)
}

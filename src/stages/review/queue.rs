//! What a reviewer sees: the queue of drafts and the full story of one.

use anyhow::{Result, bail};
use rusqlite::OptionalExtension;
use serde::Serialize;

use crate::ledger::events::StoredEvent;
use crate::ledger::{DraftRow, DraftState, Ledger};
use crate::record::Record;

/// One line of the review queue.
#[derive(Debug, Clone, Serialize)]
pub struct QueueItem {
    pub draft: String,
    pub message: String,
    pub state: DraftState,
    pub priority: Option<String>,
    pub category: Option<String>,
    pub risk: String,
    pub from: String,
    /// The customer's subject.
    pub subject: String,
    /// When the customer wrote (the Date header, else when we fetched it).
    pub received: String,
    pub missing_info: Vec<String>,
}

/// Rank of a priority for sorting: P1 first, unknown last.
fn priority_rank(p: Option<&str>) -> u8 {
    match p {
        Some("P1") => 1,
        Some("P2") => 2,
        Some("P3") => 3,
        Some("P4") => 4,
        _ => 9,
    }
}

/// Drafts in `states` (pending when empty), most urgent first: by priority, then oldest first.
pub fn list(ledger: &Ledger, states: &[DraftState]) -> Result<Vec<QueueItem>> {
    let states = if states.is_empty() { &[DraftState::Pending][..] } else { states };
    let mut items = Vec::new();
    for d in ledger.drafts_in(states)? {
        let (from, received, subject) = message_summary(ledger, &d.message)?;
        items.push(QueueItem {
            missing_info: missing_info(&d),
            draft: d.id,
            message: d.message,
            state: d.state,
            priority: d.priority,
            category: d.category,
            risk: d.risk,
            from,
            subject: subject.unwrap_or(d.subject),
            received,
        });
    }
    items.sort_by(|a, b| {
        priority_rank(a.priority.as_deref())
            .cmp(&priority_rank(b.priority.as_deref()))
            .then_with(|| a.received.cmp(&b.received))
            .then_with(|| a.draft.cmp(&b.draft))
    });
    Ok(items)
}

/// Sender (as "Name <address>"), received time and subject of a message.
fn message_summary(ledger: &Ledger, message: &str) -> Result<(String, String, Option<String>)> {
    let row: Option<(Option<String>, String)> = ledger
        .conn()
        .query_row(
            "SELECT date_utc, fetched_at FROM messages WHERE id = ?1",
            [message],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let received = row.map(|(date, fetched)| date.unwrap_or(fetched)).unwrap_or_default();
    let record = ledger.base_record(message)?;
    let from = record.as_ref().map(sender).unwrap_or_default();
    Ok((from, received, record.map(|r| r.subject)))
}

/// "Name <address>", or the address alone.
pub fn sender(r: &Record) -> String {
    match &r.from {
        Some(a) => match a.name.as_deref().filter(|n| !n.trim().is_empty()) {
            Some(name) => format!("{name} <{}>", a.address),
            None => a.address.clone(),
        },
        None => String::new(),
    }
}

/// The missing-information checklist of a draft, for people.
pub fn missing_info(d: &DraftRow) -> Vec<String> {
    checklist_labels(&string_list(&d.draft_json, "missing_info"))
}

/// Checklist keys as people read them: `order_number` → "order number".
pub fn checklist_labels(keys: &[String]) -> Vec<String> {
    keys.iter().map(|k| k.replace('_', " ")).collect()
}

fn string_list(v: &serde_json::Value, key: &str) -> Vec<String> {
    v.get(key)
        .and_then(|x| x.as_array())
        .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

/// Everything about one draft: the message, the draft, why, and what happened so far.
#[derive(Debug, Clone, Serialize)]
pub struct Detail {
    pub draft: DraftRow,
    /// The message with its current stage results.
    pub record: Option<Record>,
    pub from: String,
    pub received: String,
    pub checklist: Vec<String>,
    /// Why the message was sorted and drafted as it was (filter, triage and draft reasons).
    pub reasons: Vec<String>,
    /// Knowledge files the draft is grounded in.
    pub sources: Vec<String>,
    pub history: Vec<StoredEvent>,
}

/// Finds the draft a reviewer means: a draft id, or a message id (its newest draft).
pub fn resolve(ledger: &Ledger, id: &str) -> Result<DraftRow> {
    if let Some(d) = ledger.draft(id)? {
        return Ok(d);
    }
    if let Some(d) = ledger.latest_draft_for(id)? {
        return Ok(d);
    }
    if ledger.has_message(id)? {
        bail!("message {id} has no draft yet (run `mailroom draft` on it first)");
    }
    bail!("no draft or message with id {id}")
}

/// The full story of the draft `id` (a draft or message id).
pub fn detail(ledger: &Ledger, id: &str) -> Result<Detail> {
    let draft = resolve(ledger, id)?;
    let record = ledger.current_record(&draft.message)?;
    let (from, received, _) = message_summary(ledger, &draft.message)?;
    let mut reasons = Vec::new();
    if let Some(r) = &record {
        if let Some(f) = &r.filter {
            reasons.extend(f.reasons.iter().map(|x| format!("filter: {x}")));
        }
        if let Some(t) = &r.triage {
            reasons.extend(t.reasons.iter().map(|x| format!("triage: {x}")));
        }
    }
    reasons.extend(string_list(&draft.draft_json, "reasons").into_iter().map(|x| format!("draft: {x}")));
    reasons.extend(string_list(&draft.draft_json, "risk_reasons").into_iter().map(|x| format!("risk: {x}")));
    Ok(Detail {
        checklist: missing_info(&draft),
        sources: string_list(&draft.draft_json, "sources"),
        history: ledger.events_for_message(&draft.message)?,
        reasons,
        record,
        from,
        received,
        draft,
    })
}

/// Whole hours between an RFC 3339 time and now, for "waiting 5h" labels.
pub fn age_hours(rfc3339: &str) -> Option<i64> {
    let t = chrono::DateTime::parse_from_rfc3339(rfc3339).ok()?;
    Some((chrono::Utc::now() - t.with_timezone(&chrono::Utc)).num_hours().max(0))
}

/// "3d 4h", "5h", "just now": how long the customer has been waiting.
pub fn age_label(rfc3339: &str) -> String {
    match age_hours(rfc3339) {
        None => "?".into(),
        Some(0) => "<1h".into(),
        Some(h) if h < 48 => format!("{h}h"),
        Some(h) => format!("{}d {}h", h / 24, h % 24),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checklist_keys_read_as_words_and_ages_as_hours() {
        assert_eq!(checklist_labels(&["order_number".into(), "photos".into()]), ["order number", "photos"]);
        let three_days_ago = (chrono::Utc::now() - chrono::Duration::hours(74)).to_rfc3339();
        assert_eq!(age_label(&three_days_ago), "3d 2h");
        assert_eq!(age_label(&chrono::Utc::now().to_rfc3339()), "<1h");
        assert_eq!(age_label("not a time"), "?");
        assert_eq!(priority_rank(Some("P1")), 1);
        assert!(priority_rank(None) > priority_rank(Some("P4")));
    }
}

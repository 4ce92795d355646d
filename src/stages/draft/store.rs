//! Storing a draft: the `drafts` row (pending), the versioned stage result, the events.
//!
//! Draft ids are content-addressed per message (`draft_id`), which gives these rules:
//! - the same draft again (a rerun, unchanged inputs): nothing new is stored;
//! - a changed draft while the message's earlier draft is still pending and untouched: the
//!   new draft is stored and the old one becomes `rejected` by `mailroom-draft` with the reason
//!   "superseded by <id>", so reviewers see one pending draft per message;
//! - a changed draft while a human already acted on the earlier one (approved, sending, sent,
//!   failed, handled, or an edited pending draft): nothing new is stored and the stored draft
//!   is kept; the record carries the stored draft. Rejected drafts never block a new one.
//!
//! Everything for one record happens in one transaction (a savepoint, inside a batch).

use anyhow::Result;
use serde_json::json;

use super::Drafted;
use crate::ledger::drafts::{NewDraft, drafts_for_message, insert_draft, transition};
use crate::ledger::events::insert as insert_event;
use crate::ledger::results::{NewResult, Stage, add_result};
use crate::ledger::{DraftRow, DraftState, Ledger};
use crate::record::{DraftResult, Record};

/// The actor recorded when this stage supersedes its own pending draft.
pub const ACTOR: &str = "mailroom-draft";

#[derive(Debug, Clone, PartialEq)]
pub enum Stored {
    /// A new pending draft (possibly superseding `superseded`).
    New { superseded: Vec<String> },
    /// The same draft was already stored.
    Unchanged,
    /// A human already acted on this message's draft; it is kept and returned.
    Kept(Box<DraftResult>, DraftState),
}

/// Stores `drafted` for `record`, returns what happened.
pub fn store(ledger: &mut Ledger, record: &Record, drafted: &Drafted, run_id: Option<i64>) -> Result<Stored> {
    let d = &drafted.draft;
    let draft_json = serde_json::to_value(d)?;
    let triage = record.triage.as_ref();
    ledger.write(|tx| {
        for e in &drafted.events {
            let mut e = e.clone();
            e.run_id = run_id;
            insert_event(tx, &e)?;
        }
        let existing = drafts_for_message(tx, &record.id)?;
        if existing.iter().any(|x| x.id == d.id) {
            return Ok(Stored::Unchanged);
        }
        if let Some(kept) = existing.iter().rev().find(|x| human_touched(x)) {
            return Ok(Stored::Kept(Box::new(as_result(kept)), kept.state));
        }
        let mut superseded = Vec::new();
        for old in existing.iter().filter(|x| x.state == DraftState::Pending) {
            transition(tx, &old.id, DraftState::Rejected, ACTOR, Some(&format!("superseded by {}", d.id)), run_id)?;
            superseded.push(old.id.clone());
        }
        insert_draft(
            tx,
            &NewDraft {
                id: &d.id,
                message: &record.id,
                subject: &d.subject,
                body: &d.body,
                risk: &d.risk,
                category: Some(&drafted.category),
                priority: triage.map(|t| t.priority.as_str()),
                confidence: triage.map(|t| t.confidence),
                draft_json: &draft_json,
            },
            run_id,
        )?;
        crate::stages::cases::draft_changed(tx, &d.id, run_id)?;
        add_result(
            tx,
            &NewResult {
                message: &record.id,
                stage: Stage::Draft,
                summary: &d.id,
                backend: &d.backend,
                model: &d.model,
                prompt_version: d.extra.get("prompt_version").and_then(|v| v.as_str()).unwrap_or(""),
                result: &draft_json,
                run_id,
            },
        )?;
        if !superseded.is_empty() {
            insert_event(
                tx,
                &crate::ledger::Event::new("draft.superseded", "ok")
                    .run(run_id)
                    .message(record.id.clone())
                    .draft(d.id.clone())
                    .actor(ACTOR)
                    .detail(json!({"superseded": superseded})),
            )?;
        }
        Ok(Stored::New { superseded })
    })
}

/// A human acted on this draft: decided it, or edited it while pending.
fn human_touched(d: &DraftRow) -> bool {
    match d.state {
        DraftState::Rejected => false,
        DraftState::Pending => {
            d.draft_json.get("body").and_then(|v| v.as_str()) != Some(d.body.as_str())
                || d.draft_json.get("subject").and_then(|v| v.as_str()) != Some(d.subject.as_str())
        }
        _ => true,
    }
}

/// The stored draft as a record's `draft`, with its current text and state.
fn as_result(row: &DraftRow) -> DraftResult {
    let mut r: DraftResult = serde_json::from_value(row.draft_json.clone()).unwrap_or_else(|_| DraftResult {
        id: row.id.clone(),
        subject: String::new(),
        body: String::new(),
        missing_info: Vec::new(),
        risk: row.risk.clone(),
        review_required: true,
        backend: String::new(),
        model: String::new(),
        sources: Vec::new(),
        extra: Default::default(),
    });
    r.id = row.id.clone();
    r.subject = row.subject.clone();
    r.body = row.body.clone();
    r.extra.insert("state".into(), json!(row.state.as_str()));
    r
}

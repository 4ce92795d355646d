//! The review decisions. The terminal flow, the scriptable forms and the web page all call
//! these, so every path leaves the ledger in the same states with the same events.

use anyhow::{Result, bail};
use serde::Serialize;

use crate::config::Config;
use crate::ledger::drafts::transition;
use crate::ledger::results::{NewResult, Stage, add_result};
use crate::ledger::{DraftState, Event, Ledger, now};

use super::queue::resolve;

/// One decision, as written to stdout by the scriptable forms (one JSON line each).
#[derive(Debug, Clone, Serialize)]
pub struct Decision {
    pub v: u32,
    /// approve | edit | reject | handle | recategorize
    pub action: &'static str,
    pub draft: String,
    pub message: String,
    /// The draft's state after the decision.
    pub state: DraftState,
    /// The draft's state before it.
    pub previous: DraftState,
    pub actor: String,
    pub at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// For approvals: `sent`, `queued` (the send timer takes it), or `send_failed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Decision {
    fn new(action: &'static str, draft: &str, message: &str, previous: DraftState, state: DraftState, actor: &str) -> Self {
        Decision {
            v: 1,
            action,
            draft: draft.into(),
            message: message.into(),
            state,
            previous,
            actor: actor.into(),
            at: now(),
            reason: None,
            category: None,
            delivery: None,
            note: None,
        }
    }
}

/// A name fit for the ledger: trimmed, no control characters, at most 64 characters.
pub fn clean_actor(name: &str) -> Option<String> {
    let cleaned: String = name.chars().filter(|c| !c.is_control()).take(64).collect();
    let cleaned = cleaned.trim().to_string();
    (!cleaned.is_empty()).then_some(cleaned)
}

fn move_draft(
    ledger: &mut Ledger,
    action: &'static str,
    id: &str,
    to: DraftState,
    actor: &str,
    reason: Option<&str>,
    run_id: Option<i64>,
) -> Result<Decision> {
    let draft = resolve(ledger, id)?;
    let previous = ledger.write(|tx| {
        let previous = transition(tx, &draft.id, to, actor, reason, run_id)?;
        crate::stages::cases::draft_changed(tx, &draft.id, run_id)?;
        // Terminal, scripts and web page all decide here: a shadowed draft's agreement too.
        crate::stages::send::shadow::record_agreement(tx, &draft.id, run_id)?;
        Ok(previous)
    })?;
    let mut d = Decision::new(action, &draft.id, &draft.message, previous, to, actor);
    d.reason = reason.map(str::to_string);
    Ok(d)
}

/// Approves a pending draft (it waits in `approved` until sent), or a failed one again (a
/// human retries the send). Anything else is refused, so a double click approves once.
pub fn approve(ledger: &mut Ledger, id: &str, actor: &str, run_id: Option<i64>) -> Result<Decision> {
    let draft = resolve(ledger, id)?;
    if draft.state != DraftState::Pending && draft.state != DraftState::Failed {
        bail!("draft {} is {}, only pending (or failed) drafts can be approved", draft.id, draft.state.as_str());
    }
    move_draft(ledger, "approve", &draft.id, DraftState::Approved, actor, None, run_id)
}

/// Rejects a draft: nobody will send it. A reason is required (it teaches the drafter).
pub fn reject(ledger: &mut Ledger, id: &str, actor: &str, reason: &str, run_id: Option<i64>) -> Result<Decision> {
    let reason = reason.trim();
    if reason.is_empty() {
        bail!("a rejection needs a reason");
    }
    move_draft(ledger, "reject", id, DraftState::Rejected, actor, Some(reason), run_id)
}

/// Marks a message handled: someone answered another way (phone, another thread).
pub fn handle(ledger: &mut Ledger, id: &str, actor: &str, note: Option<&str>, run_id: Option<i64>) -> Result<Decision> {
    let note = note.map(str::trim).filter(|n| !n.is_empty());
    move_draft(ledger, "handle", id, DraftState::Handled, actor, note, run_id)
}

/// Replaces the draft's text. Line endings are normalized to `\n`. Returns `None` when the
/// text did not change (nothing is recorded then).
pub fn edit(ledger: &mut Ledger, id: &str, subject: Option<&str>, body: &str, actor: &str) -> Result<Option<Decision>> {
    let draft = resolve(ledger, id)?;
    let body = normalize_text(body);
    let subject = subject.map(|s| s.replace(['\r', '\n'], " ").trim().to_string()).unwrap_or(draft.subject.clone());
    if subject.is_empty() {
        bail!("the subject cannot be empty");
    }
    if body.trim().is_empty() {
        bail!("the reply cannot be empty (reject the draft or mark the message handled instead)");
    }
    if body == draft.body && subject == draft.subject {
        return Ok(None);
    }
    ledger.edit_draft(&draft.id, &subject, &body, actor)?;
    Ok(Some(Decision::new("edit", &draft.id, &draft.message, draft.state, draft.state, actor)))
}

/// `\r\n` and `\r` to `\n`, trailing blank space on the whole text removed, one final newline.
pub fn normalize_text(s: &str) -> String {
    let unix = s.replace("\r\n", "\n").replace('\r', "\n");
    format!("{}\n", unix.trim_end())
}

/// The category names a team may use: its own taxonomy, or the default one.
pub fn known_categories(config: &Config) -> Vec<String> {
    if config.classify.categories.is_empty() {
        crate::stages::review::DEFAULT_CATEGORIES.iter().map(|s| s.to_string()).collect()
    } else {
        config.classify.categories.iter().map(|c| c.name.clone()).collect()
    }
}

/// Gives a message a new category: a training label for classify, a new triage version
/// (the latest is current), and the category shown on its drafts.
pub fn recategorize(
    ledger: &mut Ledger,
    config: &Config,
    id: &str,
    category: &str,
    actor: &str,
    run_id: Option<i64>,
) -> Result<Decision> {
    let known = known_categories(config);
    if !known.iter().any(|k| k == category) {
        bail!("unknown category \"{category}\"; known: {}", known.join(", "));
    }
    let draft = resolve(ledger, id)?;
    let message = draft.message.clone();
    let mut triage = ledger.current_result(&message, Stage::Triage)?.unwrap_or_else(|| serde_json::json!({}));
    let old = triage.get("category").and_then(|c| c.as_str()).map(str::to_string);
    if let Some(obj) = triage.as_object_mut() {
        obj.insert("category".into(), category.into());
        obj.insert("confidence".into(), 1.0.into());
        obj.insert("backend".into(), "human".into());
        obj.insert("model".into(), actor.into());
        for (key, default) in [("priority", "P3"), ("sentiment", "neutral"), ("language", "en")] {
            obj.entry(key).or_insert(default.into());
        }
        let reasons = obj.entry("reasons").or_insert(serde_json::json!([]));
        if let Some(list) = reasons.as_array_mut() {
            list.push(format!("recategorized by {actor} (was {})", old.as_deref().unwrap_or("none")).into());
        }
    }
    ledger.write(|tx| {
        tx.execute(
            "INSERT INTO labels (message, task, label, source, actor, created_at) \
             VALUES (?1, 'category', ?2, 'recategorize', ?3, ?4)",
            rusqlite::params![message, category, actor, now()],
        )?;
        add_result(
            tx,
            &NewResult {
                message: &message,
                stage: Stage::Triage,
                summary: category,
                backend: "human",
                model: actor,
                prompt_version: "recategorize",
                result: &triage,
                run_id,
            },
        )?;
        tx.execute(
            "UPDATE drafts SET category = ?2, updated_at = ?3 WHERE message = ?1",
            rusqlite::params![message, category, now()],
        )?;
        crate::ledger::events::insert(
            tx,
            &Event::new("triage.recategorized", "ok")
                .run(run_id)
                .message(message.clone())
                .draft(draft.id.clone())
                .actor(actor)
                .detail(serde_json::json!({"from": old, "to": category})),
        )?;
        Ok(())
    })?;
    let mut d = Decision::new("recategorize", &draft.id, &message, draft.state, draft.state, actor);
    d.category = Some(category.to_string());
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::drafts::{NewDraft, insert_draft};
    use crate::ledger::messages::{NewMessage, insert_message};
    use crate::record::Record;

    pub(crate) fn ledger_with_draft() -> Ledger {
        let mut ledger = Ledger::open_in_memory().unwrap();
        let rec = Record::new("m1");
        let json = serde_json::json!({"missing_info": ["order number"]});
        ledger
            .write(|tx| {
                insert_message(tx, &NewMessage { record: &rec, raw: b"x", raw_sha256: "h" }, None)?;
                insert_draft(
                    tx,
                    &NewDraft {
                        id: "d1",
                        message: "m1",
                        subject: "Re: where is my order",
                        body: "Hello\n",
                        risk: "low",
                        category: Some("shipping"),
                        priority: Some("P3"),
                        confidence: Some(0.9),
                        draft_json: &json,
                    },
                    None,
                )
            })
            .unwrap();
        ledger
    }

    #[test]
    fn approve_by_message_id_records_the_actor() {
        let mut l = ledger_with_draft();
        let d = approve(&mut l, "m1", "alice", None).unwrap();
        assert_eq!((d.draft.as_str(), d.previous, d.state), ("d1", DraftState::Pending, DraftState::Approved));
        assert_eq!(l.draft("d1").unwrap().unwrap().decided_by.as_deref(), Some("alice"));
        assert!(approve(&mut l, "d1", "bob", None).is_err(), "approving twice must fail");
    }

    #[test]
    fn reject_needs_a_reason_and_is_final() {
        let mut l = ledger_with_draft();
        assert!(reject(&mut l, "d1", "a", "  ", None).is_err());
        let d = reject(&mut l, "d1", "a", "wrong tone", None).unwrap();
        assert_eq!(d.reason.as_deref(), Some("wrong tone"));
        assert!(approve(&mut l, "d1", "a", None).is_err());
        assert!(edit(&mut l, "d1", None, "new", "a").is_err());
    }

    #[test]
    fn edit_normalizes_and_skips_no_op_edits() {
        let mut l = ledger_with_draft();
        assert!(edit(&mut l, "d1", None, "Hello\r\n\r\n", "a").unwrap().is_none());
        let d = edit(&mut l, "d1", None, "Hi there\r\nBye", "a").unwrap().unwrap();
        assert_eq!(d.action, "edit");
        assert_eq!(l.draft("d1").unwrap().unwrap().body, "Hi there\nBye\n");
        assert!(edit(&mut l, "d1", None, " \n", "a").is_err());
    }

    #[test]
    fn recategorize_labels_and_adds_a_triage_version() {
        let mut l = ledger_with_draft();
        let config = Config::default();
        assert!(recategorize(&mut l, &config, "d1", "nonsense", "a", None).is_err());
        recategorize(&mut l, &config, "d1", "refund", "alice", None).unwrap();
        let triage = l.current_result("m1", Stage::Triage).unwrap().unwrap();
        assert_eq!(triage["category"], "refund");
        assert_eq!(triage["backend"], "human");
        let label: (String, String, String) = l
            .conn()
            .query_row("SELECT task, label, source FROM labels WHERE message = 'm1'", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .unwrap();
        assert_eq!(label, ("category".into(), "refund".into(), "recategorize".into()));
        assert_eq!(l.draft("d1").unwrap().unwrap().category.as_deref(), Some("refund"));
        let rec = l.current_record("m1").unwrap().unwrap();
        assert_eq!(rec.triage.unwrap().category, "refund", "the new triage must parse as a record's triage");
    }

    #[test]
    fn actor_names_are_cleaned() {
        assert_eq!(clean_actor("  alice\u{7}\n ").as_deref(), Some("alice"));
        assert_eq!(clean_actor(" \t"), None);
        assert_eq!(clean_actor(&"x".repeat(100)).unwrap().len(), 64);
    }
}

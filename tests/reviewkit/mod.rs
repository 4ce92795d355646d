//! Drafts to review, for the review and notify tests: real messages parsed from RFC 822 text
//! and stored through the library, with a triage result and a pending draft, as the classify
//! and draft stages would leave them.
#![allow(dead_code)]

use std::path::Path;

use mailroom::ledger::Ledger;
use mailroom::ledger::drafts::{NewDraft, insert_draft};
use mailroom::ledger::messages::{NewMessage, insert_message};
use mailroom::ledger::results::{NewResult, Stage, add_result};
use mailroom::mail::parse::parse_message;
use serde_json::json;

/// One message with its draft.
pub struct Seed<'a> {
    pub from: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
    pub date: &'a str,
    pub category: &'a str,
    pub priority: &'a str,
    pub risk: &'a str,
    pub reply: &'a str,
    pub missing: &'a [&'a str],
}

impl Default for Seed<'_> {
    fn default() -> Self {
        Seed {
            from: "Jane Doe <jane@example.com>",
            subject: "Where is my order?",
            body: "Hi, my order 12345 has not arrived yet. Can you check?",
            date: "Mon, 16 Nov 2026 09:00:00 +0000",
            category: "shipping",
            priority: "P3",
            risk: "low",
            reply: "Hello Jane,\n\nYour parcel is on its way.\n\nBest regards,\nThe Support Team\n",
            missing: &[],
        }
    }
}

/// The ids of a stored seed.
#[derive(Debug, Clone)]
pub struct Seeded {
    pub message: String,
    pub draft: String,
}

/// Stores `seed` in the ledger at `path` as a pending draft.
pub fn seed(path: &Path, seed: &Seed<'_>) -> Seeded {
    let raw = format!(
        "From: {}\r\nTo: support@shop.example\r\nSubject: {}\r\nDate: {}\r\nMessage-ID: <{}@example.com>\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n{}\r\n",
        seed.from,
        seed.subject,
        seed.date,
        seed.subject.len() * 7919 + seed.body.len(),
        seed.body
    );
    let parsed = parse_message(raw.as_bytes(), "files", "INBOX", 1 << 20);
    let message = parsed.record.id.clone();
    let draft_id = format!("d{}", &message[1..13]);
    let triage = json!({
        "category": seed.category, "priority": seed.priority, "sentiment": "neutral", "language": "en",
        "confidence": 0.8, "escalate": false, "reasons": [format!("keywords point to {}", seed.category)],
        "entities": {"order_ids": ["12345"]}, "backend": "embedded", "model": "test",
    });
    let draft = json!({
        "id": draft_id, "subject": format!("Re: {}", seed.subject), "body": seed.reply,
        "missing_info": seed.missing, "risk": seed.risk, "review_required": true,
        "backend": "template", "model": "test", "sources": ["knowledge/shipping.md"],
    });
    let mut ledger = Ledger::open(path).expect("open ledger");
    ledger
        .write(|tx| {
            insert_message(
                tx,
                &NewMessage { record: &parsed.record, raw: raw.as_bytes(), raw_sha256: &parsed.raw_sha256 },
                None,
            )?;
            for (stage, summary, value) in [(Stage::Triage, seed.category, &triage), (Stage::Draft, draft_id.as_str(), &draft)] {
                add_result(
                    tx,
                    &NewResult {
                        message: &message,
                        stage,
                        summary,
                        backend: "test",
                        model: "test",
                        prompt_version: "1",
                        result: value,
                        run_id: None,
                    },
                )?;
            }
            insert_draft(
                tx,
                &NewDraft {
                    id: &draft_id,
                    message: &message,
                    subject: &format!("Re: {}", seed.subject),
                    body: seed.reply,
                    risk: seed.risk,
                    category: Some(seed.category),
                    priority: Some(seed.priority),
                    confidence: Some(0.8),
                    draft_json: &draft,
                },
                None,
            )?;
            Ok(())
        })
        .expect("seed draft");
    Seeded { message, draft: draft_id }
}

/// State, actor and reason of a draft.
pub fn draft_state(path: &Path, draft: &str) -> (String, Option<String>, Option<String>, String) {
    let conn = rusqlite::Connection::open(path).expect("open ledger");
    conn.query_row(
        "SELECT state, decided_by, decision_reason, body FROM drafts WHERE id = ?1",
        [draft],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )
    .expect("draft row")
}

/// Kinds and actors of a draft's events, oldest first.
pub fn draft_events(path: &Path, draft: &str) -> Vec<(String, Option<String>)> {
    let conn = rusqlite::Connection::open(path).expect("open ledger");
    let mut stmt = conn.prepare("SELECT kind, actor FROM events WHERE draft = ?1 ORDER BY id").unwrap();
    stmt.query_map([draft], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().collect::<Result<_, _>>().unwrap()
}

//! The filter's use of the ledger: what the rules ask (`History`), and what the stage
//! records — verdicts as versioned stage results, human decisions as training labels.

use anyhow::{Result, bail};
use rusqlite::{OptionalExtension, params};
use serde_json::json;

use super::{EarlierCopy, History, HumanDecision};
use crate::ledger::events::{self, Event};
use crate::ledger::messages::{NewMessage, insert_message};
use crate::ledger::results::{NewResult, Stage, add_result};
use crate::ledger::{Ledger, now};
use crate::mail::parse::sha256_hex;
use crate::record::{FilterResult, Record, Verdict};

/// Label task and values in the `labels` table.
pub const TASK: &str = "spam";
pub const HAM: &str = "ham";
pub const SPAM: &str = "spam";

/// Marks a raw source rebuilt from a JSONL record.
pub const REBUILT_HEADER: &str = "X-Mailroom-Rebuilt";

/// How a person corrected or confirmed the filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Correction {
    /// A wrongly dropped message goes back into the pipeline: not spam.
    Rescue,
    /// The current verdict is right.
    Confirm,
    /// A message that got through is spam.
    MarkSpam,
}

impl Correction {
    pub fn source(self) -> &'static str {
        match self {
            Correction::Rescue => "rescue",
            Correction::Confirm => "confirm",
            Correction::MarkSpam => "mark-spam",
        }
    }
}

fn strip_angles(s: &str) -> &str {
    s.trim().trim_start_matches('<').trim_end_matches('>')
}

impl History for Ledger {
    fn human_decision(&self, id: &str) -> Result<Option<HumanDecision>> {
        let row: Option<(String, String, Option<String>, String)> = self
            .conn()
            .prepare_cached(
                // ORs, not IN: SQLite would build a temporary table for the list on every call.
                "SELECT label, source, actor, created_at FROM labels WHERE message = ?1 AND task = ?2 \
                 AND (source = 'rescue' OR source = 'confirm' OR source = 'mark-spam') ORDER BY id DESC LIMIT 1",
            )?
            .query_row(params![id, TASK], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .optional()?;
        Ok(row.map(|(label, source, actor, at)| HumanDecision {
            verdict: if label == SPAM { Verdict::Spam } else { Verdict::Pass },
            actor: actor.unwrap_or_else(|| "someone".into()),
            source,
            at,
        }))
    }

    fn earlier_copy(&self, message_id: &str, id: &str) -> Result<Option<EarlierCopy>> {
        let ids = self.ids_with_message_id(strip_angles(message_id))?;
        let Some(first) = ids.into_iter().next().filter(|first| first != id) else { return Ok(None) };
        let (from, subject): (Option<String>, Option<String>) = self
            .conn()
            .prepare_cached("SELECT from_addr, subject FROM messages WHERE id = ?1")?
            .query_row([&first], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(Some(EarlierCopy { id: first, from: from.unwrap_or_default(), subject: subject.unwrap_or_default() }))
    }

    fn our_sent_message(&self, message_ids: &[&str]) -> Result<Option<String>> {
        // Two lookups, not IN (?1, ?2): SQLite would build a temporary table for the list.
        let mut stmt = self.conn().prepare_cached(
            "SELECT EXISTS(SELECT 1 FROM drafts WHERE out_message_id = ?1) \
             OR EXISTS(SELECT 1 FROM drafts WHERE out_message_id = ?2)",
        )?;
        for m in message_ids {
            let bare = strip_angles(m);
            if bare.is_empty() {
                continue;
            }
            if stmt.query_row(params![bare, format!("<{bare}>")], |r| r.get::<_, bool>(0))? {
                return Ok(Some(bare.to_string()));
            }
        }
        Ok(None)
    }

    fn known_correspondent(&self, address: &str) -> Result<bool> {
        // The sender's latest messages only: a sender with thousands of messages (a shop's
        // notification address) would otherwise cost a walk over all of them per message,
        // and every label of the task was scanned for the second test.
        // One pass over them and ORed states rather than `IN (…)`: a CTE read twice and an IN
        // list each made SQLite build a temporary table per call (page faults and kernel time
        // in every message of a filter run).
        Ok(self.conn().prepare_cached(
            "SELECT EXISTS(SELECT 1 FROM \
                 (SELECT id FROM messages WHERE from_addr = ?1 ORDER BY date_utc DESC LIMIT 50) m \
             WHERE EXISTS(SELECT 1 FROM drafts d WHERE d.message = m.id AND (d.state = 'sent' \
                     OR d.state = 'sending' OR d.state = 'approved' OR d.state = 'handled')) \
                 OR EXISTS(SELECT 1 FROM labels l WHERE l.message = m.id AND l.task = ?2 AND l.label = ?3))",
        )?
        .query_row(params![address, TASK, HAM], |r| r.get(0))?)
    }
}

/// Makes sure a record that did not come through `fetch` (hand-made JSONL) is kept, so a
/// dropped one can still be rescued. Its "raw source" is a minimal message rebuilt from the
/// record and marked as such. Returns true when it had to be stored.
pub fn keep_record(ledger: &mut Ledger, record: &Record, run_id: Option<i64>) -> Result<bool> {
    if ledger.has_message(&record.id)? {
        return Ok(false);
    }
    let raw = rebuild_raw(record);
    let sha = sha256_hex(&raw);
    let mut stored = record.clone();
    stored.filter = None;
    stored.triage = None;
    stored.draft = None;
    ledger.write(|tx| insert_message(tx, &NewMessage { record: &stored, raw: &raw, raw_sha256: &sha }, run_id))?;
    Ok(true)
}

fn rebuild_raw(r: &Record) -> Vec<u8> {
    let one_line = |s: &str| s.replace(['\r', '\n'], " ");
    let mut out = format!("{REBUILT_HEADER}: from a JSONL record; the original headers were not available\r\n");
    if let Some(f) = &r.from {
        out += &format!("From: {} <{}>\r\n", one_line(f.name.as_deref().unwrap_or("")), one_line(&f.address));
    }
    if !r.to.is_empty() {
        let to: Vec<String> = r.to.iter().map(|a| format!("<{}>", one_line(&a.address))).collect();
        out += &format!("To: {}\r\n", to.join(", "));
    }
    if let Some(m) = &r.message_id {
        out += &format!("Message-ID: <{}>\r\n", one_line(strip_angles(m)));
    }
    if let Some(d) = &r.date {
        out += &format!("X-Record-Date: {}\r\n", one_line(d));
    }
    out += &format!("Subject: {}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{}\r\n", one_line(&r.subject), r.text);
    out.into_bytes()
}

/// Stores a verdict as the next version of the message's filter result.
pub fn record_verdict(
    ledger: &mut Ledger,
    id: &str,
    result: &FilterResult,
    model: &str,
    run_id: Option<i64>,
) -> Result<i64> {
    let value = serde_json::to_value(result)?;
    ledger.write(|tx| {
        add_result(
            tx,
            &NewResult {
                message: id,
                stage: Stage::Filter,
                summary: result.verdict.as_str(),
                backend: "embedded",
                model,
                prompt_version: super::RULES_VERSION,
                result: &value,
                run_id,
            },
        )
    })
}

/// What a correction did, for the command to report and emit.
pub struct Corrected {
    pub record: Record,
    pub previous: Option<Verdict>,
    pub label: Option<&'static str>,
}

/// Applies a person's correction to message `id`: a new filter result, a training label and
/// an event, all in one transaction.
pub fn correct(ledger: &mut Ledger, id: &str, how: Correction, actor: &str, run_id: Option<i64>) -> Result<Corrected> {
    let Some(mut record) = ledger.current_record(id)? else {
        bail!("no message {id} in the ledger (see `mailroom export` for ids)")
    };
    let previous = record.filter.as_ref().map(|f| f.verdict);
    let was = match &record.filter {
        Some(f) => format!("{} ({})", f.verdict.as_str(), f.reasons.first().map(String::as_str).unwrap_or("no reason")),
        None => "not filtered yet".to_string(),
    };
    let (verdict, label, reason) = match how {
        Correction::Rescue => (Verdict::Pass, Some(HAM), format!("rescued by {actor}; was {was}")),
        Correction::MarkSpam => (Verdict::Spam, Some(SPAM), format!("marked spam by {actor}; was {was}")),
        Correction::Confirm => {
            let Some(v) = previous else { bail!("message {id} has no verdict to confirm; run `mailroom filter` on it first") };
            let label = match v {
                Verdict::Spam => Some(SPAM),
                Verdict::Pass => Some(HAM),
                _ => None,
            };
            (v, label, format!("{} confirmed by {actor}", v.as_str()))
        }
    };
    let mut reasons = vec![reason];
    if how == Correction::Confirm {
        if let Some(f) = &record.filter {
            reasons.extend(f.reasons.iter().cloned());
        }
    }
    let result = FilterResult { verdict, reasons, extra: Default::default() };
    let value = serde_json::to_value(&result)?;
    let at = now();
    ledger.write(|tx| {
        add_result(
            tx,
            &NewResult {
                message: id,
                stage: Stage::Filter,
                summary: verdict.as_str(),
                backend: "human",
                model: actor,
                prompt_version: super::RULES_VERSION,
                result: &value,
                run_id,
            },
        )?;
        // A confirmation of a verdict that is not spam-or-not (bulk, bounce…) teaches the
        // spam model nothing, but it is still a decision worth keeping.
        tx.execute(
            "INSERT INTO labels (message, task, label, source, actor, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![id, if label.is_some() { TASK } else { "filter" }, label.unwrap_or(verdict.as_str()), how.source(), actor, at],
        )?;
        events::insert(
            tx,
            &Event::new(format!("filter.{}", how.source()), "ok")
                .run(run_id)
                .message(id)
                .actor(actor)
                .detail(json!({"from": previous.map(Verdict::as_str), "to": verdict.as_str()})),
        )?;
        Ok(())
    })?;
    record.filter = Some(result);
    Ok(Corrected { record, previous, label })
}

/// Spam labels for training: the latest spam/ham label of each message.
pub fn spam_labels(ledger: &Ledger) -> Result<Vec<(String, String)>> {
    let mut stmt = ledger.conn().prepare(
        "SELECT message, label FROM labels WHERE id IN \
         (SELECT MAX(id) FROM labels WHERE task = ?1 AND message IS NOT NULL GROUP BY message) ORDER BY id",
    )?;
    let rows = stmt.query_map([TASK], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

//! The send side of drafts: the fixed outgoing message and the steps of the exactly-once
//! protocol (see `stages::send` for the protocol itself). Every step is one transaction that
//! moves the state through `drafts::transition` (compare-and-set plus event) and updates the
//! outbox columns with it.

use anyhow::{Result, bail};
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::json;

use super::drafts::{DraftState, transition};
use super::events::{Event, insert as insert_event};
use super::{Ledger, now};

/// Where the SMTP transaction of a `sending` draft got to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendStage {
    /// Claimed, message not transmitted: nothing can have been delivered.
    Claimed,
    /// The message was (being) transmitted: delivered or not, nobody knows yet.
    Data,
}

impl SendStage {
    fn parse(s: &str) -> Option<SendStage> {
        match s {
            "claimed" => Some(SendStage::Claimed),
            "data" => Some(SendStage::Data),
            _ => None,
        }
    }
}

/// The outgoing message of a draft as fixed before its first attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    pub message_id: String,
    pub raw: Vec<u8>,
    /// JSON of `mail::reply::OutEnvelope`.
    pub envelope: String,
    pub account: String,
    pub source_sha256: String,
}

/// The send columns of one draft.
#[derive(Debug, Clone)]
pub struct OutboxRow {
    pub id: String,
    /// Boot id of the machine when the draft was claimed (see `claim`).
    pub claim_boot: Option<String>,
    pub message: String,
    pub state: DraftState,
    pub send_stage: Option<SendStage>,
    pub out_message_id: Option<String>,
    pub out_account: Option<String>,
    pub outgoing: Option<Outgoing>,
    pub attempts: i64,
    pub next_attempt_at: Option<String>,
    pub smtp_response: Option<String>,
    pub copied_at: Option<String>,
    pub answered_at: Option<String>,
    pub decided_by: Option<String>,
    pub updated_at: String,
}

const COLUMNS: &str = "id, message, state, send_stage, out_message_id, out_raw, out_envelope, out_account, \
    out_source_sha256, attempts, next_attempt_at, smtp_response, copied_at, answered_at, decided_by, updated_at, \
    claim_boot";

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<OutboxRow> {
    let state: String = r.get(2)?;
    let stage: Option<String> = r.get(3)?;
    let message_id: Option<String> = r.get(4)?;
    let raw: Option<Vec<u8>> = r.get(5)?;
    let envelope: Option<String> = r.get(6)?;
    let account: Option<String> = r.get(7)?;
    let sha: Option<String> = r.get(8)?;
    let outgoing = match (message_id.clone(), raw, envelope, account.clone(), sha) {
        (Some(message_id), Some(raw), Some(envelope), Some(account), Some(source_sha256)) => {
            Some(Outgoing { message_id, raw, envelope, account, source_sha256 })
        }
        _ => None,
    };
    Ok(OutboxRow {
        id: r.get(0)?,
        message: r.get(1)?,
        state: DraftState::parse(&state).unwrap_or(DraftState::Pending),
        send_stage: stage.as_deref().and_then(SendStage::parse),
        out_message_id: message_id,
        out_account: account,
        outgoing,
        attempts: r.get(9)?,
        next_attempt_at: r.get(10)?,
        smtp_response: r.get(11)?,
        copied_at: r.get(12)?,
        answered_at: r.get(13)?,
        decided_by: r.get(14)?,
        updated_at: r.get(15)?,
        claim_boot: r.get(16)?,
    })
}

pub fn outbox(conn: &Connection, id: &str) -> Result<Option<OutboxRow>> {
    Ok(conn.query_row(&format!("SELECT {COLUMNS} FROM drafts WHERE id = ?1"), [id], from_row).optional()?)
}

fn select(conn: &Connection, filter: &str, args: impl rusqlite::Params) -> Result<Vec<OutboxRow>> {
    let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM drafts WHERE {filter} ORDER BY created_at, id"))?;
    let rows = stmt.query_map(args, from_row)?.collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Facts about one SMTP attempt, for the `smtp.send` event.
pub struct Attempt<'a> {
    pub actor: &'a str,
    pub account: &'a str,
    pub run_id: Option<i64>,
    pub latency_ms: i64,
    /// Code and text as the server said them, or the I/O problem.
    pub response: &'a str,
    pub code: Option<u16>,
}

fn smtp_event(conn: &Connection, draft: &str, message: &str, status: &str, a: &Attempt<'_>, outcome: &str) -> Result<()> {
    insert_event(
        conn,
        &Event::new("smtp.send", status)
            .run(a.run_id)
            .account(a.account)
            .message(message)
            .draft(draft)
            .actor(a.actor)
            .latency_ms(a.latency_ms)
            .detail(json!({"code": a.code, "response": a.response, "outcome": outcome})),
    )?;
    Ok(())
}

fn require(conn: &Connection, id: &str) -> Result<OutboxRow> {
    match outbox(conn, id)? {
        Some(r) => Ok(r),
        None => bail!("no draft with id {id}"),
    }
}

/// The kernel's id of the current boot, if the system has one.
pub fn boot_id() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok().map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// approved → sending with the outgoing message fixed. The Message-ID of an earlier attempt is
/// never replaced: `out.message_id` must equal it.
pub fn claim(conn: &Connection, id: &str, out: &Outgoing, actor: &str, run_id: Option<i64>) -> Result<()> {
    let row = require(conn, id)?;
    if let Some(existing) = &row.out_message_id {
        if existing != &out.message_id {
            bail!("draft {id}: Message-ID {existing} is fixed; refusing to send it as {}", out.message_id);
        }
    }
    transition(conn, id, DraftState::Sending, actor, None, run_id)?;
    conn.execute(
        "UPDATE drafts SET out_message_id = ?2, out_raw = ?3, out_envelope = ?4, out_account = ?5, \
         out_source_sha256 = ?6, send_stage = 'claimed', updated_at = ?7, claim_boot = ?8 WHERE id = ?1",
        params![id, out.message_id, out.raw, out.envelope, out.account, out.source_sha256, now(), boot_id()],
    )?;
    Ok(())
}

/// Marks the point of no return: the message is about to be transmitted. Call it outside a
/// transaction: it is committed with `synchronous = NORMAL` (no fsync), which a killed process
/// cannot lose, so the moment of doubt before the message leaves is microseconds, not a disk
/// flush. A power cut can lose it; `claim_boot` covers that case.
pub fn mark_data(conn: &Connection, id: &str) -> Result<()> {
    let sync: i64 = conn.query_row("PRAGMA synchronous", [], |r| r.get(0))?;
    conn.execute_batch("PRAGMA synchronous = NORMAL")?;
    let result = mark_data_now(conn, id);
    conn.execute_batch(&format!("PRAGMA synchronous = {sync}"))?;
    result
}

fn mark_data_now(conn: &Connection, id: &str) -> Result<()> {
    let n = conn.execute(
        "UPDATE drafts SET send_stage = 'data', updated_at = ?2 WHERE id = ?1 AND state = 'sending' AND send_stage = 'claimed'",
        params![id, now()],
    )?;
    if n != 1 {
        bail!("draft {id} is no longer claimed for sending");
    }
    Ok(())
}

/// sending → sent with the server's acceptance.
pub fn finish_sent(conn: &Connection, id: &str, a: &Attempt<'_>) -> Result<()> {
    let row = require(conn, id)?;
    transition(conn, id, DraftState::Sent, a.actor, None, a.run_id)?;
    conn.execute(
        "UPDATE drafts SET smtp_response = ?2, send_stage = NULL, next_attempt_at = NULL, attempts = attempts + 1 \
         WHERE id = ?1",
        params![id, a.response],
    )?;
    smtp_event(conn, id, &row.message, "ok", a, "sent")
}

/// sending → failed: the server refused for good, or the attempts are used up.
pub fn finish_failed(conn: &Connection, id: &str, a: &Attempt<'_>, reason: &str) -> Result<()> {
    let row = require(conn, id)?;
    transition(conn, id, DraftState::Failed, a.actor, Some(reason), a.run_id)?;
    conn.execute(
        "UPDATE drafts SET smtp_response = ?2, send_stage = NULL, next_attempt_at = NULL, attempts = attempts + 1 \
         WHERE id = ?1",
        params![id, a.response],
    )?;
    smtp_event(conn, id, &row.message, "error", a, "failed")
}

/// sending → approved after a temporary refusal; retried at `next_attempt_at`.
pub fn finish_retry(conn: &Connection, id: &str, a: &Attempt<'_>, next_attempt_at: &str) -> Result<()> {
    let row = require(conn, id)?;
    let reason = format!("temporary failure, retry after {next_attempt_at}");
    transition(conn, id, DraftState::Approved, a.actor, Some(&reason), a.run_id)?;
    conn.execute(
        "UPDATE drafts SET smtp_response = ?2, send_stage = NULL, next_attempt_at = ?3, attempts = attempts + 1 \
         WHERE id = ?1",
        params![id, a.response, next_attempt_at],
    )?;
    smtp_event(conn, id, &row.message, "error", a, "retry")
}

/// The transmission broke off: the draft stays `sending` at stage `data` for reconciliation.
pub fn record_unknown(conn: &Connection, id: &str, a: &Attempt<'_>) -> Result<()> {
    let row = require(conn, id)?;
    conn.execute(
        "UPDATE drafts SET smtp_response = ?2, attempts = attempts + 1 WHERE id = ?1",
        params![id, a.response],
    )?;
    smtp_event(conn, id, &row.message, "error", a, "unknown")
}

/// sending (stage `claimed`) → approved: the attempt ended before the message was sent.
pub fn release_unsent(conn: &Connection, id: &str, actor: &str, reason: &str, run_id: Option<i64>) -> Result<()> {
    let row = require(conn, id)?;
    if row.send_stage == Some(SendStage::Data) {
        bail!("draft {id} may have been transmitted; it cannot simply be released");
    }
    transition(conn, id, DraftState::Approved, actor, Some(reason), run_id)?;
    conn.execute("UPDATE drafts SET send_stage = NULL WHERE id = ?1", [id])?;
    Ok(())
}

/// A reconciliation verdict for an interrupted send whose outcome is unknown: sent (found) or
/// failed (for a human).
pub fn settle_unknown(conn: &Connection, id: &str, sent: bool, evidence: &str, run_id: Option<i64>) -> Result<()> {
    let row = require(conn, id)?;
    if row.state != DraftState::Sending {
        bail!("draft {id} is not an interrupted send any more");
    }
    let to = if sent { DraftState::Sent } else { DraftState::Failed };
    transition(conn, id, to, "reconcile", Some(evidence), run_id)?;
    conn.execute(
        "UPDATE drafts SET send_stage = NULL, next_attempt_at = NULL, smtp_response = ?2 WHERE id = ?1",
        params![id, evidence],
    )?;
    insert_event(
        conn,
        &Event::new("send.reconciled", if sent { "ok" } else { "error" })
            .run(run_id)
            .message(row.message)
            .draft(id)
            .actor("reconcile")
            .detail(json!({"found": sent, "evidence": evidence, "message_id": row.out_message_id})),
    )?;
    Ok(())
}

/// Drafts approved by the auto-send policy since `since` that are queued, in flight or sent:
/// what counts against the daily cap.
pub fn policy_sends_since(conn: &Connection, since: &str) -> Result<i64> {
    Ok(conn.query_row(
        "SELECT COUNT(*) FROM drafts WHERE decided_by = 'policy' AND decided_at >= ?1 \
         AND state IN ('approved', 'sending', 'sent')",
        [since],
        |r| r.get(0),
    )?)
}

impl Ledger {
    pub fn outbox(&self, id: &str) -> Result<Option<OutboxRow>> {
        outbox(&self.conn, id)
    }

    /// Approved drafts whose retry time has come, oldest first.
    pub fn due_drafts(&self, now: &str) -> Result<Vec<OutboxRow>> {
        select(&self.conn, "state = 'approved' AND (next_attempt_at IS NULL OR next_attempt_at <= ?1)", [now])
    }

    /// Drafts left in `sending`.
    pub fn sending_drafts(&self) -> Result<Vec<OutboxRow>> {
        select(&self.conn, "state = 'sending'", [])
    }

    /// Sent drafts whose Sent copy or `\Answered` flag is still to do (sent since `since`).
    pub fn sent_followups(&self, since: &str) -> Result<Vec<OutboxRow>> {
        select(&self.conn, "state = 'sent' AND sent_at >= ?1 AND (copied_at IS NULL OR answered_at IS NULL)", [since])
    }

    /// Stores the Message-ID a draft will be sent with (first caller wins); returns the stored one.
    pub fn reserve_message_id(&self, id: &str, message_id: &str) -> Result<String> {
        self.conn.execute(
            "UPDATE drafts SET out_message_id = ?2 WHERE id = ?1 AND out_message_id IS NULL",
            params![id, message_id],
        )?;
        let stored: Option<String> =
            self.conn.query_row("SELECT out_message_id FROM drafts WHERE id = ?1", [id], |r| r.get(0)).optional()?.flatten();
        match stored {
            Some(s) => Ok(s),
            None => bail!("no draft with id {id}"),
        }
    }

    pub fn mark_copied(&self, id: &str) -> Result<()> {
        self.conn.execute("UPDATE drafts SET copied_at = ?2 WHERE id = ?1", params![id, now()])?;
        Ok(())
    }

    pub fn mark_original_answered(&self, id: &str) -> Result<()> {
        self.conn.execute("UPDATE drafts SET answered_at = ?2 WHERE id = ?1", params![id, now()])?;
        Ok(())
    }

    /// Where `message` was last seen on `account`'s server: (mailbox, uidvalidity, uid).
    pub fn location_of(&self, message: &str, account: &str) -> Result<Option<(String, u32, u32)>> {
        Ok(self
            .conn
            .query_row(
                "SELECT mailbox, uidvalidity, uid FROM locations WHERE message = ?1 AND account = ?2 \
                 ORDER BY seen_at DESC LIMIT 1",
                params![message, account],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?)
    }

    pub fn policy_sends_since(&self, since: &str) -> Result<i64> {
        policy_sends_since(&self.conn, since)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shared fixture, with its draft approved by alice.
    fn ledger() -> Ledger {
        let mut l = crate::ledger::drafts::ledger_with_draft();
        l.write(|tx| transition(tx, "d1", DraftState::Approved, "alice", None, None).map(|_| ())).unwrap();
        l
    }

    fn out(mid: &str) -> Outgoing {
        Outgoing {
            message_id: mid.into(),
            raw: b"bytes".to_vec(),
            envelope: "{}".into(),
            account: "a".into(),
            source_sha256: "s".into(),
        }
    }

    fn attempt(response: &str) -> Attempt<'_> {
        Attempt { actor: "bob", account: "a", run_id: None, latency_ms: 3, response, code: Some(250) }
    }

    #[test]
    fn a_fixed_message_id_is_never_replaced() {
        let mut l = ledger();
        assert_eq!(l.reserve_message_id("d1", "<one@x>").unwrap(), "<one@x>");
        assert_eq!(l.reserve_message_id("d1", "<two@x>").unwrap(), "<one@x>");
        let err = l.write(|tx| claim(tx, "d1", &out("<two@x>"), "bob", None)).unwrap_err();
        assert!(err.to_string().contains("is fixed"), "{err}");
        l.write(|tx| claim(tx, "d1", &out("<one@x>"), "bob", None)).unwrap();
        assert_eq!(l.outbox("d1").unwrap().unwrap().send_stage, Some(SendStage::Claimed));
    }

    #[test]
    fn retry_keeps_the_approval_and_counts_the_attempt() {
        let mut l = ledger();
        l.write(|tx| claim(tx, "d1", &out("<m@x>"), "bob", None)).unwrap();
        mark_data(l.conn(), "d1").unwrap();
        l.write(|tx| finish_retry(tx, "d1", &attempt("451 later"), "2030-01-01T00:00:00Z")).unwrap();
        let d = l.draft("d1").unwrap().unwrap();
        assert_eq!(d.state, DraftState::Approved);
        assert_eq!(d.decided_by.as_deref(), Some("alice"), "a retry is not a new approval");
        let o = l.outbox("d1").unwrap().unwrap();
        assert_eq!((o.attempts, o.send_stage, o.next_attempt_at.as_deref()), (1, None, Some("2030-01-01T00:00:00Z")));
        assert!(l.due_drafts("2029-01-01T00:00:00Z").unwrap().is_empty());
        assert_eq!(l.due_drafts("2030-01-01T00:00:00Z").unwrap().len(), 1);
    }

    #[test]
    fn only_an_untransmitted_claim_can_be_released() {
        let mut l = ledger();
        l.write(|tx| claim(tx, "d1", &out("<m@x>"), "bob", None)).unwrap();
        mark_data(l.conn(), "d1").unwrap();
        assert!(l.write(|tx| release_unsent(tx, "d1", "bob", "x", None)).is_err());
        l.write(|tx| settle_unknown(tx, "d1", true, "found in Sent", None)).unwrap();
        assert_eq!(l.draft("d1").unwrap().unwrap().state, DraftState::Sent);
        assert!(l.write(|tx| settle_unknown(tx, "d1", false, "x", None)).is_err());
    }

    #[test]
    fn sent_is_recorded_once_with_the_response() {
        let mut l = ledger();
        l.write(|tx| claim(tx, "d1", &out("<m@x>"), "bob", None)).unwrap();
        mark_data(l.conn(), "d1").unwrap();
        l.write(|tx| finish_sent(tx, "d1", &attempt("250 2.0.0 Ok: queued as X"))).unwrap();
        let d = l.draft("d1").unwrap().unwrap();
        assert_eq!(d.smtp_response.as_deref(), Some("250 2.0.0 Ok: queued as X"));
        assert!(d.sent_at.is_some());
        assert!(l.write(|tx| finish_sent(tx, "d1", &attempt("250"))).is_err());
        assert!(l.check_integrity().unwrap().is_empty());
    }
}

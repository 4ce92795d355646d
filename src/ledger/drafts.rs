//! Drafts and their state machine.
//!
//! ```text
//! pending ──▶ approved ──▶ sending ──▶ sent
//!    │           │            │  └───▶ failed ──▶ approved (a human retries)
//!    │           │            └──────▶ approved (temporary failure, retried later)
//!    ├──▶ rejected   ◀──┤
//!    └──▶ handled    ◀──┘   (someone answered another way)
//! ```
//! Every transition is a compare-and-set on the current state plus an event, in one
//! transaction, so two processes can never both move the same draft.

use anyhow::{Result, bail};
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;

use super::events::{Event, insert as insert_event};
use super::{Ledger, now};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Hash)]
#[serde(rename_all = "snake_case")]
pub enum DraftState {
    Pending,
    Approved,
    Rejected,
    Handled,
    Sending,
    Sent,
    Failed,
}

impl DraftState {
    pub const ALL: [DraftState; 7] = [
        DraftState::Pending,
        DraftState::Approved,
        DraftState::Rejected,
        DraftState::Handled,
        DraftState::Sending,
        DraftState::Sent,
        DraftState::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DraftState::Pending => "pending",
            DraftState::Approved => "approved",
            DraftState::Rejected => "rejected",
            DraftState::Handled => "handled",
            DraftState::Sending => "sending",
            DraftState::Sent => "sent",
            DraftState::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<DraftState> {
        DraftState::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// The legal moves of the state machine above.
    pub fn can_become(self, to: DraftState) -> bool {
        use DraftState::*;
        matches!(
            (self, to),
            (Pending, Approved | Rejected | Handled)
                | (Approved, Sending | Rejected | Handled | Pending)
                | (Sending, Sent | Failed | Approved)
                | (Failed, Approved | Handled | Rejected)
        )
    }
}

/// A draft as stored.
#[derive(Debug, Clone, Serialize)]
pub struct DraftRow {
    pub id: String,
    pub message: String,
    pub state: DraftState,
    pub subject: String,
    pub body: String,
    pub risk: String,
    pub category: Option<String>,
    pub priority: Option<String>,
    pub confidence: Option<f64>,
    pub draft_json: serde_json::Value,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    pub decision_reason: Option<String>,
    pub out_message_id: Option<String>,
    pub smtp_response: Option<String>,
    pub attempts: i64,
    pub sent_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

const COLUMNS: &str = "id, message, state, subject, body, risk, category, priority, confidence, draft_json, \
    decided_by, decided_at, decision_reason, out_message_id, smtp_response, attempts, sent_at, created_at, updated_at";

fn from_row(r: &Row<'_>) -> rusqlite::Result<DraftRow> {
    let state: String = r.get(2)?;
    let json: String = r.get(9)?;
    Ok(DraftRow {
        id: r.get(0)?,
        message: r.get(1)?,
        state: DraftState::parse(&state).unwrap_or(DraftState::Pending),
        subject: r.get(3)?,
        body: r.get(4)?,
        risk: r.get(5)?,
        category: r.get(6)?,
        priority: r.get(7)?,
        confidence: r.get(8)?,
        draft_json: serde_json::from_str(&json).unwrap_or(serde_json::Value::Null),
        decided_by: r.get(10)?,
        decided_at: r.get(11)?,
        decision_reason: r.get(12)?,
        out_message_id: r.get(13)?,
        smtp_response: r.get(14)?,
        attempts: r.get(15)?,
        sent_at: r.get(16)?,
        created_at: r.get(17)?,
        updated_at: r.get(18)?,
    })
}

/// A new draft to store as `pending`.
pub struct NewDraft<'a> {
    pub id: &'a str,
    pub message: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
    pub risk: &'a str,
    pub category: Option<&'a str>,
    pub priority: Option<&'a str>,
    pub confidence: Option<f64>,
    pub draft_json: &'a serde_json::Value,
}

/// Inserts a pending draft (idempotent on id). Returns false when it already existed.
pub fn insert_draft(conn: &Connection, d: &NewDraft<'_>, run_id: Option<i64>) -> Result<bool> {
    let t = now();
    let n = conn.execute(
        "INSERT OR IGNORE INTO drafts (id, message, state, subject, body, risk, category, priority, confidence, \
         draft_json, created_at, updated_at) VALUES (?1, ?2, 'pending', ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)",
        params![d.id, d.message, d.subject, d.body, d.risk, d.category, d.priority, d.confidence, d.draft_json.to_string(), t],
    )?;
    if n == 1 {
        insert_event(conn, &Event::new("draft.created", "ok").run(run_id).message(d.message).draft(d.id))?;
    }
    Ok(n == 1)
}

/// Reads one draft on any connection or transaction.
pub fn get_draft(conn: &Connection, id: &str) -> Result<Option<DraftRow>> {
    Ok(conn.query_row(&format!("SELECT {COLUMNS} FROM drafts WHERE id = ?1"), [id], from_row).optional()?)
}

/// Every draft of one message, oldest first, on any connection or transaction.
pub fn drafts_for_message(conn: &Connection, message: &str) -> Result<Vec<DraftRow>> {
    let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM drafts WHERE message = ?1 ORDER BY created_at, rowid"))?;
    let rows = stmt.query_map([message], from_row)?.collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Moves a draft from one of `from` to `to`, recording who and why. Fails (and changes nothing)
/// when the draft is not in an allowed state or the move is not legal.
pub fn transition(
    conn: &Connection,
    id: &str,
    to: DraftState,
    actor: &str,
    reason: Option<&str>,
    run_id: Option<i64>,
) -> Result<DraftState> {
    let Some(current) = get_draft(conn, id)? else { bail!("no draft with id {id}") };
    if !current.state.can_become(to) {
        bail!("draft {id} is {}, it cannot become {}", current.state.as_str(), to.as_str());
    }
    // A temporary send failure returns a draft to `approved`: that is not a new decision.
    let human_decision = matches!(to, DraftState::Approved | DraftState::Rejected | DraftState::Handled)
        && current.state != DraftState::Sending;
    let t = now();
    let n = conn.execute(
        "UPDATE drafts SET state = ?3, updated_at = ?4, \
         decided_by = CASE WHEN ?5 THEN ?6 ELSE decided_by END, \
         decided_at = CASE WHEN ?5 THEN ?4 ELSE decided_at END, \
         decision_reason = CASE WHEN ?5 THEN ?7 ELSE decision_reason END, \
         sent_at = CASE WHEN ?3 = 'sent' THEN ?4 ELSE sent_at END \
         WHERE id = ?1 AND state = ?2",
        params![id, current.state.as_str(), to.as_str(), t, human_decision, actor, reason],
    )?;
    if n != 1 {
        bail!("draft {id} changed state while we were deciding; try again");
    }
    insert_event(
        conn,
        &Event::new(format!("draft.{}", to.as_str()), "ok")
            .run(run_id)
            .message(current.message.clone())
            .draft(id)
            .actor(actor)
            .detail(serde_json::json!({"from": current.state.as_str(), "reason": reason})),
    )?;
    Ok(current.state)
}

impl Ledger {
    pub fn draft(&self, id: &str) -> Result<Option<DraftRow>> {
        get_draft(&self.conn, id)
    }

    /// Drafts in any of `states` (all when empty), oldest first.
    pub fn drafts_in(&self, states: &[DraftState]) -> Result<Vec<DraftRow>> {
        let filter = if states.is_empty() {
            String::new()
        } else {
            let list: Vec<String> = states.iter().map(|s| format!("'{}'", s.as_str())).collect();
            format!("WHERE state IN ({})", list.join(","))
        };
        let mut stmt = self.conn.prepare(&format!("SELECT {COLUMNS} FROM drafts {filter} ORDER BY created_at, id"))?;
        let rows = stmt.query_map([], from_row)?.collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// The newest draft for a message, if any.
    pub fn latest_draft_for(&self, message: &str) -> Result<Option<DraftRow>> {
        Ok(self
            .conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM drafts WHERE message = ?1 ORDER BY created_at DESC, rowid DESC LIMIT 1"),
                [message],
                from_row,
            )
            .optional()?)
    }

    pub fn transition_draft(
        &mut self,
        id: &str,
        to: DraftState,
        actor: &str,
        reason: Option<&str>,
        run_id: Option<i64>,
    ) -> Result<DraftState> {
        self.write(|tx| transition(tx, id, to, actor, reason, run_id))
    }

    /// Replaces the text of a pending or approved draft (an edit), recording who edited it.
    pub fn edit_draft(&mut self, id: &str, subject: &str, body: &str, actor: &str) -> Result<()> {
        self.write(|tx| {
            let Some(d) = get_draft(tx, id)? else { bail!("no draft with id {id}") };
            if !matches!(d.state, DraftState::Pending | DraftState::Approved) {
                bail!("draft {id} is {}, it can no longer be edited", d.state.as_str());
            }
            tx.execute(
                "UPDATE drafts SET subject = ?2, body = ?3, updated_at = ?4 WHERE id = ?1",
                params![id, subject, body, now()],
            )?;
            insert_event(
                tx,
                &Event::new("draft.edited", "ok").message(d.message).draft(id).actor(actor),
            )?;
            Ok(())
        })
    }
}

/// A ledger with one message `m1` and its pending draft `d1`, for unit tests of the ledger.
#[cfg(test)]
pub(crate) fn ledger_with_draft() -> Ledger {
    use crate::ledger::messages::{NewMessage, insert_message};
    let mut ledger = Ledger::open_in_memory().unwrap();
    let rec = crate::record::Record::new("m1");
    let json = serde_json::json!({});
    ledger
        .write(|tx| {
            insert_message(tx, &NewMessage { record: &rec, raw: b"x", raw_sha256: "h" }, None)?;
            insert_draft(
                tx,
                &NewDraft {
                    id: "d1",
                    message: "m1",
                    subject: "Re: x",
                    body: "Hello",
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_machine_rejects_illegal_moves() {
        use DraftState::*;
        assert!(Pending.can_become(Approved));
        assert!(!Pending.can_become(Sent));
        assert!(!Pending.can_become(Sending));
        assert!(!Sent.can_become(Sending));
        assert!(!Rejected.can_become(Approved));
        assert!(!Handled.can_become(Sending));
    }

    #[test]
    fn a_transition_records_actor_and_an_event() {
        let mut ledger = ledger_with_draft();
        ledger.transition_draft("d1", DraftState::Approved, "alice", None, None).unwrap();
        let d = ledger.draft("d1").unwrap().unwrap();
        assert_eq!(d.state, DraftState::Approved);
        assert_eq!(d.decided_by.as_deref(), Some("alice"));
        let err = ledger.transition_draft("d1", DraftState::Sent, "x", None, None).unwrap_err();
        assert!(err.to_string().contains("cannot become sent"));
        let events = ledger.events_for_message("m1").unwrap();
        let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(kinds, ["draft.created", "draft.approved"]);
    }

    #[test]
    fn inserting_the_same_draft_twice_keeps_one() {
        let mut ledger = ledger_with_draft();
        let json = serde_json::json!({});
        let again = ledger
            .write(|tx| {
                insert_draft(
                    tx,
                    &NewDraft {
                        id: "d1",
                        message: "m1",
                        subject: "s",
                        body: "b",
                        risk: "low",
                        category: None,
                        priority: None,
                        confidence: None,
                        draft_json: &json,
                    },
                    None,
                )
            })
            .unwrap();
        assert!(!again);
        assert_eq!(ledger.drafts_in(&[]).unwrap().len(), 1);
    }
}

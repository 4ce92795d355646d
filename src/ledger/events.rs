//! The append-only event log: every state change and every external call.

use anyhow::Result;
use rusqlite::{Connection, params};
use serde_json::Value;

use super::{Ledger, now};

/// One event. Build with `Event::new(kind, status)` and the setters.
#[derive(Debug, Clone, Default)]
pub struct Event {
    pub kind: String,
    pub status: String,
    pub run_id: Option<i64>,
    pub account: Option<String>,
    pub message: Option<String>,
    pub draft: Option<String>,
    pub actor: Option<String>,
    pub latency_ms: Option<i64>,
    pub tokens_in: Option<i64>,
    pub tokens_out: Option<i64>,
    pub detail: Option<Value>,
}

impl Event {
    pub fn new(kind: impl Into<String>, status: impl Into<String>) -> Event {
        Event { kind: kind.into(), status: status.into(), ..Default::default() }
    }
    pub fn run(mut self, run_id: Option<i64>) -> Self {
        self.run_id = run_id;
        self
    }
    pub fn account(mut self, a: impl Into<String>) -> Self {
        self.account = Some(a.into());
        self
    }
    pub fn message(mut self, m: impl Into<String>) -> Self {
        self.message = Some(m.into());
        self
    }
    pub fn draft(mut self, d: impl Into<String>) -> Self {
        self.draft = Some(d.into());
        self
    }
    pub fn actor(mut self, a: impl Into<String>) -> Self {
        self.actor = Some(a.into());
        self
    }
    pub fn latency_ms(mut self, ms: i64) -> Self {
        self.latency_ms = Some(ms);
        self
    }
    pub fn tokens(mut self, input: i64, output: i64) -> Self {
        self.tokens_in = Some(input);
        self.tokens_out = Some(output);
        self
    }
    pub fn detail(mut self, d: Value) -> Self {
        self.detail = Some(d);
        self
    }
}

/// Inserts an event on any connection or transaction.
pub fn insert(conn: &Connection, e: &Event) -> Result<i64> {
    conn.execute(
        "INSERT INTO events (at, run_id, kind, account, message, draft, actor, status, latency_ms, \
         tokens_in, tokens_out, detail_json) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        params![
            now(),
            e.run_id,
            e.kind,
            e.account,
            e.message,
            e.draft,
            e.actor,
            e.status,
            e.latency_ms,
            e.tokens_in,
            e.tokens_out,
            e.detail.as_ref().map(|d| d.to_string()),
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

/// A stored event, as read back for histories.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StoredEvent {
    pub id: i64,
    pub at: String,
    pub kind: String,
    pub status: String,
    pub account: Option<String>,
    pub message: Option<String>,
    pub draft: Option<String>,
    pub actor: Option<String>,
    pub latency_ms: Option<i64>,
    pub detail: Option<Value>,
}

impl Ledger {
    pub fn event(&self, e: &Event) -> Result<i64> {
        insert(&self.conn, e)
    }

    /// Events of one message (and its drafts), oldest first: its story.
    pub fn events_for_message(&self, message: &str) -> Result<Vec<StoredEvent>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, at, kind, status, account, message, draft, actor, latency_ms, detail_json FROM events \
             WHERE message = ?1 OR draft IN (SELECT id FROM drafts WHERE message = ?1) ORDER BY id",
        )?;
        let rows = stmt.query_map([message], |r| {
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
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_cannot_be_changed_or_deleted() {
        let ledger = Ledger::open_in_memory().unwrap();
        ledger.event(&Event::new("imap.login", "error").account("support")).unwrap();
        assert!(ledger.conn().execute("UPDATE events SET status = 'ok'", []).is_err());
        assert!(ledger.conn().execute("DELETE FROM events", []).is_err());
    }
}

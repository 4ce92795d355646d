//! Messages and their raw sources.

use anyhow::{Context, Result};
use rusqlite::{Connection, OptionalExtension, params};

use super::{Ledger, now};
use crate::record::Record;

/// A parsed message ready to store: the record (without stage keys) and its exact bytes.
pub struct NewMessage<'a> {
    pub record: &'a Record,
    pub raw: &'a [u8],
    pub raw_sha256: &'a str,
}

/// What storing a message did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    /// First time this message was seen: emit its record.
    New,
    /// Already in the ledger: emit nothing.
    Known,
}

/// Stores a message once. Call inside a write transaction.
pub fn insert_message(conn: &Connection, m: &NewMessage<'_>, run_id: Option<i64>) -> Result<Stored> {
    insert_message_json(conn, m, &serde_json::to_string(m.record)?, run_id)
}

/// `insert_message` with the record already serialized (an import does that on its parsing
/// threads, once for the ledger and stdout both).
pub fn insert_message_json(conn: &Connection, m: &NewMessage<'_>, record_json: &str, run_id: Option<i64>) -> Result<Stored> {
    // The same message in other bytes (CRLF vs LF) keeps its first source; storing the second
    // would leave a raw source nothing refers to.
    let known: bool = conn
        .prepare_cached("SELECT EXISTS(SELECT 1 FROM messages WHERE id = ?1)")?
        .query_row([&m.record.id], |r| r.get(0))?;
    if known {
        return Ok(Stored::Known);
    }
    // Cached statements: an import calls this once per message (parsing the SQL was ~6 % of it).
    conn.prepare_cached("INSERT OR IGNORE INTO raw_sources (sha256, size, raw) VALUES (?1, ?2, ?3)")?
        .execute(params![m.raw_sha256, m.raw.len() as i64, m.raw])?;
    let r = m.record;
    let inserted = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO messages (id, raw_sha256, message_id, account, mailbox, date_utc, from_addr, \
             subject, thread_id, flags, record_json, fetched_at, run_id) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        )?
        .execute(params![
            r.id,
            m.raw_sha256,
            r.message_id,
            r.account,
            r.mailbox,
            r.date,
            r.from.as_ref().map(|a| a.address.to_lowercase()),
            r.subject,
            r.thread,
            r.flags.join(","),
            record_json,
            now(),
            run_id,
        ])?;
    Ok(if inserted == 1 { Stored::New } else { Stored::Known })
}

/// Records where a message lives on a server (idempotent).
pub fn insert_location(
    conn: &Connection,
    account: &str,
    mailbox: &str,
    uidvalidity: u32,
    uid: u32,
    message: &str,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT OR IGNORE INTO locations (account, mailbox, uidvalidity, uid, message, seen_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![account, mailbox, uidvalidity, uid, message, now()])?;
    Ok(())
}

impl Ledger {
    pub fn message_count(&self) -> Result<i64> {
        Ok(self.conn.query_row("SELECT COUNT(*) FROM messages", [], |r| r.get(0))?)
    }

    pub fn has_message(&self, id: &str) -> Result<bool> {
        message_exists(&self.conn, id)
    }

    /// The record as fetched (no stage keys).
    pub fn base_record(&self, id: &str) -> Result<Option<Record>> {
        let json: Option<String> = self
            .conn
            .query_row("SELECT record_json FROM messages WHERE id = ?1", [id], |r| r.get(0))
            .optional()?;
        json.map(|j| serde_json::from_str(&j).with_context(|| format!("message {id}: stored record is unreadable")))
            .transpose()
    }

    /// The record with the current result of every stage merged in.
    pub fn current_record(&self, id: &str) -> Result<Option<Record>> {
        let Some(mut record) = self.base_record(id)? else { return Ok(None) };
        self.merge_current_results(&mut record)?;
        Ok(Some(record))
    }

    /// The exact RFC 822 bytes of a message.
    pub fn raw(&self, id: &str) -> Result<Option<Vec<u8>>> {
        Ok(self
            .conn
            .prepare_cached("SELECT r.raw FROM messages m JOIN raw_sources r ON r.sha256 = m.raw_sha256 WHERE m.id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?)
    }

    /// Messages stored by run `run_id` that did not get through the chain: no filter result,
    /// or a passing one but no draft (the team's own replies never get one: they are done once
    /// triaged). In the order stored.
    pub fn unfinished_of_run(&self, run_id: i64) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare(
            "SELECT m.id FROM messages m WHERE m.run_id = ?1 \
             AND NOT EXISTS (SELECT 1 FROM drafts d WHERE d.message = m.id) \
             AND NOT (EXISTS (SELECT 1 FROM case_messages cm WHERE cm.message = m.id AND cm.role IN ('team', 'ours')) \
                      AND EXISTS (SELECT 1 FROM stage_results s WHERE s.message = m.id AND s.stage = 'triage')) \
             AND COALESCE((SELECT s.summary FROM stage_results s WHERE s.message = m.id AND s.stage = 'filter' \
                           ORDER BY s.version DESC LIMIT 1), 'pass') = 'pass' \
             ORDER BY m.rowid",
        )?;
        let ids = stmt.query_map([run_id], |r| r.get(0))?.collect::<Result<_, _>>()?;
        Ok(ids)
    }

    /// Ids of earlier messages with this Message-ID (for duplicate detection).
    pub fn ids_with_message_id(&self, message_id: &str) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare_cached("SELECT id FROM messages WHERE message_id = ?1 ORDER BY rowid")?;
        let ids = stmt.query_map([message_id], |r| r.get(0))?.collect::<Result<_, _>>()?;
        Ok(ids)
    }
}

/// True when the ledger holds message `id` (any connection or transaction).
pub fn message_exists(conn: &Connection, id: &str) -> Result<bool> {
    let mut stmt = conn.prepare_cached("SELECT EXISTS(SELECT 1 FROM messages WHERE id = ?1)")?;
    Ok(stmt.query_row([id], |r| r.get(0))?)
}

/// `count_from_sender` stops counting here.
pub const SENDER_COUNT_CAP: u32 = 100;

/// Messages from `sender` dated in `[since, until)` (up to SENDER_COUNT_CAP), other than `except` and outside the thread
/// `thread` (a reply in an ongoing conversation is not a new contact). Any connection or
/// transaction.
pub fn count_from_sender(
    conn: &Connection,
    sender: &str,
    since: chrono::DateTime<chrono::Utc>,
    until: chrono::DateTime<chrono::Utc>,
    except: &str,
    thread: Option<&str>,
) -> Result<u32> {
    let fmt = |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    // Counted up to the cap: a sender with thousands of messages in the window
    // (a notification address) would otherwise cost a walk over all of them per message.
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT COUNT(*) FROM (SELECT 1 FROM messages WHERE from_addr = ?1 AND date_utc >= ?2 AND date_utc < ?3 \
         AND id != ?4 AND (?5 IS NULL OR thread_id IS NULL OR thread_id != ?5) LIMIT {SENDER_COUNT_CAP})"
    ))?;
    let n: i64 = stmt.query_row(params![sender.to_lowercase(), fmt(since), fmt(until), except, thread], |r| r.get(0))?;
    Ok(n as u32)
}

//! Incremental IMAP sync state: UIDVALIDITY and the highest UID seen, per account and mailbox.

use std::collections::HashSet;

use anyhow::Result;
use rusqlite::{Connection, OptionalExtension, params};

use super::{Ledger, now};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncState {
    pub uidvalidity: u32,
    pub highest_uid: u32,
    pub highest_modseq: Option<u64>,
}

impl Ledger {
    pub fn sync_state(&self, account: &str, mailbox: &str) -> Result<Option<SyncState>> {
        Ok(self
            .conn
            .query_row(
                "SELECT uidvalidity, highest_uid, highest_modseq FROM sync_state WHERE account = ?1 AND mailbox = ?2",
                params![account, mailbox],
                |r| {
                    Ok(SyncState {
                        uidvalidity: r.get(0)?,
                        highest_uid: r.get(1)?,
                        highest_modseq: r.get::<_, Option<i64>>(2)?.map(|m| m as u64),
                    })
                },
            )
            .optional()?)
    }

    /// UIDs already stored from this mailbox under this UIDVALIDITY (to skip them in a backfill).
    pub fn known_uids(&self, account: &str, mailbox: &str, uidvalidity: u32) -> Result<HashSet<u32>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT uid FROM locations WHERE account = ?1 AND mailbox = ?2 AND uidvalidity = ?3")?;
        let uids = stmt.query_map(params![account, mailbox, uidvalidity], |r| r.get(0))?.collect::<Result<_, _>>()?;
        Ok(uids)
    }

    /// Ids and raw sources of the messages with this Message-ID (to recognise a message whose
    /// headers a server rewrote when it rebuilt a mailbox).
    pub fn raws_with_message_id(&self, message_id: &str) -> Result<Vec<(String, Vec<u8>)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT m.id, r.raw FROM messages m JOIN raw_sources r ON r.sha256 = m.raw_sha256 \
             WHERE m.message_id = ?1 ORDER BY m.rowid",
        )?;
        let rows = stmt.query_map([message_id], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
        Ok(rows)
    }
}

/// Stores the sync state; call inside the same transaction that stores the fetched messages.
pub fn set_sync_state(conn: &Connection, account: &str, mailbox: &str, state: SyncState) -> Result<()> {
    conn.execute(
        "INSERT INTO sync_state (account, mailbox, uidvalidity, highest_uid, highest_modseq, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(account, mailbox) DO UPDATE SET \
         uidvalidity = excluded.uidvalidity, highest_uid = excluded.highest_uid, \
         highest_modseq = excluded.highest_modseq, updated_at = excluded.updated_at",
        params![account, mailbox, state.uidvalidity, state.highest_uid, state.highest_modseq.map(|m| m as i64), now()],
    )?;
    Ok(())
}

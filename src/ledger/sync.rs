//! Incremental IMAP sync state: UIDVALIDITY and the highest UID seen, per account and mailbox.

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

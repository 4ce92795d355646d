//! Checkpoints on a thread of their own while a long import writes.
//!
//! In WAL mode the committing connection copies the WAL back into the database once it grows
//! past `wal_autocheckpoint`: an import's writer stopped for that about a tenth of its time.
//! A passive checkpoint from a second connection does the same copying beside the writer
//! (SQLite lets one checkpointer run alongside one writer), on the core the writer leaves free.

use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::Result;
use rusqlite::{Connection, OpenFlags};

use super::{BUSY_TIMEOUT, Ledger};

/// How often the background thread copies what the writer committed since.
const EVERY: Duration = Duration::from_millis(200);
/// The writer checkpoints itself only if the background falls this far behind (16 KiB pages:
/// 256 MiB of WAL), so the WAL stays bounded whatever happens to the thread.
const WRITER_FALLBACK_PAGES: u32 = 16384;
/// The writer's page cache meanwhile, in KiB (128 MiB; 64 otherwise). Once a big import's
/// hash-keyed indexes outgrow the cache, every batch reads their pages back from the kernel
/// and spills dirty ones early: a 1 GB import took 36 s with 64 MiB, 30 s with this (peak
/// RSS 130 → 200 MB, and no higher however big the import).
const BULK_CACHE_KIB: i64 = 128 * 1024;

/// While alive, the WAL is checkpointed in the background; dropping it stops the thread and
/// hands checkpoints back to the writer.
pub struct BackgroundCheckpoint<'a> {
    ledger: &'a mut Ledger,
    /// The thread, and the sender whose drop stops it: its wait ends at once instead of at the
    /// next round (a sleeping thread added up to 200 ms to every import, however small).
    /// None for an in-memory ledger.
    checkpointer: Option<(Sender<()>, JoinHandle<()>)>,
}

impl Ledger {
    /// Moves checkpoints to a background thread for as long as the guard lives. For an
    /// in-memory ledger (no WAL) the guard does nothing.
    pub fn checkpoint_in_background(&mut self) -> Result<BackgroundCheckpoint<'_>> {
        let mut checkpointer = None;
        if self.path.as_os_str() != ":memory:" {
            let conn = Connection::open_with_flags(
                &self.path,
                OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            conn.busy_timeout(BUSY_TIMEOUT)?;
            // Meanwhile the WAL keeps its size between checkpoints: cut back to 64 MiB after
            // each one, it was given back and grown again (a discard and new blocks each time,
            // a fifth of an import's kernel time).
            self.conn.execute_batch(&format!(
                "PRAGMA wal_autocheckpoint = {WRITER_FALLBACK_PAGES}; PRAGMA journal_size_limit = -1; \
                 PRAGMA cache_size = -{BULK_CACHE_KIB}"
            ))?;
            let (stop, stopped) = channel();
            checkpointer = Some((stop, std::thread::spawn(move || checkpoint_until(&conn, &stopped))));
        }
        Ok(BackgroundCheckpoint { ledger: self, checkpointer })
    }
}

impl std::ops::Deref for BackgroundCheckpoint<'_> {
    type Target = Ledger;
    fn deref(&self) -> &Ledger {
        self.ledger
    }
}

impl std::ops::DerefMut for BackgroundCheckpoint<'_> {
    fn deref_mut(&mut self) -> &mut Ledger {
        self.ledger
    }
}

impl Drop for BackgroundCheckpoint<'_> {
    fn drop(&mut self) {
        let Some((stop, thread)) = self.checkpointer.take() else { return };
        drop(stop);
        let _ = thread.join();
        // Back to checkpoints on commit; failing that, the next command's connection does them.
        let _ = self.ledger.conn.execute_batch(&super::usual_cache_and_wal());
    }
}

fn checkpoint_until(conn: &Connection, stopped: &Receiver<()>) {
    while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(EVERY) {
        // PASSIVE never waits for the writer or readers; what it cannot copy yet, the next
        // round does. An error (a busy moment) is just tried again.
        let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_during_background_checkpoints_are_all_kept_and_the_writer_gets_its_checkpoints_back() {
        let dir = tempfile::tempdir().unwrap();
        let mut ledger = Ledger::open(&dir.path().join("l.sqlite")).unwrap();
        {
            let mut ledger = ledger.checkpoint_in_background().unwrap();
            let limit: i64 = ledger.conn.query_row("PRAGMA journal_size_limit", [], |r| r.get(0)).unwrap();
            assert_eq!(limit, -1, "the WAL keeps its size while the background checkpoints");
            let cache: i64 = ledger.conn.query_row("PRAGMA cache_size", [], |r| r.get(0)).unwrap();
            assert_eq!(cache, -BULK_CACHE_KIB);
            for i in 0..40 {
                ledger
                    .write(|tx| {
                        tx.execute("INSERT INTO kv (key, value, updated_at) VALUES (?1, ?2, 'now')", rusqlite::params![
                            format!("k{i}"),
                            "x".repeat(1 << 20)
                        ])?;
                        Ok(())
                    })
                    .unwrap();
            }
            std::thread::sleep(EVERY * 2);
        }
        let pages: u32 = ledger.conn.query_row("PRAGMA wal_autocheckpoint", [], |r| r.get(0)).unwrap();
        assert_eq!(pages, super::super::AUTOCHECKPOINT_PAGES);
        let limit: i64 = ledger.conn.query_row("PRAGMA journal_size_limit", [], |r| r.get(0)).unwrap();
        assert_eq!(limit, super::super::JOURNAL_SIZE_LIMIT);
        let cache: i64 = ledger.conn.query_row("PRAGMA cache_size", [], |r| r.get(0)).unwrap();
        assert_eq!(cache, -super::super::CACHE_KIB);
        let n: i64 = ledger.conn.query_row("SELECT COUNT(*) FROM kv WHERE length(value) = 1048576", [], |r| r.get(0)).unwrap();
        assert_eq!(n, 40);
        assert!(ledger.check_integrity().unwrap().is_empty());
        drop(ledger);
        // Closed and opened again: every row is there.
        let reopened = Ledger::open(&dir.path().join("l.sqlite")).unwrap();
        let n: i64 = reopened.conn.query_row("SELECT COUNT(*) FROM kv", [], |r| r.get(0)).unwrap();
        assert_eq!(n, 40);
    }
}

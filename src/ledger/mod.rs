//! The ledger: one SQLite file that remembers everything.
//!
//! WAL mode and a generous busy timeout let overlapping timers share it; every multi-row
//! change runs in a `BEGIN IMMEDIATE` transaction so two writers serialize instead of failing.
//! Submodules own one table family each.

mod check_lists;
pub mod checkpoint;
pub mod drafts;
pub mod events;
pub mod integrity;
pub mod kv;
pub mod labels;
pub mod messages;
pub mod migrations;
pub mod model_cache;
pub mod outbox;
pub mod results;
pub mod runs;
pub mod sync;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use rusqlite::{Connection, OpenFlags, TransactionBehavior};

use crate::error::ConfigError;

pub use drafts::{DraftRow, DraftState};
pub use events::Event;

/// How long a writer waits for another before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(60);

/// Connection settings. NORMAL sync in WAL mode survives a killed process (each commit is in
/// the WAL); the page cache (CACHE_KIB, allocated only as used, so memory stays flat however big
/// the ledger grows: no memory map, which would count the file's pages against the process; a
/// bulk import's writer gets more, see `checkpoint`); checkpoints come every 64 MiB of WAL
/// rather than every 4 MiB, and the WAL is cut back to that size after one.
const TUNING: &str = "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;";
/// The page cache, in KiB (64 MiB).
const CACHE_KIB: i64 = 64 * 1024;
/// The WAL is cut back to this many bytes after a checkpoint.
const JOURNAL_SIZE_LIMIT: i64 = 64 * 1024 * 1024;
/// Checkpoint after this many WAL pages (16 KiB each).
const AUTOCHECKPOINT_PAGES: u32 = 4096;

/// The cache and WAL settings every connection starts with; a bulk writer changes them for a
/// while (`checkpoint`) and puts these back.
fn usual_cache_and_wal() -> String {
    format!(
        "PRAGMA cache_size = -{CACHE_KIB}; PRAGMA journal_size_limit = {JOURNAL_SIZE_LIMIT}; \
         PRAGMA wal_autocheckpoint = {AUTOCHECKPOINT_PAGES}"
    )
}

pub struct Ledger {
    pub(crate) conn: Connection,
    path: PathBuf,
    /// Between `begin_batch` and its commit or rollback.
    in_batch: bool,
}

/// Now as RFC 3339 UTC with seconds, the format every time column uses.
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

impl Ledger {
    /// Opens (creating if needed) and migrates the ledger at `path`.
    pub fn open(path: &Path) -> Result<Ledger> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                ConfigError::new(format!("cannot create the ledger folder {}: {e}", dir.display()))
            })?;
        }
        configure_sqlite();
        let mut conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| {
            ConfigError::with_hint(
                format!("cannot open the ledger {}: {e}", path.display()),
                "pass --ledger PATH or set MAILROOM_LEDGER to a writable file",
            )
        })?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        // Only takes effect on a new, empty file (before WAL); mail is stored in big rows, and
        // 16 KiB pages write them in a quarter of the calls.
        conn.execute_batch("PRAGMA page_size = 16384")?;
        let mode = wal_mode(&conn)
            .map_err(|e| ConfigError::new(format!("{} is not a usable SQLite ledger: {e}", path.display())))?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!("ledger journal mode is {mode}, not WAL");
        }
        conn.execute_batch(TUNING)?;
        conn.execute_batch(&usual_cache_and_wal())?;
        // Plans never depend on bound values (the ledger keeps no statistics), so a statement
        // need not be prepared again each time one changes (SQLite's default since 3.47 for
        // some queries cost an import 5 % of its time).
        conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
        conn.set_prepared_statement_cache_capacity(64);
        migrations::migrate(&mut conn).with_context(|| format!("migrating ledger {}", path.display()))?;
        Ok(Ledger { conn, path: path.to_path_buf(), in_batch: false })
    }

    /// An in-memory ledger for unit tests.
    pub fn open_in_memory() -> Result<Ledger> {
        configure_sqlite();
        let mut conn = Connection::open_in_memory()?;
        conn.execute_batch("PRAGMA foreign_keys = ON;")?;
        migrations::migrate(&mut conn)?;
        Ok(Ledger { conn, path: PathBuf::from(":memory:"), in_batch: false })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Direct access for queries a stage owns (digest, heartbeat, cases).
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Runs `f` inside a `BEGIN IMMEDIATE` transaction; commits on Ok, rolls back on Err.
    /// Inside an open transaction (a batch, `begin_batch`) it is a savepoint instead: an Err
    /// undoes only this write, an Ok keeps it for the transaction's commit.
    pub fn write<T>(&mut self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        // SQLite ends a transaction on its own after some errors (a full disk): a write meant
        // for the batch must not then commit alone, as if the batch's other writes were kept.
        anyhow::ensure!(
            !(self.in_batch && self.conn.is_autocommit()),
            "the ledger gave up the batch transaction (a full disk?): nothing of it was stored"
        );
        if !self.conn.is_autocommit() {
            self.conn.prepare_cached("SAVEPOINT write")?.execute([])?;
            return match f(&self.conn) {
                Ok(value) => {
                    self.conn.prepare_cached("RELEASE write")?.execute([])?;
                    Ok(value)
                }
                Err(e) => {
                    // Fails only when SQLite already rolled everything back: the next write
                    // and the commit then fail.
                    let _ = self.conn.execute_batch("ROLLBACK TO write; RELEASE write");
                    Err(e)
                }
            };
        }
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let value = f(&tx)?;
        tx.commit()?;
        Ok(value)
    }

    /// Opens a batch: one `BEGIN IMMEDIATE` transaction that every `write` until
    /// `commit_batch` joins, so many small writes cost one commit. Nothing written in it is
    /// durable (or may be reported as done) before `commit_batch` returns.
    pub fn begin_batch(&mut self) -> Result<()> {
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        self.in_batch = true;
        Ok(())
    }

    /// Commits the batch opened by `begin_batch`.
    pub fn commit_batch(&mut self) -> Result<()> {
        self.in_batch = false;
        self.conn.execute_batch("COMMIT")?;
        Ok(())
    }

    /// Abandons the batch opened by `begin_batch` (a no-op when SQLite already rolled it back).
    pub fn rollback_batch(&mut self) {
        self.in_batch = false;
        if !self.conn.is_autocommit() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }

    /// Starts one step of a batch (a record, say), which `end_step` keeps or undoes without
    /// touching the batch's other steps.
    pub fn begin_step(&mut self) -> Result<()> {
        // SQLite ends a transaction on its own after some errors (a full disk): never let a
        // step start a transaction of its own.
        anyhow::ensure!(!self.conn.is_autocommit(), "the ledger batch transaction has ended");
        self.conn.prepare_cached("SAVEPOINT step")?.execute([])?;
        Ok(())
    }

    /// Ends the step begun by `begin_step`: `keep` its writes, or undo them.
    pub fn end_step(&mut self, keep: bool) -> Result<()> {
        if !keep {
            self.conn.prepare_cached("ROLLBACK TO step")?.execute([])?;
        }
        self.conn.prepare_cached("RELEASE step")?.execute([])?;
        Ok(())
    }
}

/// Process-wide SQLite settings, which only take effect before its first connection (later calls
/// are refused and change nothing, so the defaults stay).
///
/// - A savepoint's undo copy (the sub-journal: every page a step changes, 16 KiB each) stays in
///   memory, however big. At 64 KiB it spilled to a temporary file at every record a stage
///   stored (7,700 `pwrite`s of a 856-message `filter`, ~8 % of its time); at 1 MiB a step
///   that wrote a multi-megabyte row (the draft of a message with a 100,000-line subject, in
///   a batch of `draft` or `run`) failed with "database or disk is full" when it spilled, and
///   the whole batch was rolled back. SQLite empties it when the outermost savepoint ends (a
///   `write`, a step), so it holds one record's pages. The setting covers statement journals
///   too (one statement's changes).
/// - No up-front block of page-cache memory per cache (SQLite's 20 pages, touched at once):
///   pages are allocated as they are used.
fn configure_sqlite() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        use rusqlite::ffi;
        const SPILL_BYTES: std::ffi::c_int = -1;
        // SAFETY: sqlite3_config takes these arguments for these options (an int for the spill
        // and for the statistics; a pointer and two ints for the page cache). It is called once,
        // before the ledger's first connection; a connection opened earlier elsewhere (unit
        // tests do) makes it refuse, which changes nothing.
        let spill = unsafe { ffi::sqlite3_config(ffi::SQLITE_CONFIG_STMTJRNL_SPILL, SPILL_BYTES) };
        // No memory statistics (nothing reads them): keeping them takes a process-wide mutex
        // on every SQLite allocation, which an import's writer and checkpointer fought over.
        let stats = unsafe { ffi::sqlite3_config(ffi::SQLITE_CONFIG_MEMSTATUS, 0 as std::ffi::c_int) };
        let bulk = unsafe {
            ffi::sqlite3_config(ffi::SQLITE_CONFIG_PAGECACHE, std::ptr::null_mut::<std::ffi::c_void>(), 0 as std::ffi::c_int, 0 as std::ffi::c_int)
        };
        if spill != ffi::SQLITE_OK || bulk != ffi::SQLITE_OK || stats != ffi::SQLITE_OK {
            tracing::debug!("SQLite was initialised before the ledger opened: default journal, cache and statistics settings");
        }
    });
}

/// Switches the file to WAL (a no-op once it is). Two commands opening a new ledger at the same
/// moment both ask for the exclusive lock this needs; SQLite answers "database is locked" at
/// once to one of them rather than wait (it would deadlock), so that one tries again.
fn wal_mode(conn: &Connection) -> rusqlite::Result<String> {
    let started = std::time::Instant::now();
    loop {
        // journal_mode returns a row, so it cannot go through execute_batch on every version.
        match conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)) {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy && started.elapsed() < BUSY_TIMEOUT =>
            {
                std::thread::sleep(Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_database_migrates_to_the_full_schema() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(&dir.path().join("sub/ledger.sqlite")).unwrap();
        let applied = migrations::applied(ledger.conn()).unwrap();
        let expected: Vec<String> = migrations::MIGRATIONS.iter().map(|(n, _)| n.to_string()).collect();
        assert_eq!(applied, expected);
        let tables: Vec<String> = ledger
            .conn()
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        for t in [
            "case_messages", "cases", "drafts", "events", "kv", "labels", "locations", "messages",
            "model_cache", "raw_sources", "runs", "schema_migrations", "stage_results", "sync_state",
        ] {
            assert!(tables.contains(&t.to_string()), "missing table {t}: {tables:?}");
        }
        let mode: String = ledger.conn().query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
        assert_eq!(mode, "wal");
        assert!(ledger.check_integrity().unwrap().is_empty());
    }

    #[test]
    fn opening_a_new_ledger_while_another_process_writes_it_waits() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l.sqlite");
        // A fresh file, still in rollback-journal mode, with a writer in the middle of a transaction.
        let writer = Connection::open(&path).unwrap();
        writer.execute_batch("CREATE TABLE t (x); BEGIN IMMEDIATE; INSERT INTO t VALUES (1);").unwrap();
        let done = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            writer.execute_batch("COMMIT").unwrap();
        });
        let ledger = Ledger::open(&path).unwrap_or_else(|e| panic!("{e:#}"));
        done.join().unwrap();
        let mode: String = ledger.conn().query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
        assert_eq!(mode, "wal");
    }

    #[test]
    fn a_batch_commits_once_and_a_failed_step_or_write_undoes_only_itself() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l.sqlite");
        let mut ledger = Ledger::open(&path).unwrap();
        ledger.conn().execute_batch("CREATE TABLE t (x INTEGER)").unwrap();
        let insert = |l: &mut Ledger, x: i64| l.write(|c| Ok(c.execute("INSERT INTO t VALUES (?1)", [x])?));
        ledger.begin_batch().unwrap();
        for (x, keep) in [(1, true), (2, false), (3, true)] {
            ledger.begin_step().unwrap();
            insert(&mut ledger, x).unwrap();
            ledger.end_step(keep).unwrap();
        }
        // A write that fails inside a batch is undone alone.
        let failed: Result<()> = ledger.write(|c| {
            c.execute("INSERT INTO t VALUES (4)", [])?;
            anyhow::bail!("no")
        });
        assert!(failed.is_err());
        insert(&mut ledger, 5).unwrap();
        let other = Connection::open(&path).unwrap();
        let seen = |c: &Connection| -> Vec<i64> {
            c.prepare("SELECT x FROM t ORDER BY x").unwrap().query_map([], |r| r.get(0)).unwrap().map(|r| r.unwrap()).collect()
        };
        assert!(seen(&other).is_empty(), "nothing is visible before the commit");
        ledger.commit_batch().unwrap();
        assert_eq!(seen(&other), [1, 3, 5]);
        // Outside a batch, a write is its own transaction again.
        insert(&mut ledger, 6).unwrap();
        assert!(ledger.conn().is_autocommit());
        assert_eq!(seen(&other), [1, 3, 5, 6]);
    }

    #[test]
    fn a_write_after_sqlite_gave_the_batch_up_fails_instead_of_committing_alone() {
        let dir = tempfile::tempdir().unwrap();
        let mut ledger = Ledger::open(&dir.path().join("l.sqlite")).unwrap();
        ledger.conn().execute_batch("CREATE TABLE t (x INTEGER)").unwrap();
        ledger.begin_batch().unwrap();
        ledger.write(|c| Ok(c.execute("INSERT INTO t VALUES (1)", [])?)).unwrap();
        // What SQLite does on its own after a full disk: the whole transaction is rolled back.
        ledger.conn().execute_batch("ROLLBACK").unwrap();
        let after = ledger.write(|c| Ok(c.execute("INSERT INTO t VALUES (2)", [])?));
        assert!(after.unwrap_err().to_string().contains("gave up the batch"));
        assert!(ledger.commit_batch().is_err());
        ledger.rollback_batch();
        let n: i64 = ledger.conn().query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0)).unwrap();
        assert_eq!(n, 0, "neither write is stored");
        // The next batch works again.
        ledger.write(|c| Ok(c.execute("INSERT INTO t VALUES (3)", [])?)).unwrap();
    }

    #[test]
    fn reopening_applies_nothing_twice() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l.sqlite");
        drop(Ledger::open(&path).unwrap());
        let mut ledger = Ledger::open(&path).unwrap();
        assert!(migrations::migrate(&mut ledger.conn).unwrap().is_empty());
    }

    #[test]
    fn a_file_that_is_not_sqlite_is_a_config_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("junk.sqlite");
        std::fs::write(&path, vec![b'x'; 4096]).unwrap();
        let err = Ledger::open(&path).err().unwrap();
        assert_eq!(crate::error::exit_code_for(&err), 2, "{err:#}");
    }
}

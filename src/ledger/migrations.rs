//! Append-only, named migrations compiled into the binary.
//!
//! Each runs in its own `BEGIN IMMEDIATE` transaction, so two commands starting at the same
//! moment cannot both apply it. A shipped migration is never edited.

use anyhow::{Context, Result};
use rusqlite::{Connection, Transaction};

use super::check_lists;

/// One migration: SQL, or code for what SQL alone cannot say.
pub enum Migration {
    Sql(&'static str),
    Code(fn(&Transaction) -> Result<()>),
}

/// (name, migration) in the order they apply.
pub const MIGRATIONS: &[(&str, Migration)] = &[
    ("0001_init", Migration::Sql(include_str!("migrations/0001_init.sql"))),
    ("0060_send_outbox", Migration::Sql(include_str!("migrations/0060_send_outbox.sql"))),
    ("0070_report_indexes", Migration::Sql(include_str!("migrations/0070_report_indexes.sql"))),
    ("0080_cases_threading", Migration::Sql(include_str!("migrations/0080_cases_threading.sql"))),
    ("0090_cases_evidence", Migration::Sql(include_str!("migrations/0090_cases_evidence.sql"))),
    ("0100_labels_by_message", Migration::Sql(include_str!("migrations/0100_labels_by_message.sql"))),
    (
        "0110_drop_unused_message_indexes",
        Migration::Sql(include_str!("migrations/0110_drop_unused_message_indexes.sql")),
    ),
    ("0120_check_lists_as_comparisons", Migration::Code(check_lists::as_comparisons)),
    ("0130_run_leftovers", Migration::Sql(include_str!("migrations/0130_run_leftovers.sql"))),
];

pub fn migrate(conn: &mut Connection) -> Result<Vec<&'static str>> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)",
    )?;
    let mut applied = Vec::new();
    // Every command opens the ledger: when all migrations are in, a read says so without
    // taking the write lock once per migration (which would wait behind a running import).
    let done: i64 = conn.query_row("SELECT COUNT(*) FROM schema_migrations", [], |r| r.get(0))?;
    if done as usize == MIGRATIONS.len() {
        return Ok(applied);
    }
    for (name, migration) in MIGRATIONS {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let done: bool = tx.query_row(
            "SELECT EXISTS(SELECT 1 FROM schema_migrations WHERE name = ?1)",
            [name],
            |r| r.get(0),
        )?;
        if !done {
            match migration {
                Migration::Sql(sql) => tx.execute_batch(sql).map_err(Into::into),
                Migration::Code(apply) => apply(&tx),
            }
            .with_context(|| format!("applying migration {name}"))?;
            tx.execute(
                "INSERT INTO schema_migrations (name, applied_at) VALUES (?1, ?2)",
                rusqlite::params![name, crate::ledger::now()],
            )?;
            applied.push(*name);
        }
        tx.commit()?;
    }
    Ok(applied)
}

/// Names of migrations recorded in the database, in order.
pub fn applied(conn: &Connection) -> Result<Vec<String>> {
    let mut stmt = conn.prepare("SELECT name FROM schema_migrations ORDER BY name")?;
    let names = stmt.query_map([], |r| r.get(0))?.collect::<Result<Vec<String>, _>>()?;
    Ok(names)
}

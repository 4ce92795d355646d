//! Append-only, named migrations compiled into the binary.
//!
//! Each runs in its own `BEGIN IMMEDIATE` transaction, so two commands starting at the same
//! moment cannot both apply it. A shipped migration is never edited.

use anyhow::{Context, Result};
use rusqlite::Connection;

/// (name, SQL) in the order they apply.
pub const MIGRATIONS: &[(&str, &str)] = &[
    ("0001_init", include_str!("migrations/0001_init.sql")),
    ("0060_send_outbox", include_str!("migrations/0060_send_outbox.sql")),
    ("0070_report_indexes", include_str!("migrations/0070_report_indexes.sql")),
    ("0080_cases_threading", include_str!("migrations/0080_cases_threading.sql")),
    ("0090_cases_evidence", include_str!("migrations/0090_cases_evidence.sql")),
    ("0100_labels_by_message", include_str!("migrations/0100_labels_by_message.sql")),
    ("0110_drop_unused_message_indexes", include_str!("migrations/0110_drop_unused_message_indexes.sql")),
    ("0120_case_messages_without_rowid", include_str!("migrations/0120_case_messages_without_rowid.sql")),
    ("0130_cases_state_check_by_comparison", include_str!("migrations/0130_cases_state_check_by_comparison.sql")),
];

/// Migrations that rebuild a table other tables refer to. SQLite's way: foreign keys off
/// (which only takes effect outside a transaction), rebuild, check that every reference still
/// holds, commit, foreign keys back on. With them on, dropping the old table would fail.
const REBUILDS: &[&str] = &["0130_cases_state_check_by_comparison"];

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
    for (name, sql) in MIGRATIONS {
        let rebuild = REBUILDS.contains(name);
        let foreign_keys: bool = conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0))?;
        if rebuild {
            conn.execute_batch("PRAGMA foreign_keys = OFF")?;
        }
        let result = apply(conn, name, sql, rebuild);
        if rebuild && foreign_keys {
            conn.execute_batch("PRAGMA foreign_keys = ON")?;
        }
        if result? {
            applied.push(*name);
        }
    }
    Ok(applied)
}

/// Applies one migration in its own transaction unless it is already in; true when applied.
fn apply(conn: &mut Connection, name: &str, sql: &str, rebuild: bool) -> Result<bool> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let done: bool =
        tx.query_row("SELECT EXISTS(SELECT 1 FROM schema_migrations WHERE name = ?1)", [name], |r| r.get(0))?;
    if done {
        return Ok(false);
    }
    tx.execute_batch(sql).with_context(|| format!("applying migration {name}"))?;
    if rebuild {
        let dangling: i64 = tx.query_row("SELECT COUNT(*) FROM pragma_foreign_key_check", [], |r| r.get(0))?;
        anyhow::ensure!(dangling == 0, "migration {name} would leave {dangling} references dangling");
    }
    tx.execute(
        "INSERT INTO schema_migrations (name, applied_at) VALUES (?1, ?2)",
        rusqlite::params![name, crate::ledger::now()],
    )?;
    tx.commit()?;
    Ok(true)
}

/// Names of migrations recorded in the database, in order.
pub fn applied(conn: &Connection) -> Result<Vec<String>> {
    let mut stmt = conn.prepare("SELECT name FROM schema_migrations ORDER BY name")?;
    let names = stmt.query_map([], |r| r.get(0))?.collect::<Result<Vec<String>, _>>()?;
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cases_and_their_messages_keep_every_row_and_check_once_rebuilt() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l.sqlite");
        // A ledger as the release before 0120 left it, with messages in cases.
        let first_new = MIGRATIONS.iter().position(|(n, _)| *n == "0120_case_messages_without_rowid").unwrap();
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(
                "PRAGMA foreign_keys = ON; \
                 CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)",
            )
            .unwrap();
            let (before, _) = MIGRATIONS.split_at(first_new);
            for (name, sql) in before {
                conn.execute_batch(sql).unwrap();
                conn.execute("INSERT INTO schema_migrations VALUES (?1, 'then')", [name]).unwrap();
            }
            conn.execute_batch(
                "INSERT INTO raw_sources (sha256, size, raw) VALUES ('h', 1, x'00');
                 INSERT INTO messages (id, raw_sha256, account, mailbox, record_json, fetched_at)
                     VALUES ('m1', 'h', 'a', 'b', '{}', 't'), ('m2', 'h', 'a', 'b', '{}', 't'), ('m3', 'h', 'a', 'b', '{}', 't');
                 INSERT INTO cases (id, customer_address, subject, state, waiting_for_json, created_at, updated_at,
                     subject_key, last_message_at) VALUES
                     ('c1', 'a@x.example', 'Parcel', 'waiting_customer', '[\"order\"]', 't0', 't1', 'parcel', 't2'),
                     ('c2', NULL, 'Refund', 'resolved', '[]', 't3', 't4', 'refund', 't5');
                 INSERT INTO case_messages (case_id, message, added_at, role) VALUES
                     ('c1', 'm1', 't1', 'customer'), ('c1', 'm2', 't2', 'team'), ('c2', 'm3', 't3', 'ours');",
            )
            .unwrap();
        }
        let ledger = crate::ledger::Ledger::open(&path).unwrap();
        let conn = ledger.conn();
        let names: Vec<String> = MIGRATIONS.iter().map(|(n, _)| n.to_string()).collect();
        assert_eq!(applied(conn).unwrap(), names);
        let on: bool = conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0)).unwrap();
        assert!(on, "foreign keys are back on after the rebuild");
        let cases: Vec<(String, Option<String>, String, String, String)> = conn
            .prepare("SELECT id, customer_address, state, waiting_for_json, last_message_at FROM cases ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(cases, [
            ("c1".into(), Some("a@x.example".into()), "waiting_customer".into(), "[\"order\"]".into(), "t2".into()),
            ("c2".into(), None, "resolved".into(), "[]".into(), "t5".into()),
        ]);
        assert!(conn.execute("UPDATE cases SET state = 'lost' WHERE id = 'c1'", []).is_err());
        conn.execute("UPDATE cases SET state = 'waiting_partner' WHERE id = 'c1'", []).unwrap();
        let by_subject: String = conn
            .query_row(
                "SELECT id FROM cases WHERE customer_address = 'a@x.example' AND subject_key = 'parcel' \
                 AND last_message_at >= 't' ORDER BY last_message_at DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(by_subject, "c1");
        let rows: Vec<(String, String, String, String)> = conn
            .prepare("SELECT case_id, message, added_at, role FROM case_messages ORDER BY message")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let want = [("c1", "m1", "t1", "customer"), ("c1", "m2", "t2", "team"), ("c2", "m3", "t3", "ours")];
        assert_eq!(rows.len(), 3);
        for (row, want) in rows.iter().zip(want) {
            assert_eq!((row.0.as_str(), row.1.as_str(), row.2.as_str(), row.3.as_str()), want);
        }
        let sql: String = conn
            .query_row("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'case_messages'", [], |r| r.get(0))
            .unwrap();
        assert!(sql.contains("WITHOUT ROWID"), "{sql}");
        // Still refused: an unknown role, a second copy of a row, a message that is not stored.
        let insert = |case: &str, message: &str, role: &str| {
            conn.execute(
                "INSERT INTO case_messages (case_id, message, added_at, role) VALUES (?1, ?2, 't', ?3)",
                [case, message, role],
            )
        };
        assert!(insert("c2", "m1", "robot").is_err());
        assert!(insert("c1", "m1", "customer").is_err());
        assert!(insert("c2", "nope", "customer").is_err());
        assert!(insert("no case", "m1", "customer").is_err());
        insert("c2", "m1", "team").unwrap();
        let by_message: String =
            conn.query_row("SELECT role FROM case_messages WHERE message = 'm3'", [], |r| r.get(0)).unwrap();
        assert_eq!(by_message, "ours");
        // Neither check builds a temporary index any more.
        for insert in [
            "INSERT INTO cases (id, state, created_at, updated_at) VALUES ('c3', 'new', 't', 't')",
            "INSERT INTO case_messages (case_id, message, added_at, role) VALUES ('c3', 'm1', 't', 'ours')",
        ] {
            let mut explain = conn.prepare(&format!("EXPLAIN {insert}")).unwrap();
            let opcodes: Vec<String> = explain.query_map([], |r| r.get(1)).unwrap().map(|o| o.unwrap()).collect();
            assert!(!opcodes.iter().any(|o| o == "OpenEphemeral"), "{insert}: {opcodes:?}");
        }
        let sound: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
        assert_eq!(sound, "ok");
        let dangling: i64 = conn.query_row("SELECT COUNT(*) FROM pragma_foreign_key_check", [], |r| r.get(0)).unwrap();
        assert_eq!(dangling, 0);
    }
}

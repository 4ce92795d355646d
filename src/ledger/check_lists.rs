//! Migration 0120: CHECK constraints written as `IN` lists become the same test written as
//! comparisons.
//!
//! SQLite tests `x IN ('a', 'b', 'c')` (three constants or more) against a temporary index it
//! builds from the list every time a statement runs: each insert of a case, a case message, a
//! stage result or a draft opened one and zeroed a 16 KiB page for it, a fifth of the
//! instructions of an import's writer. `x = 'a' OR x = 'b' OR x = 'c'` accepts and rejects the
//! same values, NULL included, without it.
//!
//! ALTER TABLE cannot change a CHECK constraint, and rebuilding the tables would copy every
//! case row of the ledger (a rebuild of `case_messages` failed on a 100,000-message ledger with
//! "database or disk is full"). For a change every stored row already satisfies, SQLite
//! documents editing the table's text in `sqlite_schema` under `writable_schema` and raising
//! `schema_version` (<https://sqlite.org/lang_altertable.html#otheralter>): only that text
//! changes, however big the ledger.

use anyhow::{Result, bail};
use regex::Regex;
use rusqlite::Transaction;

/// (table, column) whose CHECK is an `IN` list of three or more values in migrations 0001–0080.
const LISTED: &[(&str, &str)] = &[("stage_results", "stage"), ("drafts", "state"), ("cases", "state"), ("case_messages", "role")];

pub fn as_comparisons(tx: &Transaction) -> Result<()> {
    let version: i64 = tx.query_row("PRAGMA schema_version", [], |r| r.get(0))?;
    tx.execute_batch("PRAGMA writable_schema = ON")?;
    // Raised even if nothing changed (harmless): every connection then reads the schema again.
    let edited = rewrite_tables(tx)
        .and_then(|()| Ok(tx.execute_batch(&format!("PRAGMA schema_version = {}", version + 1))?));
    // Off whatever happened: a rollback does not undo this connection's flag.
    let off = tx.execute_batch("PRAGMA writable_schema = OFF");
    edited?;
    off?;
    schema_reads(tx)
}

/// Reads each edited table: SQLite parses the schema again first, so text it cannot parse
/// fails here, and the migration's transaction is rolled back with nothing changed. (Only
/// preparing a statement would not: it still sees the schema read before the edit.)
fn schema_reads(tx: &Transaction) -> Result<()> {
    for (table, _) in LISTED {
        tx.query_row(&format!("SELECT count(*) FROM (SELECT * FROM {table} LIMIT 0)"), [], |r| r.get::<_, i64>(0))?;
    }
    Ok(())
}

fn rewrite_tables(tx: &Transaction) -> Result<()> {
    for (table, column) in LISTED {
        let sql: String =
            tx.query_row("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?1", [table], |r| r.get(0))?;
        // A table whose text is not as the migrations wrote it keeps its constraint as it is:
        // slower, never wrong.
        let Some(new) = comparisons(&sql, column) else { continue };
        let changed = tx.execute(
            "UPDATE sqlite_schema SET sql = ?2 WHERE type = 'table' AND name = ?1",
            rusqlite::params![table, new],
        )?;
        if changed != 1 {
            bail!("table {table}: {changed} schema rows changed, expected 1");
        }
    }
    Ok(())
}

/// `sql` with its `CHECK (column IN ('a', 'b', …))` written as `CHECK (column = 'a' OR …)`;
/// None if there is no such list of plain quoted values.
fn comparisons(sql: &str, column: &str) -> Option<String> {
    let pattern = format!(r"(?i)CHECK\s*\(\s*{}\s+IN\s*\(([^()]*)\)\s*\)", regex::escape(column));
    let found = Regex::new(&pattern).ok()?.captures(sql)?;
    let values: Vec<&str> = found[1].split(',').map(str::trim).collect();
    let plain = |v: &&str| v.len() >= 2 && v.starts_with('\'') && v.ends_with('\'') && !v[1..v.len() - 1].contains('\'');
    if !values.iter().all(plain) {
        return None;
    }
    let tests: Vec<String> = values.iter().map(|v| format!("{column} = {v}")).collect();
    let whole = found.get(0)?.range();
    Some(format!("{}CHECK ({}){}", &sql[..whole.start], tests.join(" OR "), &sql[whole.end..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::migrations::{MIGRATIONS, Migration};
    use rusqlite::Connection;

    #[test]
    fn an_in_list_becomes_comparisons_and_the_rest_stays() {
        let sql = "CREATE TABLE t (\n    a TEXT,\n    state TEXT NOT NULL CHECK (state IN\n        ('new', 'done', 'gone')),\n    b INT\n)";
        assert_eq!(
            comparisons(sql, "state").unwrap(),
            "CREATE TABLE t (\n    a TEXT,\n    state TEXT NOT NULL CHECK (state = 'new' OR state = 'done' OR state = 'gone'),\n    b INT\n)"
        );
        assert_eq!(comparisons("CREATE TABLE t (state TEXT CHECK (state = 'new'))", "state"), None);
        assert_eq!(comparisons("CREATE TABLE t (s TEXT CHECK (s IN ('a', b, 'c')))", "s"), None, "not all quoted values");
        assert_eq!(comparisons("CREATE TABLE t (s TEXT CHECK (s IN ('it''s', 'c')))", "s"), None);
    }

    /// The database as every migration before 0120 left it, and as 0120 leaves it.
    fn before_and_after() -> (Connection, Connection) {
        let before = Connection::open_in_memory().unwrap();
        for (name, migration) in MIGRATIONS {
            match migration {
                Migration::Sql(sql) => before.execute_batch(sql).unwrap(),
                Migration::Code(_) => assert_eq!(*name, "0120_check_lists_as_comparisons", "a later migration: update this test"),
            }
        }
        let mut after = Connection::open_in_memory().unwrap();
        crate::ledger::migrations::migrate(&mut after).unwrap();
        (before, after)
    }

    fn check_of(conn: &Connection, table: &str) -> String {
        let sql: String =
            conn.query_row("SELECT sql FROM sqlite_schema WHERE name = ?1", [table], |r| r.get(0)).unwrap();
        let start = sql.find("CHECK").unwrap_or_else(|| panic!("{table} has no CHECK: {sql}"));
        // The CHECK's own parentheses: from its opening one to the one that closes it.
        let mut depth = 0;
        for (i, c) in sql[start..].char_indices() {
            match c {
                '(' => depth += 1,
                ')' if depth == 1 => return sql[start + "CHECK".len()..start + i + 1].to_string(),
                ')' => depth -= 1,
                _ => {}
            }
        }
        panic!("unbalanced CHECK in {sql}")
    }

    #[test]
    fn every_listed_check_accepts_and_rejects_what_it_did() {
        let (before, after) = before_and_after();
        for (table, column) in LISTED {
            let (old, new) = (check_of(&before, table), check_of(&after, table));
            assert!(old.contains(" IN"), "{table}: {old}");
            assert!(!new.contains(" IN"), "{table} still has a list: {new}");
            let listed: Vec<String> = old.split('\'').skip(1).step_by(2).map(str::to_string).collect();
            assert!(listed.len() >= 3, "{table}: {listed:?}");
            let mut values: Vec<Option<String>> = listed.iter().cloned().map(Some).collect();
            values.extend([None, Some(String::new()), Some("bogus".into()), Some(listed[0].to_uppercase())]);
            values.push(Some(format!(" {}", listed[0])));
            for value in &values {
                let verdict = |check: &str| -> Option<bool> {
                    let sql = format!("SELECT {check} FROM (SELECT ?1 AS {column})");
                    after.query_row(&sql, [value], |r| r.get(0)).unwrap()
                };
                assert_eq!(verdict(&old), verdict(&new), "{table}.{column} = {value:?}: {old} vs {new}");
            }
        }
    }

    #[test]
    fn an_edit_sqlite_cannot_parse_is_caught_and_rolled_back() {
        let (before, _) = before_and_after();
        let text = |c: &Connection| -> String {
            c.query_row("SELECT sql FROM sqlite_schema WHERE name = 'cases'", [], |r| r.get(0)).unwrap()
        };
        let original = text(&before);
        let tx = before.unchecked_transaction().unwrap();
        let version: i64 = tx.query_row("PRAGMA schema_version", [], |r| r.get(0)).unwrap();
        tx.execute_batch("PRAGMA writable_schema = ON").unwrap();
        tx.execute("UPDATE sqlite_schema SET sql = 'CREATE TABLE cases (id TEXT CHECK (id = OR))' WHERE name = 'cases'", [])
            .unwrap();
        tx.execute_batch(&format!("PRAGMA schema_version = {}; PRAGMA writable_schema = OFF", version + 1)).unwrap();
        let err = schema_reads(&tx).unwrap_err().to_string();
        assert!(err.contains("malformed") || err.contains("syntax"), "{err}");
        drop(tx);
        assert_eq!(text(&before), original, "the rollback keeps the table as it was");
        let integrity: String = before.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
        assert_eq!(integrity, "ok");
    }

    #[test]
    fn the_migrated_ledger_still_refuses_a_bad_state_and_keeps_its_rows() {
        let (before, _) = before_and_after();
        let insert_case = |c: &Connection, id: &str, state: &str| {
            c.execute("INSERT INTO cases (id, state, created_at, updated_at) VALUES (?1, ?2, 'now', 'now')", [id, state])
        };
        insert_case(&before, "c1", "waiting_customer").unwrap();
        let tx = before.unchecked_transaction().unwrap();
        as_comparisons(&tx).unwrap();
        tx.commit().unwrap();
        let err = insert_case(&before, "c2", "bogus").unwrap_err().to_string();
        assert!(err.contains("CHECK constraint failed"), "{err}");
        insert_case(&before, "c3", "resolved").unwrap();
        let states: Vec<String> =
            before.prepare("SELECT state FROM cases ORDER BY id").unwrap().query_map([], |r| r.get(0)).unwrap().map(|r| r.unwrap()).collect();
        assert_eq!(states, ["waiting_customer", "resolved"]);
        let integrity: String = before.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
        assert_eq!(integrity, "ok");
    }
}

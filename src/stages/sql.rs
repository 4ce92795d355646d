//! Prepared statements for the report stages (digest, heartbeat), seen by a query-plan test.
//!
//! Digest and heartbeat must stay fast on a ledger of millions of messages, so every query
//! they run must reach its rows through an index on a time column or a key, never by reading
//! a whole table or every result of one stage. Tests collect the statements actually run and
//! check each plan with [`assert_indexed`].

use rusqlite::{CachedStatement, Connection};

pub(crate) fn prepare<'c>(conn: &'c Connection, sql: &str) -> rusqlite::Result<CachedStatement<'c>> {
    #[cfg(test)]
    SEEN.with(|s| s.borrow_mut().insert(sql.to_string()));
    conn.prepare_cached(sql)
}

#[cfg(test)]
thread_local! {
    static SEEN: std::cell::RefCell<std::collections::BTreeSet<String>> = Default::default();
}

/// The statements prepared so far on this thread.
#[cfg(test)]
pub(crate) fn seen() -> Vec<String> {
    SEEN.with(|s| s.borrow().iter().cloned().collect())
}

/// Fails when `sql` reads a whole table, or every row of one stage or event kind (unless it
/// only wants the newest one).
#[cfg(test)]
pub(crate) fn assert_indexed(conn: &Connection, sql: &str) {
    let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
    let args: Vec<String> = (0..stmt.parameter_count()).map(|i| format!("2026-11-0{}", i % 9 + 1)).collect();
    let plan: Vec<String> = stmt
        .query_map(rusqlite::params_from_iter(args), |r| r.get::<_, String>(3))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for step in &plan {
        let scanned = step.strip_prefix("SCAN ").map(|rest| rest.split(' ').next().unwrap_or(""));
        let full_scan =
            scanned.is_some_and(|name| tables.iter().any(|t| t == name) || ["m", "s", "d", "x", "t"].contains(&name));
        // Walking one stage's index from its newest end for one row is a lookup, not a scan.
        let single_row = sql.trim_end().ends_with("LIMIT 1");
        let whole_stage = !single_row && (step.contains("(stage=?)") || step.contains("(kind=?)"));
        assert!(!full_scan && !whole_stage, "unindexed step `{step}` in:\n{sql}\nplan:\n{}", plan.join("\n"));
    }
}

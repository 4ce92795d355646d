//! Versioned stage results: a rerun adds a version; the highest version is current.

use anyhow::Result;
use rusqlite::{Connection, params};
use serde_json::Value;

use super::{Ledger, now};
use crate::record::Record;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Filter,
    Triage,
    Draft,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Filter => "filter",
            Stage::Triage => "triage",
            Stage::Draft => "draft",
        }
    }
}

/// A result to store.
pub struct NewResult<'a> {
    pub message: &'a str,
    pub stage: Stage,
    /// What digest counts: the verdict, the category, the draft id.
    pub summary: &'a str,
    pub backend: &'a str,
    pub model: &'a str,
    pub prompt_version: &'a str,
    pub result: &'a Value,
    pub run_id: Option<i64>,
}

/// Adds a result as the next version; returns the version. Call inside a write transaction.
pub fn add_result(conn: &Connection, r: &NewResult<'_>) -> Result<i64> {
    let version: i64 = conn
        .prepare_cached("SELECT COALESCE(MAX(version), 0) + 1 FROM stage_results WHERE message = ?1 AND stage = ?2")?
        .query_row(params![r.message, r.stage.as_str()], |row| row.get(0))?;
    conn.prepare_cached(
        "INSERT INTO stage_results (message, stage, version, summary, backend, model, prompt_version, \
         result_json, run_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
            r.message,
            r.stage.as_str(),
            version,
            r.summary,
            r.backend,
            r.model,
            r.prompt_version,
            r.result.to_string(),
            r.run_id,
            now()
        ],
    )?;
    Ok(version)
}

/// The current result of one stage for one message as stored JSON text (no parsing).
pub fn current_result_json(conn: &Connection, message: &str, stage: Stage) -> Result<Option<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT result_json FROM stage_results WHERE message = ?1 AND stage = ?2 ORDER BY version DESC LIMIT 1",
    )?;
    let mut rows = stmt.query(params![message, stage.as_str()])?;
    Ok(match rows.next()? {
        Some(row) => Some(row.get(0)?),
        None => None,
    })
}

impl Ledger {
    /// The current (latest) result of one stage for one message.
    pub fn current_result(&self, message: &str, stage: Stage) -> Result<Option<Value>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT result_json FROM stage_results WHERE message = ?1 AND stage = ?2 ORDER BY version DESC LIMIT 1",
        )?;
        let mut rows = stmt.query(params![message, stage.as_str()])?;
        match rows.next()? {
            Some(row) => {
                let json: String = row.get(0)?;
                Ok(serde_json::from_str(&json).ok())
            }
            None => Ok(None),
        }
    }

    /// Puts the current filter, triage and draft results into `record`.
    pub fn merge_current_results(&self, record: &mut Record) -> Result<()> {
        if let Some(v) = self.current_result(&record.id, Stage::Filter)? {
            record.filter = serde_json::from_value(v).ok();
        }
        if let Some(v) = self.current_result(&record.id, Stage::Triage)? {
            record.triage = serde_json::from_value(v).ok();
        }
        if let Some(v) = self.current_result(&record.id, Stage::Draft)? {
            record.draft = serde_json::from_value(v).ok();
        }
        Ok(())
    }

    /// Stores a result in its own transaction.
    pub fn add_result(&mut self, r: &NewResult<'_>) -> Result<i64> {
        self.write(|tx| add_result(tx, r))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::messages::{NewMessage, insert_message};

    #[test]
    fn a_reclassification_adds_a_version_and_becomes_current() {
        let mut ledger = Ledger::open_in_memory().unwrap();
        let rec = Record::new("m1");
        ledger.write(|tx| insert_message(tx, &NewMessage { record: &rec, raw: b"x", raw_sha256: "h" }, None)).unwrap();
        let first = serde_json::json!({"category": "refund"});
        let second = serde_json::json!({"category": "return"});
        let mk = |v: &'static Value| NewResult {
            message: "m1",
            stage: Stage::Triage,
            summary: "x",
            backend: "embedded",
            model: "m",
            prompt_version: "1",
            result: v,
            run_id: None,
        };
        let first: &'static Value = Box::leak(Box::new(first));
        let second: &'static Value = Box::leak(Box::new(second));
        assert_eq!(ledger.add_result(&mk(first)).unwrap(), 1);
        assert_eq!(ledger.add_result(&mk(second)).unwrap(), 2);
        assert_eq!(ledger.current_result("m1", Stage::Triage).unwrap().unwrap()["category"], "return");
        let n: i64 = ledger.conn().query_row("SELECT COUNT(*) FROM stage_results", [], |r| r.get(0)).unwrap();
        assert_eq!(n, 2);
    }
}

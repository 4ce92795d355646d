//! One row per command run, read by heartbeat and digest.

use anyhow::Result;
use rusqlite::params;
use serde_json::Value;

use super::{Ledger, now};

impl Ledger {
    pub fn start_run(&self, command: &str, args: &Value) -> Result<i64> {
        self.conn.execute(
            "INSERT INTO runs (command, args_json, pid, started_at) VALUES (?1, ?2, ?3, ?4)",
            params![command, args.to_string(), std::process::id(), now()],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    /// `status`: ok | partial | error.
    pub fn finish_run(&self, run_id: i64, status: &str, counts: &Value, error: Option<&str>) -> Result<()> {
        self.conn.execute(
            "UPDATE runs SET ended_at = ?2, status = ?3, counts_json = ?4, error = ?5 WHERE id = ?1",
            params![run_id, now(), status, counts.to_string(), error],
        )?;
        Ok(())
    }
}

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

    /// Runs of `command` still marked `running` whose process is gone: killed (`kill -9`, the
    /// OOM killer, a power cut) before they could record their end. A live process with the
    /// same pid keeps a run counted as alive, which only delays what depends on this.
    pub fn dead_runs(&self, command: &str) -> Result<Vec<i64>> {
        let boot = boot_time();
        let mut stmt = self.conn.prepare("SELECT id, pid, started_at FROM runs WHERE command = ?1 AND status = 'running' ORDER BY id")?;
        let rows = stmt.query_map([command], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Option<i64>>(1)?, r.get::<_, String>(2)?)))?;
        let mut dead = Vec::new();
        for row in rows {
            let (id, pid, started_at) = row?;
            let before_boot = boot.as_deref().is_some_and(|b| started_at.as_str() < b);
            if before_boot || !pid.is_some_and(process_alive) {
                dead.push(id);
            }
        }
        Ok(dead)
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

/// True when a process with this pid exists (signal 0 checks without sending anything).
pub(crate) fn process_alive(pid: i64) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else { return false };
    if pid <= 0 {
        return false;
    }
    // SAFETY: kill with signal 0 only checks that the process exists.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// When the machine booted, as RFC 3339 UTC (from /proc/uptime), if known.
fn boot_time() -> Option<String> {
    let uptime: f64 = std::fs::read_to_string("/proc/uptime").ok()?.split_whitespace().next()?.parse().ok()?;
    let boot = chrono::Utc::now() - chrono::Duration::milliseconds((uptime * 1000.0) as i64);
    Some(boot.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_whose_process_is_gone_is_dead() {
        let ledger = Ledger::open_in_memory().unwrap();
        let alive = ledger.start_run("run", &Value::Null).unwrap();
        let killed = ledger.start_run("run", &Value::Null).unwrap();
        ledger.conn().execute("UPDATE runs SET pid = 2147483646 WHERE id = ?1", [killed]).unwrap();
        let before_boot = ledger.start_run("run", &Value::Null).unwrap();
        ledger.conn().execute("UPDATE runs SET started_at = '2000-01-01T00:00:00Z' WHERE id = ?1", [before_boot]).unwrap();
        let ended = ledger.start_run("run", &Value::Null).unwrap();
        ledger.conn().execute("UPDATE runs SET pid = 2147483646 WHERE id = ?1", [ended]).unwrap();
        ledger.finish_run(ended, "ok", &Value::Null, None).unwrap();
        let other = ledger.start_run("fetch", &Value::Null).unwrap();
        ledger.conn().execute("UPDATE runs SET pid = 2147483646 WHERE id = ?1", [other]).unwrap();
        assert_eq!(ledger.dead_runs("run").unwrap(), vec![killed, before_boot]);
        assert!(!ledger.dead_runs("run").unwrap().contains(&alive));
    }
}

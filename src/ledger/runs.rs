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

    /// Runs of `command` other than `current` whose leftovers no run has checked yet: every
    /// finished one, and those still marked `running` whose process is gone (killed by
    /// `kill -9`, the OOM killer or a power cut before they could record their end). A live
    /// process with the same pid keeps a run counted as alive, which only delays its check;
    /// our own pid does not (in a container every run may be pid 1).
    pub fn runs_to_check(&self, command: &str, current: Option<i64>) -> Result<Vec<i64>> {
        let boot = boot_time();
        let mut stmt = self.conn.prepare(
            "SELECT id, status, pid, started_at FROM runs \
             WHERE command = ?1 AND checked_by IS NULL AND id IS NOT ?2 ORDER BY id",
        )?;
        let rows = stmt.query_map(params![command, current], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, Option<i64>>(2)?, r.get::<_, String>(3)?))
        })?;
        let mut due = Vec::new();
        for row in rows {
            let (id, status, pid, started_at) = row?;
            let before_boot = boot.as_deref().is_some_and(|b| started_at.as_str() < b);
            let ours = pid == Some(i64::from(std::process::id()));
            if status != "running" || before_boot || ours || !pid.is_some_and(process_alive) {
                due.push(id);
            }
        }
        Ok(due)
    }

    /// Records that run `by` took the leftovers of `runs` through (or found none).
    pub fn mark_checked(&self, runs: &[i64], by: i64) -> Result<()> {
        let mut stmt = self.conn.prepare_cached("UPDATE runs SET checked_by = ?2 WHERE id = ?1")?;
        for run in runs {
            stmt.execute(params![run, by])?;
        }
        Ok(())
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
    fn finished_and_killed_runs_are_checked_once_and_live_ones_not_at_all() {
        let ledger = Ledger::open_in_memory().unwrap();
        let alive = ledger.start_run("run", &Value::Null).unwrap();
        // Another live process (ours counts as dead: the current run is excluded by id).
        ledger.conn().execute("UPDATE runs SET pid = ?2 WHERE id = ?1", [alive, i64::from(std::os::unix::process::parent_id())]).unwrap();
        let killed = ledger.start_run("run", &Value::Null).unwrap();
        ledger.conn().execute("UPDATE runs SET pid = 2147483646 WHERE id = ?1", [killed]).unwrap();
        let before_boot = ledger.start_run("run", &Value::Null).unwrap();
        ledger.conn().execute("UPDATE runs SET started_at = '2000-01-01T00:00:00Z' WHERE id = ?1", [before_boot]).unwrap();
        let failed = ledger.start_run("run", &Value::Null).unwrap();
        ledger.finish_run(failed, "error", &Value::Null, Some("disk full")).unwrap();
        let ended = ledger.start_run("run", &Value::Null).unwrap();
        ledger.finish_run(ended, "ok", &Value::Null, None).unwrap();
        let other = ledger.start_run("fetch", &Value::Null).unwrap();
        ledger.conn().execute("UPDATE runs SET pid = 2147483646 WHERE id = ?1", [other]).unwrap();
        let current = ledger.start_run("run", &Value::Null).unwrap();
        ledger.finish_run(current, "ok", &Value::Null, None).unwrap();
        let due = ledger.runs_to_check("run", Some(current)).unwrap();
        assert_eq!(due, vec![killed, before_boot, failed, ended]);
        assert!(!due.contains(&alive));
        ledger.mark_checked(&due, current).unwrap();
        assert!(ledger.runs_to_check("run", Some(current)).unwrap().is_empty(), "each is checked once");
        assert_eq!(ledger.runs_to_check("run", None).unwrap(), vec![current]);
    }
}

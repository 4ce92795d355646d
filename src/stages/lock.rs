//! Named locks next to the ledger: an advisory `flock` on `<ledger>.<name>-lock`, for work that
//! must not overlap across processes but cannot sit inside a ledger transaction because it
//! talks to a server meanwhile.
//!
//! - `send`: held from the claim of a draft until its outcome is in the ledger. It is what
//!   makes "a draft found in `sending`" mean "its sender died": whoever holds the lock knows
//!   that no live process is in the middle of an SMTP transaction.
//! - `notify`: held from "was this posted already?" until the post is recorded, so two
//!   overlapping notify runs never post the same record twice.
//! - `leftovers`: held by the `run` that takes earlier runs' leftovers through the chain, so
//!   two runs starting together do not draft and print them twice (the other skips them).
//!
//! The kernel drops a lock when its process dies, `kill -9` included, so it never needs
//! cleaning up.

use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

pub struct LedgerLock {
    _file: Option<File>,
}

pub fn lock_path(ledger: &Path, name: &str) -> PathBuf {
    let mut path = ledger.as_os_str().to_os_string();
    path.push(format!(".{name}-lock"));
    PathBuf::from(path)
}

impl LedgerLock {
    /// Waits up to `wait` for the lock `name`. An in-memory ledger (unit tests) needs none.
    pub async fn acquire(ledger: &Path, name: &str, wait: Duration) -> Result<LedgerLock> {
        let started = Instant::now();
        loop {
            if let Some(lock) = LedgerLock::try_acquire(ledger, name)? {
                return Ok(lock);
            }
            if started.elapsed() >= wait {
                let path = lock_path(ledger, name);
                bail!(
                    "another `mailroom {name}` has held {} for over {} s; try again later",
                    path.display(),
                    wait.as_secs()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The lock `name` if nobody holds it now.
    pub fn try_acquire(ledger: &Path, name: &str) -> Result<Option<LedgerLock>> {
        if ledger.as_os_str() == ":memory:" {
            return Ok(Some(LedgerLock { _file: None }));
        }
        let path = lock_path(ledger, name);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .with_context(|| format!("cannot open the {name} lock {}", path.display()))?;
        // SAFETY: flock on a file descriptor we own; no memory is shared.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc == 0 {
            return Ok(Some(LedgerLock { _file: Some(file) }));
        }
        let err = std::io::Error::last_os_error();
        if err.raw_os_error() != Some(libc::EWOULDBLOCK) {
            return Err(err).with_context(|| format!("cannot lock {}", path.display()));
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_holder_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let ledger = dir.path().join("l.sqlite");
        let first = LedgerLock::acquire(&ledger, "send", Duration::ZERO).await.unwrap();
        assert!(LedgerLock::acquire(&ledger, "send", Duration::from_millis(120)).await.is_err());
        assert!(LedgerLock::acquire(&ledger, "notify", Duration::ZERO).await.is_ok(), "names are independent");
        assert!(LedgerLock::try_acquire(&ledger, "send").unwrap().is_none(), "held: no waiting");
        drop(first);
        assert!(LedgerLock::acquire(&ledger, "send", Duration::ZERO).await.is_ok());
    }
}

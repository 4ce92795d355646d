//! Real mail servers for tests: one Dovecot (IMAP, IMAPS, LMTP) and one Postfix (SMTP,
//! SMTPS) on loopback, started once per test binary by the project's scripts. The scripts
//! watch this process and stop the servers when it exits.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

pub struct Servers {
    pub dir: PathBuf,
    pub env: HashMap<String, String>,
}

impl Servers {
    pub fn get(&self, key: &str) -> &str {
        self.env.get(key).unwrap_or_else(|| panic!("{key} missing from {}/env", self.dir.display()))
    }
    pub fn port(&self, key: &str) -> u16 {
        self.get(key).parse().unwrap_or_else(|_| panic!("{key} is not a port"))
    }
    pub fn ca_file(&self) -> &str {
        self.get("CA_FILE")
    }
    /// The Maildir of a server user (`test` or `customer`).
    pub fn maildir(&self, user: &str) -> PathBuf {
        PathBuf::from(self.get("MAILDIR_ROOT")).join(user).join("Maildir")
    }
}

static SERVERS: OnceLock<Servers> = OnceLock::new();

fn start(script: &str, dir: &std::path::Path) {
    let status = Command::new(super::root().join("scripts").join(script))
        .arg(dir)
        .env("AUTO_PORTS", "1")
        .env("WATCH_PID", std::process::id().to_string())
        .status()
        .unwrap_or_else(|e| panic!("cannot run scripts/{script}: {e}"));
    assert!(status.success(), "scripts/{script} failed; run scripts/install-deps.sh first");
}

/// How long the servers' folder of a test binary (logs, mail, queue) is kept, counted from its
/// start, for a look after a failure (a binary runs for minutes).
const KEEP_FINISHED: std::time::Duration = std::time::Duration::from_secs(6 * 3600);

/// Removes the folders of test binaries that are gone and started more than KEEP_FINISHED ago:
/// each run leaves one per binary (about 2 MB), and runs add up.
fn remove_stale_folders(tmp: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(tmp) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.strip_prefix("mr-")).and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        let old = entry.metadata().and_then(|m| m.modified()).is_ok_and(|t| t.elapsed().is_ok_and(|age| age > KEEP_FINISHED));
        if old && !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Dovecot and Postfix, started on first use.
pub fn servers() -> &'static Servers {
    SERVERS.get_or_init(|| {
        remove_stale_folders(&std::env::temp_dir());
        // Short path under /tmp: unix socket paths are limited in length.
        let base = std::env::temp_dir().join(format!("mr-{}", std::process::id()));
        // A folder with this pid is an earlier binary's that had the pid before us (its
        // servers stopped with it): its mailboxes would hold that binary's mail.
        let _ = std::fs::remove_dir_all(&base);
        std::fs::create_dir_all(&base).expect("server dir");
        let dir = base.join("srv");
        start("dovecot-up.sh", &dir);
        start("postfix-up.sh", &dir);
        let text = std::fs::read_to_string(dir.join("env")).expect("servers env file");
        let env = text
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect();
        Servers { dir, env }
    })
}

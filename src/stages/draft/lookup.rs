//! The order-lookup hook: a command the team provides, given an order id, printing JSON.
//!
//! The command line from `[draft] order_lookup_command` runs under `sh -c` in the config's
//! folder, with the order id appended as its last argument (passed as `$1`, never spliced
//! into the shell text). Protocol:
//! - a JSON object on stdout, exit 0: the order was found. Known fields: `status`, `carrier`,
//!   `tracking` (or `tracking_number`), `tracking_url`, `eta`, `customer_email` (or `email`);
//! - exit 1, or empty output, `null`, `{}` or `{"found": false}` with exit 0: no such order;
//! - anything else (another exit status, junk, a timeout): the lookup failed. A failure is recorded
//!   as an event and the draft goes on without order facts; it never stops the stage.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Largest answer read from the hook.
const MAX_OUTPUT: u64 = 1024 * 1024;

#[derive(Debug, Clone)]
pub struct OrderLookup {
    pub command: String,
    pub cwd: Option<PathBuf>,
    pub timeout: Duration,
}

/// What the hook knows about one order. Every field is a short single line.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct OrderFacts {
    pub order_id: String,
    pub status: Option<String>,
    pub carrier: Option<String>,
    pub tracking: Option<String>,
    pub tracking_url: Option<String>,
    pub eta: Option<String>,
    #[serde(skip)]
    pub customer_email: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum LookupResult {
    Found(OrderFacts),
    NotFound,
    Failed(String),
}

impl OrderLookup {
    /// Runs the hook for one order id; returns the result and how long it took.
    pub fn lookup(&self, order_id: &str) -> (LookupResult, Duration) {
        let started = Instant::now();
        let result = self.run(order_id);
        (result, started.elapsed())
    }

    fn run(&self, order_id: &str) -> LookupResult {
        if order_id.is_empty() || order_id.len() > 40 || !order_id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return LookupResult::Failed(format!("refusing to look up an order id with unexpected characters: {order_id:?}"));
        }
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(format!("{} \"$1\"", self.command))
            .arg("mailroom-order-lookup")
            .arg(order_id)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        if let Some(dir) = self.cwd.as_ref().filter(|d| d.is_dir()) {
            cmd.current_dir(dir);
        }
        let mut child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => return LookupResult::Failed(format!("cannot start the order lookup command: {e}")),
        };
        let stdout = child.stdout.take().map(|out| {
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let _ = out.take(MAX_OUTPUT).read_to_end(&mut buf);
                buf
            })
        });
        let stderr = child.stderr.take().map(|err| {
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let _ = err.take(4096).read_to_end(&mut buf);
                buf
            })
        });
        let deadline = Instant::now() + self.timeout;
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break Some(status),
                Ok(None) if Instant::now() >= deadline => {
                    // The whole process group: `sh` and whatever it started.
                    // SAFETY: kill(2) with a negative pid signals the group we created above.
                    unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
                    let _ = child.wait();
                    break None;
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(10)),
                Err(e) => return LookupResult::Failed(format!("waiting for the order lookup command: {e}")),
            }
        };
        let out = stdout.and_then(|h| h.join().ok()).unwrap_or_default();
        let err = stderr.and_then(|h| h.join().ok()).unwrap_or_default();
        let Some(status) = status else {
            return LookupResult::Failed(format!("order lookup timed out after {}s", self.timeout.as_secs_f32()));
        };
        if status.code() == Some(1) {
            return LookupResult::NotFound;
        }
        if !status.success() {
            let err = String::from_utf8_lossy(&err);
            let err = one_line(err.trim(), 300);
            return LookupResult::Failed(format!(
                "order lookup command exited with {status}{}",
                if err.is_empty() { String::new() } else { format!(": {err}") }
            ));
        }
        parse_answer(order_id, &out)
    }
}

/// Interprets the hook's stdout (see the module doc for the protocol).
pub fn parse_answer(order_id: &str, out: &[u8]) -> LookupResult {
    let text = String::from_utf8_lossy(out);
    if text.trim().is_empty() {
        return LookupResult::NotFound;
    }
    let value: Value = match serde_json::from_str(text.trim()) {
        Ok(v) => v,
        Err(e) => return LookupResult::Failed(format!("order lookup printed something that is not JSON: {e}")),
    };
    let obj = match value {
        Value::Null => return LookupResult::NotFound,
        Value::Object(o) => o,
        _ => return LookupResult::Failed("order lookup printed JSON that is not an object".into()),
    };
    if obj.is_empty() || obj.get("found") == Some(&Value::Bool(false)) {
        return LookupResult::NotFound;
    }
    let field = |names: &[&str]| -> Option<String> {
        names.iter().find_map(|n| match obj.get(*n) {
            Some(Value::String(s)) if !s.trim().is_empty() => Some(one_line(s.trim(), 200)),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        })
    };
    LookupResult::Found(OrderFacts {
        order_id: order_id.to_string(),
        status: field(&["status"]),
        carrier: field(&["carrier"]),
        tracking: field(&["tracking", "tracking_number"]),
        tracking_url: field(&["tracking_url"]).filter(|u| u.starts_with("https://") || u.starts_with("http://")),
        eta: field(&["eta", "estimated_delivery"]),
        customer_email: field(&["customer_email", "email"]).map(|e| e.to_ascii_lowercase()),
    })
}

/// Control characters and line breaks removed, cut to `max` characters.
fn one_line(s: &str, max: usize) -> String {
    let cleaned: String = s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    cleaned.chars().take(max).collect()
}

/// The sender owns the order: same address, ignoring case and surrounding space.
pub fn same_customer(sender: &str, facts: &OrderFacts) -> bool {
    let sender = sender.trim();
    !sender.is_empty() && facts.customer_email.as_deref().is_some_and(|c| c.trim().eq_ignore_ascii_case(sender))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hook(script: &str, timeout_ms: u64) -> (tempfile::TempDir, OrderLookup) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lookup.sh");
        std::fs::write(&path, format!("#!/bin/sh\n{script}\n")).unwrap();
        let lookup = OrderLookup {
            command: "sh ./lookup.sh".into(),
            cwd: Some(dir.path().to_path_buf()),
            timeout: Duration::from_millis(timeout_ms),
        };
        (dir, lookup)
    }

    #[test]
    fn a_found_order_gives_its_facts() {
        let (_d, l) = hook(
            r#"[ "$1" = "NW-1" ] && echo '{"status":"shipped","carrier":"DHL","tracking":"JJD0001","customer_email":"A@x.example"}'"#,
            5000,
        );
        let (r, _) = l.lookup("NW-1");
        let LookupResult::Found(f) = r else { panic!("{r:?}") };
        assert_eq!(f.carrier.as_deref(), Some("DHL"));
        assert_eq!(f.customer_email.as_deref(), Some("a@x.example"));
        assert!(same_customer("a@X.example", &f));
        assert!(!same_customer("b@x.example", &f));
        assert!(!same_customer("", &f));
    }

    #[test]
    fn not_found_failures_and_timeouts() {
        let (_d, l) = hook(r#"[ "$1" = "NW-1" ] && echo '{"status":"x"}'; exit 0"#, 5000);
        assert_eq!(l.lookup("NW-2").0, LookupResult::NotFound);
        let (_d, l) = hook("echo 'unknown order' >&2; exit 1", 5000);
        assert_eq!(l.lookup("NW-2").0, LookupResult::NotFound);
        let (_d, l) = hook("echo 'database down' >&2; exit 3", 5000);
        let LookupResult::Failed(e) = l.lookup("NW-1").0 else { panic!() };
        assert!(e.contains("database down") && e.contains('3'), "{e}");
        let (_d, l) = hook("echo not json", 5000);
        assert!(matches!(l.lookup("NW-1").0, LookupResult::Failed(_)));
        let (_d, l) = hook("sleep 5; echo '{}'", 200);
        let started = Instant::now();
        let LookupResult::Failed(e) = l.lookup("NW-1").0 else { panic!() };
        assert!(e.contains("timed out"), "{e}");
        assert!(started.elapsed() < Duration::from_secs(3));
    }

    #[test]
    fn the_order_id_is_an_argument_not_shell_text() {
        let (_d, l) = hook(r#"echo "{\"status\": \"$1\"}""#, 5000);
        assert!(matches!(l.lookup("NW-1; rm -rf x").0, LookupResult::Failed(_)));
        let LookupResult::Found(f) = l.lookup("NW-9").0 else { panic!() };
        assert_eq!(f.status.as_deref(), Some("NW-9"));
    }

    #[test]
    fn answers_are_parsed_leniently_but_safely() {
        assert_eq!(parse_answer("1", b"null"), LookupResult::NotFound);
        assert_eq!(parse_answer("1", b"{\"found\": false}"), LookupResult::NotFound);
        let LookupResult::Found(f) = parse_answer("1", b"{\"status\":\"in\\ntransit\",\"tracking_url\":\"javascript:x\"}")
        else {
            panic!()
        };
        assert_eq!(f.status.as_deref(), Some("in transit"));
        assert_eq!(f.tracking_url, None);
    }
}

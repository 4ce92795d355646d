//! Helpers of the promise suites (tests/promises_*.rs): generated mailboxes, processes run
//! together or killed at random moments, peak memory, and the ledger's integrity check.
#![allow(dead_code)]

use std::collections::HashSet;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use mailroom::ledger::Ledger;
use rand::{Rng, SeedableRng};

/// One customer message, distinct per `(tag, i)`, about `body_bytes` long.
pub fn message(tag: &str, i: usize, body_bytes: usize) -> String {
    let line = format!("Hello, this is customer {i} asking about order NW-{:05} ({tag}). ", 10_000 + i);
    let mut body = String::new();
    while body.len() < body_bytes {
        body.push_str(&line);
        body.push('\n');
    }
    format!(
        "From: Customer {i} <customer{i}@shop.example>\nTo: support@shop.example\nSubject: Order question {i} {tag}\n\
         Date: Mon, 02 Nov 2026 10:{:02}:00 +0000\nMessage-ID: <{tag}-{i}@shop.example>\n\
         Content-Type: text/plain; charset=utf-8\n\n{body}",
        i % 60
    )
}

/// An mbox of `n` distinct messages.
pub fn mbox(tag: &str, n: usize, body_bytes: usize) -> Vec<u8> {
    let mut out = String::new();
    for i in 0..n {
        out.push_str(&format!("From customer{i}@shop.example Mon Nov  2 10:00:00 2026\n"));
        out.push_str(&message(tag, i, body_bytes));
        out.push('\n');
    }
    out.into_bytes()
}

/// The `id`s of JSONL output, in order.
pub fn ids(stdout: &[u8]) -> Vec<String> {
    super::common::jsonl(stdout).iter().map(|r| r["id"].as_str().expect("record id").to_string()).collect()
}

/// Fails with the problems when the ledger at `path` does not pass `Ledger::check_integrity`.
pub fn assert_sound(path: &Path) {
    let ledger = Ledger::open(path).unwrap_or_else(|e| panic!("ledger {} does not open: {e:#}", path.display()));
    let problems = ledger.check_integrity().expect("integrity check runs");
    assert!(problems.is_empty(), "ledger {} is not sound:\n{}", path.display(), problems.join("\n"));
}

/// Fails when a command said the ledger was locked or busy (overlap must wait, not fail).
pub fn assert_never_locked(out: &Output, what: &str) {
    let err = String::from_utf8_lossy(&out.stderr).to_lowercase();
    assert!(
        !err.contains("locked") && !err.contains("busy"),
        "{what}: a lock error reached the user:\n{err}"
    );
}

/// Starts every command at once (stdin from `input`) and waits for all of them.
pub fn all_at_once(mut commands: Vec<Command>, input: &[u8]) -> Vec<Output> {
    let children: Vec<Child> = commands
        .iter_mut()
        .map(|c| c.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn"))
        .collect();
    let children: Vec<Child> = children
        .into_iter()
        .map(|mut c| {
            let mut stdin = c.stdin.take().expect("stdin");
            let data = input.to_vec();
            std::thread::spawn(move || {
                use std::io::Write;
                let _ = stdin.write_all(&data);
            });
            c
        })
        .collect();
    children.into_iter().map(|c| c.wait_with_output().expect("wait")).collect()
}

/// Runs `cmd` to the end, failing the test when it takes longer than `limit` (a hang).
pub fn run_within(mut cmd: Command, input: &[u8], limit: Duration) -> Output {
    let mut child =
        cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn");
    let mut stdin = child.stdin.take().expect("stdin");
    let data = input.to_vec();
    std::thread::spawn(move || {
        use std::io::Write;
        let _ = stdin.write_all(&data);
    });
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(limit) {
        Ok(out) => out.expect("wait"),
        Err(_) => {
            // SAFETY: signalling our own child by pid.
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
            panic!("the command did not finish within {limit:?} (a hang)");
        }
    }
}

/// Runs `cmd` under `/usr/bin/time` and returns its output and peak resident memory in MiB.
pub fn run_measured(cmd: &Command, input: &[u8], dir: &Path) -> (Output, u64) {
    let report = dir.join("peak-rss.txt");
    let mut timed = Command::new("/usr/bin/time");
    timed.arg("-f").arg("%M").arg("-o").arg(&report).arg(cmd.get_program()).args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => timed.env(k, v),
            None => timed.env_remove(k),
        };
    }
    let out = run_within(timed, input, Duration::from_secs(180));
    let text = std::fs::read_to_string(&report).expect("/usr/bin/time report");
    let kib: u64 = text.lines().last().and_then(|l| l.trim().parse().ok()).unwrap_or_else(|| panic!("time said {text}"));
    (out, kib / 1024)
}

/// A random generator whose seed is printed, so a failure can be replayed with
/// `PROMISE_SEED=N`.
pub fn rng(test: &str) -> rand::rngs::StdRng {
    let seed = std::env::var("PROMISE_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| rand::rng().random());
    eprintln!("{test}: seed {seed} (replay with PROMISE_SEED={seed})");
    rand::rngs::StdRng::seed_from_u64(seed)
}

/// What a run killed at a random moment left: its stdout so far, and whether the kill came
/// before the process ended by itself.
pub struct Killed {
    pub stdout: Vec<u8>,
    pub killed: bool,
    pub status: std::process::ExitStatus,
}

/// Starts `cmd` and sends SIGKILL after a random delay in `window` (unless it ended first).
pub fn kill_at_random(cmd: Command, input: &[u8], rng: &mut impl Rng, window: std::ops::Range<u64>) -> Killed {
    let deadline = Instant::now() + Duration::from_millis(rng.random_range(window));
    kill_when(cmd, input, || Instant::now() >= deadline)
}

/// Starts `cmd` and sends SIGKILL as soon as `due()` says so (asked every millisecond),
/// unless the process ended first.
pub fn kill_when(mut cmd: Command, input: &[u8], mut due: impl FnMut() -> bool) -> Killed {
    let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().expect("spawn");
    let mut stdin = child.stdin.take().expect("stdin");
    let data = input.to_vec();
    std::thread::spawn(move || {
        use std::io::Write;
        let _ = stdin.write_all(&data);
    });
    let mut stdout = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        use std::io::Read;
        let mut v = Vec::new();
        let _ = stdout.read_to_end(&mut v);
        v
    });
    let mut killed = false;
    loop {
        if child.try_wait().expect("try_wait").is_some() {
            break;
        }
        if due() {
            child.kill().expect("SIGKILL");
            killed = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let status = child.wait().expect("wait");
    Killed { stdout: reader.join().expect("reader"), killed, status }
}

/// A count read from a ledger another process is writing: 0 while the file or its tables do
/// not exist yet. Opened read-only, so it never creates the ledger or holds a write lock.
pub struct Progress {
    path: std::path::PathBuf,
    sql: String,
    db: Option<rusqlite::Connection>,
}

impl Progress {
    pub fn new(ledger: &Path, sql: &str) -> Progress {
        Progress { path: ledger.to_path_buf(), sql: sql.to_string(), db: None }
    }

    pub fn now(&mut self) -> i64 {
        if self.db.is_none() && self.path.exists() {
            let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
            self.db = rusqlite::Connection::open_with_flags(&self.path, flags).ok();
            if let Some(db) = &self.db {
                let _ = db.busy_timeout(Duration::from_millis(50));
            }
        }
        let Some(db) = &self.db else { return 0 };
        db.query_row(&self.sql, [], |r| r.get(0)).unwrap_or(0)
    }
}

/// Kills `cmd` at a random point of its progress: once `progress` reaches a target drawn
/// between what is done now and `total - margin`. The margin is work the process cannot do
/// in the millisecond between a look and the kill (say, a commit batch), so the kill always
/// lands before the run ends, however fast the machine. `None` when less than the margin is
/// left to do.
pub fn kill_midway(cmd: Command, input: &[u8], rng: &mut impl Rng, progress: &mut Progress, total: i64, margin: i64) -> Option<Killed> {
    let done = progress.now();
    if total - done <= margin {
        return None;
    }
    let target = rng.random_range(done + 1..=total - margin);
    let run = kill_when(cmd, input, || progress.now() >= target);
    assert!(run.killed, "the run ended before its progress reached {target} of {total} ({})", progress.sql);
    Some(run)
}

/// How `kill_repeatedly` picks its moments.
pub struct Chaos {
    /// Work the process cannot do between a look at its progress and the kill.
    pub margin: i64,
    /// Milliseconds after the start for the random-instant kills.
    pub window: std::ops::Range<u64>,
    pub rounds: usize,
}

/// Runs `cmd()` again and again, killing it alternately at a random point of its progress
/// (always mid-run) and at a random instant (which may come after it ended), and hands every
/// run to `after`. Stops when a run finishes by itself or after `rounds` rounds; returns the
/// number of kills, at least one whenever more than `margin` was left to do.
pub fn kill_repeatedly(
    mut cmd: impl FnMut() -> Command,
    input: &[u8],
    rng: &mut impl Rng,
    progress: &mut Progress,
    total: i64,
    chaos: Chaos,
    mut after: impl FnMut(&Killed),
) -> usize {
    let mut kills = 0;
    for _ in 0..chaos.rounds {
        if let Some(run) = kill_midway(cmd(), input, rng, progress, total, chaos.margin) {
            after(&run);
            kills += 1;
        }
        let run = kill_at_random(cmd(), input, rng, chaos.window.clone());
        after(&run);
        if !run.killed {
            break;
        }
        kills += 1;
    }
    kills
}

/// Ids in `ids` that occur more than once.
pub fn repeated(ids: &[String]) -> Vec<String> {
    let mut seen = HashSet::new();
    ids.iter().filter(|id| !seen.insert(id.as_str())).cloned().collect()
}

/// The ids of output cut short by a kill: every line that is a whole record (the last line
/// counts too when the kill came after its closing brace).
pub fn ids_so_far(stdout: &[u8]) -> Vec<String> {
    stdout
        .split(|&b| b == b'\n')
        .filter_map(|line| serde_json::from_slice::<serde_json::Value>(line).ok())
        .filter_map(|v| v["id"].as_str().map(str::to_string))
        .collect()
}

/// `[accounts.support]` reading `mailbox` of the test Dovecot's user `test` (plain IMAP on
/// loopback, password from `MR_PROMISE_IMAP_PASSWORD`).
pub fn imap_account(mailbox: &str) -> String {
    let s = super::common::servers::servers();
    format!(
        "[accounts.support]\nimap = {{ host = \"127.0.0.1\", port = {}, tls = \"none\", user = \"test\", \
         password_env = \"MR_PROMISE_IMAP_PASSWORD\", mailboxes = [\"{mailbox}\"] }}\n",
        s.port("IMAP_PORT")
    )
}

/// Creates `mailbox` for the test user and appends `messages` to it over IMAP.
pub fn imap_mailbox(mailbox: &str, messages: &[Vec<u8>]) {
    use mailroom::mail::imap::ImapSession;
    let _ = tokio_rustls::rustls::crypto::ring::default_provider().install_default();
    let s = super::common::servers::servers();
    let config: mailroom::config::ImapConfig = toml::from_str(&format!(
        "host = \"127.0.0.1\"\nport = {}\ntls = \"none\"\nuser = \"test\"\npassword = \"secret\"\n",
        s.port("IMAP_PORT")
    ))
    .expect("imap config");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    rt.block_on(async {
        let mut session = ImapSession::connect(&config, "test").await.expect("test login");
        session.create(mailbox).await.expect("create mailbox");
        for m in messages {
            session.append(mailbox, &[], m).await.expect("append");
        }
        session.logout().await;
    });
}

/// `n` distinct CRLF messages for an IMAP mailbox.
pub fn imap_messages(tag: &str, n: usize, body_bytes: usize) -> Vec<Vec<u8>> {
    (0..n).map(|i| message(tag, i, body_bytes).replace('\n', "\r\n").into_bytes()).collect()
}

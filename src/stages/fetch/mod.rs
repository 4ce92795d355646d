//! Fetching from IMAP: per account and mailbox, incremental by UIDVALIDITY + highest UID, and
//! never lossy.
//!
//! - New mail is found with `UID SEARCH UID n:*` above the highest UID stored for the mailbox,
//!   sized with one `UID FETCH (RFC822.SIZE)` and fetched with `BODY.PEEK[]` (nothing is marked
//!   read) in batches of up to 500 messages or 32 MB (the first ones smaller, so parsing starts
//!   early), so a backfill takes few round trips. `pipeline.rs` downloads, parses and stores
//!   them, each step beside the others.
//! - Each batch is stored in one ledger transaction together with the new sync state and its
//!   `imap.fetch` event; its records are handed out only after that commit. A crash loses
//!   only batches that were never acknowledged, and the next run fetches them again.
//! - A UIDVALIDITY change resets the mailbox to UID 0 and fetches it again; messages already in
//!   the ledger are not emitted again (same content → same id; and same Message-ID + same
//!   body → the same message even if the server rewrote a header).
//! - Messages above the account's `max_message_bytes` (default 50 MB) are fetched only up to
//!   that size with `BODY.PEEK[]<0.N>`, stored, and flagged `huge` + `truncated` instead of
//!   failing the run. Smaller messages are stored whole; above `max_parse_bytes` they are
//!   parsed from their head only and flagged `huge`.
//! - Every connection, login, select, fetch, IDLE and error is an event (`imap.*`) with the
//!   account in the `account` column. Passwords and tokens never reach an event or a message.
//!
//! Nothing here touches the terminal: records and problems go to the caller as `Notice`s.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Result;
use chrono::NaiveDate;
use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use crate::config::{AuthMethod, Config, ImapConfig, TlsMode};
use crate::error::ConfigError;
use crate::ledger::sync::{SyncState, set_sync_state};
use crate::ledger::{Event, Ledger};
use crate::mail::imap::{Connection, IdleEnd, ImapError, ImapSession};
use crate::stages::cases::Rules as CaseRules;
use crate::stages::ingest::{Fresh, Ingestor, Origin};
use crate::stages::progress::{Reporter, Silent, Unit};

mod pipeline;
use pipeline::{BatchStore, Job};

/// Messages larger than this are fetched only up to this size (per account: `max_message_bytes`).
pub const DEFAULT_MAX_MESSAGE_BYTES: u64 = 50 * 1024 * 1024;
/// How long a watcher may take to log out after a stop before it is cut off.
const STOP_GRACE: Duration = Duration::from_secs(2);

/// One account to fetch and the mailboxes to read.
#[derive(Debug, Clone)]
pub struct Target {
    pub account: String,
    pub imap: ImapConfig,
    pub mailboxes: Vec<String>,
}

/// The accounts to fetch: the named ones (each must exist and have `imap`), or every account
/// with `imap`. `mailboxes`, when not empty, replaces each account's own list; otherwise the
/// account's `sent_mailbox` is read too (replies people write from their mail client join
/// their service case, see `stages::cases`).
pub fn targets(config: &Config, accounts: &[String], mailboxes: &[String]) -> Result<Vec<Target>, ConfigError> {
    let names: Vec<String> = if accounts.is_empty() {
        config.accounts.iter().filter(|(_, a)| a.imap.is_some()).map(|(n, _)| n.clone()).collect()
    } else {
        accounts.to_vec()
    };
    let mut out = Vec::new();
    for name in names {
        let account = config.account(&name)?;
        let Some(imap) = &account.imap else {
            return Err(ConfigError::with_hint(
                format!("account \"{name}\" has no IMAP settings"),
                format!("add `imap = {{ host = ..., user = ..., password_command = ... }}` to [accounts.{name}]"),
            ));
        };
        let mut imap = imap.clone();
        imap.ca_file = imap.ca_file.as_deref().map(|p| config.resolve_path(p));
        let mut list = if mailboxes.is_empty() { imap.mailboxes.clone() } else { mailboxes.to_vec() };
        if let Some(sent) = &imap.sent_mailbox
            && mailboxes.is_empty()
            && !list.contains(sent)
        {
            list.push(sent.clone());
        }
        out.push(Target { account: name, imap, mailboxes: list });
    }
    Ok(out)
}

/// How to fetch.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// Backfill: also fetch messages since this day that are older than the sync state.
    pub since: Option<NaiveDate>,
    pub max_parse_bytes: usize,
    /// Set \Seen on fetched messages (off by default: fetching never marks mail read).
    pub mark_seen: bool,
    pub run_id: Option<i64>,
    /// Re-issue IDLE after this long without news (servers drop idle clients after 30 min).
    pub idle_renew: Duration,
    /// Longest wait between reconnection attempts.
    pub max_backoff: Duration,
    /// How often to poll a server without IDLE.
    pub poll_interval: Duration,
    /// How stored messages find their service case; its window also bounds the first sync
    /// of a Sent folder.
    pub case_rules: CaseRules,
    /// A watcher's stop: a backfill ends after the batch it is downloading (the rest of the
    /// mailbox comes with the next start).
    pub stop: Option<watch::Receiver<bool>>,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            since: None,
            max_parse_bytes: crate::mail::parse::DEFAULT_MAX_PARSE_BYTES,
            mark_seen: false,
            run_id: None,
            idle_renew: Duration::from_secs(25 * 60),
            max_backoff: Duration::from_secs(300),
            poll_interval: Duration::from_secs(60),
            case_rules: CaseRules::default(),
            stop: None,
        }
    }
}

/// What the stage tells its caller while it works.
#[derive(Debug)]
pub enum Notice {
    /// Records stored for the first time, already committed to the ledger, in UID order.
    Records(Vec<Fresh>),
    /// A failure of one account or mailbox; the others go on.
    Problem(Problem),
    /// Worth a line for a human: a resync, a reconnect.
    Info(String),
}

/// A failure, named by account and mailbox. Never carries a secret.
#[derive(Debug, Clone)]
pub struct Problem {
    pub account: String,
    pub mailbox: Option<String>,
    pub message: String,
    pub hint: Option<String>,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "account \"{}\"", self.account)?;
        if let Some(m) = &self.mailbox {
            write!(f, " mailbox \"{m}\"")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Totals of one `sync_once`.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct FetchReport {
    pub seen: u64,
    pub new: u64,
    pub known: u64,
    pub bytes: u64,
    pub mailboxes_ok: u64,
    pub mailboxes_failed: u64,
    pub failed_accounts: Vec<String>,
}

impl FetchReport {
    pub fn failed(&self) -> bool {
        self.mailboxes_failed > 0 || !self.failed_accounts.is_empty()
    }
}

enum SyncError {
    Imap(ImapError),
    Ledger(anyhow::Error),
    /// The caller stopped taking records (a closed pipe), or a watcher was stopped mid-way.
    Closed,
}

impl From<ImapError> for SyncError {
    fn from(e: ImapError) -> Self {
        SyncError::Imap(e)
    }
}
impl From<anyhow::Error> for SyncError {
    fn from(e: anyhow::Error) -> Self {
        SyncError::Ledger(e)
    }
}

/// Fetches every mailbox of every target once, account after account. A failing account or
/// mailbox is reported through `on` and the rest go on; only a ledger failure ends the run
/// early (`Err`). `on` returning false (the reader went away) stops it quietly.
pub async fn sync_once<R, F>(
    ledger: &mut Ledger,
    targets: &[Target],
    opts: &FetchOptions,
    progress: &R,
    on: &mut F,
) -> Result<FetchReport>
where
    R: Reporter + ?Sized,
    F: FnMut(Notice) -> bool,
{
    let mut report = FetchReport::default();
    'accounts: for target in targets {
        let mut session = match connect(ledger, target, opts).await {
            Ok(s) => s,
            Err(SyncError::Imap(e)) => {
                report.failed_accounts.push(target.account.clone());
                report.mailboxes_failed += target.mailboxes.len() as u64;
                if !on(Notice::Problem(problem(target, None, &e))) {
                    return Ok(report);
                }
                continue;
            }
            Err(SyncError::Ledger(e)) => return Err(e),
            Err(SyncError::Closed) => return Ok(report),
        };
        for (i, mailbox) in target.mailboxes.iter().enumerate() {
            match sync_mailbox(&mut session, ledger, target, mailbox, opts, progress, on, &mut report).await {
                Ok(()) => report.mailboxes_ok += 1,
                Err(SyncError::Imap(e)) => {
                    report.mailboxes_failed += 1;
                    if !report.failed_accounts.contains(&target.account) {
                        report.failed_accounts.push(target.account.clone());
                    }
                    let transient = e.is_transient();
                    if !on(Notice::Problem(problem(target, Some(mailbox), &e))) {
                        return Ok(report);
                    }
                    if transient && i + 1 < target.mailboxes.len() {
                        // The connection is gone: one new one for the remaining mailboxes.
                        session = match connect(ledger, target, opts).await {
                            Ok(s) => s,
                            Err(SyncError::Imap(e)) => {
                                report.mailboxes_failed += (target.mailboxes.len() - i - 1) as u64;
                                if !on(Notice::Problem(problem(target, None, &e))) {
                                    return Ok(report);
                                }
                                continue 'accounts;
                            }
                            Err(SyncError::Ledger(e)) => return Err(e),
                            Err(SyncError::Closed) => return Ok(report),
                        };
                    }
                }
                Err(SyncError::Ledger(e)) => return Err(e),
                Err(SyncError::Closed) => {
                    session.logout().await;
                    return Ok(report);
                }
            }
        }
        session.logout().await;
    }
    Ok(report)
}

/// Starts one watcher per account and mailbox (`--idle`): each catches up, then waits in IDLE
/// and fetches as mail arrives, reconnecting with exponential backoff after a failure. Each
/// opens its own ledger connection. They end when `shutdown` turns true (or its sender is
/// dropped); a watcher returns `Err` only when the ledger fails.
pub fn spawn_watchers(
    ledger_path: &Path,
    targets: &[Target],
    opts: &FetchOptions,
    tx: mpsc::UnboundedSender<Notice>,
    shutdown: watch::Receiver<bool>,
) -> JoinSet<Result<()>> {
    let mut set = JoinSet::new();
    for target in targets {
        for mailbox in &target.mailboxes {
            set.spawn(watch_mailbox(
                ledger_path.to_path_buf(),
                target.clone(),
                mailbox.clone(),
                opts.clone(),
                tx.clone(),
                shutdown.clone(),
            ));
        }
    }
    set
}

async fn watch_mailbox(
    ledger_path: PathBuf,
    target: Target,
    mailbox: String,
    opts: FetchOptions,
    tx: mpsc::UnboundedSender<Notice>,
    shutdown: watch::Receiver<bool>,
) -> Result<()> {
    let mut ledger = Ledger::open(&ledger_path)?;
    let opts = FetchOptions { stop: Some(shutdown.clone()), ..opts };
    let mut on = |n: Notice| tx.send(n).is_ok();
    let mut backoff = Duration::from_secs(1);
    loop {
        if *shutdown.borrow() {
            return Ok(());
        }
        let result = tokio::select! {
            r = watch_session(&mut ledger, &target, &mailbox, &opts, &mut on, &mut backoff, shutdown.clone()) => r,
            // The session ends IDLE and logs out by itself on a stop, and a backfill after the
            // batch it is downloading; whatever is still running is cut after a grace period.
            // Safe to drop mid-way: no ledger transaction spans an await, and records are
            // handed out right after their commit.
            _ = async { stopped(shutdown.clone()).await; tokio::time::sleep(STOP_GRACE).await } => return Ok(()),
        };
        match result {
            Ok(()) | Err(SyncError::Closed) => return Ok(()),
            Err(SyncError::Ledger(e)) => return Err(e),
            Err(SyncError::Imap(e)) => {
                let wait = jitter(backoff);
                let mut p = problem(&target, Some(&mailbox), &e);
                p.message = format!("{}; reconnecting in {}s", p.message, wait.as_secs().max(1));
                if !on(Notice::Problem(p)) {
                    return Ok(());
                }
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = stopped(shutdown.clone()) => return Ok(()),
                }
                backoff = (backoff * 2).min(opts.max_backoff);
            }
        }
    }
}

/// One connection's life: catch up, IDLE, fetch on news, until an error or a stop.
async fn watch_session<F: FnMut(Notice) -> bool>(
    ledger: &mut Ledger,
    target: &Target,
    mailbox: &str,
    opts: &FetchOptions,
    on: &mut F,
    backoff: &mut Duration,
    shutdown: watch::Receiver<bool>,
) -> Result<(), SyncError> {
    let mut session = connect(ledger, target, opts).await?;
    let mut report = FetchReport::default();
    let mut announced = false;
    loop {
        sync_mailbox(&mut session, ledger, target, mailbox, opts, &Silent, on, &mut report).await?;
        *backoff = Duration::from_secs(1);
        if session.take_new_mail_notices() {
            continue;
        }
        if !session.has_capability("IDLE") {
            if !announced {
                on(Notice::Info(format!(
                    "account \"{}\" mailbox \"{mailbox}\": the server has no IDLE; polling every {}s",
                    target.account,
                    opts.poll_interval.as_secs()
                )));
                announced = true;
            }
            tokio::select! {
                _ = tokio::time::sleep(opts.poll_interval) => continue,
                _ = stopped(shutdown.clone()) => { session.logout().await; return Ok(()); }
            }
        }
        let started = Instant::now();
        let (s, end) = match session.idle(opts.idle_renew, stopped(shutdown.clone())).await {
            Ok(x) => x,
            Err(e) => {
                ledger.event(&imap_event("imap.error", "error", target, opts).detail(json!({
                    "mailbox": mailbox, "command": "IDLE", "error": e.to_string()
                })))?;
                return Err(e.into());
            }
        };
        session = s;
        let end_name = match end {
            IdleEnd::Changed => "changed",
            IdleEnd::Timeout => "renew",
            IdleEnd::Stopped => "stopped",
        };
        ledger.event(
            &imap_event("imap.idle", "ok", target, opts)
                .latency_ms(ms(started))
                .detail(json!({"mailbox": mailbox, "end": end_name})),
        )?;
        if end == IdleEnd::Stopped {
            session.logout().await;
            return Ok(());
        }
    }
}

/// Resolves when `shutdown` is (or becomes) true, or its sender is gone.
async fn stopped(mut shutdown: watch::Receiver<bool>) {
    while !*shutdown.borrow_and_update() {
        if shutdown.changed().await.is_err() {
            return;
        }
    }
}

/// ±20 % so that many clients dropped together do not come back together.
fn jitter(d: Duration) -> Duration {
    d.mul_f64(rand::random_range(0.8..1.2))
}

/// Connects and logs in, recording `imap.connect` and `imap.login`.
async fn connect(ledger: &mut Ledger, target: &Target, opts: &FetchOptions) -> Result<ImapSession, SyncError> {
    let imap = &target.imap;
    let where_ = json!({"host": imap.host, "port": imap.port(), "tls": tls_name(imap.tls)});
    let started = Instant::now();
    let conn = match Connection::open(imap).await {
        Ok(c) => c,
        Err(e) => {
            ledger.event(
                &imap_event("imap.connect", "error", target, opts)
                    .latency_ms(ms(started))
                    .detail(with(&where_, "error", e.to_string())),
            )?;
            return Err(e.into());
        }
    };
    ledger.event(
        &imap_event("imap.connect", "ok", target, opts).latency_ms(conn.connect_ms as i64).detail(where_.clone()),
    )?;
    let mechanism = match imap.auth {
        AuthMethod::Login => "LOGIN",
        AuthMethod::Xoauth2 => "XOAUTH2",
    };
    let login = json!({"host": imap.host, "user": imap.user, "mechanism": mechanism});
    let started = Instant::now();
    match conn.login(imap, &target.account).await {
        Ok(s) => {
            ledger.event(
                &imap_event("imap.login", "ok", target, opts)
                    .latency_ms(s.login_ms as i64)
                    .detail(with(&login, "id_sent", s.sent_id)),
            )?;
            Ok(s)
        }
        Err(e) => {
            ledger.event(
                &imap_event("imap.login", "error", target, opts)
                    .latency_ms(ms(started))
                    .detail(with(&login, "error", e.to_string())),
            )?;
            Err(e.into())
        }
    }
}

/// Fetches what is new in one mailbox; records an `imap.error` event for a failure after SELECT.
#[allow(clippy::too_many_arguments)]
async fn sync_mailbox<R, F>(
    session: &mut ImapSession,
    ledger: &mut Ledger,
    target: &Target,
    mailbox: &str,
    opts: &FetchOptions,
    progress: &R,
    on: &mut F,
    report: &mut FetchReport,
) -> Result<(), SyncError>
where
    R: Reporter + ?Sized,
    F: FnMut(Notice) -> bool,
{
    let result = sync_selected(session, ledger, target, mailbox, opts, progress, on, report).await;
    if let Err(SyncError::Imap(e)) = &result {
        ledger.event(
            &imap_event("imap.error", "error", target, opts)
                .detail(json!({"mailbox": mailbox, "error": e.to_string()})),
        )?;
    }
    progress.finish();
    result
}

#[allow(clippy::too_many_arguments)]
async fn sync_selected<R, F>(
    session: &mut ImapSession,
    ledger: &mut Ledger,
    target: &Target,
    mailbox: &str,
    opts: &FetchOptions,
    progress: &R,
    on: &mut F,
    report: &mut FetchReport,
) -> Result<(), SyncError>
where
    R: Reporter + ?Sized,
    F: FnMut(Notice) -> bool,
{
    let account = target.account.as_str();
    let started = Instant::now();
    let status = session.select(mailbox).await?;
    ledger.event(
        &imap_event("imap.select", "ok", target, opts).latency_ms(ms(started)).detail(json!({
            "mailbox": mailbox, "uidvalidity": status.uidvalidity, "uidnext": status.uidnext, "exists": status.exists
        })),
    )?;
    let uidvalidity = status.uidvalidity;
    let state = ledger.sync_state(account, mailbox)?;
    let resync = state.is_some_and(|s| s.uidvalidity != uidvalidity);
    if let (true, Some(old)) = (resync, state) {
        ledger.event(&imap_event("imap.resync", "info", target, opts).detail(json!({
            "mailbox": mailbox, "old_uidvalidity": old.uidvalidity, "new_uidvalidity": uidvalidity,
            "old_highest_uid": old.highest_uid
        })))?;
        on(Notice::Info(format!(
            "account \"{account}\" mailbox \"{mailbox}\": UIDVALIDITY changed ({} → {uidvalidity}); \
             fetching the mailbox again, known messages are not emitted twice",
            old.uidvalidity
        )));
    }
    let current = state.filter(|_| !resync);
    let highest = current.map_or(0, |s| s.highest_uid);
    // The Sent folder is read for replies written in a mail client, which matter for open
    // cases only: its first sync starts a thread window back, not at the team's first reply.
    let is_sent = target.imap.sent_mailbox.as_deref() == Some(mailbox);
    let since = match (opts.since, is_sent && current.is_none()) {
        (None, true) => {
            let days = chrono::Days::new(u64::from(opts.case_rules.window_days));
            chrono::Utc::now().date_naive().checked_sub_days(days)
        }
        (since, _) => since,
    };

    // Which UIDs to fetch.
    let mut wanted: Vec<u32> = Vec::new();
    let mut target_highest = highest;
    let nothing_new = status.exists == 0 || status.uidnext.is_some_and(|n| n <= highest.saturating_add(1));
    if (current.is_some() || since.is_none()) && !nothing_new {
        let new = session.uid_search(&format!("UID {}:*", highest.saturating_add(1))).await?;
        // `n:*` always matches the last message, even below n.
        wanted.extend(new.into_iter().filter(|&u| u > highest));
    }
    if let Some(since) = since {
        if status.exists > 0 {
            let known = ledger.known_uids(account, mailbox, uidvalidity)?;
            let old = session.uid_search(&format!("SINCE {}", imap_date(since))).await?;
            wanted.extend(old.into_iter().filter(|u| !known.contains(u)));
        }
        if current.is_none() {
            // A first sync with --since starts at DATE: older messages stay on the server.
            target_highest = status.uidnext.map(|n| n.saturating_sub(1)).unwrap_or(0);
        }
    }
    wanted.sort_unstable();
    wanted.dedup();

    let cap = target.imap.max_message_bytes.unwrap_or(DEFAULT_MAX_MESSAGE_BYTES).clamp(1024, u32::MAX as u64) as u32;
    if !wanted.is_empty() {
        progress.start(Some(wanted.len() as u64), Unit::Messages);
        progress.message(&format!("{account}/{mailbox}"));
    }
    let origin = Origin {
        account: account.to_string(),
        mailbox: mailbox.to_string(),
        max_parse_bytes: opts.max_parse_bytes,
        run_id: opts.run_id,
    };
    // Checkpoints stay with the writer (unlike an import, which moves them to a thread of
    // their own): its batches are stored while the next one downloads, and the download is
    // the slower of the two. A background checkpointer cost a 10,000-message backfill 12 %
    // more CPU, and let the WAL grow to 170 MB, whose removal at the end took 60–80 ms.
    let mut store = BatchStore {
        ledger,
        target,
        mailbox,
        opts,
        uidvalidity,
        resync,
        committed: highest,
        state_stored: current.is_some(),
        ingestor: Ingestor::new(origin).with_case_rules(opts.case_rules.clone()),
        report,
    };
    let job = Job { wanted: &wanted, cap, account, mailbox, uidvalidity, opts, emit: !is_sent };
    pipeline::run(session, &mut store, &job, progress, on).await?;
    // Remember UIDVALIDITY (and a --since start) even when there was nothing to fetch.
    if !store.state_stored || target_highest > store.committed {
        let state = SyncState { uidvalidity, highest_uid: store.committed.max(target_highest), highest_modseq: None };
        store.ledger.write(|tx| set_sync_state(tx, account, mailbox, state))?;
    }
    Ok(())
}

fn problem(target: &Target, mailbox: Option<&str>, e: &ImapError) -> Problem {
    let name = &target.account;
    let (what, hint) = match e {
        ImapError::Connect { .. } => (
            "cannot connect",
            Some(format!("check host and port of [accounts.{name}] imap, and that the server is reachable")),
        ),
        ImapError::Tls { .. } => ("TLS failed", Some(format!("check tls and ca_file of [accounts.{name}] imap"))),
        ImapError::Auth { .. } => (
            "IMAP login failed",
            Some(match target.imap.auth {
                AuthMethod::Login => format!("check the password source (password_command / password_env) of [accounts.{name}]"),
                AuthMethod::Xoauth2 => format!(
                    "check token_command of [accounts.{name}] (an expired token is the usual cause) and that the server offers XOAUTH2"
                ),
            }),
        ),
        ImapError::Dropped { .. } => ("connection lost", None),
        ImapError::Server { .. } | ImapError::Protocol { .. } => ("IMAP error", None),
    };
    Problem { account: name.clone(), mailbox: mailbox.map(str::to_string), message: format!("{what}: {e}"), hint }
}

fn imap_event(kind: &str, status: &str, target: &Target, opts: &FetchOptions) -> Event {
    Event::new(kind, status).run(opts.run_id).account(target.account.clone())
}

fn with(base: &Value, key: &str, value: impl Into<Value>) -> Value {
    let mut v = base.clone();
    if let Value::Object(map) = &mut v {
        map.insert(key.to_string(), value.into());
    }
    v
}

fn tls_name(t: TlsMode) -> &'static str {
    match t {
        TlsMode::Implicit => "implicit",
        TlsMode::Starttls => "starttls",
        TlsMode::None => "none",
    }
}

fn ms(since: Instant) -> i64 {
    since.elapsed().as_millis() as i64
}

/// IMAP's date format: `2-Mar-2026`.
pub fn imap_date(d: NaiveDate) -> String {
    d.format("%-d-%b-%Y").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imap_dates_are_english_day_month_year() {
        assert_eq!(imap_date(NaiveDate::from_ymd_opt(2026, 3, 2).unwrap()), "2-Mar-2026");
    }

    #[test]
    fn problems_name_account_and_mailbox() {
        let imap: ImapConfig = toml::from_str("host = \"h\"\nuser = \"u\"\npassword_env = \"X\"").unwrap();
        let t = Target { account: "support".into(), imap, mailboxes: vec![] };
        let e = ImapError::Auth { user: "u".into(), addr: "h:993".into(), reason: "NO nope".into() };
        let p = problem(&t, Some("INBOX"), &e);
        assert!(p.to_string().starts_with("account \"support\" mailbox \"INBOX\": IMAP login failed"), "{p}");
        assert!(p.hint.unwrap().contains("[accounts.support]"));
    }
}

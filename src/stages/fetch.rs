//! Fetching from IMAP: per account and mailbox, incremental by UIDVALIDITY + highest UID, and
//! never lossy.
//!
//! - New mail is found with `UID SEARCH UID n:*` above the highest UID stored for the mailbox,
//!   sized with one `UID FETCH (RFC822.SIZE)` and fetched with `BODY.PEEK[]` (nothing is marked
//!   read) in batches of up to 500 messages or 32 MB (the first ones smaller, so parsing starts
//!   early), so a backfill takes few round trips.
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

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Result;
use chrono::NaiveDate;
use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use crate::config::{AuthMethod, Config, ImapConfig, TlsMode};
use crate::error::ConfigError;
use crate::ledger::messages::insert_location;
use crate::ledger::sync::{SyncState, set_sync_state};
use crate::ledger::{Event, Ledger, events};
use crate::mail::imap::{Connection, FetchedMessage, IdleEnd, ImapError, ImapSession, uid_set};
use crate::mail::parse::{Parsed, message_key, parse_message};
use crate::stages::cases::Rules as CaseRules;
use crate::stages::ingest::{Fresh, Ingestor, Origin, ServerId};
use crate::stages::progress::{Reporter, Silent, Unit};

/// Messages larger than this are fetched only up to this size (per account: `max_message_bytes`).
pub const DEFAULT_MAX_MESSAGE_BYTES: u64 = 50 * 1024 * 1024;
/// One UID FETCH carries at most this many messages...
const BATCH_MESSAGES: usize = 500;
/// ...or this many bytes.
const BATCH_BYTES: u64 = 32 * 1024 * 1024;
/// A sync's first batch carries this many messages and each next one twice as many, up to
/// BATCH_MESSAGES: parsing starts once the first few messages are in, not a whole batch.
const FIRST_BATCH_MESSAGES: usize = 50;
/// UIDs sized per `UID FETCH (RFC822.SIZE)`.
const SIZE_CHUNK: usize = 5000;
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
    // A pipeline: batches download one after another while the ones before are parsed (on
    // blocking threads) and stored, in order, on a thread of their own, so the server never
    // waits on the ledger, not even on a commit's checkpoint and its fsync.
    let fetching = if tokio::runtime::Handle::current().runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread {
        let handle = tokio::runtime::Handle::current();
        let store = &mut store;
        let cancelled = AtomicBool::new(false);
        tokio::task::block_in_place(|| {
            std::thread::scope(|scope| {
                let (queue, queued) = std::sync::mpsc::sync_channel::<InFlight>(QUEUED_BATCHES);
                let (done, stored) = mpsc::unbounded_channel();
                let cancelled = &cancelled;
                let worker = scope.spawn(move || {
                    for batch in queued {
                        if cancelled.load(Ordering::Acquire) {
                            break;
                        }
                        let result = store.store(batch);
                        let failed = result.is_err();
                        // Never store a later batch after an earlier one failed: its UIDs
                        // would move the sync state past the failed ones.
                        if done.send(result).is_err() || failed {
                            break;
                        }
                    }
                });
                let storer = Storer::Thread { queue: Some(queue), stored, cancelled };
                let fetching = handle.block_on(download(session, &job, storer, progress, on));
                // A panic of the store thread goes on as itself, not as the scope's own.
                worker.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                fetching
            })
        })
    } else {
        // A single-threaded runtime cannot lend its thread: each batch is stored once it is in.
        download(session, &job, Storer::Inline { store: &mut store, ready: Default::default() }, progress, on).await
    };
    fetching?;
    // Remember UIDVALIDITY (and a --since start) even when there was nothing to fetch.
    if !store.state_stored || target_highest > store.committed {
        let state = SyncState { uidvalidity, highest_uid: store.committed.max(target_highest), highest_modseq: None };
        store.ledger.write(|tx| set_sync_state(tx, account, mailbox, state))?;
    }
    Ok(())
}

/// What one mailbox's download needs to know.
struct Job<'a> {
    wanted: &'a [u32],
    cap: u32,
    account: &'a str,
    mailbox: &'a str,
    uidvalidity: u32,
    opts: &'a FetchOptions,
    /// Hand records on (not for the Sent folder: the team's own mail is no work for the chain).
    emit: bool,
}

/// Batches that wait for the store thread while the next one downloads (each up to 32 MB).
const QUEUED_BATCHES: usize = 1;

/// Where downloaded batches go to be stored, and where stored ones come back, in order.
enum Storer<'s, 'l> {
    /// A thread of its own stores them.
    Thread {
        /// None once closed: the store thread ends when it has stored what was queued.
        queue: Option<std::sync::mpsc::SyncSender<InFlight>>,
        stored: mpsc::UnboundedReceiver<Result<StoredBatch, SyncError>>,
        /// Set when nothing queued is to be stored any more (the reader went away).
        cancelled: &'s AtomicBool,
    },
    /// Stored at once, on the caller's thread.
    Inline { store: &'s mut BatchStore<'l>, ready: std::collections::VecDeque<Result<StoredBatch, SyncError>> },
}

impl Storer<'_, '_> {
    /// Waits while QUEUED_BATCHES wait already. False when the store thread has stopped (on
    /// an error, which waits in `stored`, or a panic): downloading more would be for nothing.
    fn submit(&mut self, batch: InFlight) -> bool {
        match self {
            Storer::Thread { queue, .. } => queue.as_ref().is_some_and(|q| q.send(batch).is_ok()),
            Storer::Inline { store, ready } => {
                ready.push_back(store.store(batch));
                true
            }
        }
    }

    /// The next stored batch, as soon as it is committed; None once the store thread is done.
    /// Inline, only what is stored already (and nothing else will be meanwhile).
    async fn next(&mut self) -> Option<Result<StoredBatch, SyncError>> {
        match self {
            Storer::Thread { stored, .. } => stored.recv().await,
            Storer::Inline { ready, .. } => ready.pop_front(),
        }
    }

    /// No more batches: the store thread ends once it has stored those queued, or at once
    /// with `cancel` (then nothing queued is stored).
    fn close(&mut self, cancel: bool) {
        match self {
            Storer::Thread { queue, cancelled, .. } => {
                cancelled.store(cancel, Ordering::Release);
                *queue = None;
            }
            Storer::Inline { .. } => {}
        }
    }
}

/// Downloads `job.wanted` batch by batch into `storer`, handing out each batch's records as
/// soon as it is committed (also while the next batch downloads: a process killed then has
/// already printed what it stored).
async fn download<R, F>(
    session: &mut ImapSession,
    job: &Job<'_>,
    mut storer: Storer<'_, '_>,
    progress: &R,
    on: &mut F,
) -> Result<(), SyncError>
where
    R: Reporter + ?Sized,
    F: FnMut(Notice) -> bool,
{
    // UIDs handed out and not yet marked \Seen (the session is busy while a batch downloads).
    let mut unseen: Vec<u32> = Vec::new();
    let mut stopped = false;
    let downloaded: Result<(), SyncError> = async {
        let mut first_batch = FIRST_BATCH_MESSAGES;
        for chunk in job.wanted.chunks(SIZE_CHUNK) {
            let sizes = session.fetch_sizes(&uid_set(chunk)).await?;
            for batch in plan_batches(chunk, &sizes, job.cap, std::mem::replace(&mut first_batch, BATCH_MESSAGES)) {
                if job.opts.stop.as_ref().is_some_and(|s| *s.borrow()) {
                    stopped = true;
                    return Ok(());
                }
                let started = Instant::now();
                let fetched = {
                    let (set, head) = match &batch {
                        Batch::Whole(uids) => (uid_set(uids), None),
                        Batch::Head(uid) => (uid.to_string(), Some(job.cap)),
                    };
                    let fetch = session.fetch_range(&set, head);
                    tokio::pin!(fetch);
                    loop {
                        tokio::select! {
                            biased;
                            Some(stored) = storer.next() => hand_out(stored?, &mut unseen, job, progress, on)?,
                            fetched = &mut fetch => break fetched?,
                        }
                    }
                };
                mark_seen(session, &mut unseen).await?;
                let parsing = InFlight::start(
                    batch, fetched, ms(started), job.account, job.mailbox, job.uidvalidity, job.opts.max_parse_bytes,
                );
                if !storer.submit(parsing) {
                    return Ok(());
                }
            }
        }
        Ok(())
    }
    .await;
    // What was downloaded before a failure or a stop is still stored and handed out; once the
    // reader has gone away, nothing more is stored (its records could not be handed out).
    storer.close(matches!(downloaded, Err(SyncError::Closed)));
    let mut outcome = downloaded;
    while let Some(stored) = storer.next().await {
        let handed = match (stored, &outcome) {
            (Err(e), _) => Err(e),
            (Ok(_), Err(SyncError::Closed)) => Ok(()),
            (Ok(stored), _) => hand_out(stored, &mut unseen, job, progress, on),
        };
        // A failed store is the last (none is stored after it); a closed reader stops the rest.
        if let Err(e) = handed
            && (outcome.is_ok() || matches!(e, SyncError::Closed))
        {
            outcome = Err(e);
        }
    }
    if outcome.is_ok() {
        mark_seen(session, &mut unseen).await?;
    }
    // A stopped backfill is not done: the mailbox's sync state must not move past the rest.
    if stopped && outcome.is_ok() {
        outcome = Err(SyncError::Closed);
    }
    outcome
}

/// Hands out a stored batch's new records; its UIDs join `unseen` when they are to be marked.
fn hand_out<R, F>(stored: StoredBatch, unseen: &mut Vec<u32>, job: &Job<'_>, progress: &R, on: &mut F) -> Result<(), SyncError>
where
    R: Reporter + ?Sized,
    F: FnMut(Notice) -> bool,
{
    progress.inc(stored.requested);
    if job.emit && !stored.records.is_empty() && !on(Notice::Records(stored.records)) {
        return Err(SyncError::Closed);
    }
    if job.opts.mark_seen {
        unseen.extend(stored.got);
    }
    Ok(())
}

/// Marks `unseen` \Seen (it stays empty unless the options ask for that).
async fn mark_seen(session: &mut ImapSession, unseen: &mut Vec<u32>) -> Result<(), SyncError> {
    if !unseen.is_empty() {
        session.mark_seen(&uid_set(unseen)).await?;
        unseen.clear();
    }
    Ok(())
}

/// A fetched batch whose parsing runs on a blocking thread.
struct InFlight {
    batch: Batch,
    fetch_ms: i64,
    got: Vec<u32>,
    bytes: u64,
    /// The parsed batch in parts, each sent by the blocking thread that parses it.
    parsing: Vec<std::sync::mpsc::Receiver<std::thread::Result<Vec<(Parsed, Vec<u8>, u32)>>>>,
}

impl InFlight {
    fn start(
        batch: Batch,
        fetched: Vec<FetchedMessage>,
        fetch_ms: i64,
        account: &str,
        mailbox: &str,
        uidvalidity: u32,
        max_parse_bytes: usize,
    ) -> InFlight {
        let got = fetched.iter().map(|m| m.uid).collect();
        let bytes = fetched.iter().map(|m| m.raw.len() as u64).sum();
        // One part per core: parsing is the biggest piece of a fetch's work.
        let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        let part_len = fetched.len().div_ceil(threads).max(1);
        let mut fetched = fetched.into_iter();
        let mut parsing = Vec::new();
        loop {
            let part: Vec<FetchedMessage> = fetched.by_ref().take(part_len).collect();
            if part.is_empty() {
                break;
            }
            let parse = parse_batch(part, account, mailbox, uidvalidity, max_parse_bytes);
            let (done, parsed) = std::sync::mpsc::sync_channel(1);
            tokio::task::spawn_blocking(move || {
                let _ = done.send(std::panic::catch_unwind(std::panic::AssertUnwindSafe(parse)));
            });
            parsing.push(parsed);
        }
        InFlight { batch, fetch_ms, got, bytes, parsing }
    }
}

/// Stores fetched batches of one mailbox, each with the sync state in the same transaction.
struct BatchStore<'a> {
    ledger: &'a mut Ledger,
    target: &'a Target,
    mailbox: &'a str,
    opts: &'a FetchOptions,
    uidvalidity: u32,
    resync: bool,
    /// The highest UID the ledger holds for this mailbox.
    committed: u32,
    state_stored: bool,
    ingestor: Ingestor,
    report: &'a mut FetchReport,
}

/// A batch in the ledger, waiting to be handed on.
struct StoredBatch {
    records: Vec<Fresh>,
    got: Vec<u32>,
    /// The UIDs asked for (progress counts them, gone or not).
    requested: u64,
}

impl BatchStore<'_> {
    /// Waits for the batch's parse and stores it with the sync state, in one transaction.
    /// Blocking: runs on a thread of its own while the next batch downloads (`alongside`).
    fn store(&mut self, f: InFlight) -> Result<StoredBatch, SyncError> {
        let mut parsed = Vec::new();
        for part in f.parsing {
            match part.recv() {
                Ok(Ok(v)) => parsed.extend(v),
                Ok(Err(panic)) => std::panic::resume_unwind(panic),
                // The runtime is shutting down and dropped the parse unrun.
                Err(_) => return Err(SyncError::Ledger(anyhow::anyhow!("fetched messages were not parsed: shutting down"))),
            }
        }
        let (account, mailbox, uidvalidity) = (self.target.account.as_str(), self.mailbox, self.uidvalidity);
        let requested = f.batch.uids();
        let got: HashSet<u32> = f.got.iter().copied().collect();
        // Gone between SEARCH and FETCH (expunged by another client).
        let missing: Vec<u32> = requested.iter().copied().filter(|u| !got.contains(u)).collect();
        let count = parsed.len() as u64;
        let mut relocated: Vec<(u32, String)> = Vec::new();
        for (p, raw, uid) in parsed {
            if self.resync && let Some(existing) = same_message_stored(self.ledger, &p, &raw)? {
                relocated.push((uid, existing));
                continue;
            }
            self.ingestor.add_parsed(p, raw, Some(ServerId { uidvalidity, uid }));
        }
        let new_highest = self.committed.max(requested.iter().copied().max().unwrap_or(0));
        let fetch_event =
            imap_event("imap.fetch", "ok", self.target, self.opts).latency_ms(f.fetch_ms).detail(json!({
                "mailbox": mailbox, "uids": uid_set(&requested), "count": count, "bytes": f.bytes,
                "truncated": matches!(f.batch, Batch::Head(_)), "missing": uid_set(&missing)
            }));
        let records = self.ingestor.flush_with(self.ledger, |tx| {
            for (uid, id) in &relocated {
                insert_location(tx, account, mailbox, uidvalidity, *uid, id)?;
            }
            let state = SyncState { uidvalidity, highest_uid: new_highest, highest_modseq: None };
            set_sync_state(tx, account, mailbox, state)?;
            events::insert(tx, &fetch_event)?;
            Ok(())
        })?;
        self.committed = new_highest;
        self.state_stored = true;
        self.report.seen += count;
        self.report.new += records.len() as u64;
        self.report.known += count - records.len() as u64;
        self.report.bytes += f.bytes;
        Ok(StoredBatch { records, got: f.got, requested: requested.len() as u64 })
    }
}

/// One UID FETCH: several whole messages, or the head of one huge message.
#[derive(Debug, PartialEq, Eq)]
enum Batch {
    Whole(Vec<u32>),
    Head(u32),
}

impl Batch {
    fn uids(&self) -> Vec<u32> {
        match self {
            Batch::Whole(u) => u.clone(),
            Batch::Head(u) => vec![*u],
        }
    }
}

/// Groups `uids` into fetches of at most `first` messages, each next one up to twice as many
/// as the one before and at most BATCH_MESSAGES / BATCH_BYTES; messages above `cap` get a
/// head-only fetch of their own. UIDs without a size (expunged) are left out, except that a
/// chunk where all are gone still yields one batch so the sync state moves past them.
fn plan_batches(uids: &[u32], sizes: &[(u32, u32)], cap: u32, first: usize) -> Vec<Batch> {
    let mut out = Vec::new();
    let mut current: Vec<u32> = Vec::new();
    let mut current_bytes = 0u64;
    let mut limit = first.clamp(1, BATCH_MESSAGES);
    for &(uid, size) in sizes {
        if size > cap {
            out.push(Batch::Head(uid));
            continue;
        }
        if !current.is_empty() && (current.len() >= limit || current_bytes + size as u64 > BATCH_BYTES) {
            out.push(Batch::Whole(std::mem::take(&mut current)));
            current_bytes = 0;
            limit = (limit * 2).min(BATCH_MESSAGES);
        }
        current.push(uid);
        current_bytes += size as u64;
    }
    if !current.is_empty() {
        out.push(Batch::Whole(current));
    }
    if out.is_empty() && !uids.is_empty() {
        out.push(Batch::Whole(uids.to_vec()));
    }
    out
}

/// The work of parsing a batch, to run on a blocking thread (mail-parser is CPU work).
fn parse_batch(
    fetched: Vec<FetchedMessage>,
    account: &str,
    mailbox: &str,
    uidvalidity: u32,
    max_parse_bytes: usize,
) -> impl FnOnce() -> Vec<(Parsed, Vec<u8>, u32)> + Send + 'static {
    let (account, mailbox) = (account.to_string(), mailbox.to_string());
    move || {
        fetched
            .into_iter()
            .map(|m| {
                let mut p = parse_message(&m.raw, &account, &mailbox, max_parse_bytes);
                p.record.uid = Some(m.uid);
                p.record.uidvalidity = Some(uidvalidity);
                if m.truncated {
                    for flag in ["huge", "truncated"] {
                        if !p.record.has_flag(flag) {
                            p.record.flags.push(flag.into());
                        }
                    }
                }
                (p.seal(), m.raw, m.uid)
            })
            .collect()
    }
}

/// During a resync: the id of a stored message with the same Message-ID and the same body,
/// when this one's id is new (a server that rebuilt the mailbox may have rewritten a header).
fn same_message_stored(ledger: &Ledger, p: &Parsed, raw: &[u8]) -> Result<Option<String>> {
    let Some(message_id) = p.record.message_id.as_deref() else { return Ok(None) };
    if ledger.has_message(&p.record.id)? {
        return Ok(None);
    }
    let key = body_key(raw);
    Ok(ledger.raws_with_message_id(message_id)?.into_iter().find(|(_, other)| body_key(other) == key).map(|(id, _)| id))
}

/// A content hash of the body alone (after the first blank line), line endings normalized.
fn body_key(raw: &[u8]) -> String {
    let start = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| i + 4)
        .or_else(|| raw.windows(2).position(|w| w == b"\n\n").map(|i| i + 2))
        .unwrap_or(raw.len());
    message_key(&raw[start..])
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
    fn batches_respect_count_bytes_and_the_size_cap() {
        let uids: Vec<u32> = (1..=1200).collect();
        let sizes: Vec<(u32, u32)> = uids.iter().map(|&u| (u, 1000)).collect();
        let b = plan_batches(&uids, &sizes, 50_000_000, BATCH_MESSAGES);
        assert_eq!(b.len(), 3);
        assert_eq!(b[0], Batch::Whole((1..=500).collect()));
        assert_eq!(b[2], Batch::Whole((1001..=1200).collect()));

        let sizes = vec![(1, 20_000_000), (2, 20_000_000), (3, 90_000_000), (4, 10)];
        let b = plan_batches(&[1, 2, 3, 4], &sizes, 50_000_000, BATCH_MESSAGES);
        assert_eq!(b, vec![Batch::Whole(vec![1]), Batch::Head(3), Batch::Whole(vec![2, 4])]);
    }

    #[test]
    fn the_first_batches_are_small_and_double() {
        let uids: Vec<u32> = (1..=2000).collect();
        let sizes: Vec<(u32, u32)> = uids.iter().map(|&u| (u, 1000)).collect();
        let lens: Vec<usize> = plan_batches(&uids, &sizes, 50_000_000, FIRST_BATCH_MESSAGES)
            .iter()
            .map(|b| b.uids().len())
            .collect();
        assert_eq!(lens, [50, 100, 200, 400, 500, 500, 250]);
        assert_eq!(lens.iter().sum::<usize>(), 2000);
    }

    #[test]
    fn a_chunk_whose_messages_all_vanished_still_moves_on() {
        assert_eq!(plan_batches(&[7, 8], &[], 1000, BATCH_MESSAGES), vec![Batch::Whole(vec![7, 8])]);
    }

    #[test]
    fn body_key_ignores_headers_and_line_endings() {
        let a = b"Subject: x\nX-Added: 1\n\nHello\nthere\n";
        let b = b"Subject: x\r\n\r\nHello\r\nthere\r\n";
        assert_eq!(body_key(a), body_key(b));
        assert_ne!(body_key(a), body_key(b"Subject: x\n\nHello\n"));
    }

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

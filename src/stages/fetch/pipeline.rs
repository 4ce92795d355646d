//! One mailbox's download, pipelined: batches download one after another while the ones
//! before are parsed (on blocking threads, one part per core) and stored, in order, on a
//! thread of their own, so the server never waits on the ledger, not even on a commit's
//! checkpoint and its `fsync`. Each batch is stored with the mailbox's sync state in one
//! transaction, and its records are handed out the moment that commits.

use std::collections::HashSet;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::Result;
use serde_json::json;
use tokio::sync::mpsc;

use super::{FetchOptions, FetchReport, Notice, SyncError, Target, imap_event, ms};
use crate::ledger::messages::insert_location;
use crate::ledger::sync::{SyncState, set_sync_state};
use crate::ledger::{Ledger, events};
use crate::mail::imap::{FetchedMessage, ImapSession, uid_set};
use crate::mail::parse::{Parsed, message_key, parse_message};
use crate::stages::ingest::{Fresh, Ingestor, ServerId};
use crate::stages::progress::Reporter;

/// One UID FETCH carries at most this many messages...
const BATCH_MESSAGES: usize = 500;
/// ...or this many bytes.
const BATCH_BYTES: u64 = 32 * 1024 * 1024;
/// A sync's first batch carries this many messages and each next one twice as many, up to
/// BATCH_MESSAGES: parsing starts once the first few messages are in, not a whole batch.
const FIRST_BATCH_MESSAGES: usize = 50;
/// UIDs sized per `UID FETCH (RFC822.SIZE)`.
const SIZE_CHUNK: usize = 5000;

/// Downloads and stores `job.wanted` through `store`, handing records to `on` as batches commit.
pub(super) async fn run<R, F>(
    session: &mut ImapSession,
    store: &mut BatchStore<'_>,
    job: &Job<'_>,
    progress: &R,
    on: &mut F,
) -> Result<(), SyncError>
where
    R: Reporter + ?Sized,
    F: FnMut(Notice) -> bool,
{
    if tokio::runtime::Handle::current().runtime_flavor() != tokio::runtime::RuntimeFlavor::MultiThread {
        // A single-threaded runtime cannot lend its thread: each batch is stored once it is in.
        return download(session, job, Storer::Inline { store, ready: Default::default() }, progress, on).await;
    }
    let handle = tokio::runtime::Handle::current();
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
                    // Never store a later batch after an earlier one failed: its UIDs would
                    // move the sync state past the failed ones.
                    if done.send(result).is_err() || failed {
                        break;
                    }
                }
            });
            let storer = Storer::Thread { queue: Some(queue), stored, cancelled };
            let fetching = handle.block_on(download(session, job, storer, progress, on));
            // A panic of the store thread goes on as itself, not as the scope's own.
            worker.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            fetching
        })
    })
}

/// What one mailbox's download needs to know.
pub(super) struct Job<'a> {
    pub(super) wanted: &'a [u32],
    pub(super) cap: u32,
    pub(super) account: &'a str,
    pub(super) mailbox: &'a str,
    pub(super) uidvalidity: u32,
    pub(super) opts: &'a FetchOptions,
    /// Hand records on (not for the Sent folder: the team's own mail is no work for the chain).
    pub(super) emit: bool,
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
                let parsing = InFlight::start(batch, fetched, ms(started), job);
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

/// Parts a batch is parsed in: one per core, parsing being the biggest piece of a fetch's work.
/// Asked once (it reads the cgroup's CPU quota each time).
static PARSE_PARTS: LazyLock<usize> =
    LazyLock::new(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2));

/// A fetched message parsed: the record, its exact bytes and its UID.
type ParsedMessage = (Parsed, Vec<u8>, u32);

/// A fetched batch whose parsing runs on a blocking thread.
struct InFlight {
    batch: Batch,
    fetch_ms: i64,
    got: Vec<u32>,
    bytes: u64,
    /// The parsed batch in parts, each sent by the blocking thread that parses it.
    parsing: Vec<std::sync::mpsc::Receiver<std::thread::Result<Vec<ParsedMessage>>>>,
}

impl InFlight {
    fn start(batch: Batch, fetched: Vec<FetchedMessage>, fetch_ms: i64, job: &Job<'_>) -> InFlight {
        let got = fetched.iter().map(|m| m.uid).collect();
        let bytes = fetched.iter().map(|m| m.raw.len() as u64).sum();
        let part_len = fetched.len().div_ceil(*PARSE_PARTS).max(1);
        let mut fetched = fetched.into_iter();
        let mut parsing = Vec::new();
        loop {
            let part: Vec<FetchedMessage> = fetched.by_ref().take(part_len).collect();
            if part.is_empty() {
                break;
            }
            let parse = parse_batch(part, job.account, job.mailbox, job.uidvalidity, job.opts.max_parse_bytes);
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
pub(super) struct BatchStore<'a> {
    pub(super) ledger: &'a mut Ledger,
    pub(super) target: &'a Target,
    pub(super) mailbox: &'a str,
    pub(super) opts: &'a FetchOptions,
    pub(super) uidvalidity: u32,
    pub(super) resync: bool,
    /// The highest UID the ledger holds for this mailbox.
    pub(super) committed: u32,
    pub(super) state_stored: bool,
    pub(super) ingestor: Ingestor,
    pub(super) report: &'a mut FetchReport,
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
    /// Blocking: runs on a thread of its own while the next batch downloads ([`run`]).
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
) -> impl FnOnce() -> Vec<ParsedMessage> + Send + 'static {
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
}

//! Storing fetched or imported messages: parse, deduplicate, store once, in batches.
//!
//! A record is handed back for emission only after the transaction that stored it has
//! committed, so anything a downstream stage sees is already safe in the ledger. In the same
//! transaction each new message joins its service case (`stages::cases::attach_new`).

use anyhow::Result;

use crate::ledger::Ledger;
use crate::ledger::messages::{NewMessage, Stored, insert_location, insert_message_json};
use crate::mail::import::{RawMessage, ReadError};
use crate::mail::parse::{Parsed, parse_message};
use crate::record::Record;
use crate::stages::cases::{self, Rules as CaseRules};
use crate::trash::Trash;

/// Flush a batch after this many messages or this many raw bytes, whichever comes first. The
/// first batch is small, so a reader down the pipe starts at once; each next one is twice as
/// big up to the cap, because a commit rewrites every index page the batch touched, and in a
/// big ledger most pages of the hash-keyed indexes are touched by any few hundred messages
/// (a 100 MB mbox: 2.6 GB written with 500-message commits, 0.8 GB with these).
const FIRST_BATCH_MESSAGES: usize = 500;
const MAX_BATCH_MESSAGES: usize = 32768;
const BATCH_BYTES: usize = 32 * 1024 * 1024;

/// A message stored for the first time: its id, and its record as one JSON line, made once
/// (on a parsing thread) for the ledger and for stdout both.
#[derive(Debug)]
pub struct Fresh {
    pub id: String,
    pub json: String,
}

impl Fresh {
    /// The whole record, read back from its JSON line.
    pub fn record(&self) -> Result<Record> {
        Ok(serde_json::from_str(&self.json)?)
    }
}

#[derive(Debug, Default, Clone, Copy, serde::Serialize)]
pub struct IngestCounts {
    pub seen: u64,
    pub new: u64,
    pub known: u64,
    pub bytes: u64,
}

impl IngestCounts {
    /// One more message read, of `raw` bytes.
    fn saw(&mut self, raw: &[u8]) {
        self.seen += 1;
        self.bytes += raw.len() as u64;
    }
}

/// Where the messages come from.
#[derive(Debug, Clone)]
pub struct Origin {
    pub account: String,
    pub mailbox: String,
    pub max_parse_bytes: usize,
    pub run_id: Option<i64>,
}

/// An IMAP identity to remember alongside the message.
#[derive(Debug, Clone, Copy)]
pub struct ServerId {
    pub uidvalidity: u32,
    pub uid: u32,
}

struct Pending {
    parsed: Parsed,
    raw: Vec<u8>,
    server: Option<ServerId>,
}

/// Accumulates messages and stores them in batches.
pub struct Ingestor {
    origin: Origin,
    batch: Vec<Pending>,
    batch_bytes: usize,
    /// Messages in the next batch (grows from FIRST_BATCH_MESSAGES).
    batch_limit: usize,
    /// How a new message finds its service case (see `stages::cases`).
    case_rules: CaseRules,
    /// What a stored message leaves behind (made on the reader's and parsers' threads).
    trash: Trash<Spent>,
    pub counts: IngestCounts,
}

/// What a stored message leaves behind once nothing needs it.
struct Spent {
    _record: Record,
    _raw_sha256: String,
    _raw: Vec<u8>,
    _json: String,
}

impl Ingestor {
    pub fn new(origin: Origin) -> Ingestor {
        Ingestor {
            origin,
            batch: Vec::new(),
            batch_bytes: 0,
            batch_limit: FIRST_BATCH_MESSAGES,
            case_rules: CaseRules::default(),
            trash: Trash::default(),
            counts: IngestCounts::default(),
        }
    }

    /// The team's addresses, Sent folders and thread window, from the config.
    pub fn with_case_rules(mut self, rules: CaseRules) -> Ingestor {
        self.case_rules = rules;
        self
    }

    /// Parses and queues one message; returns true when the batch should be flushed.
    pub fn add(&mut self, raw: Vec<u8>, server: Option<ServerId>) -> bool {
        let mut parsed = parse_message(&raw, &self.origin.account, &self.origin.mailbox, self.origin.max_parse_bytes);
        if let Some(s) = server {
            parsed.record.uid = Some(s.uid);
            parsed.record.uidvalidity = Some(s.uidvalidity);
        }
        self.add_parsed(parsed, raw, server)
    }

    /// Queues a message parsed elsewhere (a worker thread); returns true when a flush is due.
    pub fn add_parsed(&mut self, parsed: Parsed, raw: Vec<u8>, server: Option<ServerId>) -> bool {
        self.counts.saw(&raw);
        self.batch_bytes += raw.len();
        self.batch.push(Pending { parsed, raw, server });
        self.batch.len() >= self.batch_limit || self.batch_bytes >= BATCH_BYTES
    }

    /// Stores the batch in one transaction, running `also` inside it (the IMAP sync state, say),
    /// and returns the records seen for the first time.
    pub fn flush_with(
        &mut self,
        ledger: &mut Ledger,
        also: impl FnOnce(&rusqlite::Connection) -> Result<()>,
    ) -> Result<Vec<Fresh>> {
        let batch = std::mem::take(&mut self.batch);
        self.batch_bytes = 0;
        self.grow_batch_limit();
        let (origin, case_rules, trash) = (&self.origin, &self.case_rules, &mut self.trash);
        let (fresh, known) = ledger.write(|tx| {
            let mut stored = Written::default();
            for p in batch {
                stored.store(tx, p, origin, case_rules, trash)?;
            }
            also(tx)?;
            Ok((stored.fresh, stored.known))
        })?;
        self.counts.new += fresh.len() as u64;
        self.counts.known += known;
        Ok(fresh)
    }

    /// Stores messages as `items` yields them, inside one open transaction that commits when
    /// the batch is full or `items` runs out, and returns the batch's new records (None once
    /// `items` is exhausted). Storing while the parsers make the next messages, rather than
    /// collecting a batch first and then storing it, keeps the parsers and this thread busy
    /// at the same time.
    pub fn store_next_batch(
        &mut self,
        ledger: &mut Ledger,
        items: &mut dyn Iterator<Item = (Parsed, Vec<u8>)>,
    ) -> Result<Option<Vec<Fresh>>> {
        // Take the write lock only once there is something to write.
        let Some(first) = items.next() else { return Ok(None) };
        let limit = self.batch_limit;
        self.grow_batch_limit();
        let (origin, case_rules, counts, trash) = (&self.origin, &self.case_rules, &mut self.counts, &mut self.trash);
        let stored = ledger.write(|tx| {
            let mut stored = Written::default();
            let (mut messages, mut bytes) = (0usize, 0usize);
            for (parsed, raw) in std::iter::once(first).chain(items) {
                counts.saw(&raw);
                messages += 1;
                bytes += raw.len();
                stored.store(tx, Pending { parsed, raw, server: None }, origin, case_rules, trash)?;
                if messages >= limit || bytes >= BATCH_BYTES {
                    break;
                }
            }
            Ok(stored)
        })?;
        self.counts.new += stored.fresh.len() as u64;
        self.counts.known += stored.known;
        Ok(Some(stored.fresh))
    }

    /// Stores every message of `messages`, batch by batch, handing each batch's new records to
    /// `emit` once committed; returns true when `emit` wants no more.
    pub fn store_all(
        &mut self,
        ledger: &mut Ledger,
        messages: &mut dyn Iterator<Item = (Parsed, Vec<u8>)>,
        may_stall: bool,
        emit: &mut dyn FnMut(Fresh) -> bool,
    ) -> Result<bool> {
        let mut hand_over = |records: Vec<Fresh>| records.into_iter().any(|r| !emit(r));
        if may_stall {
            // A pipe can stall between two messages: collect a batch first and hold the
            // ledger's write lock only while storing it, so other commands are not kept waiting.
            for (parsed, raw) in messages {
                if self.add_parsed(parsed, raw, None) && hand_over(self.flush(ledger)?) {
                    return Ok(true);
                }
            }
            return Ok(!self.is_empty() && hand_over(self.flush(ledger)?));
        }
        while let Some(fresh) = self.store_next_batch(ledger, messages)? {
            if hand_over(fresh) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The next batch may be twice as big, up to the cap.
    fn grow_batch_limit(&mut self) {
        self.batch_limit = (self.batch_limit * 2).min(MAX_BATCH_MESSAGES);
    }

    pub fn flush(&mut self, ledger: &mut Ledger) -> Result<Vec<Fresh>> {
        self.flush_with(ledger, |_| Ok(()))
    }

    pub fn is_empty(&self) -> bool {
        self.batch.is_empty()
    }
}

/// What one transaction stored: the new records, and how many were already in the ledger.
#[derive(Default)]
struct Written {
    fresh: Vec<Fresh>,
    known: u64,
}

impl Written {
    /// Stores one message (once: a known one only gains its IMAP location) and, when new,
    /// attaches it to its service case.
    fn store(
        &mut self,
        tx: &rusqlite::Connection,
        p: Pending,
        origin: &Origin,
        case_rules: &CaseRules,
        trash: &mut Trash<Spent>,
    ) -> Result<()> {
        let Parsed { record, raw_sha256, json } = p.parsed;
        let json = match json {
            Some(json) => json,
            None => serde_json::to_string(&record)?,
        };
        let stored = insert_message_json(
            tx,
            &NewMessage { record: &record, raw: &p.raw, raw_sha256: &raw_sha256 },
            &json,
            origin.run_id,
        )?;
        if let Some(s) = p.server {
            insert_location(tx, &origin.account, &origin.mailbox, s.uidvalidity, s.uid, &record.id)?;
        }
        match stored {
            Stored::New => {
                cases::attach_new(tx, &record, case_rules, origin.run_id)?;
                // Copies made on this thread: for a file import, the thread that writes
                // stdout and frees them.
                self.fresh.push(Fresh { id: record.id.clone(), json: json.clone() })
            }
            Stored::Known => self.known += 1,
        }
        let bytes = p.raw.len() + json.len() + record.text.len() + record.text_new.len();
        trash.put(Spent { _record: record, _raw_sha256: raw_sha256, _raw: p.raw, _json: json }, bytes);
        Ok(())
    }
}

/// A parsed message with its exact bytes, or the reason it could not be read, plus the
/// reader's position (bytes or messages) for progress.
pub type ParsedItem = (Result<(Parsed, Vec<u8>), ReadError>, u64);

/// Messages handed to a parsing thread at a time: one channel message per chunk rather than
/// per mail keeps the threads from waking each other for every message.
const CHUNK_MESSAGES: usize = 64;
const CHUNK_BYTES: usize = 4 * 1024 * 1024;

type RawItem = (Result<RawMessage, ReadError>, u64);

/// Parses messages on `workers` threads and yields them in input order.
///
/// Chunks are dealt to the workers round-robin and collected round-robin, so order is kept
/// without a reorder buffer; bounded channels keep memory flat however long the input is.
pub fn parse_in_order<I>(input: I, origin: &Origin, workers: usize) -> impl Iterator<Item = ParsedItem> + use<I>
where
    I: Iterator<Item = RawItem> + Send + 'static,
{
    use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
    let workers = workers.max(1);
    let mut to_workers: Vec<SyncSender<Vec<RawItem>>> = Vec::new();
    let mut from_workers: Vec<Receiver<Vec<ParsedItem>>> = Vec::new();
    for _ in 0..workers {
        let (in_tx, in_rx) = sync_channel::<Vec<RawItem>>(2);
        let (out_tx, out_rx) = sync_channel::<Vec<ParsedItem>>(2);
        let (account, mailbox, max) = (origin.account.clone(), origin.mailbox.clone(), origin.max_parse_bytes);
        std::thread::spawn(move || {
            for chunk in in_rx {
                let parsed = chunk
                    .into_iter()
                    .map(|(item, pos)| {
                        (item.map(|m| (parse_message(&m.bytes, &account, &mailbox, max).seal(), m.bytes)), pos)
                    })
                    .collect();
                if out_tx.send(parsed).is_err() {
                    break;
                }
            }
        });
        to_workers.push(in_tx);
        from_workers.push(out_rx);
    }
    std::thread::spawn(move || {
        let mut chunk: Vec<RawItem> = Vec::new();
        let mut chunk_bytes = 0usize;
        let mut turn = 0usize;
        for item in input {
            chunk_bytes += item.0.as_ref().map(|m| m.bytes.len()).unwrap_or(0);
            chunk.push(item);
            if chunk.len() >= CHUNK_MESSAGES || chunk_bytes >= CHUNK_BYTES {
                if to_workers[turn % to_workers.len()].send(std::mem::take(&mut chunk)).is_err() {
                    return;
                }
                chunk_bytes = 0;
                turn += 1;
            }
        }
        if !chunk.is_empty() {
            let _ = to_workers[turn % to_workers.len()].send(chunk);
        }
    });
    let mut turn = 0usize;
    let mut current = Vec::new().into_iter();
    std::iter::from_fn(move || {
        loop {
            if let Some(item) = current.next() {
                return Some(item);
            }
            current = from_workers[turn % from_workers.len()].recv().ok()?.into_iter();
            turn += 1;
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin() -> Origin {
        Origin { account: "files".into(), mailbox: "t".into(), max_parse_bytes: 1 << 20, run_id: None }
    }

    #[test]
    fn parallel_parsing_keeps_input_order() {
        let input = (0..200u64).map(|i| {
            let raw = format!("From: a@b.c\nSubject: n{i}\n\nbody {i}\n").into_bytes();
            (Ok(RawMessage { origin: format!("x:{i}"), bytes: raw }), i)
        });
        let out: Vec<String> =
            parse_in_order(input, &origin(), 3).map(|(r, _)| r.unwrap().0.record.subject).collect();
        let want: Vec<String> = (0..200).map(|i| format!("n{i}")).collect();
        assert_eq!(out, want);
    }

    #[test]
    fn the_first_batch_is_small_and_later_ones_grow_to_the_cap() {
        let mut ledger = Ledger::open_in_memory().unwrap();
        let mut ing = Ingestor::new(origin());
        let mut flushed_at = Vec::new();
        for i in 0..40_000u32 {
            let raw = format!("From: a@b.c\nSubject: n{i}\nMessage-ID: <{i}@x>\n\nbody\n").into_bytes();
            if ing.add(raw, None) {
                flushed_at.push(ing.batch.len());
                ing.flush(&mut ledger).unwrap();
            }
        }
        assert_eq!(flushed_at, [500, 1000, 2000, 4000, 8000, 16000]);
    }

    #[test]
    fn streamed_batches_grow_like_collected_ones_and_end_when_the_input_does() {
        let mut ledger = Ledger::open_in_memory().unwrap();
        let mut ing = Ingestor::new(origin());
        let mut messages = (0..3_700u32).map(|i| {
            let raw = format!("From: a@b.c\nSubject: n{i}\nMessage-ID: <{i}@x>\n\nbody\n").into_bytes();
            (parse_message(&raw, "files", "t", 1 << 20).seal(), raw)
        });
        let mut sizes = Vec::new();
        while let Some(fresh) = ing.store_next_batch(&mut ledger, &mut messages).unwrap() {
            sizes.push(fresh.len());
        }
        assert_eq!(sizes, [500, 1000, 2000, 200]);
        assert_eq!((ing.counts.seen, ing.counts.new), (3_700, 3_700));
        assert_eq!(ledger.message_count().unwrap(), 3_700);
    }

    #[test]
    fn a_pipe_that_stalls_between_messages_leaves_the_ledger_free_to_other_writers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.sqlite");
        let mut ledger = Ledger::open(&path).unwrap();
        let other = rusqlite::Connection::open(&path).unwrap();
        other.busy_timeout(std::time::Duration::ZERO).unwrap();
        // Between two messages of the input: can another command write now?
        let can_write = |other: &rusqlite::Connection| other.execute_batch("BEGIN IMMEDIATE; COMMIT").is_ok();
        for may_stall in [true, false] {
            let mut writable = Vec::new();
            let mut messages = (0..3u32).map(|i| {
                writable.push(can_write(&other));
                let raw = format!("From: a@b.c\nSubject: s{may_stall}{i}\nMessage-ID: <{may_stall}{i}@x>\n\nbody\n").into_bytes();
                (parse_message(&raw, "files", "t", 1 << 20).seal(), raw)
            });
            let mut emitted = 0;
            let mut ing = Ingestor::new(origin());
            let closed = ing.store_all(&mut ledger, &mut messages, may_stall, &mut |_| { emitted += 1; true }).unwrap();
            assert!(!closed);
            assert_eq!(emitted, 3);
            if may_stall {
                assert_eq!(writable, [true, true, true], "collected first, stored after");
            } else {
                assert_eq!(writable, [true, false, false], "files are stored as they are parsed, in one transaction");
            }
        }
    }

    #[test]
    fn the_same_message_twice_is_stored_and_emitted_once() {
        let mut ledger = Ledger::open_in_memory().unwrap();
        let raw = b"From: a@b.c\nSubject: hi\nMessage-ID: <x@y>\n\nbody\n".to_vec();
        let mut ing = Ingestor::new(origin());
        ing.add(raw.clone(), None);
        ing.add(raw.replace_crlf(), None);
        let fresh = ing.flush(&mut ledger).unwrap();
        assert_eq!(fresh.len(), 1);
        ing.add(raw, None);
        assert!(ing.flush(&mut ledger).unwrap().is_empty());
        assert_eq!(ledger.message_count().unwrap(), 1);
        assert_eq!(ing.counts.new, 1);
        assert_eq!(ing.counts.known, 2);
        assert!(ledger.check_integrity().unwrap().is_empty(), "the CRLF copy left no stray raw source");
    }

    trait Crlf {
        fn replace_crlf(&self) -> Vec<u8>;
    }
    impl Crlf for Vec<u8> {
        fn replace_crlf(&self) -> Vec<u8> {
            String::from_utf8_lossy(self).replace('\n', "\r\n").into_bytes()
        }
    }
}

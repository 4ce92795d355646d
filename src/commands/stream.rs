//! The shared loop of record stages: read records, process each, write the results.
//!
//! Bad lines are reported as `mailroom STAGE: SOURCE:LINE: problem` and skipped (exit 1 at
//! the end), or stop the run with `--strict`. A record whose processing fails is reported
//! with its id and skipped the same way. A closed stdout stops the loop as a success.
//!
//! `run_stage_batched` is the same loop for stages that store a result per record: the
//! records already waiting share one ledger transaction, and are written out once it commits.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};

use super::Ctx;
use crate::jsonl::{BadLine, Item as ReaderItem, LinePos, RecordReader, RecordWriter};
use crate::ledger::Ledger;
use crate::record::Record;
use crate::stages::progress::{Reporter, Unit};

#[derive(Debug, Default, Clone, Copy)]
pub struct StreamStats {
    pub read: u64,
    pub written: u64,
    pub bad_lines: u64,
    pub failed: u64,
}

/// What processing one record asks the loop to do.
pub enum Emit {
    /// Write these records (usually the one, annotated).
    Records(Vec<Record>),
    /// Write nothing for this record.
    Nothing,
}

/// An id as an error message shows it: an id we made is short and plain; one from elsewhere
/// is cut and has its control characters escaped so it cannot flood or drive a terminal.
pub(super) fn printable_id(id: &str) -> String {
    const MAX_CHARS: usize = 80;
    let mut shown: String = id.chars().take(MAX_CHARS).flat_map(char::escape_debug).collect();
    if id.chars().nth(MAX_CHARS).is_some() {
        shown.push('…');
    }
    shown
}

/// Tells a user who forgot the pipe why nothing happens.
pub(super) fn warn_if_terminal(ctx: &Ctx, reader: &RecordReader) {
    if reader.reads_from_terminal() && !ctx.global.quiet {
        eprintln!(
            "mailroom {}: reading records from the terminal (pipe them in, or name files; Ctrl-D ends)",
            ctx.command
        );
    }
}

/// Runs `process` over every record of `inputs` (stdin when empty).
pub fn run_stage(
    ctx: &mut Ctx,
    inputs: &[PathBuf],
    flush_each: bool,
    mut process: impl FnMut(&mut Ctx, Record) -> Result<Emit>,
) -> Result<StreamStats> {
    let reader = RecordReader::new(inputs);
    warn_if_terminal(ctx, &reader);
    let mut writer = RecordWriter::stdout(flush_each);
    let mut stats = StreamStats::default();
    for item in reader {
        match item {
            Err(bad) => {
                stats.bad_lines += 1;
                ctx.error(&bad);
                if ctx.global.strict {
                    writer.flush().ok();
                    bail!("stopped at {} (--strict)", bad.pos);
                }
            }
            Ok((pos, record)) => {
                stats.read += 1;
                let id = printable_id(&record.id);
                match process(ctx, record) {
                    Ok(Emit::Records(out)) => {
                        for r in &out {
                            if let Err(e) = writer.write(r) {
                                if e.kind() == std::io::ErrorKind::BrokenPipe {
                                    return Ok(stats);
                                }
                                return Err(e.into());
                            }
                            stats.written += 1;
                        }
                    }
                    Ok(Emit::Nothing) => {}
                    Err(e) => {
                        stats.failed += 1;
                        ctx.error(format!("{pos}: message {id}: {e:#}"));
                        if ctx.global.strict {
                            writer.flush().ok();
                            bail!("stopped at {pos} (--strict)");
                        }
                    }
                }
            }
        }
    }
    match writer.flush() {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        Err(e) => return Err(e.into()),
        Ok(()) => {}
    }
    ctx.count("read", stats.read);
    ctx.count("written", stats.written);
    ctx.count("bad_lines", stats.bad_lines);
    ctx.count("failed", stats.failed);
    Ok(stats)
}

/// Reads `inputs` on a thread of its own, handing each line to `send` until it returns false
/// (the receiving side is gone), so parsing JSON overlaps the stage's own work.
pub(super) fn read_in_background(inputs: &[PathBuf], mut send: impl FnMut(ReaderItem) -> bool + Send + 'static) {
    let inputs = inputs.to_vec();
    std::thread::spawn(move || {
        for item in RecordReader::new(&inputs) {
            if !send(item) {
                break;
            }
        }
    });
}

/// At most this many waiting records share a transaction.
pub(super) const BATCH: usize = 256;
/// How long a `PendingBatch` stays open while records keep coming.
const BATCH_TIME: Duration = Duration::from_millis(200);

/// Results stored in one open ledger transaction (`Ledger::begin_batch`), and the records
/// that go out once it commits: a record is never written before its results are committed,
/// and many records cost one commit. For stages that interleave storing with waiting (the
/// drafting threads of `draft` and `run`): the caller commits before any wait, so the ledger
/// is never locked for long.
#[derive(Default)]
pub(super) struct PendingBatch {
    /// When the transaction was opened; None while none is open.
    open: Option<Instant>,
    /// Results stored in it.
    results: usize,
    /// Records to write once it commits, in order.
    records: Vec<Record>,
}

impl PendingBatch {
    /// Opens the transaction unless it is open, for one more result.
    pub fn store_in(&mut self, ledger: &mut Ledger) -> Result<()> {
        if self.open.is_none() {
            ledger.begin_batch()?;
            self.open = Some(Instant::now());
        }
        self.results += 1;
        Ok(())
    }

    /// Queues `record` to go out after the commit.
    pub fn push(&mut self, record: Record) {
        self.records.push(record);
    }

    /// Records waiting for the commit.
    pub fn waiting(&self) -> usize {
        self.records.len()
    }

    /// Time to commit: `most` results stored, the transaction open `BATCH_TIME`, or `most`
    /// records waiting (records passed through untouched open no transaction).
    pub fn is_due(&self, most: usize) -> bool {
        self.open.is_some_and(|t| self.results >= most || t.elapsed() >= BATCH_TIME) || self.records.len() >= most
    }

    /// Commits the open transaction, if any, and hands back the records to write.
    pub fn commit(&mut self, ledger: &mut Ledger) -> Result<Vec<Record>> {
        let records = std::mem::take(&mut self.records);
        if self.open.take().is_some() {
            self.results = 0;
            // Fails when SQLite gave the transaction up (a full disk): nothing of it is stored.
            if let Err(e) = ledger.commit_batch() {
                ledger.rollback_batch();
                return Err(e.context(format!("storing the results of {} record(s), none of them written", records.len())));
            }
        }
        Ok(records)
    }
}

/// How a batch ended, when not by running out of records.
pub(super) enum Stop {
    /// `--strict` met a bad line or a failed record.
    Strict(LinePos),
    /// Stdout was closed: a success.
    Closed,
}

/// Like `run_stage`, for stages that store a result per record in the ledger. The records
/// already waiting (up to 256) are processed in one ledger transaction, each as a step of its
/// own (`Ledger::begin_step`), so a record that fails undoes only its own writes; when the
/// transaction has committed, `emit` turns each processed record into output. A record is
/// never written before its result is stored, a batch costs one commit, and a slow trickle
/// is still handled one record at a time.
pub fn run_stage_batched<T>(
    ctx: &mut Ctx,
    inputs: &[PathBuf],
    mut process: impl FnMut(&mut Ctx, Record) -> Result<T>,
    mut emit: impl FnMut(T) -> Result<Emit>,
) -> Result<StreamStats> {
    warn_if_terminal(ctx, &RecordReader::new(inputs));
    ctx.ledger()?;
    let (tx, rx) = std::sync::mpsc::sync_channel(4 * BATCH);
    read_in_background(inputs, move |item| tx.send(item).is_ok());
    let progress = ctx.progress();
    progress.start(None, Unit::Messages);
    let mut writer = RecordWriter::stdout(false);
    let mut stats = StreamStats::default();
    let mut batch = Vec::with_capacity(BATCH);
    let mut stop = None;
    while stop.is_none() {
        let Ok(first) = rx.recv() else { break };
        batch.push(first);
        while batch.len() < BATCH {
            match rx.try_recv() {
                Ok(item) => batch.push(item),
                Err(_) => break,
            }
        }
        let (done, strict) = {
            ctx.ledger()?.begin_batch()?;
            match process_batch(ctx, &mut batch, &mut stats, &mut process) {
                Ok(x) => x,
                Err(e) => {
                    ctx.ledger()?.rollback_batch();
                    return Err(e);
                }
            }
        };
        if let Err(e) = ctx.ledger()?.commit_batch() {
            ctx.ledger()?.rollback_batch();
            return Err(e.context(format!("storing the results of {} record(s), none of them written", done.len())));
        }
        stop = emit_batch(ctx, done, &mut writer, &mut stats, &mut emit)?.or(strict.map(Stop::Strict));
        progress.set_position(stats.read);
        if stop.is_none() {
            match writer.flush() {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => stop = Some(Stop::Closed),
                Err(e) => return Err(e.into()),
                Ok(()) => {}
            }
        }
    }
    progress.finish();
    if let Some(Stop::Closed) = stop {
        return Ok(stats);
    }
    writer.flush().ok();
    ctx.count("read", stats.read);
    ctx.count("written", stats.written);
    ctx.count("bad_lines", stats.bad_lines);
    ctx.count("failed", stats.failed);
    if let Some(Stop::Strict(pos)) = stop {
        bail!("stopped at {pos} (--strict)");
    }
    Ok(stats)
}

/// Processes one batch inside the open transaction: each record in a step of its own. Bad
/// lines and failed records are reported in input order; with --strict the batch ends at the
/// first. Returns the processed records and where --strict stopped.
#[allow(clippy::type_complexity)]
fn process_batch<T>(
    ctx: &mut Ctx,
    batch: &mut Vec<Result<(LinePos, Record), BadLine>>,
    stats: &mut StreamStats,
    process: &mut impl FnMut(&mut Ctx, Record) -> Result<T>,
) -> Result<(Vec<(LinePos, String, T)>, Option<LinePos>)> {
    let mut done = Vec::with_capacity(batch.len());
    for item in batch.drain(..) {
        let (pos, record) = match item {
            Ok(x) => x,
            Err(bad) => {
                stats.bad_lines += 1;
                ctx.error(&bad);
                if ctx.global.strict {
                    return Ok((done, Some(bad.pos)));
                }
                continue;
            }
        };
        stats.read += 1;
        let id = printable_id(&record.id);
        ctx.ledger()?.begin_step()?;
        let result = process(ctx, record);
        let ended = ctx.ledger()?.end_step(result.is_ok());
        match result {
            Ok(t) => {
                ended?;
                done.push((pos, id, t));
            }
            Err(e) => {
                stats.failed += 1;
                ctx.error(format!("{pos}: message {id}: {e:#}"));
                // Some errors (a full disk) make SQLite roll the whole transaction back.
                ended.with_context(|| {
                    format!("the ledger abandoned the batch: {} record(s) before {pos} were not stored", done.len())
                })?;
                if ctx.global.strict {
                    return Ok((done, Some(pos)));
                }
            }
        }
    }
    Ok((done, None))
}

/// Writes out the records of a committed batch.
fn emit_batch<T>(
    ctx: &mut Ctx,
    done: Vec<(LinePos, String, T)>,
    writer: &mut RecordWriter,
    stats: &mut StreamStats,
    emit: &mut impl FnMut(T) -> Result<Emit>,
) -> Result<Option<Stop>> {
    for (pos, id, t) in done {
        match emit(t) {
            Ok(Emit::Records(out)) => {
                for r in &out {
                    match writer.write(r) {
                        Ok(()) => stats.written += 1,
                        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(Some(Stop::Closed)),
                        Err(e) => return Err(e.into()),
                    }
                }
            }
            Ok(Emit::Nothing) => {}
            Err(e) => {
                stats.failed += 1;
                ctx.error(format!("{pos}: message {id}: {e:#}"));
                if ctx.global.strict {
                    return Ok(Some(Stop::Strict(pos)));
                }
            }
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::printable_id;

    #[test]
    fn ids_in_errors_are_short_and_inert() {
        assert_eq!(printable_id("m0123abc"), "m0123abc");
        assert_eq!(printable_id("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(printable_id(&"x".repeat(1000)).chars().count(), 81);
    }
}

//! `mailroom fetch`: new messages from IMAP accounts, or from mbox / Maildir / .eml files.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use super::Ctx;
use crate::error::{ConfigError, Outcome, UsageError, not_built};
use crate::jsonl::RecordWriter;
use crate::mail::import::{MaildirReader, MboxReader, RawMessage, ReadError, read_file};
use crate::mail::parse::DEFAULT_MAX_PARSE_BYTES;
use crate::stages::ingest::{Ingestor, Origin, parse_in_order};
use crate::stages::progress::{Reporter, Unit};

/// Fetch new messages, store them once in the ledger, and print one record per new message.
///
/// Without file options, reads the IMAP accounts of the config incrementally (UIDVALIDITY +
/// highest UID per mailbox). With --mbox, --maildir or --eml, imports historical mail instead
/// (account "files"). A message seen before is never emitted twice.
///
/// Examples:
///   mailroom fetch --mbox examples/sample.mbox | mailroom filter
///   mailroom fetch --maildir ~/Maildir/support --quiet > new.jsonl
///   mailroom fetch --account support --since 2026-01-01
#[derive(Debug, Args)]
pub struct FetchArgs {
    /// Import an mbox file (mboxo or mboxrd; `-` for stdin); repeatable
    #[arg(long, value_name = "FILE")]
    pub mbox: Vec<PathBuf>,
    /// Import a Maildir folder (its cur/ and new/); repeatable
    #[arg(long, value_name = "DIR")]
    pub maildir: Vec<PathBuf>,
    /// Import single RFC 822 message files (`-` for stdin)
    #[arg(long, value_name = "FILE", num_args = 1..)]
    pub eml: Vec<PathBuf>,
    /// Only these configured accounts [default: all]
    #[arg(long, value_name = "NAME")]
    pub account: Vec<String>,
    /// Only these mailboxes [default: the account's `mailboxes`]
    #[arg(long, value_name = "NAME")]
    pub mailbox: Vec<String>,
    /// Backfill: also fetch messages since DATE (YYYY-MM-DD) that are older than the sync state
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Stay connected (IMAP IDLE) and emit records as mail arrives
    #[arg(long)]
    pub idle: bool,
    /// Parse at most this many bytes of a message; larger ones are stored whole and flagged `huge`
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_PARSE_BYTES)]
    pub max_parse_bytes: usize,
}

pub async fn run(args: FetchArgs, ctx: &mut Ctx) -> Result<Outcome> {
    let file_import = !args.mbox.is_empty() || !args.maildir.is_empty() || !args.eml.is_empty();
    if file_import {
        if args.idle || !args.account.is_empty() || args.since.is_some() {
            return Err(UsageError("--idle, --account and --since apply to IMAP, not to file imports".into()).into());
        }
        return import_files(&args, ctx);
    }
    let config = ctx.config()?;
    if !config.accounts.values().any(|a| a.imap.is_some()) {
        return Err(ConfigError::with_hint(
            "no IMAP account is configured",
            "add an [accounts.NAME] table with `imap = {...}` (see `mailroom init`), or import files with --mbox, --maildir or --eml",
        )
        .into());
    }
    Err(not_built("fetch (IMAP)"))
}

/// One source of messages to import.
enum Source {
    Mbox(PathBuf),
    Maildir(PathBuf),
    Eml(Vec<PathBuf>),
}

fn import_files(args: &FetchArgs, ctx: &mut Ctx) -> Result<Outcome> {
    let mut sources: Vec<Source> = Vec::new();
    sources.extend(args.mbox.iter().cloned().map(Source::Mbox));
    sources.extend(args.maildir.iter().cloned().map(Source::Maildir));
    if !args.eml.is_empty() {
        sources.push(Source::Eml(args.eml.clone()));
    }
    // Open the ledger first: a bad ledger path is a config error before any reading starts.
    ctx.ledger()?;
    let mut writer = RecordWriter::stdout(false);
    let progress = ctx.progress();
    let mut totals = crate::stages::ingest::IngestCounts::default();
    let mut read_errors = 0u64;
    for source in sources {
        let (mailbox, total, unit) = match &source {
            Source::Mbox(p) => (file_name(p), std::fs::metadata(p).ok().map(|m| m.len()), Unit::Bytes),
            Source::Maildir(p) => (file_name(p), None, Unit::Messages),
            Source::Eml(files) => ("eml".to_string(), Some(files.len() as u64), Unit::Messages),
        };
        progress.start(total, unit);
        progress.message(&mailbox);
        let origin = Origin {
            account: "files".into(),
            mailbox: mailbox.clone(),
            max_parse_bytes: args.max_parse_bytes,
            run_id: ctx.run_id(),
        };
        // Reading runs on one thread, parsing on one per core, and this thread writes the ledger.
        let raw_messages: Box<dyn Iterator<Item = (Result<RawMessage, ReadError>, u64)> + Send> = match source {
            Source::Mbox(p) => match MboxReader::open(&p) {
                Ok(mut reader) => Box::new(std::iter::from_fn(move || {
                    let item = reader.next()?;
                    Some((item, reader.bytes_read))
                })),
                Err(e) => {
                    ctx.error(format!("{}: cannot open: {e}", p.display()));
                    continue;
                }
            },
            Source::Maildir(p) => match MaildirReader::open(&p) {
                Ok(reader) => Box::new(reader.enumerate().map(|(i, item)| (item, i as u64 + 1))),
                Err(e) => {
                    ctx.error(format!("{}: {e}", p.display()));
                    continue;
                }
            },
            Source::Eml(files) => {
                Box::new(files.into_iter().enumerate().map(|(i, f)| (read_file(&f), i as u64 + 1)))
            }
        };
        let workers = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        let parsed = parse_in_order(raw_messages, &origin, workers);
        let ledger = ctx.ledger()?;
        let mut ingestor = Ingestor::new(origin);
        let mut closed = false;
        let mut errors: Vec<String> = Vec::new();
        for (item, position) in parsed {
            progress.set_position(position);
            match item {
                Ok((parsed, raw)) => {
                    if ingestor.add_parsed(parsed, raw, None) {
                        closed = emit(&mut writer, ingestor.flush(ledger)?)?;
                        if closed {
                            break;
                        }
                    }
                }
                Err(e) => errors.push(e.to_string()),
            }
        }
        if !closed && !ingestor.is_empty() {
            closed = emit(&mut writer, ingestor.flush(ledger)?)?;
        }
        progress.finish();
        totals.seen += ingestor.counts.seen;
        totals.new += ingestor.counts.new;
        totals.known += ingestor.counts.known;
        totals.bytes += ingestor.counts.bytes;
        read_errors += errors.len() as u64;
        for e in errors {
            ctx.error(e);
        }
        if closed {
            break;
        }
    }
    match writer.flush() {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(e.into()),
        _ => {}
    }
    ctx.count("seen", totals.seen);
    ctx.count("new", totals.new);
    ctx.count("known", totals.known);
    ctx.count("bytes", totals.bytes);
    ctx.count("unreadable", read_errors);
    if ctx.global.verbose > 0 || (!ctx.global.quiet && crate::output::stderr_is_tty()) {
        ctx.info(format!(
            "{} messages read, {} new, {} already in the ledger{}",
            totals.seen,
            totals.new,
            totals.known,
            if read_errors > 0 { format!(", {read_errors} unreadable") } else { String::new() }
        ));
    }
    Ok(ctx.outcome())
}

/// Writes the records of a committed batch and flushes them, so a process killed later cannot
/// take records it already stored with it in its stdout buffer; returns true when the reader
/// closed the pipe.
fn emit(writer: &mut RecordWriter, records: Vec<crate::record::Record>) -> Result<bool> {
    let written = records.iter().try_for_each(|r| writer.write(r)).and_then(|()| writer.flush());
    match written {
        Ok(()) => Ok(false),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(true),
        Err(e) => Err(e.into()),
    }
}

fn file_name(p: &std::path::Path) -> String {
    if p.as_os_str() == "-" {
        return "stdin".into();
    }
    p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| p.display().to_string())
}

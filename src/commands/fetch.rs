//! `mailroom fetch`: new messages from IMAP accounts, or from mbox / Maildir / .eml files.

use std::path::PathBuf;
use std::sync::mpsc::sync_channel;

use anyhow::{Context, Result};
use clap::Args;

use super::Ctx;
use crate::error::{ConfigError, Outcome, UsageError, not_built};
use crate::jsonl::RecordWriter;
use crate::mail::import::{MaildirReader, MboxReader, RawMessage, ReadError, read_file};
use crate::mail::parse::{DEFAULT_MAX_PARSE_BYTES, Parsed, parse_message};
use crate::stages::ingest::{Ingestor, Origin};
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
        let max_parse = args.max_parse_bytes;
        let run_id = ctx.run_id();
        let origin = Origin { account: "files".into(), mailbox: mailbox.clone(), max_parse_bytes: max_parse, run_id };
        // Reading and parsing run on a second thread while this one writes the ledger.
        let (tx, rx) = sync_channel::<(Result<(Parsed, Vec<u8>), ReadError>, u64)>(256);
        let account = origin.account.clone();
        let reader_thread = std::thread::spawn(move || -> Result<()> {
            let parse = |m: RawMessage| {
                let parsed = parse_message(&m.bytes, &account, &mailbox, max_parse);
                (parsed, m.bytes)
            };
            match source {
                Source::Mbox(p) => {
                    let mut reader = MboxReader::open(&p).with_context(|| format!("cannot open {}", p.display()))?;
                    while let Some(item) = reader.next() {
                        if tx.send((item.map(parse), reader.bytes_read)).is_err() {
                            break;
                        }
                    }
                }
                Source::Maildir(p) => {
                    let reader = MaildirReader::open(&p)?;
                    for (i, item) in reader.enumerate() {
                        if tx.send((item.map(parse), i as u64 + 1)).is_err() {
                            break;
                        }
                    }
                }
                Source::Eml(files) => {
                    for (i, f) in files.iter().enumerate() {
                        if tx.send((read_file(f).map(parse), i as u64 + 1)).is_err() {
                            break;
                        }
                    }
                }
            }
            Ok(())
        });
        let ledger = ctx.ledger()?;
        let mut ingestor = Ingestor::new(origin);
        let mut closed = false;
        let mut errors: Vec<String> = Vec::new();
        for (item, position) in rx.iter() {
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
        drop(rx);
        progress.finish();
        let thread_result = reader_thread.join().unwrap_or_else(|_| Err(anyhow::anyhow!("reader thread panicked")));
        totals.seen += ingestor.counts.seen;
        totals.new += ingestor.counts.new;
        totals.known += ingestor.counts.known;
        totals.bytes += ingestor.counts.bytes;
        read_errors += errors.len() as u64;
        for e in errors {
            ctx.error(e);
        }
        if let Err(e) = thread_result {
            ctx.error(format!("{e:#}"));
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

/// Writes records; returns true when the reader closed the pipe.
fn emit(writer: &mut RecordWriter, records: Vec<crate::record::Record>) -> Result<bool> {
    for r in &records {
        match writer.write(r) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(true),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(false)
}

fn file_name(p: &std::path::Path) -> String {
    if p.as_os_str() == "-" {
        return "stdin".into();
    }
    p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| p.display().to_string())
}

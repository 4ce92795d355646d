//! `mailroom fetch`: new messages from IMAP accounts, or from mbox / Maildir / .eml files.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use super::Ctx;
use crate::error::{ConfigError, Outcome, UsageError};
use crate::jsonl::RecordWriter;
use crate::mail::import::{MaildirReader, MboxReader, RawMessage, ReadError, read_file};
use crate::mail::parse::DEFAULT_MAX_PARSE_BYTES;
use crate::stages::fetch::{FetchOptions, Notice, Problem, Target, spawn_watchers, sync_once, targets};
use crate::stages::ingest::{Fresh, Ingestor, Origin, parse_in_order};
use crate::stages::progress::{Reporter, Unit};

const EXAMPLES: &str = "\
Examples:
  mailroom fetch | mailroom filter
  mailroom fetch --account support --mailbox INBOX --since 2026-01-01
  mailroom fetch --idle | mailroom filter | mailroom classify
  mailroom fetch --mbox examples/sample.mbox | mailroom filter
  mailroom fetch --maildir ~/Maildir/support --quiet > new.jsonl";

/// Fetch new messages, store them once in the ledger, and print one record per new message.
///
/// Without file options, reads the IMAP accounts of the config incrementally (UIDVALIDITY +
/// highest UID per mailbox, stored in the ledger with the messages). With --mbox, --maildir or
/// --eml, imports historical mail instead (account "files"). A message seen before is never
/// emitted twice, not even after the server changes a mailbox's UIDVALIDITY. Fetching uses
/// BODY.PEEK, so nothing is marked read unless --mark-seen is given.
///
/// A failing account (wrong password, server down) is reported on stderr with its name and
/// recorded as an `imap.*` event in the ledger; the other accounts are still fetched, and the
/// exit status is 1 at the end.
///
/// Messages larger than the account's `max_message_bytes` (default 50 MB) are stored with
/// their first `max_message_bytes` only and flagged `huge` and `truncated`.
#[derive(Debug, Args)]
#[command(after_long_help = EXAMPLES)]
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
    /// Backfill: also fetch messages since DATE (YYYY-MM-DD) that are older than the sync state.
    /// On a mailbox's first fetch, start at DATE instead of fetching the whole mailbox
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Stay connected (IMAP IDLE) and emit each record as mail arrives, flushed at once;
    /// reconnects with backoff after a drop; SIGTERM or Ctrl-C ends it cleanly (exit 0)
    #[arg(long)]
    pub idle: bool,
    /// With --idle: re-issue IDLE after SECS without news. Servers log idle clients out after
    /// 30 minutes; lower it where a NAT router or firewall drops quiet connections sooner
    #[arg(long, value_name = "SECS", default_value_t = 25 * 60, value_parser = clap::value_parser!(u64).range(1..=29 * 60))]
    pub idle_renew: u64,
    /// Mark fetched messages as read on the server (\Seen); by default nothing is changed there
    #[arg(long)]
    pub mark_seen: bool,
    /// Parse at most this many bytes of a message; larger ones are stored whole and flagged `huge`
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_PARSE_BYTES)]
    pub max_parse_bytes: usize,
}

pub async fn run(args: FetchArgs, ctx: &mut Ctx) -> Result<Outcome> {
    let file_import = !args.mbox.is_empty() || !args.maildir.is_empty() || !args.eml.is_empty();
    if file_import {
        if args.idle || !args.account.is_empty() || !args.mailbox.is_empty() || args.since.is_some() || args.mark_seen {
            return Err(UsageError(
                "--idle, --account, --mailbox, --since and --mark-seen apply to IMAP, not to file imports".into(),
            )
            .into());
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
    fetch_imap(&args, ctx).await
}

async fn fetch_imap(args: &FetchArgs, ctx: &mut Ctx) -> Result<Outcome> {
    let since = args
        .since
        .as_deref()
        .map(|s| {
            chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map_err(|_| UsageError(format!("--since {s:?}: expected a date like 2026-01-31")))
        })
        .transpose()?;
    let targets = targets(ctx.config()?, &args.account, &args.mailbox)?;
    ctx.ledger()?;
    let opts = FetchOptions {
        since,
        max_parse_bytes: args.max_parse_bytes,
        mark_seen: args.mark_seen,
        run_id: ctx.run_id(),
        idle_renew: std::time::Duration::from_secs(args.idle_renew),
        case_rules: crate::stages::cases::Rules::from_config(ctx.config()?),
        ..FetchOptions::default()
    };
    if args.idle {
        return idle(ctx, &targets, &opts).await;
    }
    let quiet = ctx.global.quiet;
    let progress = ctx.progress();
    let mut writer = RecordWriter::stdout(false);
    let mut write_error: Option<std::io::Error> = None;
    let mut on = |n: Notice| match n {
        Notice::Records(records) => match emit(&mut writer, records).and_then(|closed| Ok((closed, writer.flush()?))) {
            Ok((closed, ())) => !closed,
            Err(e) if crate::error::is_broken_pipe(&e) => false,
            Err(e) => {
                write_error = Some(std::io::Error::other(format!("{e:#}")));
                false
            }
        },
        Notice::Problem(p) => {
            print_problem(&p);
            true
        }
        Notice::Info(text) => {
            if !quiet {
                eprintln!("mailroom fetch: {text}");
            }
            true
        }
    };
    let report = sync_once(ctx.ledger()?, &targets, &opts, &progress, &mut on).await?;
    if let Some(e) = write_error {
        return Err(anyhow::Error::new(e).context("writing records to stdout"));
    }
    if report.failed() {
        ctx.mark_failed();
    }
    ctx.count("seen", report.seen);
    ctx.count("new", report.new);
    ctx.count("known", report.known);
    ctx.count("bytes", report.bytes);
    ctx.count("mailboxes_ok", report.mailboxes_ok);
    ctx.count("mailboxes_failed", report.mailboxes_failed);
    if ctx.global.verbose > 0 || (!quiet && crate::output::stderr_is_tty()) {
        ctx.info(format!(
            "{} new messages ({} fetched, {} already in the ledger) from {} mailboxes{}",
            report.new,
            report.seen,
            report.known,
            report.mailboxes_ok,
            if report.failed_accounts.is_empty() {
                String::new()
            } else {
                format!("; failed: {}", report.failed_accounts.join(", "))
            }
        ));
    }
    Ok(ctx.outcome())
}

/// `--idle`: one watcher per account and mailbox; records are printed and flushed as they come.
async fn idle(ctx: &mut Ctx, targets: &[Target], opts: &FetchOptions) -> Result<Outcome> {
    use tokio::signal::unix::{SignalKind, signal};
    let quiet = ctx.global.quiet;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let mut watchers = spawn_watchers(&ctx.ledger_path(), targets, opts, tx, stopped);
    let mut writer = RecordWriter::stdout(true);
    let mut totals = IdleTotals::default();
    let mut fatal: Option<anyhow::Error> = None;
    loop {
        tokio::select! {
            n = rx.recv() => match n {
                Some(n) => if !totals.handle(n, &mut writer, quiet)? { break },
                None => break,
            },
            Some(done) = watchers.join_next() => match done {
                Ok(Ok(())) => {}
                Ok(Err(e)) => { fatal = Some(e); break }
                Err(e) => { fatal = Some(anyhow::anyhow!("a fetch watcher crashed: {e}")); break }
            },
            _ = term.recv() => break,
            _ = int.recv() => break,
        }
    }
    // Watchers finish their current transaction and log out; records already committed
    // are still printed.
    let _ = stop.send(true);
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        while let Some(done) = watchers.join_next().await {
            if let Ok(Err(e)) = done {
                fatal.get_or_insert(e);
            }
        }
    })
    .await;
    watchers.abort_all();
    while let Ok(n) = rx.try_recv() {
        if !totals.handle(n, &mut writer, quiet)? {
            break;
        }
    }
    match writer.flush() {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(e.into()),
        _ => {}
    }
    ctx.count("new", totals.new);
    ctx.count("problems", totals.problems);
    match fatal {
        Some(e) => Err(e),
        // Connection problems were reported as they happened; a clean stop is a success.
        None => Ok(Outcome::Success),
    }
}

#[derive(Default)]
struct IdleTotals {
    new: u64,
    problems: u64,
}

impl IdleTotals {
    /// Handles one notice; false when stdout is closed.
    fn handle(&mut self, n: Notice, writer: &mut RecordWriter, quiet: bool) -> Result<bool> {
        match n {
            Notice::Records(records) => {
                self.new += records.len() as u64;
                Ok(!emit(writer, records)?)
            }
            Notice::Problem(p) => {
                self.problems += 1;
                print_problem(&p);
                Ok(true)
            }
            Notice::Info(text) => {
                if !quiet {
                    eprintln!("mailroom fetch: {text}");
                }
                Ok(true)
            }
        }
    }
}

/// An account's failure on stderr: what, where, and what to do.
fn print_problem(p: &Problem) {
    eprintln!("mailroom fetch: error: {p}");
    if let Some(hint) = &p.hint {
        eprintln!("hint: {hint}");
    }
}

/// One source of messages to import.
enum Source {
    Mbox(PathBuf),
    Maildir(PathBuf),
    Eml(Vec<PathBuf>),
}

/// Files to import, as given on the command line.
pub struct FileSources<'a> {
    pub mbox: &'a [PathBuf],
    pub maildir: &'a [PathBuf],
    pub eml: &'a [PathBuf],
}

fn import_files(args: &FetchArgs, ctx: &mut Ctx) -> Result<Outcome> {
    let sources = FileSources { mbox: &args.mbox, maildir: &args.maildir, eml: &args.eml };
    let mut writer = RecordWriter::stdout(false);
    let mut write_error = None;
    import_files_with(ctx, &sources, args.max_parse_bytes, &mut |fresh| match writer.write_json(&fresh.json) {
        Ok(()) => true,
        Err(e) => {
            if e.kind() != std::io::ErrorKind::BrokenPipe {
                write_error = Some(e);
            }
            false
        }
    })?;
    if let Some(e) = write_error {
        return Err(e.into());
    }
    match writer.flush() {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(e.into()),
        _ => {}
    }
    Ok(ctx.outcome())
}

/// Imports files into the ledger and hands each new record to `emit` once it is committed;
/// `emit` returning false (a closed pipe) stops the import. Counts go into the run row.
pub fn import_files_with(
    ctx: &mut Ctx,
    files: &FileSources<'_>,
    max_parse_bytes: usize,
    emit: &mut dyn FnMut(Fresh) -> bool,
) -> Result<()> {
    let mut sources: Vec<Source> = Vec::new();
    sources.extend(files.mbox.iter().cloned().map(Source::Mbox));
    sources.extend(files.maildir.iter().cloned().map(Source::Maildir));
    if !files.eml.is_empty() {
        sources.push(Source::Eml(files.eml.to_vec()));
    }
    // Open the ledger first: a bad ledger path is a config error before any reading starts.
    ctx.ledger()?;
    let case_rules = crate::stages::cases::Rules::from_config(ctx.config()?);
    let progress = ctx.progress();
    let mut totals = crate::stages::ingest::IngestCounts::default();
    let mut read_errors = 0u64;
    for source in sources {
        let (mailbox, total, unit) = match &source {
            Source::Mbox(p) => (file_name(p), std::fs::metadata(p).ok().map(|m| m.len()), Unit::Bytes),
            Source::Maildir(p) => (file_name(p), None, Unit::Messages),
            Source::Eml(files) => ("eml".to_string(), Some(files.len() as u64), Unit::Messages),
        };
        // Anything but regular files (stdin, a FIFO, `<(zcat …)`) can stall between messages.
        let may_stall = match &source {
            Source::Mbox(p) => !is_regular_file(p),
            Source::Maildir(_) => false,
            Source::Eml(files) => !files.iter().all(|f| is_regular_file(f)),
        };
        progress.start(total, unit);
        progress.message(&mailbox);
        let origin = Origin {
            account: "files".into(),
            mailbox: mailbox.clone(),
            max_parse_bytes,
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
        let mut ledger = ctx.ledger()?.checkpoint_in_background()?;
        let mut ingestor = Ingestor::new(origin).with_case_rules(case_rules.clone());
        let mut errors: Vec<String> = Vec::new();
        let mut messages = parsed.filter_map(|(item, position)| {
            progress.set_position(position);
            item.map_err(|e| errors.push(e.to_string())).ok()
        });
        let closed = ingestor.store_all(&mut ledger, &mut messages, may_stall, emit)?;
        drop(messages);
        drop(ledger);
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
    Ok(())
}

/// Writes the records of a committed batch and flushes them, so a process killed later cannot
/// take records it already stored with it in its stdout buffer; returns true when the reader
/// closed the pipe.
fn emit(writer: &mut RecordWriter, records: Vec<Fresh>) -> Result<bool> {
    let written = records.iter().try_for_each(|r| writer.write_json(&r.json)).and_then(|()| writer.flush());
    match written {
        Ok(()) => Ok(false),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(true),
        Err(e) => Err(e.into()),
    }
}

fn is_regular_file(p: &std::path::Path) -> bool {
    p.as_os_str() != "-" && std::fs::metadata(p).is_ok_and(|m| m.is_file())
}

fn file_name(p: &std::path::Path) -> String {
    if p.as_os_str() == "-" {
        return "stdin".into();
    }
    p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| p.display().to_string())
}

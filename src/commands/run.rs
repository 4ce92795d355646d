//! `mailroom run`: the whole chain in one process.
//!
//! fetch → filter → classify (embedded) → draft → notify, with the same ledger writes as the
//! separate commands, so `run` and a pipe of commands leave the same ledger. Records are
//! filtered and classified one after the other; their drafts are made on the drafting threads
//! of `draft -j` (order lookups and model calls overlap the next records), then stored,
//! notified and written in fetch order. Per-stage counts go into the run row.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Result;
use clap::Args;
use tokio::sync::{mpsc, watch};

use super::Ctx;
use super::stream::{BATCH, PendingBatch};
use crate::config::Config;
use crate::error::{ConfigError, Outcome};
use crate::jsonl::RecordWriter;
use crate::record::{Record, Verdict};
use crate::stages::classify::{Engine, Scratch, store_triage};
use crate::stages::draft::checklist::CaseContext;
use crate::stages::draft::pool::{DraftPool, Finished};
use crate::stages::draft::store::{Stored, store as store_draft};
use crate::stages::fetch::{FetchOptions, Notice, sync_once, spawn_watchers, targets};
use crate::stages::filter::{FilterContext, SpamModel, filter_record, load_model};
use crate::stages::ingest::Fresh;
use crate::stages::lock::LedgerLock;
use crate::stages::notify::{Notifier, check_config, resolve_route};
use crate::stages::progress::Silent;

const EXAMPLES: &str = "\
Examples:
  mailroom --config examples/config.toml run --mbox examples/sample.mbox   # the sample inbox, offline
  mailroom run                      # one pass over every IMAP account (the triage timer)
  mailroom run --idle               # stay connected and triage mail as it arrives
  mailroom run --no-notify | jq -c '{subject, category: .triage.category, missing: .draft.missing_info}'";

/// Fetch new mail, filter it, classify it, draft replies and notify the team, in one
/// process. Prints the records that passed the filter, with their triage and draft.
///
/// Messages an earlier run stored but did not take through the chain (it was killed, an error
/// or a closed pipe stopped it, a draft failed) go first, once.
#[derive(Debug, Args)]
#[command(after_long_help = EXAMPLES)]
pub struct RunArgs {
    /// Stay connected and process mail as it arrives (IMAP IDLE); stops cleanly on SIGTERM
    #[arg(long)]
    pub idle: bool,
    /// Read an mbox file instead of IMAP (repeatable)
    #[arg(long, value_name = "FILE")]
    pub mbox: Vec<PathBuf>,
    /// Read a Maildir folder instead of IMAP (repeatable)
    #[arg(long, value_name = "DIR")]
    pub maildir: Vec<PathBuf>,
    /// Read .eml files instead of IMAP
    #[arg(long, value_name = "FILE", num_args = 1..)]
    pub eml: Vec<PathBuf>,
    /// Only these configured accounts [default: all with IMAP]
    #[arg(long, value_name = "NAME")]
    pub account: Vec<String>,
    /// Do not post to the webhooks (also the default when none are configured)
    #[arg(long)]
    pub no_notify: bool,
    /// Messages drafted at once, so that order lookups and model calls overlap; the output
    /// keeps the fetch order [default: `[model] jobs`, else 4]
    #[arg(short = 'j', long, value_name = "N")]
    pub jobs: Option<usize>,
}

/// Per-stage tallies, stored in the run row.
#[derive(Debug, Default)]
struct Tally {
    fetched: u64,
    /// Left behind by an earlier run and taken through the chain by this one.
    resumed: u64,
    passed: u64,
    dropped: u64,
    classified: u64,
    drafted: u64,
    notified: u64,
    failed: u64,
    /// Of `failed`: the drafter itself gave no draft (not counted apart in the run row).
    draft_failed: u64,
}

/// The stages after fetch, built once per run.
struct Chain {
    config: Config,
    spam: SpamModel,
    spam_name: String,
    engine: Engine,
    scratch: Scratch,
    /// Drafts on threads of their own; each record's id goes along for its error messages.
    drafts: DraftPool<String>,
    /// The last record handed over is in no case: its stored draft may put it in one, which
    /// the next record's context may read (see `pool`), so the pool is emptied first.
    drain_first: bool,
    /// Results of up to `BATCH` records share one transaction: a commit per filter verdict,
    /// triage and draft wrote 5.5 GB of WAL for a 20,000-message `run` (a 267 MB ledger). The
    /// records are notified and written once it commits, and it is committed before the
    /// drafting threads are waited on, so the ledger is never locked during a model call.
    batch: PendingBatch,
    notifier: Option<Notifier>,
}

/// What filter and classify made of a record.
#[expect(clippy::large_enum_variant, reason = "one at a time, moved on at once")]
enum Prepared {
    /// Kept back by the filter: no output.
    Dropped,
    /// Goes out without a draft (the team's own reply).
    Undrafted(Record),
    /// To be drafted in this case context.
    ToDraft(Record, CaseContext),
}

impl Chain {
    fn build(args: &RunArgs, ctx: &mut Ctx) -> Result<Chain> {
        let config = ctx.config()?.clone();
        let (spam, spam_name) = load_model(&config, &ctx.ledger_path())?;
        let engine = super::classify::engine(ctx)?;
        let drafter = super::draft::drafter_from_config(ctx)?;
        let drafts = DraftPool::new(Arc::new(drafter), super::draft::jobs(args.jobs, ctx)?)?;
        let notifier = if args.no_notify || config.notify.webhooks.is_empty() {
            None
        } else {
            check_config(&config.notify.webhooks)?;
            let mut routes = Vec::new();
            for w in &config.notify.webhooks {
                match resolve_route(w) {
                    Ok(r) => routes.push(r),
                    Err(e) => ctx.error(format!("{e:#}; skipping this webhook")),
                }
            }
            Some(Notifier::new(&config, ctx.ledger()?, routes)?)
        };
        Ok(Chain { config, spam, spam_name, engine, scratch: Scratch::default(), drafts, drain_first: false, batch: PendingBatch::default(), notifier })
    }

    /// Filter and classify: what the drafting threads then need.
    fn prepare(&mut self, ctx: &mut Ctx, mut record: Record, tally: &mut Tally) -> Result<Prepared> {
        let run_id = ctx.run_id();
        let ledger = ctx.ledger()?;
        let fctx = FilterContext::new(&self.config, &self.spam);
        let judged = filter_record(ledger, &record, &fctx, &self.spam_name, run_id)?;
        let pass = judged.result.verdict == Verdict::Pass;
        record.filter = Some(judged.result);
        if !pass {
            tally.dropped += 1;
            return Ok(Prepared::Dropped);
        }
        tally.passed += 1;
        let (engine, scratch) = (&self.engine, &mut self.scratch);
        let triage = ledger.write(|tx| {
            let rules = engine.context(&record, Some(tx))?;
            let triage = engine.classify_embedded(&record, &rules, scratch);
            store_triage(tx, &record, &triage, run_id)?;
            Ok(triage)
        })?;
        record.triage = Some(triage);
        tally.classified += 1;
        // The team's own replies (a Sent folder imported from files) get no draft.
        Ok(match crate::stages::cases::draft_context(ledger.conn(), &record.id)? {
            Some(case) => Prepared::ToDraft(record, case),
            None => Prepared::Undrafted(record),
        })
    }

    fn batch_is_due(&self) -> bool {
        // With webhooks, a record is notified right after its own commit, as before batches:
        // a kill between a commit and its notifications then misses one record's, not 256.
        self.batch.is_due(if self.notifier.is_some() { 1 } else { BATCH })
    }

    /// Stores a record's draft in the batch; the record goes out when the batch commits.
    /// Errors are the record's own (reported, counted).
    fn store(&mut self, ctx: &mut Ctx, done: Finished<String>, tally: &mut Tally) -> Result<()> {
        let Finished { meta: id, record, drafted } = done;
        let Some(mut record) = record else {
            tally.failed += 1;
            ctx.error(format!("message {id}: the drafting thread stopped without an answer"));
            return Ok(());
        };
        if let Some(drafted) = drafted {
            self.batch.store_in(ctx.ledger()?)?;
            let run_id = ctx.run_id();
            let drafter_failed = drafted.is_err();
            let stored = drafted.and_then(|drafted| {
                let stored = store_draft(ctx.ledger()?, &record, &drafted, run_id)?;
                Ok((drafted, stored))
            });
            match stored {
                Ok((drafted, Stored::New { .. })) => {
                    tally.drafted += 1;
                    record.draft = Some(drafted.draft);
                }
                Ok((drafted, Stored::Unchanged)) => record.draft = Some(drafted.draft),
                Ok((_, Stored::Kept(existing, _))) => record.draft = Some(*existing),
                Err(e) => {
                    tally.failed += 1;
                    tally.draft_failed += u64::from(drafter_failed);
                    // The message is safe in the ledger; a later `export --id` can take it through again.
                    ctx.error(format!("message {id}: {e:#}"));
                    return Ok(());
                }
            }
        }
        self.batch.push(record);
        Ok(())
    }

    /// Commits the batch, then notifies the team of its records and writes them, in order.
    /// Returns false when stdout was closed.
    async fn publish(&mut self, ctx: &mut Ctx, writer: &mut RecordWriter, tally: &mut Tally) -> Result<bool> {
        let waiting = self.batch.waiting() as u64;
        let done = self.batch.commit(ctx.ledger()?).inspect_err(|_| tally.failed += waiting)?;
        let mut open = true;
        for record in &done {
            self.notify(ctx, record, tally).await?;
            if open {
                match writer.write(record) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => open = false,
                    Err(e) => return Err(e.into()),
                }
            }
        }
        match writer.flush() {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(false),
            Err(e) => Err(e.into()),
            Ok(()) => Ok(open),
        }
    }

    /// Posts `record` to the team's webhooks (none with --no-notify).
    async fn notify(&self, ctx: &mut Ctx, record: &Record, tally: &mut Tally) -> Result<()> {
        let Some(notifier) = &self.notifier else { return Ok(()) };
        let run_id = ctx.run_id();
        match notifier.notify(ctx.ledger()?, record, false, run_id).await {
            Ok(reports) => {
                for r in reports {
                    match r.outcome {
                        Some(o) if o.ok => tally.notified += 1,
                        Some(o) => ctx.error(format!(
                            "message {}: webhook \"{}\": {}",
                            record.id,
                            r.webhook,
                            o.error.as_deref().unwrap_or("failed")
                        )),
                        None => {}
                    }
                }
            }
            Err(e) => ctx.error(format!("message {}: notify: {e:#}", record.id)),
        }
        Ok(())
    }
}

pub async fn run(args: RunArgs, ctx: &mut Ctx) -> Result<Outcome> {
    let files = !args.mbox.is_empty() || !args.maildir.is_empty() || !args.eml.is_empty();
    if files && (args.idle || !args.account.is_empty()) {
        return Err(crate::error::UsageError("--idle and --account apply to IMAP, not to file imports".into()).into());
    }
    ctx.ledger()?;
    let mut chain = Chain::build(&args, ctx)?;
    let mut writer = RecordWriter::stdout(args.idle);
    let mut tally = Tally::default();
    // One run at a time takes earlier runs' leftovers through: two starting together would
    // draft and print them twice. The other leaves them to it.
    if let Some(_taking) = LedgerLock::try_acquire(&ctx.ledger_path(), "leftovers")? {
        let (checked, left) = left_by_earlier_runs(ctx)?;
        if !left.is_empty() {
            ctx.info(format!(
                "{} messages an earlier run stored but did not take through (killed, stopped or failed) go through the chain first",
                left.len()
            ));
            tally.resumed = left.len() as u64;
        }
        let failed_before = tally.failed - tally.draft_failed;
        let all_taken = process_all(ctx, &mut chain, left, &mut writer, &mut tally).await?;
        // Checked once, when all were taken through and only drafts failed (a model that
        // cannot answer that message): it then waits for `export --id` and `draft` rather
        // than being retried by every run. A ledger error leaves the check to the next run.
        if all_taken
            && tally.failed - tally.draft_failed == failed_before
            && let Some(run_id) = ctx.run_id()
        {
            ctx.ledger()?.mark_checked(&checked, run_id)?;
        }
    }
    if files {
        let mut fresh = Vec::new();
        let sources = super::fetch::FileSources { mbox: &args.mbox, maildir: &args.maildir, eml: &args.eml };
        super::fetch::import_files_with(ctx, &sources, crate::mail::parse::DEFAULT_MAX_PARSE_BYTES, &mut |r| {
            fresh.push(r.id);
            true
        })?;
        tally.fetched = fresh.len() as u64;
        process_all(ctx, &mut chain, fresh, &mut writer, &mut tally).await?;
    } else if args.idle {
        run_idle(&args, ctx, &mut chain, &mut writer, &mut tally).await?;
    } else {
        let config = ctx.config()?.clone();
        let targets = imap_targets(&config, &args)?;
        let opts = FetchOptions {
            run_id: ctx.run_id(),
            case_rules: crate::stages::cases::Rules::from_config(ctx.config()?),
            ..FetchOptions::default()
        };
        let mut fresh = Vec::new();
        let mut problems = Vec::new();
        sync_once(ctx.ledger()?, &targets, &opts, &Silent, &mut |n| {
            match n {
                Notice::Records(rs) => fresh.extend(rs.into_iter().map(|r| r.id)),
                Notice::Problem(p) => problems.push(p.to_string()),
                Notice::Info(_) => {}
            }
            true
        })
        .await?;
        for p in problems {
            ctx.error(p);
        }
        tally.fetched = fresh.len() as u64;
        process_all(ctx, &mut chain, fresh, &mut writer, &mut tally).await?;
    }
    finish(ctx, &tally);
    Ok(ctx.outcome())
}

/// Messages an earlier `run` stored but did not take through the chain (it was killed, an
/// error or a closed pipe stopped it, a draft failed), and the runs they came from. Nothing
/// else would take them through: fetch never brings a stored message again. A run still
/// working on its messages is left alone.
fn left_by_earlier_runs(ctx: &mut Ctx) -> Result<(Vec<i64>, Vec<String>)> {
    let current = ctx.run_id();
    let ledger = ctx.ledger()?;
    let runs = ledger.runs_to_check("run", current)?;
    let mut ids = Vec::new();
    for run in &runs {
        ids.extend(ledger.unfinished_of_run(*run)?);
    }
    Ok((runs, ids))
}

fn imap_targets(config: &Config, args: &RunArgs) -> Result<Vec<crate::stages::fetch::Target>> {
    let targets = targets(config, &args.account, &[])?;
    if targets.is_empty() {
        return Err(ConfigError::with_hint(
            "no IMAP account is configured",
            "add an [accounts.NAME] table with `imap = {...}`, or run on files with --mbox, --maildir or --eml",
        )
        .into());
    }
    Ok(targets)
}

/// Takes `ids` through the chain; returns false when a closed stdout stopped it before the end.
async fn process_all(
    ctx: &mut Ctx,
    chain: &mut Chain,
    ids: Vec<String>,
    writer: &mut RecordWriter,
    tally: &mut Tally,
) -> Result<bool> {
    let taken = take_through(ctx, chain, ids, writer, tally).await;
    // Even when stdout was closed or an error stopped the loop, what the drafting threads hold
    // is stored (those records were filtered and classified already), unless storing fails.
    let drained = drain(ctx, chain, writer, tally).await;
    taken.and_then(|all| drained.map(|_| all))
}

async fn take_through(
    ctx: &mut Ctx,
    chain: &mut Chain,
    ids: Vec<String>,
    writer: &mut RecordWriter,
    tally: &mut Tally,
) -> Result<bool> {
    // Records are read back from the ledger one at a time: holding every record of a big
    // import in memory would make memory grow with the mailbox (100k messages took 660 MB).
    for id in ids {
        let record = match ctx.ledger()?.base_record(&id) {
            Ok(Some(record)) => record,
            Ok(None) => continue,
            Err(e) => {
                tally.failed += 1;
                ctx.error(format!("message {id}: {e:#}"));
                continue;
            }
        };
        if !process_one(ctx, chain, record, writer, tally).await? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// `take_through` for records a watcher just stored. Returns false when stdout was closed.
async fn take_fresh(
    ctx: &mut Ctx,
    chain: &mut Chain,
    fresh: Vec<Fresh>,
    writer: &mut RecordWriter,
    tally: &mut Tally,
) -> Result<bool> {
    let mut open = true;
    for r in fresh {
        tally.fetched += 1;
        match r.record() {
            Ok(record) => open &= process_one(ctx, chain, record, writer, tally).await?,
            Err(e) => {
                tally.failed += 1;
                ctx.error(format!("message {}: {e:#}", r.id));
            }
        }
    }
    Ok(open)
}

/// Takes `record` through filter and classify and hands it to the drafting threads, then
/// stores what is drafted and writes what is committed, in order. Returns false when stdout
/// was closed (the record is taken through all the same).
async fn process_one(
    ctx: &mut Ctx,
    chain: &mut Chain,
    record: Record,
    writer: &mut RecordWriter,
    tally: &mut Tally,
) -> Result<bool> {
    let mut open = true;
    if chain.drain_first {
        chain.drain_first = false;
        open &= drain(ctx, chain, writer, tally).await?;
    }
    chain.batch.store_in(ctx.ledger()?)?;
    let id = record.id.clone();
    match chain.prepare(ctx, record, tally) {
        Ok(Prepared::Dropped) => {}
        Ok(Prepared::Undrafted(record)) => chain.drafts.pass(id, record),
        Ok(Prepared::ToDraft(record, case)) => {
            chain.drain_first = case.case.is_none();
            chain.drafts.draft(id, record, case);
        }
        Err(e) => {
            tally.failed += 1;
            // The message is safe in the ledger; a later `export --id` can take it through again.
            ctx.error(format!("message {id}: {e:#}"));
        }
    }
    while let Some(done) = chain.drafts.ready_next() {
        chain.store(ctx, done, tally)?;
    }
    if chain.drafts.is_full() {
        // Never wait for a draft with the ledger locked.
        open &= chain.publish(ctx, writer, tally).await?;
        while chain.drafts.is_full() {
            let done = chain.drafts.wait_next().expect("a full pool has records");
            chain.store(ctx, done, tally)?;
        }
    }
    if chain.batch_is_due() {
        open &= chain.publish(ctx, writer, tally).await?;
    }
    Ok(open)
}

/// Stores and writes every record still with the drafting threads, and whatever the open
/// batch holds. Returns false when stdout was closed.
async fn drain(ctx: &mut Ctx, chain: &mut Chain, writer: &mut RecordWriter, tally: &mut Tally) -> Result<bool> {
    let mut open = chain.publish(ctx, writer, tally).await?;
    while let Some(done) = chain.drafts.wait_next() {
        chain.store(ctx, done, tally)?;
        // A draft at a time: the next wait must not hold the ledger.
        open &= chain.publish(ctx, writer, tally).await?;
    }
    Ok(open)
}

async fn run_idle(
    args: &RunArgs,
    ctx: &mut Ctx,
    chain: &mut Chain,
    writer: &mut RecordWriter,
    tally: &mut Tally,
) -> Result<()> {
    let config = ctx.config()?.clone();
    let targets = imap_targets(&config, args)?;
    let opts = FetchOptions {
        run_id: ctx.run_id(),
        case_rules: crate::stages::cases::Rules::from_config(ctx.config()?),
        ..FetchOptions::default()
    };
    let (tx, mut rx) = mpsc::unbounded_channel::<Notice>();
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut watchers = spawn_watchers(&ctx.ledger_path(), &targets, &opts, tx, stop_rx);
    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    loop {
        tokio::select! {
            notice = rx.recv() => match notice {
                Some(Notice::Records(rs)) => {
                    let taken = take_fresh(ctx, chain, rs, writer, tally).await;
                    // What arrived goes out now, not when the next mail comes (and is stored
                    // even when an error stopped the loop).
                    let drained = drain(ctx, chain, writer, tally).await;
                    if !(taken? & drained?) {
                        let _ = stop_tx.send(true);
                    }
                }
                Some(Notice::Problem(p)) => ctx.error(p),
                Some(Notice::Info(i)) => ctx.info(i),
                None => break,
            },
            _ = tokio::signal::ctrl_c() => { let _ = stop_tx.send(true); break; }
            _ = sigterm.recv() => { let _ = stop_tx.send(true); break; }
        }
    }
    while let Some(joined) = watchers.join_next().await {
        if let Ok(Err(e)) = joined {
            ctx.error(format!("{e:#}"));
        }
    }
    Ok(())
}

fn finish(ctx: &mut Ctx, t: &Tally) {
    for (k, v) in [
        ("fetched", t.fetched),
        ("resumed", t.resumed),
        ("passed", t.passed),
        ("dropped", t.dropped),
        ("classified", t.classified),
        ("drafted", t.drafted),
        ("notified", t.notified),
        ("failed", t.failed),
    ] {
        ctx.count(k, v);
    }
    ctx.info(format!(
        "{} new, {} passed the filter ({} kept back), {} classified, {} drafted, {} notified{}",
        t.fetched,
        t.passed,
        t.dropped,
        t.classified,
        t.drafted,
        t.notified,
        if t.failed > 0 { format!(", {} failed", t.failed) } else { String::new() }
    ));
}

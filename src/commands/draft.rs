//! `mailroom draft`: English reply drafts with a missing-information checklist.

use std::path::PathBuf;
use std::sync::{Arc, mpsc};
use std::time::Duration;

use anyhow::{Result, bail};
use clap::{Args, ValueEnum};

use super::Ctx;
use super::stream::{BATCH, PendingBatch, Stop, StreamStats, printable_id, read_in_background, warn_if_terminal};
use crate::error::{ConfigError, Outcome, UsageError};
use crate::jsonl::{BadLine, Item, LinePos, RecordReader, RecordWriter};
use crate::record::{Record, Verdict};
use crate::stages::cases;
use crate::stages::draft::knowledge::Knowledge;
use crate::stages::draft::lookup::OrderLookup;
use crate::stages::draft::pool::{DraftPool, Finished, MAX_WIDTH};
use crate::stages::draft::store::{Stored, store};
use crate::stages::draft::templates::Templates;
use crate::stages::draft::{Backend, Drafted, Drafter, Settings};

/// Add a `draft` to each classified record: an English reply, the missing-information
/// checklist, a risk level, and the knowledge sources it is grounded in.
///
/// Each draft is stored in the ledger as `pending` for review. Rerunning draft on the same
/// records stores nothing new; a changed draft replaces a pending one nobody has touched,
/// and never one a human already approved, edited, sent or handled.
///
/// Records whose filter verdict is not `pass`, and the team's own replies (read from the Sent
/// folder), are passed through without a draft. Records
/// without `triage` are drafted as `other`, high risk, with review required.
///
/// Examples:
///   mailroom fetch --mbox examples/sample.mbox | mailroom filter | mailroom classify | mailroom draft
///   mailroom export --category shipping | mailroom draft --knowledge ./knowledge | jq .draft.body
///   mailroom draft --backend template classified.jsonl > drafted.jsonl
///   mailroom draft --backend model -j 16 classified.jsonl > drafted.jsonl   # 16 model calls at once
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct DraftArgs {
    /// JSONL files to read [default: stdin]
    pub inputs: Vec<PathBuf>,
    /// Where the answer comes from: knowledge excerpts in templates (no network), or the
    /// [model] endpoint (answers only from the knowledge passages) [default: [draft] backend]
    #[arg(long, value_enum, value_name = "BACKEND")]
    pub backend: Option<BackendArg>,
    /// Folder of Markdown policies and FAQ to ground drafts in, e.g. `--knowledge examples/knowledge`
    /// [default: [draft] knowledge_dir]
    #[arg(long, value_name = "DIR")]
    pub knowledge: Option<PathBuf>,
    /// Folder of `<category>.txt.j2` templates replacing the built-in ones [default: [draft] templates_dir]
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
    /// Do not run the order-lookup hook (drafts then carry no order facts)
    #[arg(long)]
    pub no_lookup: bool,
    /// Messages drafted at once, so that order lookups and model calls overlap; the output
    /// keeps the input order [default: `[model] jobs`, else 4]
    #[arg(short = 'j', long, value_name = "N")]
    pub jobs: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BackendArg {
    Template,
    Model,
}

#[derive(Debug, Default)]
struct Tally {
    drafted: u64,
    high_risk: u64,
    review_required: u64,
    unchanged: u64,
    kept: u64,
    superseded: u64,
    not_passing: u64,
    own_mail: u64,
    untriaged: u64,
}

pub async fn run(args: DraftArgs, ctx: &mut Ctx) -> Result<Outcome> {
    let drafter = build_drafter(&args, ctx)?;
    let width = jobs(args.jobs, ctx)?;
    ctx.ledger()?;
    let mut drafting = Drafting {
        pool: DraftPool::new(Arc::new(drafter), width)?,
        drain_first: false,
        batch: PendingBatch::default(),
        writer: RecordWriter::stdout(false),
        tally: Tally::default(),
        stats: StreamStats::default(),
    };
    warn_if_terminal(ctx, &RecordReader::new(&args.inputs));
    let (lines, input) = mpsc::sync_channel(READ_AHEAD);
    read_in_background(&args.inputs, move |item| lines.send(item).is_ok());
    let stopped = drafting.all(ctx, &input);
    // Whatever stopped the loop, the drafts made before it are stored, their records written
    // and counted.
    let published = drafting.publish(ctx);
    let flushed = drafting.writer.flush();
    report(ctx, &drafting.tally, &drafting.stats);
    if let Err(e) = flushed
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        return Err(e.into());
    }
    let stopped = stopped?;
    published?;
    match stopped {
        Some(Stop::Strict(pos)) => bail!("stopped at {pos} (--strict)"),
        Some(Stop::Closed) | None => Ok(ctx.outcome()),
    }
}

/// How many messages are drafted at once: `-j`, else `[model] jobs`, else 4.
pub(crate) fn jobs(flag: Option<usize>, ctx: &mut Ctx) -> Result<usize> {
    let jobs = flag.unwrap_or(ctx.config()?.model.as_ref().map_or(DEFAULT_JOBS, |m| m.jobs));
    if !(1..=MAX_WIDTH).contains(&jobs) {
        let what = if flag.is_some() { "-j" } else { "[model] jobs" };
        return Err(UsageError(format!("{what} must be between 1 and {MAX_WIDTH}, not {jobs}")).into());
    }
    Ok(jobs)
}

const DEFAULT_JOBS: usize = 4;

/// An input line in the pool's order, and what is known of it when it goes in. Counts and
/// errors wait for its turn, so a `--strict` stop reports nothing after the line it stops at.
enum Line {
    /// A record: drafted, or passed through for `passed`.
    Record { pos: LinePos, id: String, passed: Option<Passed> },
    /// A record that failed before drafting (not in the ledger, say).
    Failed { pos: LinePos, id: String, error: String },
    /// A line that is no record.
    Bad(BadLine),
}

/// Why a record goes on without a draft.
#[derive(Clone, Copy)]
enum Passed {
    NotPassing,
    OwnMail,
}

/// The draft command's loop: records in, drafts on the pool's threads, records out in input
/// order, each written only once its draft is committed.
struct Drafting {
    pool: DraftPool<Line>,
    /// The last record handed over is in no case: its stored draft may put it in one, which
    /// the next record's context may read (see `pool`), so the pool is emptied first.
    drain_first: bool,
    /// Drafts of up to `BATCH` records share one transaction, committed before the drafting
    /// threads are waited on, so another command waits for the ledger at most a batch, never
    /// for a model call.
    batch: PendingBatch,
    writer: RecordWriter,
    tally: Tally,
    stats: StreamStats,
}

/// Input lines parsed ahead of the drafting.
const READ_AHEAD: usize = 1024;
/// When no line comes within this long, the input trickles (`fetch --idle | ... | draft`):
/// what is drafted is stored and written, and then again every QUIET while drafts are in
/// flight, until the next line comes.
const QUIET: Duration = Duration::from_millis(20);

impl Drafting {
    fn all(&mut self, ctx: &mut Ctx, input: &mpsc::Receiver<Item>) -> Result<Option<Stop>> {
        loop {
            let item = match input.recv_timeout(QUIET) {
                Ok(item) => item,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    // The input trickles: what is done goes out now, and the drafts in flight
                    // as they finish, while a line that comes meanwhile is taken at once.
                    if let Some(stop) = self.write_ready(ctx)? {
                        return Ok(Some(stop));
                    }
                    if !self.pool.is_empty() {
                        continue;
                    }
                    match input.recv() {
                        Ok(item) => item,
                        Err(_) => break,
                    }
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            };
            if self.drain_first {
                self.drain_first = false;
                if let Some(stop) = self.drain(ctx)? {
                    return Ok(Some(stop));
                }
            }
            match item {
                Err(bad) => self.pool.hold(Line::Bad(bad)),
                Ok((pos, record)) => {
                    let id = printable_id(&record.id);
                    if let Err(e) = self.queue(ctx, pos.clone(), id.clone(), record) {
                        self.pool.hold(Line::Failed { pos, id, error: format!("{e:#}") });
                    }
                }
            }
            // Store what is ready; wait only when the pool is full, never with the ledger locked.
            while let Some(done) = self.pool.ready_next() {
                if let Some(stop) = self.finish(ctx, done)? {
                    return Ok(Some(stop));
                }
            }
            if self.pool.is_full() {
                if let Some(stop) = self.publish(ctx)? {
                    return Ok(Some(stop));
                }
                while self.pool.is_full() {
                    let done = self.pool.wait_next().expect("a full pool has records");
                    if let Some(stop) = self.finish(ctx, done)? {
                        return Ok(Some(stop));
                    }
                }
            }
            if self.batch.is_due(BATCH) && let Some(stop) = self.publish(ctx)? {
                return Ok(Some(stop));
            }
        }
        self.drain(ctx)
    }

    /// Hands `record` to the pool: to a drafting thread, or to be passed through untouched.
    fn queue(&mut self, ctx: &mut Ctx, pos: LinePos, id: String, record: Record) -> Result<()> {
        if let Some(f) = record.filter.as_ref().filter(|f| f.verdict != Verdict::Pass) {
            // Drafting spam or an auto-reply is wrong; the record goes on untouched.
            tracing::debug!("message {}: filter verdict {}, not drafted", record.id, f.verdict.as_str());
            self.pool.pass(Line::Record { pos, id, passed: Some(Passed::NotPassing) }, record);
            return Ok(());
        }
        if !ctx.ledger()?.has_message(&record.id)? {
            bail!(
                "not in the ledger; import the message first (mailroom fetch --eml/--mbox/--maildir, or fetch from IMAP) \
                 and draft the record that fetch prints"
            );
        }
        let Some(case) = cases::draft_context(ctx.ledger()?.conn(), &record.id)? else {
            tracing::debug!("message {}: the team's own reply, not drafted", record.id);
            self.pool.pass(Line::Record { pos, id, passed: Some(Passed::OwnMail) }, record);
            return Ok(());
        };
        self.drain_first = case.case.is_none();
        self.pool.draft(Line::Record { pos, id, passed: None }, record, case);
        Ok(())
    }

    /// Reports, counts and stores what comes back from the pool, in input order; its record
    /// is written when the batch commits.
    fn finish(&mut self, ctx: &mut Ctx, done: Finished<Line>) -> Result<Option<Stop>> {
        let (pos, id, passed) = match done.meta {
            Line::Bad(bad) => {
                self.stats.bad_lines += 1;
                ctx.error(&bad);
                return Ok(ctx.global.strict.then_some(Stop::Strict(bad.pos)));
            }
            Line::Failed { pos, id, error } => {
                self.stats.read += 1;
                self.stats.failed += 1;
                ctx.error(format!("{pos}: message {id}: {error}"));
                return Ok(ctx.global.strict.then_some(Stop::Strict(pos)));
            }
            Line::Record { pos, id, passed } => (pos, id, passed),
        };
        self.stats.read += 1;
        let Some(mut record) = done.record else {
            self.stats.failed += 1;
            ctx.error(format!("{pos}: message {id}: the drafting thread stopped without an answer"));
            return Ok(ctx.global.strict.then_some(Stop::Strict(pos)));
        };
        match passed {
            Some(Passed::NotPassing) => self.tally.not_passing += 1,
            Some(Passed::OwnMail) => self.tally.own_mail += 1,
            None => {}
        }
        if let Some(drafted) = done.drafted {
            self.batch.store_in(ctx.ledger()?)?;
            if let Err(e) = drafted.and_then(|d| self.store(ctx, &mut record, d)) {
                self.stats.failed += 1;
                ctx.error(format!("{pos}: message {id}: {e:#}"));
                return Ok(ctx.global.strict.then_some(Stop::Strict(pos)));
            }
        }
        self.batch.push(record);
        Ok(None)
    }

    /// Commits the batch and writes its records.
    fn publish(&mut self, ctx: &mut Ctx) -> Result<Option<Stop>> {
        let records = self.batch.commit(ctx.ledger()?)?;
        for record in &records {
            match self.writer.write(record) {
                Ok(()) => self.stats.written += 1,
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(Some(Stop::Closed)),
                Err(e) => return Err(e.into()),
            }
        }
        match self.writer.flush() {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(Some(Stop::Closed)),
            Err(e) => Err(e.into()),
            Ok(()) => Ok(None),
        }
    }

    fn store(&mut self, ctx: &mut Ctx, record: &mut Record, drafted: Drafted) -> Result<()> {
        let run_id = ctx.run_id();
        let tally = &mut self.tally;
        if !drafted.triaged {
            tally.untriaged += 1;
        }
        match store(ctx.ledger()?, record, &drafted, run_id)? {
            Stored::New { superseded } => {
                tally.drafted += 1;
                tally.superseded += superseded.len() as u64;
                tally.high_risk += u64::from(drafted.draft.risk == "high");
                tally.review_required += u64::from(drafted.draft.review_required);
                record.draft = Some(drafted.draft);
            }
            Stored::Unchanged => {
                tally.unchanged += 1;
                record.draft = Some(drafted.draft);
            }
            Stored::Kept(existing, state) => {
                tally.kept += 1;
                tracing::debug!("message {}: keeping draft {} ({})", record.id, existing.id, state.as_str());
                record.draft = Some(*existing);
            }
        }
        Ok(())
    }

    /// Finishes the records whose drafts are done, in order, and writes them (with the
    /// pool empty, every record it had is written).
    fn write_ready(&mut self, ctx: &mut Ctx) -> Result<Option<Stop>> {
        while let Some(done) = self.pool.ready_next() {
            if let Some(stop) = self.finish(ctx, done)? {
                return Ok(Some(stop));
            }
        }
        self.publish(ctx)
    }

    /// Finishes every record in the pool, in order, and writes them.
    fn drain(&mut self, ctx: &mut Ctx) -> Result<Option<Stop>> {
        loop {
            if let Some(stop) = self.publish(ctx)? {
                return Ok(Some(stop));
            }
            let Some(done) = self.pool.wait_next() else { return Ok(None) };
            if let Some(stop) = self.finish(ctx, done)? {
                return Ok(Some(stop));
            }
        }
    }
}

/// The drafter the config describes, with no flag overrides (for `mailroom run`).
pub(crate) fn drafter_from_config(ctx: &mut Ctx) -> Result<Drafter> {
    let args = DraftArgs { inputs: Vec::new(), backend: None, knowledge: None, templates: None, no_lookup: false, jobs: None };
    build_drafter(&args, ctx)
}

fn build_drafter(args: &DraftArgs, ctx: &mut Ctx) -> Result<Drafter> {
    let config = ctx.config()?.clone();
    let dc = &config.draft;
    let backend = match args.backend {
        Some(BackendArg::Template) => Backend::Template,
        Some(BackendArg::Model) => Backend::Model,
        None => Backend::parse(&dc.backend).ok_or_else(|| {
            ConfigError::with_hint(
                format!("[draft] backend = \"{}\" is not a draft backend", dc.backend),
                "use \"template\" or \"model\"",
            )
        })?,
    };
    let templates_dir = args.templates.clone().or_else(|| dc.templates_dir.as_deref().map(|p| config.resolve_path(p)));
    let templates = Templates::load(templates_dir.as_deref())?;
    let knowledge_dir = args.knowledge.clone().or_else(|| dc.knowledge_dir.as_deref().map(|p| config.resolve_path(p)));
    let knowledge = match &knowledge_dir {
        Some(dir) => {
            let k = Knowledge::load(dir).map_err(|e| {
                ConfigError::with_hint(
                    format!("cannot load the knowledge folder {}: {e:#}", dir.display()),
                    "fix `knowledge_dir` in [draft] or the --knowledge flag",
                )
            })?;
            if k.is_empty() {
                ctx.warn(format!("the knowledge folder {} has no Markdown passages: drafts have no policy source", dir.display()));
            }
            Some(k)
        }
        None => {
            ctx.warn(
                "no knowledge folder ([draft] knowledge_dir or --knowledge DIR): drafts have no policy source and are high risk",
            );
            None
        }
    };
    let lookup = match (&dc.order_lookup_command, args.no_lookup) {
        (Some(command), false) if !command.trim().is_empty() => Some(OrderLookup {
            command: command.clone(),
            cwd: Some(config.config_dir()),
            timeout: Duration::from_secs(dc.order_lookup_timeout_secs.max(1)),
        }),
        _ => None,
    };
    let settings = Settings {
        team_name: config.team.name.clone(),
        sign_off: config.team.sign_off.clone(),
        own_domains: config.team.domains.clone(),
        min_confidence: dc.min_confidence,
        checklist: Settings::parse_checklist(&dc.checklist)?,
    };
    let model = match backend {
        Backend::Template => None,
        Backend::Model => {
            let Some(model_cfg) = config.model.clone() else {
                return Err(ConfigError::with_hint(
                    "the model backend needs a [model] section in the config",
                    "add [model] (base_url, model, api_key_env), or use --backend template",
                )
                .into());
            };
            let key = match model_cfg.key_source() {
                src if src.is_set() => Some(src.resolve("[model] API key")?),
                _ => None,
            };
            let ca = model_cfg.ca_file.as_ref().map(|p| config.resolve_path(p));
            let client = crate::model::client::Client::new(&model_cfg, key, ca.as_deref())?;
            let remote = crate::stages::draft::remote::RemoteModel::new(client, model_cfg.model.clone())?;
            Some(Box::new(remote) as Box<dyn crate::stages::draft::model::ChatModel>)
        }
    };
    Ok(Drafter { settings, templates, knowledge, lookup, model })
}

fn report(ctx: &mut Ctx, t: &Tally, stats: &StreamStats) {
    ctx.count("read", stats.read);
    ctx.count("written", stats.written);
    ctx.count("bad_lines", stats.bad_lines);
    ctx.count("failed", stats.failed);
    ctx.count("drafted", t.drafted);
    ctx.count("high_risk", t.high_risk);
    ctx.count("review_required", t.review_required);
    ctx.count("unchanged", t.unchanged);
    ctx.count("kept", t.kept);
    ctx.count("superseded", t.superseded);
    ctx.count("not_passing", t.not_passing);
    ctx.count("own_mail", t.own_mail);
    ctx.count("untriaged", t.untriaged);
    let mut parts = vec![format!("{} new drafts ({} high risk, {} need review)", t.drafted, t.high_risk, t.review_required)];
    if t.unchanged > 0 {
        parts.push(format!("{} unchanged", t.unchanged));
    }
    if t.superseded > 0 {
        parts.push(format!("{} pending drafts superseded", t.superseded));
    }
    if t.kept > 0 {
        parts.push(format!("{} kept because a person already acted on them", t.kept));
    }
    if t.own_mail > 0 {
        parts.push(format!("{} passed through without a draft (the team's own replies)", t.own_mail));
    }
    if t.not_passing > 0 {
        parts.push(format!("{} passed through without a draft (filter verdict not pass)", t.not_passing));
    }
    ctx.info(parts.join(", "));
    if t.untriaged > 0 {
        ctx.warn(format!(
            "{} records had no triage and were drafted as \"other\" with review required (run mailroom classify first)",
            t.untriaged
        ));
    }
}

//! `mailroom classify`: category, priority, sentiment, language, escalation, entities.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context as _, Result, bail};
use clap::Args;
use futures::future::{BoxFuture, FutureExt, Shared};
use futures::stream::{FuturesOrdered, StreamExt};
use serde_json::json;

use super::Ctx;
use super::stream::{Emit, read_in_background, run_stage_batched, warn_if_terminal};
use crate::config::Config;
use crate::error::{ConfigError, Outcome, UsageError};
use crate::jsonl::{LinePos, RecordReader, RecordWriter};
use crate::ledger::Event;
use crate::model::{Client, ModelError};
use crate::record::{Record, Triage};
use crate::stages::classify::embedded::{DEFAULT_MODEL, LinearModel};
use crate::stages::classify::llm::{self, Answer, Format, Prompt};
use crate::stages::classify::taxonomy::Taxonomy;
use crate::stages::classify::training::{self, Example};
use crate::stages::classify::{Engine, Scratch, Settings, store_triage};
use crate::stages::progress::{Reporter, Unit};

/// Add a `triage` object to each record: category, priority P1-P4, sentiment, language,
/// confidence, escalation with reasons, and extracted entities (order ids, tracking numbers,
/// e-mail addresses, phone numbers).
///
/// The embedded backend (default) needs no network and no key. `--backend model` asks the
/// OpenAI-compatible endpoint of `[model]`; answers are cached in the ledger, so a rerun (or a
/// resumed batch) never pays twice. Each result is stored in the ledger as a new version
/// when it differs from the current one.
///
/// Examples:
///   mailroom fetch | mailroom filter | mailroom classify
///   mailroom export --since 2025-01-01 | mailroom classify --backend model -j 8 > triaged.jsonl
///   mailroom classify --train --labels reviewed.jsonl
///
/// Ctrl-C during a model batch stops reading, finishes the calls in flight and writes what is
/// done; running the same command again resumes where it stopped.
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct ClassifyArgs {
    /// JSONL files to read [default: stdin]
    pub inputs: Vec<PathBuf>,
    /// Concurrent model calls with `--backend model` [default: `[model] jobs`, 4]
    #[arg(short = 'j', long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Which backend picks the category: `embedded` (no network) or `model` (the `[model]`
    /// endpoint) [default: `[classify] backend`]
    #[arg(long, value_name = "NAME", value_parser = ["embedded", "model"])]
    pub backend: Option<String>,
    /// Ask the model again even when the cache has an answer
    #[arg(long)]
    pub force: bool,
    /// Retrain the embedded model from the ledger's labels (review recategorizations) and
    /// `--labels FILE`, and save it (see `--output`); reads no records
    #[arg(long)]
    pub train: bool,
    /// With --train: a JSONL file of labelled examples, one per line:
    /// {"subject": "...", "text": "...", "category": "refund"}
    #[arg(long, value_name = "FILE", requires = "train")]
    pub labels: Vec<PathBuf>,
    /// With --train: where to write the model [default: `[classify] model_path`, else
    /// classify-model.bin next to the ledger, which classify then uses]
    #[arg(long, value_name = "PATH", requires = "train")]
    pub output: Option<PathBuf>,
}

/// The model file classify uses: `[classify] model_path`, else a retrained model next to the
/// ledger, else none (the embedded one).
fn model_path(config: &Config, ledger_path: &Path) -> Option<PathBuf> {
    match &config.classify.model_path {
        Some(p) => Some(config.resolve_path(p)),
        None => Some(default_trained_path(ledger_path)).filter(|p| p.exists()),
    }
}

fn default_trained_path(ledger_path: &Path) -> PathBuf {
    ledger_path.parent().unwrap_or(Path::new(".")).join("classify-model.bin")
}

pub(crate) fn engine(ctx: &mut Ctx) -> Result<Engine> {
    let ledger_path = ctx.ledger_path();
    let config = ctx.config()?;
    let taxonomy = Taxonomy::from_config(&config.classify.categories)?;
    let settings = Settings::from_config(config);
    if !(0.0..=1.0).contains(&settings.min_confidence) {
        return Err(ConfigError::new("[classify] min_confidence must be between 0 and 1").into());
    }
    let path = model_path(config, &ledger_path);
    Engine::load(taxonomy, settings, path.as_deref())
}

pub async fn run(args: ClassifyArgs, ctx: &mut Ctx) -> Result<Outcome> {
    if args.train {
        return train(&args, ctx);
    }
    let engine = engine(ctx)?;
    let backend = match &args.backend {
        Some(b) => b.clone(),
        None => ctx.config()?.classify.backend.clone(),
    };
    match backend.as_str() {
        "embedded" => run_embedded(&args, ctx, &engine),
        "model" => run_model(&args, ctx, Arc::new(engine)).await,
        other => Err(ConfigError::with_hint(
            format!("[classify] backend = {other:?} is not a backend"),
            "use \"embedded\" or \"model\"",
        )
        .into()),
    }
}

#[derive(Default)]
struct Tally {
    stored: u64,
    unstored: u64,
    calls: u64,
    cache_hits: u64,
    fallbacks: u64,
    review: u64,
}

impl Tally {
    fn add(&mut self, (in_ledger, stored): (bool, bool), triage: &Triage) {
        if stored {
            self.stored += 1;
        }
        if !in_ledger {
            self.unstored += 1;
        }
        if triage.review_required {
            self.review += 1;
        }
    }

    fn report(&self, ctx: &mut Ctx) {
        ctx.count("stored", self.stored);
        ctx.count("review_required", self.review);
        ctx.count("model_calls", self.calls);
        ctx.count("cache_hits", self.cache_hits);
        ctx.count("fallbacks", self.fallbacks);
        if self.unstored > 0 {
            ctx.warn(format!(
                "{} record(s) are not in the ledger; they were classified but not stored (import them with `mailroom fetch` first)",
                self.unstored
            ));
        }
    }
}

/// Records that are already waiting are classified together and stored in one transaction
/// (then written out), so a batch costs one commit; a slow trickle is handled one by one.
fn run_embedded(args: &ClassifyArgs, ctx: &mut Ctx, engine: &Engine) -> Result<Outcome> {
    ctx.ledger()?;
    let run_id = ctx.run_id();
    let mut scratch = Scratch::default();
    let mut tally = Tally::default();
    let streamed = run_stage_batched(
        ctx,
        &args.inputs,
        |ctx, mut record| {
            let conn = ctx.ledger()?.conn();
            let rules_ctx = engine.context(&record, Some(conn))?;
            let triage = engine.classify_embedded(&record, &rules_ctx, &mut scratch);
            tally.add(store_triage(conn, &record, &triage, run_id)?, &triage);
            record.triage = Some(triage);
            Ok(record)
        },
        |record| Ok(Emit::Records(vec![record])),
    );
    tally.report(ctx);
    streamed?;
    Ok(ctx.outcome())
}

/// A model answer as it comes back from a worker task (None: the task died).
type Answered = Arc<Option<crate::model::Outcome<Answer>>>;
/// A call in flight, shared between identical messages.
type Pending = Shared<BoxFuture<'static, Answered>>;

/// One record waiting for its turn to be written, in input order.
struct Slot {
    pos: LinePos,
    record: Record,
    /// The cache key and the call, when the model is asked; None = use the embedded model.
    call: Option<(String, Pending, bool)>,
    cached: Option<Answer>,
    /// Why the embedded model is used instead (model unavailable).
    fallback_note: Option<String>,
}

async fn run_model(args: &ClassifyArgs, ctx: &mut Ctx, engine: Arc<Engine>) -> Result<Outcome> {
    let config = ctx.config()?.clone();
    let Some(model_cfg) = config.model.clone() else {
        return Err(ConfigError::with_hint(
            "--backend model needs a [model] section in the config",
            "add [model] with base_url, model and api_key_env (see `mailroom init`)",
        )
        .into());
    };
    let format = Format::parse(&config.classify.response_format).ok_or_else(|| {
        ConfigError::with_hint(
            format!("[classify] response_format = {:?} is not known", config.classify.response_format),
            "use \"json_schema\", \"json_object\" (DeepSeek) or \"none\"",
        )
    })?;
    let key = match model_cfg.key_source() {
        src if src.is_set() => Some(src.resolve("[model] API key")?),
        _ => None,
    };
    let ca = model_cfg.ca_file.as_ref().map(|p| config.resolve_path(p));
    let client = Arc::new(Client::new(&model_cfg, key, ca.as_deref())?);
    let prompt = Arc::new(Prompt::new(&engine.taxonomy, &model_cfg.model, format));
    let jobs = args.jobs.unwrap_or(model_cfg.jobs).max(1);
    let permits = Arc::new(tokio::sync::Semaphore::new(jobs));
    let auth_failed = Arc::new(AtomicBool::new(false));
    let cancelled = Arc::new(AtomicBool::new(false));
    ctx.ledger()?;

    warn_if_terminal(ctx, &RecordReader::new(&args.inputs));
    let (tx, mut rx) = tokio::sync::mpsc::channel(256);
    read_in_background(&args.inputs, move |item| tx.blocking_send(item).is_ok());

    let progress = ctx.progress();
    progress.start(None, Unit::Messages);
    let mut writer = RecordWriter::stdout(false);
    let mut queue: FuturesOrdered<BoxFuture<'static, (Slot, Option<Answered>)>> = FuturesOrdered::new();
    let mut inflight: HashMap<String, Pending> = HashMap::new();
    let mut tally = Tally::default();
    let mut scratch = Scratch::default();
    let mut stop_calling: Option<String> = None;
    let mut input_done = false;
    // Read ahead far enough to keep `jobs` calls busy; output stays in input order.
    let max_queue = (jobs * 8).max(64);
    let (mut read, mut written) = (0u64, 0u64);
    // Ctrl-C: stop reading, let the calls in flight finish (their answers get cached), write
    // what is done. A second Ctrl-C stops at once. Rerunning the same command resumes.
    let mut interrupted = false;
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);

    loop {
        let can_read = !input_done && queue.len() < max_queue;
        if !can_read && queue.is_empty() {
            break;
        }
        tokio::select! {
            biased;
            _ = &mut ctrl_c, if !interrupted => {
                interrupted = true;
                input_done = true;
                cancelled.store(true, Ordering::SeqCst);
                ctx.warn(format!("interrupted: finishing {} queued message(s); press Ctrl-C again to stop at once", queue.len()));
                tokio::spawn(async {
                    if tokio::signal::ctrl_c().await.is_ok() {
                        std::process::exit(130);
                    }
                });
            }
            item = rx.recv(), if can_read => {
                let Some(item) = item else {
                    input_done = true;
                    continue;
                };
                let (pos, record) = match item {
                    Ok(x) => x,
                    Err(bad) => {
                        ctx.error(&bad);
                        if ctx.global.strict {
                            writer.flush().ok();
                            bail!("stopped at {} (--strict)", bad.pos);
                        }
                        continue;
                    }
                };
                read += 1;
                let slot = prepare_slot(ctx, &client, &prompt, &permits, &auth_failed, &cancelled, &mut inflight, pos, record, args.force, &stop_calling)?;
                queue.push_back(
                    async move {
                        let answered = match &slot.call {
                            Some((_, pending, _)) => Some(pending.clone().await),
                            None => None,
                        };
                        (slot, answered)
                    }
                    .boxed(),
                );
            }
            Some((slot, answered)) = queue.next(), if !queue.is_empty() => {
                let (id, pos) = (slot.record.id.clone(), slot.pos.clone());
                match finish_slot(ctx, &engine, &prompt, &mut inflight, &mut scratch, &mut tally, &mut stop_calling, slot, answered) {
                    Ok(None) => {}
                    Ok(Some(record)) => {
                        match writer.write(&record) {
                            Ok(()) => written += 1,
                            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => break,
                            Err(e) => return Err(e.into()),
                        }
                        progress.inc(1);
                    }
                    Err(e) => {
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
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(e.into()),
        _ => {}
    }
    progress.finish();
    ctx.count("read", read);
    ctx.count("written", written);
    tally.report(ctx);
    if interrupted {
        ctx.error(format!(
            "interrupted after {written} of {read} record(s); run the same command again to resume (answers are cached)"
        ));
    }
    if tally.fallbacks > 0 {
        ctx.error(format!(
            "{} message(s) could not be classified by the model and were classified by the embedded model instead (marked review_required)",
            tally.fallbacks
        ));
    }
    Ok(ctx.outcome())
}

/// Looks in the cache, or starts (or joins) a model call for a record.
#[allow(clippy::too_many_arguments)]
fn prepare_slot(
    ctx: &mut Ctx,
    client: &Arc<Client>,
    prompt: &Arc<Prompt>,
    permits: &Arc<tokio::sync::Semaphore>,
    auth_failed: &Arc<AtomicBool>,
    cancelled: &Arc<AtomicBool>,
    inflight: &mut HashMap<String, Pending>,
    pos: LinePos,
    record: Record,
    force: bool,
    stop_calling: &Option<String>,
) -> Result<Slot> {
    if let Some(why) = stop_calling {
        return Ok(Slot { pos, record, call: None, cached: None, fallback_note: Some(why.clone()) });
    }
    let text = Prompt::user_text(&record);
    let key = prompt.cache_key(&text);
    if !force {
        if let Some(json) = ctx.ledger()?.cached_answer(&key)? {
            if let Ok(answer) = serde_json::from_str::<Answer>(&json) {
                return Ok(Slot { pos, record, call: None, cached: Some(answer), fallback_note: None });
            }
        }
    }
    if let Some(p) = inflight.get(&key) {
        return Ok(Slot { pos, record, call: Some((key, p.clone(), true)), cached: None, fallback_note: None });
    }
    // Another run asking about the same text right now: wait for its answer, not pay twice.
    let wait_for = if force || ctx.ledger()?.claim_model_call(&key)? { None } else { Some(key.clone()) };
    let (ledger_path, call_key, model_name) = (ctx.ledger_path(), key.clone(), prompt.model.clone());
    let (client, prompt2, permits) = (client.clone(), prompt.clone(), permits.clone());
    let request = prompt.request(&text);
    let (auth_failed, cancelled) = (auth_failed.clone(), cancelled.clone());
    let handle = tokio::spawn(async move {
        if let Some(key) = wait_for
            && let Some(answer) = answer_from_other_run(&ledger_path, &key, &cancelled).await
        {
            return crate::model::Outcome { result: Ok((answer, Default::default())), attempts: Vec::new() };
        }
        let _permit = permits.acquire_owned().await;
        if auth_failed.load(Ordering::SeqCst) {
            // Another call was refused for the key: do not send this one with it too.
            return crate::model::Outcome { result: Err(ModelError::Auth { status: 0 }), attempts: Vec::new() };
        }
        if cancelled.load(Ordering::SeqCst) {
            return crate::model::Outcome { result: Err(ModelError::Interrupted), attempts: Vec::new() };
        }
        let out = client.chat(&request, |content: &str| llm::validate(content, &prompt2.taxonomy)).await;
        if let Err(ModelError::Auth { .. }) = out.result {
            auth_failed.store(true, Ordering::SeqCst);
        }
        // Paid for: cached now, not when its turn in the output comes (a kill in between
        // would throw it away).
        if let Ok((answer, _)) = &out.result
            && let Ok(json) = serde_json::to_string(answer)
        {
            let stored = tokio::task::spawn_blocking(move || cache_now(&ledger_path, &call_key, &model_name, &json)).await;
            if let Ok(Err(e)) = stored {
                tracing::warn!("caching a model answer failed (it is cached again when written): {e:#}");
            }
        }
        out
    });
    let pending: Pending = handle.map(|r| Arc::new(r.ok())).boxed().shared();
    inflight.insert(key.clone(), pending.clone());
    Ok(Slot { pos, record, call: Some((key, pending, false)), cached: None, fallback_note: None })
}

fn cache_now(ledger: &std::path::Path, key: &str, model: &str, json: &str) -> Result<()> {
    let conn = rusqlite::Connection::open(ledger)?;
    conn.busy_timeout(std::time::Duration::from_secs(60))?;
    crate::ledger::model_cache::cache_answer(&conn, key, model, json)
}

/// Waits while another run asks the model about the same text: its answer, or None when it
/// gave up or died (then this run asks itself).
async fn answer_from_other_run(ledger: &std::path::Path, key: &str, cancelled: &AtomicBool) -> Option<Answer> {
    use crate::ledger::model_cache::{Claimed, claimed};
    let conn = rusqlite::Connection::open_with_flags(ledger, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).ok()?;
    conn.busy_timeout(std::time::Duration::from_secs(10)).ok()?;
    while !cancelled.load(Ordering::SeqCst) {
        match claimed(&conn, key) {
            Ok(Claimed::Answered(json)) => return serde_json::from_str(&json).ok(),
            Ok(Claimed::Pending) => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
            _ => return None,
        }
    }
    None
}

/// Logs a slot's calls, builds and stores its triage.
#[allow(clippy::too_many_arguments)]
fn finish_slot(
    ctx: &mut Ctx,
    engine: &Engine,
    prompt: &Prompt,
    inflight: &mut HashMap<String, Pending>,
    scratch: &mut Scratch,
    tally: &mut Tally,
    stop_calling: &mut Option<String>,
    slot: Slot,
    answered: Option<Answered>,
) -> Result<Option<Record>> {
    let Slot { pos: _, mut record, call, cached, fallback_note } = slot;
    let run_id = ctx.run_id();
    let mut decision = None;
    let mut failure: Option<String> = fallback_note;
    if let Some(answer) = cached {
        tally.cache_hits += 1;
        decision = Some(llm::decision(engine, prompt, &answer, true));
    }
    if let (Some((key, _, joined)), Some(outcome)) = (call, answered) {
        inflight.remove(&key);
        match outcome.as_ref() {
            None => failure = Some("the model call task failed".into()),
            Some(out) => {
                if !joined {
                    let ledger = ctx.ledger()?;
                    for (i, a) in out.attempts.iter().enumerate() {
                        let mut e = Event::new("model.call", a.status).run(run_id).message(&record.id).latency_ms(a.latency_ms as i64);
                        if let Some(u) = a.usage {
                            e = e.tokens(u.prompt_tokens as i64, u.completion_tokens as i64);
                        }
                        ledger.event(&e.detail(json!({
                            "stage": "classify",
                            "model": prompt.model,
                            "prompt_version": prompt.version,
                            "attempt": i + 1,
                            "http_status": a.http_status,
                            "error": a.error,
                        })))?;
                    }
                    tally.calls += out.attempts.len() as u64;
                }
                // Joined a call of this run, or got the answer another run paid for.
                let from_elsewhere = joined || (out.attempts.is_empty() && out.result.is_ok());
                if from_elsewhere {
                    tally.cache_hits += 1;
                }
                if out.result.is_err() && !joined {
                    ctx.ledger()?.release_model_call(&key)?;
                }
                match &out.result {
                    // Not sent because of Ctrl-C: left for the next run.
                    Err(ModelError::Interrupted) => return Ok(None),
                    Ok((answer, _)) => {
                        ctx.ledger()?.cache_answer(&key, &prompt.model, &serde_json::to_string(answer)?)?;
                        decision = Some(llm::decision(engine, prompt, answer, from_elsewhere));
                    }
                    Err(e) => {
                        if let ModelError::Auth { .. } = e {
                            if stop_calling.is_none() {
                                ctx.error(format!("model: {e}; no more calls in this run, the rest is classified by the embedded model"));
                            }
                            *stop_calling = Some(format!("model unavailable ({e})"));
                        }
                        failure = Some(format!("model call failed after {} attempt(s): {e}", out.attempts.len()));
                    }
                }
            }
        }
    }
    let decision = match decision {
        Some(d) => d,
        None => {
            tally.fallbacks += 1;
            let mut d = engine.embedded_decision(&record, scratch);
            let why = failure.unwrap_or_else(|| "no model answer".into());
            d.reasons.insert(0, format!("{why}; classified by the embedded model"));
            d.review_required = true;
            d
        }
    };
    let triage = ctx.ledger()?.write(|tx| {
        let rules_ctx = engine.context(&record, Some(tx))?;
        let triage = engine.triage(&record, decision, &rules_ctx, scratch);
        tally.add(store_triage(tx, &record, &triage, run_id)?, &triage);
        Ok(triage)
    })?;
    record.triage = Some(triage);
    Ok(Some(record))
}

/// `--train`: labels from the ledger and files → a retrained model file.
fn train(args: &ClassifyArgs, ctx: &mut Ctx) -> Result<Outcome> {
    let ledger_path = ctx.ledger_path();
    let config = ctx.config()?.clone();
    let taxonomy = Taxonomy::from_config(&config.classify.categories)?;
    let classes: Vec<String> = taxonomy.names().into_iter().map(str::to_string).collect();
    let mut examples: Vec<Example> = Vec::new();
    let mut from_ledger = 0u64;
    {
        let ledger = ctx.ledger()?;
        for label in ledger.labels("category")? {
            let (subject, text) = match (&label.message, &label.text) {
                (Some(id), _) => match ledger.base_record(id)? {
                    Some(r) => (r.subject.clone(), r.best_text().to_string()),
                    None => continue,
                },
                (None, Some(t)) => (String::new(), t.clone()),
                (None, None) => continue,
            };
            if !classes.contains(&label.label) {
                continue;
            }
            examples.push(Example { subject, text, category: label.label, weight: 1.0, lang: String::new(), group: "ledger".into() });
            from_ledger += 1;
        }
    }
    let mut from_files = 0u64;
    for file in &args.labels {
        let text = std::fs::read_to_string(file).map_err(|e| UsageError(format!("--labels {}: {e}", file.display())))?;
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            match label_line(line, &classes) {
                Ok(ex) => {
                    examples.push(ex);
                    from_files += 1;
                }
                Err(e) => ctx.error(format!("{}:{}: {e}", file.display(), i + 1)),
            }
        }
    }
    if examples.is_empty() {
        return Err(UsageError(
            "no category labels to train on: recategorize messages in `mailroom review`, or pass --labels FILE".into(),
        )
        .into());
    }
    let base = LinearModel::from_bytes(DEFAULT_MODEL).context("the embedded classifier model")?;
    let version = chrono::Utc::now().format("%Y%m%d%H%M%S").to_string();
    // How much the retraining helps, measured on a fifth of the team's labels held out.
    let (fit, check): (Vec<Example>, Vec<Example>) =
        examples.iter().cloned().partition(|e| !training::is_heldout(&format!("{}\n{}", e.subject, e.text)));
    if check.len() >= 10 && !fit.is_empty() {
        let trial = training::retrain(&base, &fit, &classes, &version)?;
        let before = Engine::new(taxonomy.clone(), Settings::from_config(&config), LinearModel::from_bytes(DEFAULT_MODEL)?, "embedded".into());
        let after = Engine::new(taxonomy.clone(), Settings::from_config(&config), trial, "trial".into());
        let b = training::score(&training::predict_all(&before, &check));
        let a = training::score(&training::predict_all(&after, &check));
        ctx.info(format!(
            "on {} of your labels held out: accuracy {:.3} (shipped model) -> {:.3} (retrained)",
            check.len(),
            b.accuracy,
            a.accuracy
        ));
    }
    let model = training::retrain(&base, &examples, &classes, &version)?;
    let out = match &args.output {
        Some(p) => p.clone(),
        None => config.classify.model_path.as_ref().map(|p| config.resolve_path(p)).unwrap_or_else(|| default_trained_path(&ledger_path)),
    };
    write_atomically(&out, &model.to_bytes())?;
    ctx.count("labels", examples.len() as u64);
    ctx.info(format!(
        "trained {} on {} labels ({} from the ledger, {} from files); wrote {}",
        model.label(),
        examples.len(),
        from_ledger,
        from_files,
        out.display()
    ));
    if args.output.is_some() && config.classify.model_path.is_none() && out != default_trained_path(&ledger_path) {
        ctx.info(format!("to use it, set [classify] model_path = \"{}\"", out.display()));
    }
    Ok(ctx.outcome())
}

/// One line of a labels file: `{"subject", "text", "category"}`, or a record with a
/// `category` (or `label`) key, or a record whose `triage.category` was reviewed.
fn label_line(line: &str, classes: &[String]) -> Result<Example> {
    let v: serde_json::Value = serde_json::from_str(line).context("invalid JSON")?;
    let s = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
    let category = [v.get("category"), v.get("label"), v.pointer("/triage/category")]
        .into_iter()
        .flatten()
        .find_map(|x| x.as_str())
        .context("no \"category\" key")?
        .to_string();
    if !classes.contains(&category) {
        bail!("category {category:?} is not in the taxonomy ({})", classes.join(", "));
    }
    let text = if s("text_new").trim().is_empty() { s("text") } else { s("text_new") };
    if text.trim().is_empty() && s("subject").trim().is_empty() {
        bail!("no \"text\" or \"subject\"");
    }
    Ok(Example { subject: s("subject"), text, category, weight: 1.0, lang: String::new(), group: "file".into() })
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot replace {}", path.display()))?;
    Ok(())
}

/// Hidden `mailroom generate classify-model`: trains the shipped model (reproducibly) and
/// prints its scores on the held-out split.
pub fn generate_model(intents: &Path, out: &Path) -> Result<()> {
    let (train, test) = training::load_intents(intents)?;
    let classes: Vec<String> = crate::stages::classify::taxonomy::DEFAULT.iter().map(|(n, _)| n.to_string()).collect();
    let model = training::train_default(&train, &classes)?;
    let bytes = model.to_bytes();
    write_atomically(out, &bytes)?;
    eprintln!("wrote {} ({} bytes, {} training utterances + seed set)", out.display(), bytes.len(), train.len());
    let engine = Engine::new(Taxonomy::default_categories(), default_settings(), model, out.display().to_string());
    eprint!("held-out split ({} utterances):\n{}", test.len(), training::score(&training::predict_all(&engine, &test)));
    Ok(())
}

/// Hidden `mailroom generate classify-eval`: scores a model on the held-out split.
pub fn generate_eval(intents: &Path, model: Option<&Path>) -> Result<()> {
    let (_, test) = training::load_intents(intents)?;
    let engine = Engine::load(Taxonomy::default_categories(), default_settings(), model)?;
    println!("model {} ({})", engine.model.label(), engine.model_source);
    print!("intents held-out split, full pipeline with the confidence gate:\n{}", training::score(&training::predict_all(&engine, &test)));
    Ok(())
}

fn default_settings() -> Settings {
    Settings::from_config(&Config::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_lines_in_three_shapes() {
        let classes: Vec<String> = ["refund", "other"].iter().map(|s| s.to_string()).collect();
        assert_eq!(label_line(r#"{"text":"money back","category":"refund"}"#, &classes).unwrap().category, "refund");
        assert_eq!(label_line(r#"{"id":"x","subject":"s","text_new":"t","label":"other"}"#, &classes).unwrap().text, "t");
        assert_eq!(label_line(r#"{"subject":"s","triage":{"category":"refund"}}"#, &classes).unwrap().category, "refund");
        assert!(label_line(r#"{"text":"x","category":"nope"}"#, &classes).unwrap_err().to_string().contains("not in the taxonomy"));
        assert!(label_line(r#"{"text":"x"}"#, &classes).is_err());
        assert!(label_line("not json", &classes).is_err());
    }
}
